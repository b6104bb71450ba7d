// Products of a few rows (a language model decoding) with weights kept in GGUF block formats: each block is
// decoded to small integers (cpp/kernels/quantized.h), widened to f32 in registers and turned into the
// weights by one fused multiply-subtract (scale * q - offset, exact), then multiplied into every row of x.
// The weights cross memory once at their stored size (about 1/2 to 1/4 of f16), which is what bounds a
// batch-1 decode on the CPU. AVX-512 or AVX2+FMA chosen once at run time (gemv_isa), portable otherwise.
#pragma GCC diagnostic ignored "-Wpsabi"
#include "quantized_dot.h"

#include <algorithm>

#include "../kernels/quantized.h"
#include "gemv.h"
#include "parallel.h"
#include "simd_isa.h"

namespace tensorlogic::cpu {
namespace {

using kernels::decode_scales;
using kernels::decode_values;

using Kernel = void (*)(const float* x, int64_t k, const uint8_t* w, int64_t row_bytes, int64_t j0, int64_t j1,
                        float* c, int64_t n);

// c[r * n + j] for r < M, j in [j0, j1): rows of x against weight rows j of format T.
template <QuantType T, int M>
void rows_portable(const float* x, int64_t k, const uint8_t* w, int64_t row_bytes, int64_t j0, int64_t j1, float* c,
                   int64_t n) {
  constexpr int elems = quant_block_elems(T), bytes = quant_block_bytes(T);
  const int sub = kernels::quant_sub_elems(T);
  int8_t buffer[kernels::kQuantMaxBlock];
  float scale[kernels::kQuantMaxSubs], offset[kernels::kQuantMaxSubs];
  for (int64_t j = j0; j < j1; ++j) {
    float acc[M] = {};
    for (int64_t b = 0; b < k / elems; ++b) {
      const uint8_t* block = w + j * row_bytes + b * bytes;
      decode_scales(T, block, scale, offset);
      const int8_t* q = decode_values(T, block, buffer);
      for (int i = 0; i < elems; ++i) {
        const float weight = scale[i / sub] * static_cast<float>(q[i]) - offset[i / sub];
        for (int r = 0; r < M; ++r) acc[r] += x[r * k + b * elems + i] * weight;
      }
    }
    for (int r = 0; r < M; ++r) c[r * n + j] = acc[r];
  }
}

#if TL_SIMD_X86
__attribute__((target("avx2"))) inline __m256i load32(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}
__attribute__((target("avx2"))) inline void store32(int8_t* p, __m256i v) {
  _mm256_store_si256(reinterpret_cast<__m256i*>(p), v);
}
__attribute__((target("avx2"))) inline __m256i shift_right(__m256i v, int bits) {
  return _mm256_srl_epi16(v, _mm_cvtsi32_si128(bits));
}

// decode_values with 256-bit integer ops (nibbles and 2-bit fields masked out of shifted 16-bit lanes);
// `buffer` is 32-byte aligned.
template <QuantType T>
__attribute__((target("avx2"))) inline const int8_t* values_avx2(const uint8_t* b, int8_t* buffer) {
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  if constexpr (T == QuantType::q4_0) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 2)), low = _mm_set1_epi8(0x0F);
    const __m128i eight = _mm_set1_epi8(8);
    _mm_store_si128(reinterpret_cast<__m128i*>(buffer), _mm_sub_epi8(_mm_and_si128(v, low), eight));
    _mm_store_si128(reinterpret_cast<__m128i*>(buffer + 16),
                    _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(v, 4), low), eight));
    return buffer;
  } else if constexpr (T == QuantType::q4_k) {
    for (int j = 0; j < 4; ++j) {
      const __m256i v = load32(b + 16 + 32 * j);
      store32(buffer + 64 * j, _mm256_and_si256(v, nibble));
      store32(buffer + 64 * j + 32, _mm256_and_si256(shift_right(v, 4), nibble));
    }
    return buffer;
  } else if constexpr (T == QuantType::q6_k) {
    const __m256i two_bits = _mm256_set1_epi8(0x03), thirty_two = _mm256_set1_epi8(32);
    for (int h = 0; h < 2; ++h) {
      const __m256i qh = load32(b + 128 + 32 * h);
      for (int t = 0; t < 4; ++t) {
        const __m256i low = _mm256_and_si256(shift_right(load32(b + 64 * h + 32 * (t & 1)), 4 * (t >> 1)), nibble);
        const __m256i high = _mm256_and_si256(shift_right(qh, 2 * t), two_bits);
        store32(buffer + 128 * h + 32 * t, _mm256_sub_epi8(_mm256_or_si256(low, _mm256_slli_epi16(high, 4)), thirty_two));
      }
    }
    return buffer;
  } else {
    return decode_values(T, b, buffer);
  }
}

// decode_scales with F16C for the one-scale formats, where the scalar f16 conversion would cost as much as
// the block's arithmetic.
template <QuantType T>
__attribute__((target("f16c"))) inline void scales_f16c(const uint8_t* b, float* scale, float* offset) {
  if constexpr (T == QuantType::q8_0 || T == QuantType::q4_0) {
    scale[0] = _cvtsh_ss(static_cast<unsigned short>(b[0] | (b[1] << 8)));
    offset[0] = 0.0f;
  } else {
    decode_scales(T, b, scale, offset);
  }
}

// rows_portable with Isa's vectors over blocks decoded with AVX2 and F16C: the weights (scale * q - offset)
// kWidth at a time into every row; where Isa::kScaleOnce, a sub-block without offsets (all formats but q4_k)
// instead sums x * q over the sub-block and scales the sum once.
template <class Isa, QuantType T, int M>
inline void rows_simd(const float* x, int64_t k, const uint8_t* w, int64_t row_bytes, int64_t j0, int64_t j1,
                      float* c, int64_t n) {
  constexpr int elems = quant_block_elems(T), bytes = quant_block_bytes(T);
  const int sub = kernels::quant_sub_elems(T);
  alignas(64) int8_t buffer[kernels::kQuantMaxBlock];
  float scale[kernels::kQuantMaxSubs], offset[kernels::kQuantMaxSubs];
  typename Isa::V acc[M], part[M], sc, off, wv;
  for (int64_t j = j0; j < j1; ++j) {
    for (int r = 0; r < M; ++r) Isa::zero(acc[r]);
    const uint8_t* row = w + j * row_bytes;
    for (int64_t b = 0; b < k / elems; ++b) {
      scales_f16c<T>(row + b * bytes, scale, offset);
      const int8_t* q = values_avx2<T>(row + b * bytes, buffer);
      const float* xb = x + b * elems;
      for (int s = 0; s < elems / sub; ++s) {
        Isa::set1(sc, scale[s]);
        if constexpr (Isa::kScaleOnce && T != QuantType::q4_k) {
          for (int r = 0; r < M; ++r) Isa::zero(part[r]);
          for (int i = s * sub; i < (s + 1) * sub; i += Isa::kWidth) {
            Isa::load_i8(wv, q + i);
            for (int r = 0; r < M; ++r) Isa::fma_at(part[r], xb + r * k + i, wv);
          }
          for (int r = 0; r < M; ++r) Isa::fma(acc[r], part[r], sc);
        } else {
          Isa::set1(off, offset[s]);
          for (int i = s * sub; i < (s + 1) * sub; i += Isa::kWidth) {
            Isa::load_i8(wv, q + i);
            Isa::fmsub(wv, wv, sc, off);
            for (int r = 0; r < M; ++r) Isa::fma_at(acc[r], xb + r * k + i, wv);
          }
        }
      }
    }
    for (int r = 0; r < M; ++r) c[r * n + j] = Isa::sum(acc[r]);
  }
}

template <QuantType T, int M>
__attribute__((target(TL_AVX2_TARGET), flatten)) void rows_avx2(const float* x, int64_t k, const uint8_t* w,
                                                                 int64_t row_bytes, int64_t j0, int64_t j1, float* c,
                                                                 int64_t n) {
  rows_simd<simd::Avx2, T, M>(x, k, w, row_bytes, j0, j1, c, n);
}

template <QuantType T, int M>
__attribute__((target(TL_AVX512_TARGET), flatten)) void rows_avx512(const float* x, int64_t k, const uint8_t* w,
                                                                     int64_t row_bytes, int64_t j0, int64_t j1,
                                                                     float* c, int64_t n) {
  rows_simd<simd::Avx512, T, M>(x, k, w, row_bytes, j0, j1, c, n);
}

// dst[r * k + i] = W[r, i] in f32 for r < rows: decode_values with 256-bit integer ops, then the weights.
template <QuantType T>
__attribute__((target("avx2,fma"))) void dequantize_avx2(const uint8_t* w, int64_t row_bytes, int64_t k, int64_t rows,
                                                          float* dst) {
  constexpr int elems = quant_block_elems(T), bytes = quant_block_bytes(T);
  const int sub = kernels::quant_sub_elems(T);
  alignas(32) int8_t buffer[kernels::kQuantMaxBlock];
  float scale[kernels::kQuantMaxSubs], offset[kernels::kQuantMaxSubs];
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < k / elems; ++b) {
      const uint8_t* block = w + r * row_bytes + b * bytes;
      scales_f16c<T>(block, scale, offset);
      const int8_t* q = values_avx2<T>(block, buffer);
      float* out = dst + r * k + b * elems;
      for (int s = 0; s < elems / sub; ++s) {
        const __m256 sc = _mm256_set1_ps(scale[s]), off = _mm256_set1_ps(offset[s]);
        for (int i = s * sub; i < (s + 1) * sub; i += 8) {
          const __m128i q8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + i));
          _mm256_storeu_ps(out + i, _mm256_fmsub_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q8)), sc, off));
        }
      }
    }
  }
}
#endif

template <QuantType T, int M>
Kernel kernel_for(GemvIsa isa) {
#if TL_SIMD_X86
  if (isa == GemvIsa::avx512) return &rows_avx512<T, M>;
  if (isa == GemvIsa::avx2) return &rows_avx2<T, M>;
#endif
  return &rows_portable<T, M>;
}

template <QuantType T>
struct Kernels {
  Kernel by_rows[kGemvMaxRows];
  explicit Kernels(GemvIsa isa)
      : by_rows{kernel_for<T, 1>(isa), kernel_for<T, 2>(isa), kernel_for<T, 3>(isa), kernel_for<T, 4>(isa),
                kernel_for<T, 5>(isa), kernel_for<T, 6>(isa), kernel_for<T, 7>(isa), kernel_for<T, 8>(isa)} {}
};

template <QuantType T>
Kernel kernel_of(int64_t m) {
  static const Kernels<T> table(gemv_isa());
  return table.by_rows[m - 1];
}

Kernel kernel(QuantType type, int64_t m) {
  switch (type) {
#define TL_QUANT(type, name, block_elems, block_bytes) \
  case QuantType::type:                                \
    return kernel_of<QuantType::type>(m);
#include "tensorlogic/op_table.def"
  }
  return nullptr;
}

}  // namespace

void quantized_gemv(QuantType type, const float* x, int64_t m, int64_t k, const uint8_t* w, int64_t row_bytes,
                    int64_t n, float* c) {
  const Kernel fn = kernel(type, m);
  // About 64K weights per chunk, as for the f16 rows (gemv.cpp).
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(k, 1));
  parallel_for(n, grain, [&](int64_t j0, int64_t j1) { fn(x, k, w, row_bytes, j0, j1, c, n); });
}

void dequantize_rows(QuantType type, const uint8_t* w, int64_t row_bytes, int64_t k, int64_t rows, float* dst) {
#if TL_SIMD_X86
  static const bool simd = gemv_isa() != GemvIsa::portable;
  if (simd) {
    switch (type) {
#define TL_QUANT(type, name, block_elems, block_bytes) \
  case QuantType::type:                                \
    return dequantize_avx2<QuantType::type>(w, row_bytes, k, rows, dst);
#include "tensorlogic/op_table.def"
    }
  }
#endif
  const int elems = quant_block_elems(type), bytes = quant_block_bytes(type), sub = kernels::quant_sub_elems(type);
  int8_t buffer[kernels::kQuantMaxBlock];
  float scale[kernels::kQuantMaxSubs], offset[kernels::kQuantMaxSubs];
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < k / elems; ++b) {
      const uint8_t* block = w + r * row_bytes + b * bytes;
      decode_scales(type, block, scale, offset);
      const int8_t* q = decode_values(type, block, buffer);
      float* out = dst + r * k + b * elems;
      for (int i = 0; i < elems; ++i) out[i] = scale[i / sub] * static_cast<float>(q[i]) - offset[i / sub];
    }
  }
}

}  // namespace tensorlogic::cpu
