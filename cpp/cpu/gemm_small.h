// Batches of small matrix products computed without OpenBLAS (see gemm_small.cpp).
#pragma once
#include <cstdint>

#include "tensorlogic/array.h"

namespace tensorlogic::cpu {

// Each of m, n and k at most this: every product's f32 operands and result fit on the stack.
constexpr int64_t kSmallGemmMax = 64;

// Whether the small-product kernel takes [m, k] @ [k, n] products on this CPU (AVX2 or AVX-512; capped by
// TL_CPU_SIMD as the other vector kernels).
bool small_gemm_fits(int64_t m, int64_t n, int64_t k);

// c[i] (packed f32 [batches, m, n]) = a[i] @ b[i] for f16 a [batches, m, k] and b [batches, k, n] of any
// strides (a zero batch stride shares one matrix), or with two batch axes ([B0, B1, m, k], batches = B0 * B1).
// Parallel over batches. Requires small_gemm_fits.
void small_gemm(const Array& a, const Array& b, float* c);

// The same for f32 operands: matrix i of a at a + i * sa[0], with row and column strides sa[1], sa[2] (b alike).
// Requires small_gemm_fits.
void small_sgemm(const float* a, const int64_t sa[3], const float* b, const int64_t sb[3], int64_t batches, int64_t m,
                 int64_t n, int64_t k, float* c);

}  // namespace tensorlogic::cpu
