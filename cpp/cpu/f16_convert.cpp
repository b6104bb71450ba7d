// Bulk f16 <-> f32 conversion with the best instructions the running CPU has.
#include "f16_convert.h"

#include <algorithm>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define TL_X86 1
#elif defined(__aarch64__)
#include <arm_neon.h>
#define TL_NEON 1
#endif

namespace tensorlogic::cpu {
namespace {

void to_f32_scalar(const half* in, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = to_float(in[i]);
}
void to_f16_scalar(const float* in, half* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = to_half(in[i]);
}

#if TL_X86
__attribute__((target("avx2,f16c"))) void to_f32_f16c(const half* in, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i))));
  }
  // GCC emits no vzeroupper before the tail call below, and SSE code run with the upper halves dirty
  // stalls: the row kernels' scalar/SSE loops after a widening ran several times slower (cpu_notes.md).
  _mm256_zeroupper();
  to_f32_scalar(in + i, out + i, n - i);
}
__attribute__((target("avx2,f16c"))) void to_f16_f16c(const float* in, half* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), h);
  }
  _mm256_zeroupper();  // as above
  to_f16_scalar(in + i, out + i, n - i);
}
const bool has_f16c = __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx2");
#elif TL_NEON
void to_f32_neon(const half* in, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    vst1q_f32(out + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(reinterpret_cast<const uint16_t*>(in + i)))));
  }
  to_f32_scalar(in + i, out + i, n - i);
}
void to_f16_neon(const float* in, half* out, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    vst1_u16(reinterpret_cast<uint16_t*>(out + i), vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(in + i))));
  }
  to_f16_scalar(in + i, out + i, n - i);
}
#endif

// The pair of conversions the running CPU does best, picked once when the library loads.
struct Conversions {
  void (*to_f32)(const half*, float*, int64_t);
  void (*to_f16)(const float*, half*, int64_t);
};
#if TL_X86
const Conversions best = has_f16c ? Conversions{to_f32_f16c, to_f16_f16c} : Conversions{to_f32_scalar, to_f16_scalar};
#elif TL_NEON
const Conversions best{to_f32_neon, to_f16_neon};
#else
const Conversions best{to_f32_scalar, to_f16_scalar};
#endif

}  // namespace

void f16_to_f32(const half* in, float* out, int64_t n) { best.to_f32(in, out, n); }

void f32_to_f16(const float* in, half* out, int64_t n) { best.to_f16(in, out, n); }

void add_f16_row(float* row, int64_t n, const half* p, int64_t stride) {
  if (stride == 0) {
    const float v = to_float(p[0]);
    for (int64_t j = 0; j < n; ++j) row[j] += v;
  } else if (stride == 1) {
    float block[512];
    for (int64_t j0 = 0; j0 < n; j0 += 512) {
      const int64_t len = std::min<int64_t>(512, n - j0);
      f16_to_f32(p + j0, block, len);
      for (int64_t j = 0; j < len; ++j) row[j0 + j] += block[j];
    }
  } else {
    for (int64_t j = 0; j < n; ++j) row[j] += to_float(p[j * stride]);
  }
}

}  // namespace tensorlogic::cpu
