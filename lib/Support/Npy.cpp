//===- Npy.cpp - NumPy .npy file reading and writing ----------------------===//

#include "quant/Support/Npy.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

namespace quant {
namespace {

struct TypeInfo {
  NpyType type;
  const char *descriptor;
  int64_t size;
};

constexpr TypeInfo kTypes[] = {
    {NpyType::Bool, "|b1", 1}, {NpyType::I8, "|i1", 1},
    {NpyType::I16, "<i2", 2},  {NpyType::I32, "<i4", 4},
    {NpyType::I64, "<i8", 8},  {NpyType::U8, "|u1", 1},
    {NpyType::U16, "<u2", 2},  {NpyType::U32, "<u4", 4},
    {NpyType::U64, "<u8", 8},  {NpyType::F16, "<f2", 2},
    {NpyType::F32, "<f4", 4},  {NpyType::F64, "<f8", 8},
};

const TypeInfo &info(NpyType type) {
  for (const TypeInfo &t : kTypes)
    if (t.type == type)
      return t;
  return kTypes[0];
}

std::optional<NpyType> typeFromDescriptor(const std::string &descr) {
  for (const TypeInfo &t : kTypes) {
    // One-byte types may carry any byte-order mark.
    if (descr == t.descriptor ||
        (t.size == 1 && descr.size() == 3 && descr.substr(1) == t.descriptor + 1 &&
         (descr[0] == '<' || descr[0] == '>' || descr[0] == '=')) ||
        (t.size > 1 && descr.size() == 3 && descr[0] == '=' &&
         descr.substr(1) == t.descriptor + 1))
      return t.type;
  }
  return std::nullopt;
}

double halfToDouble(uint16_t h) {
  int sign = (h >> 15) & 1, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  double value;
  if (exponent == 0)
    value = std::ldexp(mantissa, -24);
  else if (exponent == 31)
    value = mantissa ? std::numeric_limits<double>::quiet_NaN()
                     : std::numeric_limits<double>::infinity();
  else
    value = std::ldexp(mantissa + 1024, exponent - 25);
  return sign ? -value : value;
}

uint16_t doubleToHalf(double d) {
  float f = static_cast<float>(d);
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  uint32_t sign = (bits >> 16) & 0x8000;
  int32_t exponent = static_cast<int32_t>((bits >> 23) & 0xff) - 127 + 15;
  uint32_t mantissa = bits & 0x7fffff;
  if (((bits >> 23) & 0xff) == 0xff)
    return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  if (exponent >= 31)
    return sign | 0x7c00;
  if (exponent <= 0) {
    if (exponent < -10)
      return sign;
    mantissa |= 0x800000;
    uint32_t shift = 14 - exponent;
    uint32_t half = mantissa >> shift;
    uint32_t rest = mantissa & ((1u << shift) - 1), midpoint = 1u << (shift - 1);
    if (rest > midpoint || (rest == midpoint && (half & 1)))
      ++half;
    return sign | half;
  }
  uint32_t half = (exponent << 10) | (mantissa >> 13);
  uint32_t rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1)))
    ++half; // may carry into the exponent, which rounds to infinity correctly
  return sign | half;
}

/// Minimal parser of the header dict: {'descr': '<f4', 'fortran_order':
/// False, 'shape': (2, 3), }
class HeaderParser {
public:
  explicit HeaderParser(const std::string &text) : text(text) {}

  bool parse(std::string &descr, bool &fortranOrder,
             std::vector<int64_t> &shape, std::string &error) {
    bool haveDescr = false, haveOrder = false, haveShape = false;
    skipSpace();
    if (!consume('{'))
      return fail(error, "header is not a dict");
    while (true) {
      skipSpace();
      if (consume('}'))
        break;
      std::string key;
      if (!parseString(key))
        return fail(error, "expected a quoted key in the header");
      skipSpace();
      if (!consume(':'))
        return fail(error, "expected ':' after header key '" + key + "'");
      skipSpace();
      if (key == "descr") {
        if (!parseString(descr))
          return fail(error, "'descr' must be a string");
        haveDescr = true;
      } else if (key == "fortran_order") {
        if (consumeWord("True"))
          fortranOrder = true;
        else if (consumeWord("False"))
          fortranOrder = false;
        else
          return fail(error, "'fortran_order' must be True or False");
        haveOrder = true;
      } else if (key == "shape") {
        if (!parseShape(shape))
          return fail(error, "'shape' must be a tuple of non-negative integers");
        haveShape = true;
      } else {
        return fail(error, "unexpected header key '" + key + "'");
      }
      skipSpace();
      if (consume(','))
        continue;
      skipSpace();
      if (consume('}'))
        break;
      return fail(error, "expected ',' or '}' in the header");
    }
    if (!haveDescr || !haveOrder || !haveShape)
      return fail(error, "header lacks 'descr', 'fortran_order' or 'shape'");
    return true;
  }

private:
  static bool fail(std::string &error, const std::string &message) {
    error = message;
    return false;
  }
  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\n'))
      ++pos;
  }
  bool consume(char c) {
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  bool consumeWord(const char *word) {
    size_t n = std::strlen(word);
    if (text.compare(pos, n, word) == 0) {
      pos += n;
      return true;
    }
    return false;
  }
  bool parseString(std::string &out) {
    if (pos >= text.size() || (text[pos] != '\'' && text[pos] != '"'))
      return false;
    char quote = text[pos++];
    size_t end = text.find(quote, pos);
    if (end == std::string::npos)
      return false;
    out = text.substr(pos, end - pos);
    pos = end + 1;
    return true;
  }
  bool parseShape(std::vector<int64_t> &shape) {
    if (!consume('('))
      return false;
    while (true) {
      skipSpace();
      if (consume(')'))
        return true;
      if (pos >= text.size() || text[pos] < '0' || text[pos] > '9')
        return false;
      int64_t dim = 0;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        if (dim > (std::numeric_limits<int64_t>::max() - 9) / 10)
          return false;
        dim = dim * 10 + (text[pos++] - '0');
      }
      if (pos < text.size() && text[pos] == 'L') // Python 2 longs
        ++pos;
      shape.push_back(dim);
      skipSpace();
      if (consume(','))
        continue;
      skipSpace();
      if (consume(')'))
        return true;
      return false;
    }
  }

  const std::string &text;
  size_t pos = 0;
};

} // namespace

int64_t npyTypeSize(NpyType type) { return info(type).size; }
const char *npyDescriptor(NpyType type) { return info(type).descriptor; }

int64_t NpyArray::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::vector<double> NpyArray::toDoubles() const {
  int64_t n = numElements();
  std::vector<double> values(n);
  const uint8_t *p = bytes.data();
  for (int64_t i = 0; i < n; ++i) {
    auto load = [&](auto tag) {
      decltype(tag) v;
      std::memcpy(&v, p + i * sizeof(v), sizeof(v));
      return static_cast<double>(v);
    };
    switch (type) {
    case NpyType::Bool:
      values[i] = p[i] != 0;
      break;
    case NpyType::I8:
      values[i] = load(int8_t());
      break;
    case NpyType::I16:
      values[i] = load(int16_t());
      break;
    case NpyType::I32:
      values[i] = load(int32_t());
      break;
    case NpyType::I64:
      values[i] = load(int64_t());
      break;
    case NpyType::U8:
      values[i] = load(uint8_t());
      break;
    case NpyType::U16:
      values[i] = load(uint16_t());
      break;
    case NpyType::U32:
      values[i] = load(uint32_t());
      break;
    case NpyType::U64:
      values[i] = load(uint64_t());
      break;
    case NpyType::F16: {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      values[i] = halfToDouble(h);
      break;
    }
    case NpyType::F32:
      values[i] = load(float());
      break;
    case NpyType::F64:
      values[i] = load(double());
      break;
    }
  }
  return values;
}

NpyArray NpyArray::fromDoubles(NpyType type, std::vector<int64_t> shape,
                               const std::vector<double> &values) {
  NpyArray array;
  array.type = type;
  array.shape = std::move(shape);
  int64_t size = npyTypeSize(type);
  array.bytes.resize(values.size() * size);
  uint8_t *p = array.bytes.data();
  for (size_t i = 0; i < values.size(); ++i) {
    auto store = [&](auto v) { std::memcpy(p + i * sizeof(v), &v, sizeof(v)); };
    double v = values[i];
    switch (type) {
    case NpyType::Bool:
      store(static_cast<uint8_t>(v != 0));
      break;
    case NpyType::I8:
      store(static_cast<int8_t>(v));
      break;
    case NpyType::I16:
      store(static_cast<int16_t>(v));
      break;
    case NpyType::I32:
      store(static_cast<int32_t>(v));
      break;
    case NpyType::I64:
      store(static_cast<int64_t>(v));
      break;
    case NpyType::U8:
      store(static_cast<uint8_t>(v));
      break;
    case NpyType::U16:
      store(static_cast<uint16_t>(v));
      break;
    case NpyType::U32:
      store(static_cast<uint32_t>(v));
      break;
    case NpyType::U64:
      store(static_cast<uint64_t>(v));
      break;
    case NpyType::F16:
      store(doubleToHalf(v));
      break;
    case NpyType::F32:
      store(static_cast<float>(v));
      break;
    case NpyType::F64:
      store(v);
      break;
    }
  }
  return array;
}

std::optional<NpyArray> parseNpy(const uint8_t *data, size_t size,
                                 std::string &error) {
  static const uint8_t magic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (size < 10 || std::memcmp(data, magic, sizeof(magic)) != 0) {
    error = "not a .npy file (bad magic)";
    return std::nullopt;
  }
  uint8_t major = data[6];
  size_t headerLength, headerStart;
  if (major == 1) {
    headerLength = data[8] | (data[9] << 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) {
      error = "truncated .npy header";
      return std::nullopt;
    }
    headerLength = static_cast<size_t>(data[8]) | (size_t(data[9]) << 8) |
                   (size_t(data[10]) << 16) | (size_t(data[11]) << 24);
    headerStart = 12;
  } else {
    error = "unsupported .npy format version " + std::to_string(major);
    return std::nullopt;
  }
  if (headerLength > size - headerStart) {
    error = "truncated .npy header";
    return std::nullopt;
  }
  std::string header(reinterpret_cast<const char *>(data + headerStart),
                     headerLength);
  std::string descr;
  bool fortranOrder = false;
  NpyArray array;
  if (!HeaderParser(header).parse(descr, fortranOrder, array.shape, error)) {
    error = "malformed .npy header: " + error;
    return std::nullopt;
  }
  std::optional<NpyType> type = typeFromDescriptor(descr);
  if (!type) {
    error = "unsupported .npy dtype '" + descr + "'";
    return std::nullopt;
  }
  if (fortranOrder) {
    error = "Fortran-ordered .npy arrays are not supported";
    return std::nullopt;
  }
  array.type = *type;
  int64_t elementSize = npyTypeSize(*type);
  uint64_t count = 1;
  for (int64_t d : array.shape) {
    if (d != 0 && count > std::numeric_limits<uint64_t>::max() / 16 /
                              static_cast<uint64_t>(d)) {
      error = ".npy shape is too large";
      return std::nullopt;
    }
    count *= static_cast<uint64_t>(d);
  }
  size_t dataStart = headerStart + headerLength;
  uint64_t expected = count * elementSize;
  if (expected != size - dataStart) {
    error = "truncated or oversized .npy data: header promises " +
            std::to_string(expected) + " bytes, file holds " +
            std::to_string(size - dataStart);
    return std::nullopt;
  }
  array.bytes.assign(data + dataStart, data + size);
  return array;
}

std::optional<NpyArray> readNpyFile(const std::string &path,
                                    std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open '" + path + "'";
    return std::nullopt;
  }
  std::vector<uint8_t> contents((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  std::optional<NpyArray> array = parseNpy(contents.data(), contents.size(), error);
  if (!array)
    error = path + ": " + error;
  return array;
}

std::vector<uint8_t> serializeNpy(const NpyArray &array) {
  std::string header = "{'descr': '" + std::string(npyDescriptor(array.type)) +
                       "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < array.shape.size(); ++i)
    header += (i ? ", " : "") + std::to_string(array.shape[i]);
  // A one-element tuple needs its trailing comma: (3,).
  header += array.shape.size() == 1 ? ",), }" : "), }";
  // Pad with spaces so that the data starts on a 64-byte boundary.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  out.push_back(header.size() & 0xff);
  out.push_back((header.size() >> 8) & 0xff);
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), array.bytes.begin(), array.bytes.end());
  return out;
}

bool writeNpyFile(const std::string &path, const NpyArray &array,
                  std::string &error) {
  std::vector<uint8_t> image = serializeNpy(array);
  std::ofstream out(path, std::ios::binary);
  if (!out.write(reinterpret_cast<const char *>(image.data()), image.size())) {
    error = "cannot write '" + path + "'";
    return false;
  }
  return true;
}

} // namespace quant
