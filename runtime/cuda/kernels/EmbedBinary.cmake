# cmake -DINPUT=file -DOUTPUT=file.c -DSYMBOL=name -P EmbedBinary.cmake
# Writes INPUT's bytes as `const unsigned char SYMBOL[]` and
# `const size_t SYMBOL_size` (the fatbin cuModuleLoadData takes).
file(READ ${INPUT} hex HEX)
string(LENGTH "${hex}" digits)
math(EXPR size "${digits} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){24})" "\\1\n" bytes "${bytes}")
file(WRITE ${OUTPUT}
  "/* Generated from ${INPUT} by EmbedBinary.cmake. */\n"
  "#include <stddef.h>\n"
  "/* 16-byte aligned for cuModuleLoadData. */\n"
  "__attribute__((aligned(16))) const unsigned char ${SYMBOL}[] = {\n"
  "${bytes}\n};\n"
  "const size_t ${SYMBOL}_size = ${size};\n")
