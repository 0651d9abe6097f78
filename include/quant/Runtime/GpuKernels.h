/*===- GpuKernels.h - the GPU path's hand-written kernels ---------*- C -*-===*
 *
 * Tensor-core kernels that compiled GPU models call through this C ABI,
 * the GPU counterpart of UKernels.h (same arguments where the operation is
 * the same). The kernels are CUDA C++ in runtime/cuda/kernels, built with
 * nvcc for sm_80 and sm_90a into a fatbin embedded in the runtime and loaded
 * with cuModuleLoadData. Every pointer except the packing functions' is a
 * device pointer; launches are asynchronous on qr_cuda_stream(); argument
 * or launch errors go to qr_report_kernel_error.
 *
 *===----------------------------------------------------------------------===*/

#ifndef QUANT_RUNTIME_GPUKERNELS_H
#define QUANT_RUNTIME_GPUKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*===----------------------------------------------------------------------===*
 * Weight packing (host code, run by the compiler at lowering time).
 *
 * Same inputs as qr_uk_pack_weights: codes[K][N] (one unsigned code per
 * byte), scales[G][N], zero_points[G][N], G = K / group_size. The GPU blob
 * has no header (kernels take bits and group_size as arguments):
 *   - codes in tensor-core fragment order: for each panel of 16 columns and
 *     each block of 64 k, 512 (4-bit) or 1024 (8-bit) bytes that a warp
 *     reads with 16-byte loads (ld.global.v4), one or two a lane, and that
 *     hold exactly the B fragments of mma.sync m16n8k32 for its lanes;
 *     the f16 kernels use them as two m16n8k16 fragments under a fixed
 *     permutation of k that A is staged with. 4-bit codes are placed so
 *     that one `lop3` with 0x64006400 yields two f16 values 1024 + u
 *     (Marlin's trick), 8-bit ones are stored as u − 128 with each lane's
 *     16 bytes one column's 64 k (every n8 tile an 8 × 64-byte K-major
 *     block, which Hopper's wgmma reads through TMA as is). K is padded to
 *     64 with the zero point (u − z = 0), N to 16;
 *   - then, per group and column ([G][N16]): 0x6400 | z (the f16 1024 + z),
 *     the f32 scales, and the int32 column sums of (u − z) (for the
 *     activation zero point).
 * bits ∈ {4, 8}; group_size divides K and is K or a multiple of 64.
 *===----------------------------------------------------------------------===*/
size_t qr_gpu_packed_weights_bytes(int32_t bits, int64_t K, int64_t N,
                                   int64_t group_size);
int qr_gpu_pack_weights(int32_t bits, int64_t K, int64_t N, int64_t group_size,
                        const uint8_t *codes, const float *scales,
                        const int32_t *zero_points, void *packed);

/*===----------------------------------------------------------------------===*
 * Matrix multiplication (C[M][N], row-major with ldc, overwritten).
 *===----------------------------------------------------------------------===*/

/* Weight-only (W4A16 / W8A16): A (f32, converted to f16 on load) × the
 * codes unpacked in registers to the f16 integers u − z (exact), mma.sync
 * m16n8k16 with f32 accumulation, each group's sums scaled in f32:
 *   C[m][n] = Σ_g s[g][n] · Σ_{k∈g} f16(A[m][k]) · (u[k][n] − z[g][n])
 * Decode-sized M (≤ 64) splits K across warps (streaming the weights once
 * at full bandwidth); larger M uses tiles staged through shared memory.
 * On sm_90 the decode-sized kernel is launched to overlap the previous
 * kernel of the stream and reads `packed` before that kernel has finished
 * (A and C only after): the packed weights must not be written by the
 * kernel launched just before (qr_gpu_matmul_s8 likewise). */
void qr_gpu_matmul_f16w(int64_t M, int64_t N, int64_t K, int32_t bits,
                        int64_t group_size, const float *A, int64_t lda,
                        const void *packed, float *C, int64_t ldc);

/* Integer activations × packed weights (W8A8, W4A8), as qr_uk_matmul_s8:
 *   C[m][n] = a_scale(m) · Σ_g s[g][n] · Σ_{k∈g} (A[m][k] − a_zp)(u[k][n] − z[g][n])
 * mma.sync m16n8k32 s8·s8 → s32 (4-bit codes widened to int8 in
 * registers); the int32 group sums are exact, then converted and scaled in
 * f32. On sm_90, prefill with per-channel weights (one group) and enough
 * 128 × 256 tiles for every multiprocessor runs Hopper's wgmma instead, a
 * 4-bit blob first widened into an 8-bit copy in device scratch memory
 * kept between calls (N·K bytes and the operands). a_scales (per token, M
 * values) may be NULL for the per-tensor a_scale. Weights must be
 * symmetric (z = 2^(bits−1)). */
void qr_gpu_matmul_s8(int64_t M, int64_t N, int64_t K, int32_t bits,
                      int64_t group_size, const int8_t *A, int64_t lda,
                      const float *a_scales, float a_scale,
                      int32_t a_zero_point, const void *packed, float *C,
                      int64_t ldc);

/* Float GEMM, as qr_uk_gemm_f32 (f32 FFMA: the float path keeps f32
 * accuracy, no TF32). */
void qr_gpu_gemm_f32(int64_t batch, int64_t M, int64_t N, int64_t K,
                     const float *A, int64_t lda, int64_t stride_a,
                     const float *B, int64_t ldb, int64_t stride_b,
                     int32_t transpose_b, float *C, int64_t ldc,
                     int64_t stride_c);

/*===----------------------------------------------------------------------===*
 * Activations.
 *===----------------------------------------------------------------------===*/

/* In place, as qr_uk_hadamard_f32: x ← (x ∘ signs) · H / sqrt(n) on each
 * row, n = 2^k · b (b = 1, or the b×b `base`, b ≤ 28; base and signs are
 * device pointers). One block a row. Powers of two up to 32768: 16-byte
 * loads, butterflies in registers, across lanes with shfl.xor and across
 * warps through shared memory. Kronecker sizes up to 28·1024: the base on
 * runs of b in registers, then butterflies in shared memory. On sm_90 a
 * matmul launched next may start while it runs (it reads only its weights
 * until this kernel has finished); quantization likewise. */
void qr_gpu_hadamard_f32(float *X, int64_t rows, int64_t n, int64_t ld,
                         const int8_t *signs, const int8_t *base, int64_t b);

/* As qr_uk_quantize_per_token_f32 (bit-exact: the division in double). One
 * block a row; rows of up to 16384 aligned values are read once. */
void qr_gpu_quantize_per_token_f32(int64_t M, int64_t K, const float *X,
                                   int64_t ldx, int32_t bits, int8_t *Q,
                                   int64_t ldq, float *scales);

/*===----------------------------------------------------------------------===*
 * Sparse pillar convolution (qnn.pillar_conv): the GPU counterparts of the
 * qr_uk_pillar_* kernels (UKernels.h), with the same output sites in the
 * same order and the same QR_PILLAR_* statuses.
 *===----------------------------------------------------------------------===*/

/* As qr_uk_pillar_norms_*: one thread a pillar, the squares rounded and
 * summed in double in channel order (no fused multiply-add). */
void qr_gpu_pillar_norms_f32(int64_t N, int64_t C, const float *features,
                             int64_t ld, double *norms);
void qr_gpu_pillar_norms_s8(int64_t N, int64_t C, const int8_t *features,
                            int64_t ld, double scale, int32_t zero_point,
                            double *norms);

/* As qr_uk_pillar_rulebook (counts is a device pointer too). Linear in N:
 * open-addressing site tables in device memory filled with atomicCAS, each
 * site keeping the smallest ordinal inserted under it (atomicMin), so
 * "first occurrence" is decided without ordering the threads; the selected
 * sites are then compacted in ordinal order by a prefix sum. Top-k
 * importance is a radix select (ties to the lower index). The call does not
 * wait for its kernels: an invalid input (counts[1] != QR_PILLAR_OK) is
 * reported by name, with the CPU's message, at the next wait for the
 * stream (qr_cuda_read of the row count, qr_cuda_synchronize, the end of
 * a model run). */
void qr_gpu_pillar_rulebook(int64_t N, const int32_t *coords, int64_t height,
                            int64_t width, int64_t kernel, int64_t stride,
                            int32_t dilate, const double *importance,
                            double threshold, double topk_ratio,
                            int64_t capacity, int32_t *out_coords,
                            int32_t *neighbours, int64_t *counts);

/* out[m][n] = bias[n] + Σ_t Σ_c features[neighbours[m][t]][c] · W[t][c][n]
 * (bias may be NULL): one GEMM of K = taps · C_in over the rows the
 * neighbour map gathers (missing neighbours read as zero), each output row
 * computed by one CTA, so no two write the same row (no atomics, and the
 * result does not depend on scheduling).
 *   _f32:  f32 weights [taps][C_in][C_out], the gather inside the f32 GEMM's
 *          tile loads (no copy of the gathered rows);
 *   _f16w: f32 features, packed weights (qr_gpu_pack_weights of the
 *          [taps · C_in, C_out] matrix), qr_gpu_matmul_f16w;
 *   _s8:   int8 features (per-tensor scale and zero point; missing
 *          neighbours read as the zero point), packed weights,
 *          qr_gpu_matmul_s8.
 * The packed variants gather into device scratch the runtime keeps. */
void qr_gpu_pillar_conv_f32(int64_t M, int64_t taps, int64_t C_in,
                            int64_t C_out, const float *features,
                            const int32_t *neighbours, const float *weights,
                            const float *bias, float *out);
void qr_gpu_pillar_conv_f16w(int64_t M, int64_t taps, int64_t C_in,
                             int64_t C_out, int32_t bits, int64_t group_size,
                             const float *features, const int32_t *neighbours,
                             const void *packed, const float *bias,
                             float *out);
void qr_gpu_pillar_conv_s8(int64_t M, int64_t taps, int64_t C_in,
                           int64_t C_out, int32_t bits, int64_t group_size,
                           const int8_t *features, float a_scale,
                           int32_t a_zero_point, const int32_t *neighbours,
                           const void *packed, const float *bias, float *out);

#ifdef __cplusplus
}
#endif

#endif /* QUANT_RUNTIME_GPUKERNELS_H */
