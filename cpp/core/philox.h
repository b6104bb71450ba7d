// The random stream of TensorLogic: Philox4x32-10 plus the maps from its 32-bit words to uniform,
// normal and integer values. Plain functions with explicit fmaf and no library calls in the math, so
// that this header compiles unchanged as C++, CUDA and Metal and every device gives identical bits.
//
// The stream (every backend reproduces it exactly):
//   key     = (seed & 0xffffffff, seed >> 32)
//   counter = (c & 0xffffffff, c >> 32, 0, 0) with c = offset + i / 4 (64-bit), for element i;
//   word    = lane i % 4 of philox4x32_10(counter, key).
//   The generator's offset advances by ceil(n / 4) per call that draws n elements.
// Values from a word x (f32, then rounded once to f16):
//   uniform  : (x >> 21) * 2^-11, a multiple of 2^-11 in [0, 1); exact in f16, so never 1.0.
//   integer  : low + ((x * (high - low)) >> 32) in 64-bit arithmetic (int32 result).
//   normal   : Box-Muller on the words of one counter: lanes (0, 1) give elements 4c, 4c+1 and lanes
//              (2, 3) give 4c+2, 4c+3. With u = (x_even >> 8) + 1 in (0, 2^24] and k = x_odd >> 8:
//              r = sqrt(-2 * log(u * 2^-24)) with tl_philox_log below, angle 2*pi*k*2^-24 split into a
//              quadrant q = (k + 2^21) >> 22 and a remainder a = (k - q * 2^22) * (pi/2 * 2^-22) in
//              [-pi/4, pi/4]; cos/sin of the angle are (+-) tl_philox_cos/sin(a) by quadrant;
//              element 4c + 2j is r * cos, element 4c + 2j + 1 is r * sin. sqrt is IEEE (correctly rounded).
// Attention dropout (scaled_dot_product_attention with dropout_p = p) draws one word per probability
// (batch b, head h, query i, key j) of the [B, H, L, S] probabilities (any batch axes, flattened to one
// index n): with S4 = ceil(S / 4), counter = offset + (n * L + i) * S4 + j / 4, word = lane j % 4, so a
// row starts on a fresh counter and a thread holding keys 4m..4m+3 of one query needs one Philox call.
// The probability is kept when word >= floor(p * 2^32) (p = 1 keeps none) and then scaled by 1 / (1 - p).
// A call reserves rows * S4 counters. Forward and backward regenerate the words instead of storing a mask.
#pragma once

#ifndef TL_PHILOX_FN
#if defined(__GNUC__)
#define TL_PHILOX_FN inline __attribute__((always_inline))  // inlined into FMA-enabled callers
#else
#define TL_PHILOX_FN inline
#endif
#endif
// Other devices define these before including: CUDA `__host__ __device__ inline` for TL_PHILOX_FN;
// Metal `ulong` / `long`, `fma` and `precise::sqrt`.
#ifndef TL_PHILOX_U64
#define TL_PHILOX_U64 unsigned long long
#define TL_PHILOX_I64 long long
#endif
#ifndef TL_FMAF
#define TL_FMAF __builtin_fmaf
#endif
#ifndef TL_SQRTF
#define TL_SQRTF __builtin_sqrtf
#endif

namespace tensorlogic {

struct PhiloxWords {
  unsigned int x[4];
};

// Philox4x32-10 (Salmon et al. 2011, Random123) of the 128-bit counter `c` under the key (k0, k1).
TL_PHILOX_FN PhiloxWords philox4x32_10_block(PhiloxWords c, unsigned int k0, unsigned int k1) {
  unsigned int c0 = c.x[0], c1 = c.x[1], c2 = c.x[2], c3 = c.x[3];
  for (int round = 0; round < 10; ++round) {
    const TL_PHILOX_U64 p0 = static_cast<TL_PHILOX_U64>(0xD2511F53u) * c0;
    const TL_PHILOX_U64 p1 = static_cast<TL_PHILOX_U64>(0xCD9E8D57u) * c2;
    const unsigned int hi0 = static_cast<unsigned int>(p0 >> 32), lo0 = static_cast<unsigned int>(p0);
    const unsigned int hi1 = static_cast<unsigned int>(p1 >> 32), lo1 = static_cast<unsigned int>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  PhiloxWords out;
  out.x[0] = c0;
  out.x[1] = c1;
  out.x[2] = c2;
  out.x[3] = c3;
  return out;
}

// The stream's block: counter (counter & 0xffffffff, counter >> 32, 0, 0), key (seed & 0xffffffff, seed >> 32).
TL_PHILOX_FN PhiloxWords philox4x32_10(TL_PHILOX_U64 counter, TL_PHILOX_U64 seed) {
  PhiloxWords c;
  c.x[0] = static_cast<unsigned int>(counter);
  c.x[1] = static_cast<unsigned int>(counter >> 32);
  c.x[2] = 0u;
  c.x[3] = 0u;
  return philox4x32_10_block(c, static_cast<unsigned int>(seed), static_cast<unsigned int>(seed >> 32));
}

// The dropout words of keys 4g .. 4g + 3 of a flat row of probabilities (see the header comment): row =
// n * L + i, keys4 = ceil(S / 4).
TL_PHILOX_FN PhiloxWords tl_dropout_words(TL_PHILOX_U64 seed, TL_PHILOX_U64 offset, TL_PHILOX_U64 row,
                                          TL_PHILOX_U64 keys4, TL_PHILOX_U64 g) {
  return philox4x32_10(offset + row * keys4 + g, seed);
}

// The dropout word of key j of a flat row.
TL_PHILOX_FN unsigned int tl_dropout_word(TL_PHILOX_U64 seed, TL_PHILOX_U64 offset, TL_PHILOX_U64 row,
                                          TL_PHILOX_U64 keys4, unsigned int key) {
  const PhiloxWords w = tl_dropout_words(seed, offset, row, keys4, key / 4u);
  const unsigned int lane = key & 3u;  // selects, not an indexed load: GPUs would spill w to local memory
  return lane == 0u ? w.x[0] : lane == 1u ? w.x[1] : lane == 2u ? w.x[2] : w.x[3];
}

TL_PHILOX_FN float tl_philox_uniform(unsigned int x) { return static_cast<float>(x >> 21) * 4.8828125e-4f; }

TL_PHILOX_FN int tl_philox_integer(unsigned int x, TL_PHILOX_I64 low, TL_PHILOX_I64 high) {
  const TL_PHILOX_U64 range = static_cast<TL_PHILOX_U64>(high - low);
  return static_cast<int>(low + static_cast<TL_PHILOX_I64>((static_cast<TL_PHILOX_U64>(x) * range) >> 32));
}

// Natural log of v = m * 2^-24, m in [1, 2^24] (Cephes logf polynomial, every step an fmaf or one op).
// Written without data-dependent branches (selects only): random inputs would mispredict them.
TL_PHILOX_FN float tl_philox_log(unsigned int m) {
  int e = -24;
  // Normalise m into [2^23, 2^24] by a binary search on its leading zeros (exact shifts of 16, 8, 4,
  // 2, 1; the loop has a fixed count, which compilers unroll).
  for (unsigned int w = 16u; w != 0u; w >>= 1) {
    const unsigned int s = m < (1u << (24u - w)) ? w : 0u;
    m <<= s;
    e -= static_cast<int>(s);
  }
  // v = f * 2^(e + 24) with f = m * 2^-24 in [0.5, 1); move f into [sqrt(1/2), sqrt(2)).
  float f = static_cast<float>(static_cast<int>(m)) * 5.9604644775390625e-8f;  // m <= 2^24: exact
  e += 24;
  const bool low = f < 0.70710677f;
  f = f * (low ? 2.0f : 1.0f);  // selects pick constants, so compilers need not speculate FP operations
  e = low ? e - 1 : e;
  const float x = f - 1.0f;
  const float z = x * x;
  float p = 7.0376836292e-2f;
  p = TL_FMAF(p, x, -1.1514610310e-1f);
  p = TL_FMAF(p, x, 1.1676998740e-1f);
  p = TL_FMAF(p, x, -1.2420140846e-1f);
  p = TL_FMAF(p, x, 1.4249322787e-1f);
  p = TL_FMAF(p, x, -1.6668057665e-1f);
  p = TL_FMAF(p, x, 2.0000714765e-1f);
  p = TL_FMAF(p, x, -2.4999993993e-1f);
  p = TL_FMAF(p, x, 3.3333331174e-1f);
  const float fe = static_cast<float>(e);
  float y = (x * z) * p;
  y = TL_FMAF(fe, -2.12194440e-4f, y);
  y = TL_FMAF(z, -0.5f, y);
  const float r = x + y;
  return TL_FMAF(fe, 0.693359375f, r);  // m = 2^24 gives exactly +0: x, y and fe are all 0
}

// sin and cos on [-pi/4, pi/4] (Cephes sinf/cosf polynomials).
TL_PHILOX_FN float tl_philox_sin(float a) {
  const float z = a * a;
  float p = -1.9515295891e-4f;
  p = TL_FMAF(p, z, 8.3321608736e-3f);
  p = TL_FMAF(p, z, -1.6666654611e-1f);
  return TL_FMAF(p * z, a, a);
}

TL_PHILOX_FN float tl_philox_cos(float a) {
  const float z = a * a;
  float p = 2.443315711809948e-5f;
  p = TL_FMAF(p, z, -1.388731625493765e-3f);
  p = TL_FMAF(p, z, 4.166664568298827e-2f);
  const float t = TL_FMAF(z, -0.5f, 1.0f);
  return TL_FMAF(p * z, z, t);
}

struct PhiloxNormals {
  float first, second;  // r * cos, r * sin
};

// Two standard normals from two words (Box-Muller).
TL_PHILOX_FN PhiloxNormals tl_philox_normal2(unsigned int x_even, unsigned int x_odd) {
  const float r = TL_SQRTF(-2.0f * tl_philox_log((x_even >> 8) + 1u));
  const unsigned int k = x_odd >> 8;
  const unsigned int q = (k + (1u << 21)) >> 22;  // 0..4
  const float a = static_cast<float>(static_cast<int>(k) - static_cast<int>(q << 22)) * 3.745070387e-7f;
  const float s = tl_philox_sin(a), c = tl_philox_cos(a);
  // Quadrant q & 3 = 0, 1, 2, 3 gives (cos, sin) = (c, s), (-s, c), (-c, -s), (s, -c): selects, no switch.
  const unsigned int odd = q & 1u;
  const float a_cs = odd ? s : c, a_sn = odd ? c : s;
  // Signs as exact factors 1 - 2b: cos is negated in quadrants 1 and 2, sin in quadrants 2 and 3.
  const float cs = a_cs * (1.0f - 2.0f * static_cast<float>(static_cast<int>((q ^ (q >> 1)) & 1u)));
  const float sn = a_sn * (1.0f - 2.0f * static_cast<float>(static_cast<int>((q >> 1) & 1u)));
  PhiloxNormals out;
  out.first = r * cs;
  out.second = r * sn;
  return out;
}

}  // namespace tensorlogic
