// The vector primitives that the few-row kernels (gemv.cpp, quantized_dot.cpp) and the small products
// (gemm_small.cpp) are written over, one struct per x86 instruction set (Avx2: 8 floats, with FMA and F16C;
// Avx512: 16 floats), so that one loop body serves both. Each primitive carries its own target attribute
// and takes its vectors by reference: a vector passed by value to or from code compiled without the
// feature changes the ABI, which clang rejects. A kernel instantiates its body in an entry point marked
// target(kTarget) and flatten, which inlines every primitive into code compiled for that instruction set.
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#include <cstdint>

#define TL_SIMD_X86 1
#define TL_AVX2_TARGET "avx2,fma,f16c"
#define TL_AVX512_TARGET "avx512f,avx2,fma,f16c"
#define TL_AVX2 __attribute__((target(TL_AVX2_TARGET))) static inline
#define TL_AVX512 __attribute__((target(TL_AVX512_TARGET))) static inline

namespace tensorlogic::cpu::simd {

struct Avx2 {
  using V = __m256;
  static constexpr int kWidth = 8;
  // quantized_dot.cpp's form for sub-blocks without offsets: false scales every weight before the products
  // (as the AVX2 kernel was written), true sums x * q over the sub-block and scales the sum once.
  static constexpr bool kScaleOnce = false;
  TL_AVX2 void zero(V& v) { v = _mm256_setzero_ps(); }
  TL_AVX2 void load(V& v, const float* p) { v = _mm256_loadu_ps(p); }
  TL_AVX2 void store(float* p, const V& v) { _mm256_storeu_ps(p, v); }
  TL_AVX2 void set1(V& v, float s) { v = _mm256_set1_ps(s); }
  // v = the kWidth f16 values at p, widened.
  TL_AVX2 void load_f16(V& v, const void* p) { v = _mm256_cvtph_ps(_mm_loadu_si128(static_cast<const __m128i*>(p))); }
  // v = the kWidth int8 values at q, widened.
  TL_AVX2 void load_i8(V& v, const int8_t* q) {
    v = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q))));
  }
  // v = a * b - c.
  TL_AVX2 void fmsub(V& v, const V& a, const V& b, const V& c) { v = _mm256_fmsub_ps(a, b, c); }
  // acc += a * b.
  TL_AVX2 void fma(V& acc, const V& a, const V& b) { acc = _mm256_fmadd_ps(a, b, acc); }
  // acc += the kWidth floats at x times b.
  TL_AVX2 void fma_at(V& acc, const float* x, const V& b) { acc = _mm256_fmadd_ps(_mm256_loadu_ps(x), b, acc); }
  // r[i][j] = r[j][i]: unpack pairs of rows, interleave pairs of pairs, then swap 128-bit halves.
  TL_AVX2 void transpose(V (&r)[kWidth]) {
    V t[kWidth];
    for (int i = 0; i < kWidth; i += 2) {
      t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int g = 0; g < kWidth; g += 4) {
      r[g] = _mm256_shuffle_ps(t[g], t[g + 2], 0x44);
      r[g + 1] = _mm256_shuffle_ps(t[g], t[g + 2], 0xee);
      r[g + 2] = _mm256_shuffle_ps(t[g + 1], t[g + 3], 0x44);
      r[g + 3] = _mm256_shuffle_ps(t[g + 1], t[g + 3], 0xee);
    }
    for (int c = 0; c < 4; ++c) {
      t[c] = _mm256_permute2f128_ps(r[c], r[c + 4], 0x20);
      t[c + 4] = _mm256_permute2f128_ps(r[c], r[c + 4], 0x31);
    }
    for (int i = 0; i < kWidth; ++i) r[i] = t[i];
  }
  TL_AVX2 float sum(const V& v) {
    const __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(q, _mm_shuffle_ps(q, q, 1)));
  }
};

struct Avx512 {
  using V = __m512;
  static constexpr int kWidth = 16;
  static constexpr bool kScaleOnce = true;
  TL_AVX512 void zero(V& v) { v = _mm512_setzero_ps(); }
  TL_AVX512 void load(V& v, const float* p) { v = _mm512_loadu_ps(p); }
  TL_AVX512 void store(float* p, const V& v) { _mm512_storeu_ps(p, v); }
  TL_AVX512 void set1(V& v, float s) { v = _mm512_set1_ps(s); }
  TL_AVX512 void load_f16(V& v, const void* p) {
    v = _mm512_cvtph_ps(_mm256_loadu_si256(static_cast<const __m256i*>(p)));
  }
  TL_AVX512 void load_i8(V& v, const int8_t* q) {
    v = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q))));
  }
  TL_AVX512 void fmsub(V& v, const V& a, const V& b, const V& c) { v = _mm512_fmsub_ps(a, b, c); }
  TL_AVX512 void fma(V& acc, const V& a, const V& b) { acc = _mm512_fmadd_ps(a, b, acc); }
  TL_AVX512 void fma_at(V& acc, const float* x, const V& b) { acc = _mm512_fmadd_ps(_mm512_loadu_ps(x), b, acc); }
  TL_AVX512 float sum(const V& v) { return _mm512_reduce_add_ps(v); }
  // r[i][j] = r[j][i]: Avx2's first two stages within each 128-bit lane, then two rounds of 128-bit lane
  // shuffles across groups of eight rows and across the two halves.
  TL_AVX512 void transpose(V (&r)[kWidth]) {
    V t[kWidth];
    for (int i = 0; i < kWidth; i += 2) {
      t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int g = 0; g < kWidth; g += 4) {
      r[g] = _mm512_shuffle_ps(t[g], t[g + 2], 0x44);
      r[g + 1] = _mm512_shuffle_ps(t[g], t[g + 2], 0xee);
      r[g + 2] = _mm512_shuffle_ps(t[g + 1], t[g + 3], 0x44);
      r[g + 3] = _mm512_shuffle_ps(t[g + 1], t[g + 3], 0xee);
    }
    for (int h = 0; h < kWidth; h += 8) {
      for (int c = 0; c < 4; ++c) {
        t[h + c] = _mm512_shuffle_f32x4(r[h + c], r[h + 4 + c], 0x88);
        t[h + 4 + c] = _mm512_shuffle_f32x4(r[h + c], r[h + 4 + c], 0xdd);
      }
    }
    for (int c = 0; c < 8; ++c) {
      r[c] = _mm512_shuffle_f32x4(t[c], t[c + 8], 0x88);
      r[c + 8] = _mm512_shuffle_f32x4(t[c], t[c + 8], 0xdd);
    }
  }
};

}  // namespace tensorlogic::cpu::simd

#undef TL_AVX2
#undef TL_AVX512
#endif
