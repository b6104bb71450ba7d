// Vectorised f16 elementwise kernels: each op is written once on f32 vectors (vec_math.h,
// elementwise_simd_ops.h) and compiled for AVX-512 (16 lanes) and for AVX2+F16C+FMA (8 lanes); the table
// of kernels is built once from the CPU's features. Loops have no per-element branches: special values
// are handled by lane selects.
// GCC 12 warns inside its own AVX-512 conversion intrinsics (an "undefined" source register).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wpsabi"
#include "elementwise_simd.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "../kernels/elementwise.h"  // the derivatives' roots (elementwise_simd_ops.h)

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TL_SIMD_X86 1
#endif

namespace tensorlogic::cpu::simd {
namespace {

struct Table {
  UnaryKernel unary[kUnaryOpCount] = {};
  NaryKernel binary[kBinaryOpCount] = {};
  NaryKernel ternary[kTernaryOpCount] = {};
  void (*exp_shifted)(float*, int64_t, float) = nullptr;
  SoftmaxRowsKernel softmax_rows[2] = {};  // softmax, log_softmax
  ScaledSoftmaxKernel scaled_softmax = nullptr;
  ReduceKernel reduce[kReduceRules] = {};
  ColumnKernel columns[kReduceRules] = {};
};

// The portable instance (4 lanes: SSE2 / NEON width), used where no wider set is available.
namespace portable {
#define TL_VEC_LANES 4
#include "vec_math.h"
#undef TL_VEC_LANES
inline void exp_shifted(float* x, int64_t n, float shift) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) store(x + i, exp(load(x + i) - shift));
  for (; i < n; ++i) x[i] = __builtin_expf(x[i] - shift);
}
}  // namespace portable

#if TL_SIMD_X86
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma,f16c")
namespace avx512 {
#define TL_VEC_LANES 16
#include "vec_math.h"
#undef TL_VEC_LANES
TL_VINLINE vf load_f16(const half* p) {
  return (vf)_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
TL_VINLINE void store_f16(half* p, vf v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p),
                      _mm512_cvtps_ph((__m512)v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
// The first `count` (< kLanes) floats at p, `fill` in the other lanes; and the store of those lanes alone
// (masked: no variable-length copy, whose branches the rows of varying length mispredicted).
TL_VINLINE vf load_partial(const float* p, int64_t count, float fill) {
  return (vf)_mm512_mask_loadu_ps(_mm512_set1_ps(fill), static_cast<__mmask16>((1u << count) - 1), p);
}
TL_VINLINE void store_partial(float* p, int64_t count, vf v) {
  _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << count) - 1), (__m512)v);
}
#include "elementwise_simd_ops.h"
}  // namespace avx512
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
namespace avx2 {
#define TL_VEC_LANES 8
#include "vec_math.h"
#undef TL_VEC_LANES
TL_VINLINE vf load_f16(const half* p) { return (vf)_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
TL_VINLINE void store_f16(half* p, vf v) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph((__m256)v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
TL_VINLINE __m256i lanes_below(int64_t count) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
TL_VINLINE vf load_partial(const float* p, int64_t count, float fill) {
  const __m256i mask = lanes_below(count);
  return (vf)_mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, mask), _mm256_castsi256_ps(mask));
}
TL_VINLINE void store_partial(float* p, int64_t count, vf v) { _mm256_maskstore_ps(p, lanes_below(count), (__m256)v); }
#include "elementwise_simd_ops.h"
}  // namespace avx2
#pragma GCC pop_options
#endif

// TL_CPU_SIMD=avx2 or =none caps the instruction set (to test every path on one machine).
Table make_table() {
  Table t;
  t.exp_shifted = &portable::exp_shifted;
  const char* cap = std::getenv("TL_CPU_SIMD");
  const std::string limit = cap ? cap : "";
  if (limit == "none") return t;
#if TL_SIMD_X86
  if (limit != "avx2" && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
    avx512::fill(t);
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
    avx2::fill(t);
  }
#endif
  return t;
}

const Table& table() {
  static const Table t = make_table();
  return t;
}

}  // namespace

void exp_shifted(float* x, int64_t n, float shift) { table().exp_shifted(x, n, shift); }

SoftmaxRowsKernel softmax_rows_kernel(bool log) { return table().softmax_rows[log ? 1 : 0]; }
ScaledSoftmaxKernel scaled_softmax_kernel() { return table().scaled_softmax; }

ReduceKernel reduce_kernel(ReduceRule rule) { return table().reduce[static_cast<int>(rule)]; }
ColumnKernel column_kernel(ReduceRule rule) { return table().columns[static_cast<int>(rule)]; }

UnaryKernel unary_kernel(UnaryOp op) { return table().unary[static_cast<int>(op)]; }
NaryKernel binary_kernel(BinaryOp op) { return table().binary[static_cast<int>(op)]; }
NaryKernel ternary_kernel(TernaryOp op) { return table().ternary[static_cast<int>(op)]; }

}  // namespace tensorlogic::cpu::simd
