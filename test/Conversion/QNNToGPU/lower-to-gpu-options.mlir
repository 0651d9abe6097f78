// Options the NVVM passes would reject only after lowering the model (or
// with an LLVM abort) are one error each, before anything runs.
// RUN: not quant-opt %s --qnn-lower-to-gpu="chip=sm_999" 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: not quant-opt %s --qnn-lower-to-gpu="format=elf" 2>&1 | FileCheck %s --check-prefix=FORMAT
// RUN: not quant-opt %s --qnn-lower-to-gpu="features=+ptx60" 2>&1 | FileCheck %s --check-prefix=OLDPTX
// RUN: not quant-opt %s --qnn-lower-to-gpu="chip=sm_90a features=" 2>&1 | FileCheck %s --check-prefix=NOPTX
// RUN: not quant-opt %s --qnn-lower-to-gpu="features=+ptx8x" 2>&1 | FileCheck %s --check-prefix=BADPTX

// CHIP: error: --qnn-lower-to-gpu: unsupported chip 'sm_999' (expected sm_80, sm_86, sm_87, sm_89, sm_90, sm_90a, sm_100, sm_100a, sm_120 or sm_120a)
// FORMAT: error: --qnn-lower-to-gpu: unknown format 'elf' (expected fatbin, bin or isa)
// OLDPTX: error: --qnn-lower-to-gpu: sm_90 needs PTX 7.8 or later: add +ptx78 (or newer) to features instead of +ptx60
// NOPTX: error: --qnn-lower-to-gpu: sm_90a needs PTX 8.0 or later: add +ptx80 (or newer) to features
// BADPTX: error: --qnn-lower-to-gpu: malformed PTX feature '+ptx8x'
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
