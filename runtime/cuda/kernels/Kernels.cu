//===- Kernels.cu - the runtime's GPU kernels, one module ------*- CUDA -*-===//
//
// Every kernel the launchers (Launch.cpp) look up by name; one translation
// unit so that nvcc emits one fatbin for the runtime to embed. Each entry
// point is extern "C" (a stable name for cuModuleGetFunction) around a
// template instantiation.
//
//===----------------------------------------------------------------------===//

#include "Float.cuh"
#include "Hadamard.cuh"
#include "Matmul.cuh"
#include "PillarConv.cuh"
#include "Wgmma.cuh"
#include "WidenCodes.cuh"

using namespace qr::gpu;

// Weight-only calls whose split's codes fit in shared memory take the
// "_staged" variants, a row or two the "_kwarps" ones (Launch.cpp):
// separate kernels so that the others' code and registers do not pay for
// the choice.
#define QR_STREAM_KERNEL(name, isInt, bits, tiles, staged, kWarps)             \
  extern "C" __global__ void __launch_bounds__(kStreamWarps * 32,              \
                                               streamMinBlocks(tiles))         \
      name(const MatmulArgs args) {                                            \
    streamMatmul<isInt, bits, tiles, staged, kWarps>(args);                    \
  }
#define QR_STREAM_KERNELS(act, isInt, bits)                                    \
  QR_STREAM_KERNEL(qr_gpu_stream_##act##_w##bits##_m1, isInt, bits, 1, false,  \
                   1)                                                          \
  QR_STREAM_KERNEL(qr_gpu_stream_##act##_w##bits##_m2, isInt, bits, 2, false,  \
                   1)                                                          \
  QR_STREAM_KERNEL(qr_gpu_stream_##act##_w##bits##_m4, isInt, bits, 4, false,  \
                   1)                                                          \
  QR_STREAM_KERNEL(qr_gpu_stream_##act##_w##bits##_m1_kwarps, isInt, bits, 1,  \
                   false, kStreamKWarps)
#define QR_STAGED_STREAM_KERNELS(bits)                                         \
  QR_STREAM_KERNEL(qr_gpu_stream_f16_w##bits##_m1_staged, false, bits, 1,      \
                   true, 1)                                                    \
  QR_STREAM_KERNEL(qr_gpu_stream_f16_w##bits##_m2_staged, false, bits, 2,      \
                   true, 1)                                                    \
  QR_STREAM_KERNEL(qr_gpu_stream_f16_w##bits##_m4_staged, false, bits, 4,      \
                   true, 1)                                                    \
  QR_STREAM_KERNEL(qr_gpu_stream_f16_w##bits##_m1_kwarps_staged, false, bits,  \
                   1, true, kStreamKWarps)
QR_STREAM_KERNELS(f16, false, 4)
QR_STAGED_STREAM_KERNELS(4)
QR_STREAM_KERNELS(f16, false, 8)
QR_STAGED_STREAM_KERNELS(8)
QR_STREAM_KERNELS(s8, true, 4)
QR_STREAM_KERNELS(s8, true, 8)

#define QR_TILED_KERNEL(prefix, tile, gathered, act, isInt, bits, grouped,  \
                        suffix)                                                \
  extern "C" __global__ void __launch_bounds__(                                \
      tile::kThreads, tiledMinBlocks<tile>(isInt, grouped))                    \
      prefix##act##_w##bits##suffix(const MatmulArgs args) {                   \
    tiledMatmul<isInt, bits, grouped, tile, gathered>(args);                   \
  }
#define QR_TILED_KERNELS(prefix, tile, gathered)                               \
  QR_TILED_KERNEL(prefix, tile, gathered, s8, true, 4, false, )                \
  QR_TILED_KERNEL(prefix, tile, gathered, s8, true, 4, true, _grouped)         \
  QR_TILED_KERNEL(prefix, tile, gathered, s8, true, 8, false, )                \
  QR_TILED_KERNEL(prefix, tile, gathered, s8, true, 8, true, _grouped)         \
  QR_TILED_KERNEL(prefix, tile, gathered, f16, false, 4, false, )              \
  QR_TILED_KERNEL(prefix, tile, gathered, f16, false, 4, true, _grouped)       \
  QR_TILED_KERNEL(prefix, tile, gathered, f16, false, 8, false, )              \
  QR_TILED_KERNEL(prefix, tile, gathered, f16, false, 8, true, _grouped)
QR_TILED_KERNELS(qr_gpu_tiled_, LargeTile, false)
QR_TILED_KERNELS(qr_gpu_small_tiled_, SmallTile, false)
QR_TILED_KERNELS(qr_gpu_pillar_tiled_, SmallTile, true)

// The tensor maps stay in parameter space, where TMA reads them.
extern "C" __global__ void __launch_bounds__(kWgmmaThreads, 1)
    qr_gpu_wgmma_s8_w8(const __grid_constant__ WgmmaArgs args) {
  wgmmaMatmul<kWgmmaN>(args);
}
extern "C" __global__ void __launch_bounds__(kWgmmaThreads, 1)
    qr_gpu_wgmma_s8_w8_n128(const __grid_constant__ WgmmaArgs args) {
  wgmmaMatmul<kWgmmaNarrowN>(args);
}
extern "C" __global__ void __launch_bounds__(kWgmmaThreads, 1)
    qr_gpu_wgmma_f16(const __grid_constant__ WgmmaHalfArgs args) {
  wgmmaHalfMatmul(args);
}
extern "C" __global__ void __launch_bounds__(kWidenThreads)
    qr_gpu_widen_w4_codes(const WidenArgs args) {
  widenCodes(args);
}
extern "C" __global__ void __launch_bounds__(kHalfOperandThreads)
    qr_gpu_half_operands(const HalfOperandsArgs args) {
  halfOperands(args);
}

// The activation transforms (Hadamard, quantize) that a matmul follows in
// decode let it start at once (allowSuccessorStart): launched to overlap,
// it requests its weights' group operands while they run, and waits for
// them to finish before it reads their output.
#define QR_HADAMARD_KERNEL(L)                                                  \
  extern "C" __global__ void __launch_bounds__(hadamardThreads(L))             \
      qr_gpu_hadamard_##L(const HadamardArgs args) {                           \
    allowSuccessorStart();                                                     \
    hadamardRows<L>(args);                                                     \
  }
QR_HADAMARD_KERNEL(7)
QR_HADAMARD_KERNEL(8)
QR_HADAMARD_KERNEL(9)
QR_HADAMARD_KERNEL(10)
QR_HADAMARD_KERNEL(11)
QR_HADAMARD_KERNEL(12)
QR_HADAMARD_KERNEL(13)
QR_HADAMARD_KERNEL(14)
QR_HADAMARD_KERNEL(15)

#define QR_HADAMARD_SMALL_KERNEL(L)                                            \
  extern "C" __global__ void qr_gpu_hadamard_small_##L(                        \
      const HadamardArgs args) {                                               \
    allowSuccessorStart();                                                     \
    hadamardSmallRows<L>(args);                                                \
  }
QR_HADAMARD_SMALL_KERNEL(0)
QR_HADAMARD_SMALL_KERNEL(1)
QR_HADAMARD_SMALL_KERNEL(2)
QR_HADAMARD_SMALL_KERNEL(3)
QR_HADAMARD_SMALL_KERNEL(4)
QR_HADAMARD_SMALL_KERNEL(5)
QR_HADAMARD_SMALL_KERNEL(6)

// One kernel: name, threads a CTA, parameter block, body.
#define QR_KERNEL(name, threads, Args, ...)                                    \
  extern "C" __global__ void __launch_bounds__(threads)                        \
      name(const Args args) {                                                  \
    __VA_ARGS__;                                                               \
  }
QR_KERNEL(qr_gpu_hadamard_kronecker, kHadamardKroneckerThreads, HadamardArgs,
          allowSuccessorStart(), hadamardKroneckerRows(args))
QR_KERNEL(qr_gpu_gemm_f32_kernel, kGemmThreads, GemmF32Args,
          gemmF32<false>(args))
QR_KERNEL(qr_gpu_quantize_per_token_kernel, kQuantizeThreads, QuantizeArgs,
          allowSuccessorStart(), quantizePerToken(args))

#define QR_RULEBOOK_KERNEL(name, body)                                         \
  extern "C" __global__ void __launch_bounds__(kRulebookThreads)               \
      qr_gpu_pillar_##name(const RulebookArgs args) {                          \
    body(args);                                                                \
  }
QR_RULEBOOK_KERNEL(insert_inputs, pillarInsertInputs)
QR_RULEBOOK_KERNEL(find_duplicates, pillarFindDuplicates)
QR_RULEBOOK_KERNEL(select_by_threshold, pillarSelectByThreshold)
QR_RULEBOOK_KERNEL(insert_dilated, pillarInsertDilated)
QR_RULEBOOK_KERNEL(insert_halved, pillarInsertHalved)
QR_RULEBOOK_KERNEL(copy_sites, pillarCopySites)
QR_RULEBOOK_KERNEL(neighbours, pillarNeighbours)
QR_RULEBOOK_KERNEL(submanifold, pillarSubmanifold)
QR_RULEBOOK_KERNEL(finish, pillarFinish)
QR_RULEBOOK_KERNEL(candidates_count, compactCount<DilatedCandidates>)
QR_RULEBOOK_KERNEL(candidates_scan, compactScan<DilatedCandidates>)
QR_RULEBOOK_KERNEL(candidates_write, compactWrite<DilatedCandidates>)
QR_RULEBOOK_KERNEL(halved_count, compactCount<HalvedOutputs>)
QR_RULEBOOK_KERNEL(halved_scan, compactScan<HalvedOutputs>)
QR_RULEBOOK_KERNEL(halved_write, compactWrite<HalvedOutputs>)

QR_KERNEL(qr_gpu_pillar_select_topk, kTopkThreads, RulebookArgs,
          pillarSelectTopk(args))
QR_KERNEL(qr_gpu_pillar_norms_f32_kernel, kPillarThreads, PillarNormsArgs,
          pillarNorms(args, false))
QR_KERNEL(qr_gpu_pillar_norms_s8_kernel, kPillarThreads, PillarNormsArgs,
          pillarNorms(args, true))
QR_KERNEL(qr_gpu_pillar_gather_f32, kPillarThreads, PillarGatherArgs,
          pillarGather<float>(args))
QR_KERNEL(qr_gpu_pillar_gather_s8, kPillarThreads, PillarGatherArgs,
          pillarGather<int8_t>(args))
QR_KERNEL(qr_gpu_pillar_conv_f32_kernel, kGemmThreads, GemmF32Args,
          gemmF32<true>(args))
QR_KERNEL(qr_gpu_pillar_conv_f32_tiled, kPillarConvThreads, GemmF32Args,
          pillarConvF32Tiled(args))
QR_KERNEL(qr_gpu_add_bias_kernel, kPillarThreads, BiasArgs, addBias(args))
