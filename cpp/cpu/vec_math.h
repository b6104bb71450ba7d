// Branch-free f32 math on GCC/Clang vectors of TL_VEC_LANES lanes. Included once per instruction set,
// inside that set's namespace and `#pragma GCC target` region (so every function here is compiled for
// it), after <cstdint> and <cstring>. After rounding to f16 each result is within 1 f16 ulp of the
// correctly rounded value (Cephes-style polynomials). Lane masks are only ever consumed by select():
// GCC scalarises arithmetic on comparison results.

typedef float vf __attribute__((vector_size(TL_VEC_LANES * 4), aligned(4)));
typedef int32_t vi __attribute__((vector_size(TL_VEC_LANES * 4), aligned(4)));
constexpr int kLanes = TL_VEC_LANES;

#define TL_VINLINE inline __attribute__((always_inline))

TL_VINLINE vf splat(float v) {  // a lane loop, not vf{} + v: 0 + (-0) would lose the sign of zero
  vf r;
  for (int l = 0; l < kLanes; ++l) r[l] = v;
  return r;
}
TL_VINLINE vi splati(int32_t v) { return vi{} + v; }
TL_VINLINE vi bits(vf x) { return (vi)x; }  // vector casts reinterpret the bits
TL_VINLINE vf from_bits(vi x) { return (vf)x; }
TL_VINLINE vf select(vi mask, vf a, vf b) { return mask ? a : b; }
TL_VINLINE vf vabs(vf x) { return from_bits(bits(x) & 0x7fffffff); }
TL_VINLINE vf vmax(vf a, vf b) { return a > b ? a : b; }
TL_VINLINE vf vmin(vf a, vf b) { return a < b ? a : b; }
TL_VINLINE vi isnan(vf x) { return (bits(x) & 0x7fffffff) > 0x7f800000; }

// c[0] t^(N-1) + c[1] t^(N-2) + ... + c[N-1] by Horner's rule, the order the polynomials here are fitted for.
template <int N>
TL_VINLINE vf horner(vf t, const float (&c)[N]) {
  vf p = splat(c[0]);
  for (int i = 1; i < N; ++i) p = p * t + c[i];
  return p;
}

TL_VINLINE vf load(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
TL_VINLINE void store(float* p, vf v) { std::memcpy(p, &v, sizeof(v)); }

// Round to nearest integer (|x| < 2^22) with the 1.5 * 2^23 trick: exact, no rounding-mode dependence.
TL_VINLINE vf round_int(vf x) {
  const vf magic = splat(12582912.0f);
  return (x + magic) - magic;
}

TL_VINLINE vf exp(vf x) {
  const vf clamped = vmin(vmax(x, splat(-88.0f)), splat(88.0f));
  const vf n = round_int(clamped * 1.44269504088896341f);
  vf r = clamped - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  const vf z = r * r;
  vf p = splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const vf e = p * z + r + 1.0f;
  const vi scale = (__builtin_convertvector(n, vi) + 127) << 23;
  vf out = e * from_bits(scale);
  out = select(x > 88.7f, splat(__builtin_inff()), out);
  out = select(x < -88.0f, splat(0.0f), out);  // below the f16 range long before this
  return select(isnan(x), x, out);
}

TL_VINLINE vf log(vf x) {
  // (Masks are only ever used by select: GCC scalarises arithmetic and logic on comparison results.)
  const vi b = bits(x);
  const vi e = ((b >> 23) & 0xff) - 127;
  vf m = from_bits((b & 0x7fffff) | 0x3f800000);  // [1, 2)
  const vf big = select(m > 1.41421356f, splat(1.0f), splat(0.0f));
  m = select(m > 1.41421356f, m * 0.5f, m);
  const vf f = __builtin_convertvector(e, vf) + big;
  const vf t = m - 1.0f;
  const vf z = t * t;
  static constexpr float kLogP[] = {7.0376836292e-2f, -1.1514610310e-1f, 1.1676998740e-1f, -1.2420140846e-1f,
                                    1.4249322787e-1f, -1.6668057665e-1f, 2.0000714765e-1f, -2.4999993993e-1f,
                                    3.3333331174e-1f};
  const vf p = horner(t, kLogP);
  vf y = t * z * p + f * -2.12194440e-4f - z * 0.5f;
  vf out = t + y + f * 0.693359375f;
  out = select(x == 0.0f, splat(-__builtin_inff()), out);
  out = select(x < 0.0f, splat(__builtin_nanf("")), out);
  out = select(x == __builtin_inff(), x, out);
  return select(isnan(x), x, out);
}

// 1 / (1 + exp(-x)); exact limits 0 and 1.
TL_VINLINE vf sigmoid(vf x) { return 1.0f / (1.0f + exp(-x)); }

TL_VINLINE vf tanh(vf x) {
  const vf a = vabs(x);
  // Small |x|: odd polynomial (Cephes tanhf); larger: 1 - 2 / (exp(2|x|) + 1), exact 1 at the top.
  const vf z = x * x;
  vf p = splat(-5.70498872745e-3f);
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const vf small = p * z * x + x;
  const vf large_abs = 1.0f - 2.0f / (exp(a + a) + 1.0f);
  const vf large = from_bits(bits(large_abs) | (bits(x) & static_cast<int32_t>(0x80000000u)));
  const vf out = select(a < 0.625f, small, large);
  return select(isnan(x), x, out);
}

