// Products of a few rows with f16 weights read directly (see gemv.cpp).
#pragma once
#include <cstdint>

#include "tensorlogic/dtype.h"

namespace tensorlogic::cpu {

constexpr int64_t kGemvMaxRows = 8;

// The instruction set of the few-row products (gemv.cpp, quantized_dot.cpp): the best the CPU has, capped
// by TL_CPU_SIMD (avx2 or none) as for the elementwise kernels. AVX2 comes with FMA and F16C.
enum class GemvIsa { portable, avx2, avx512 };
GemvIsa gemv_isa();

// c[r, j] = sum_i x[r, i] * w[j * ld + i] for r < m (1 <= m <= kGemvMaxRows), j < n: x packed f32 [m, k],
// w f16 rows of k contiguous weights, c packed f32 [m, n]. Parallel over j.
void gemv_f16(const float* x, int64_t m, int64_t k, const half* w, int64_t ld, int64_t n, float* c);

}  // namespace tensorlogic::cpu
