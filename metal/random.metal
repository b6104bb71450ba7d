// The Philox4x32-10 stream of cpp/core/philox.h, on the GPU: element i uses counter (offset + i / 4) and
// lane i % 4; one thread per counter writes its four elements. The maps from words to values follow
// philox.h step for step (fma and the same polynomials), because MSL cannot include that header as it
// stands (it uses `unsigned long long`, which MSL lacks); tests/apple checks the two bit for bit.
#include <metal_stdlib>
using namespace metal;
#include "params.h"
#include "common.h"

constant uint KIND [[function_constant(0)]];  // 0 uniform, 1 normal, 2 integer (RandomKind)

inline uint4 philox4x32_10(ulong counter, ulong seed) {
  uint c0 = uint(counter), c1 = uint(counter >> 32), c2 = 0u, c3 = 0u;
  uint k0 = uint(seed), k1 = uint(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    const uint hi0 = mulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
    const uint hi1 = mulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return uint4(c0, c1, c2, c3);
}

// log(m * 2^-24) for m in [1, 2^24] (the Cephes logf polynomial of philox.h).
inline float philox_log(uint m) {
  int e = -24;
  while (m < (1u << 23)) {
    m <<= 1;
    e -= 1;
  }
  if (m == (1u << 24)) return 0.0f;
  float f = float(m) * 5.9604644775390625e-8f;
  e += 24;
  if (f < 0.70710677f) {
    f = f + f;
    e -= 1;
  }
  const float x = f - 1.0f, z = x * x;
  float p = 7.0376836292e-2f;
  p = fma(p, x, -1.1514610310e-1f);
  p = fma(p, x, 1.1676998740e-1f);
  p = fma(p, x, -1.2420140846e-1f);
  p = fma(p, x, 1.4249322787e-1f);
  p = fma(p, x, -1.6668057665e-1f);
  p = fma(p, x, 2.0000714765e-1f);
  p = fma(p, x, -2.4999993993e-1f);
  p = fma(p, x, 3.3333331174e-1f);
  const float fe = float(e);
  float y = (x * z) * p;
  y = fma(fe, -2.12194440e-4f, y);
  y = fma(z, -0.5f, y);
  return fma(fe, 0.693359375f, x + y);
}

inline float philox_sin(float a) {
  const float z = a * a;
  float p = -1.9515295891e-4f;
  p = fma(p, z, 8.3321608736e-3f);
  p = fma(p, z, -1.6666654611e-1f);
  return fma(p * z, a, a);
}

inline float philox_cos(float a) {
  const float z = a * a;
  float p = 2.443315711809948e-5f;
  p = fma(p, z, -1.388731625493765e-3f);
  p = fma(p, z, 4.166664568298827e-2f);
  return fma(p * z, z, fma(z, -0.5f, 1.0f));
}

// Box-Muller on two words: (r cos, r sin).
inline float2 philox_normal2(uint x_even, uint x_odd) {
  const float r = sqrt(-2.0f * philox_log((x_even >> 8) + 1u));
  const uint k = x_odd >> 8;
  const uint q = (k + (1u << 21)) >> 22;
  const float a = float(int(k) - int(q << 22)) * 3.745070387e-7f;
  const float s = philox_sin(a), c = philox_cos(a);
  switch (q & 3u) {
    case 0: return float2(r * c, r * s);
    case 1: return float2(r * -s, r * c);
    case 2: return float2(r * -c, r * -s);
    default: return float2(r * s, r * -c);
  }
}

// out is f16 (uniform in [0, 1), standard normal) or int32 (integer in [low, high): out_int, the same buffer).
kernel void random_fill(device half* out [[buffer(0)]], device int* out_int [[buffer(1)]],
                        constant RandomParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  const long first = long(gid) * 4;
  if (first >= p.numel) return;
  const ulong offset = (ulong(p.offset_hi) << 32) | ulong(p.offset_lo);
  const ulong seed = (ulong(p.seed_hi) << 32) | ulong(p.seed_lo);
  const uint4 w = philox4x32_10(offset + ulong(gid), seed);
  float v[4];
  if (KIND == 1) {
    const float2 n0 = philox_normal2(w.x, w.y), n1 = philox_normal2(w.z, w.w);
    v[0] = n0.x; v[1] = n0.y; v[2] = n1.x; v[3] = n1.y;
  }
  for (int lane = 0; lane < 4 && first + lane < p.numel; ++lane) {
    const uint x = w[lane];
    if (KIND == 2) {
      out_int[first + lane] = int(p.low + long((ulong(x) * ulong(p.high - p.low)) >> 32));
    } else if (KIND == 1) {
      out[first + lane] = half(v[lane]);
    } else {
      out[first + lane] = half(float(x >> 21) * 4.8828125e-4f);
    }
  }
}
