// Products of a few rows with f16 weights (a language model decoding: x [m <= 8, k] @ W^T, W [n, k] f16
// row-major): each weight row is read once and widened in registers against every row of x, instead of
// being widened into an f32 copy first, which moves several times the bytes of the product itself.
// AVX-512 or AVX2+F16C+FMA chosen once at run time (TL_CPU_SIMD caps it, as for the elementwise kernels).
#include "gemv.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "f16_convert.h"
#include "parallel.h"
#include "simd_isa.h"

namespace tensorlogic::cpu {

GemvIsa gemv_isa() {
  const char* cap = std::getenv("TL_CPU_SIMD");
  const std::string limit = cap ? cap : "";
  if (limit == "none") return GemvIsa::portable;
#if TL_SIMD_X86
  if (limit != "avx2" && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma") &&
      __builtin_cpu_supports("f16c")) {
    return GemvIsa::avx512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
    return GemvIsa::avx2;
  }
#endif
  return GemvIsa::portable;
}

namespace {

using Kernel = void (*)(const float* x, int64_t k, const half* w, int64_t ld, int64_t j0, int64_t j1, float* c,
                        int64_t n);

// c[r * n + j] for r < M, j in [j0, j1): the dot products of x's rows with weight rows j.
template <int M>
void rows_portable(const float* x, int64_t k, const half* w, int64_t ld, int64_t j0, int64_t j1, float* c, int64_t n) {
  float line[256];
  for (int64_t j = j0; j < j1; ++j) {
    float acc[M] = {};
    for (int64_t k0 = 0; k0 < k; k0 += 256) {
      const int64_t len = k - k0 < 256 ? k - k0 : 256;
      f16_to_f32(w + j * ld + k0, line, len);
      for (int r = 0; r < M; ++r) {
        float s = 0.0f;
        for (int64_t i = 0; i < len; ++i) s += x[r * k + k0 + i] * line[i];
        acc[r] += s;
      }
    }
    for (int r = 0; r < M; ++r) c[r * n + j] = acc[r];
  }
}

#if TL_SIMD_X86
// rows_portable with Isa's vectors: kWidth weights widened at a time against every row, the tail in scalars.
template <class Isa, int M>
inline void rows_simd(const float* x, int64_t k, const half* w, int64_t ld, int64_t j0, int64_t j1, float* c,
                      int64_t n) {
  for (int64_t j = j0; j < j1; ++j) {
    const half* row = w + j * ld;
    typename Isa::V acc[M], wv;
    for (int r = 0; r < M; ++r) Isa::zero(acc[r]);
    int64_t i = 0;
    for (; i + Isa::kWidth <= k; i += Isa::kWidth) {
      Isa::load_f16(wv, row + i);
      for (int r = 0; r < M; ++r) Isa::fma_at(acc[r], x + r * k + i, wv);
    }
    for (int r = 0; r < M; ++r) {
      float s = Isa::sum(acc[r]);
      for (int64_t t = i; t < k; ++t) s += x[r * k + t] * to_float(row[t]);
      c[r * n + j] = s;
    }
  }
}

template <int M>
__attribute__((target(TL_AVX512_TARGET), flatten)) void rows_avx512(const float* x, int64_t k, const half* w,
                                                                     int64_t ld, int64_t j0, int64_t j1, float* c,
                                                                     int64_t n) {
  rows_simd<simd::Avx512, M>(x, k, w, ld, j0, j1, c, n);
}

template <int M>
__attribute__((target(TL_AVX2_TARGET), flatten)) void rows_avx2(const float* x, int64_t k, const half* w, int64_t ld,
                                                                 int64_t j0, int64_t j1, float* c, int64_t n) {
  rows_simd<simd::Avx2, M>(x, k, w, ld, j0, j1, c, n);
}
#endif

template <int M>
Kernel kernel_for(GemvIsa isa) {
#if TL_SIMD_X86
  if (isa == GemvIsa::avx512) return &rows_avx512<M>;
  if (isa == GemvIsa::avx2) return &rows_avx2<M>;
#endif
  return &rows_portable<M>;
}

Kernel kernel(int64_t m) {
  static const GemvIsa isa = gemv_isa();
  static const Kernel kernels[kGemvMaxRows] = {kernel_for<1>(isa), kernel_for<2>(isa), kernel_for<3>(isa),
                                               kernel_for<4>(isa), kernel_for<5>(isa), kernel_for<6>(isa),
                                               kernel_for<7>(isa), kernel_for<8>(isa)};
  return kernels[m - 1];
}

}  // namespace

void gemv_f16(const float* x, int64_t m, int64_t k, const half* w, int64_t ld, int64_t n, float* c) {
  const Kernel fn = kernel(m);
  // About 64K weights per chunk: enough work to pay for a pool hand-off.
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(k, 1));
  parallel_for(n, grain, [&](int64_t j0, int64_t j1) { fn(x, k, w, ld, j0, j1, c, n); });
}

}  // namespace tensorlogic::cpu
