// The scalar math of the special functions, for elementwise.h's ops: the erf family (with the shims Metal needs),
// the gamma family and Hurwitz's zeta, the Bessel functions of order 0 and 1. One definition that the CPU, CUDA and
// Metal kernels compute; those whose terms cancel compute in double away from Metal (special_real), which has none.
#pragma once
#include "portable.h"

namespace tensorlogic {
namespace kernels {

// The Chebyshev fit of erfc of Numerical Recipes: erfc(z) = t exp(-z^2 + erfc_fit_exponent(t)) for z >= 0,
// t = 1 / (1 + z / 2), relative error < 1.2e-7 (far below an f16 ulp). Metal's erfc below; CUDA's GELU kernels
// (cuda/elementwise.cu) with the hardware's approximate exp and reciprocal.
TL_FN float erfc_fit_exponent(float t) {
  return -1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f + t * (-0.18628806f +
         t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f))))))));
}

#if TL_MSL
// MSL has no erf, erfc or log1p: erfc by the fit above; log(1 + x) without losing a tiny x by Goldberg's
// correction.
TL_FN float erfc_f32(float x) {
  const float z = fabs(x);
  const float t = 1.0f / (1.0f + 0.5f * z);
  const float r = t * exp(-z * z + erfc_fit_exponent(t));
  return x >= 0.0f ? r : 2.0f - r;
}
TL_FN float erf_f32(float x) {
  if (fabs(x) < 0.5f) {  // Taylor series to x^11 (relative error < 3e-8): 1 - erfc(x) would lose a small x
    const float z = x * x;
    return x * 1.12837916709551257f *
           (1.0f + z * (-1.0f / 3.0f + z * (0.1f + z * (-1.0f / 42.0f + z * (1.0f / 216.0f + z * (-1.0f / 1320.0f))))));
  }
  return x > 0.0f ? 1.0f - erfc_f32(x) : erfc_f32(-x) - 1.0f;
}
TL_FN float log1p_f32(float x) {
  const float u = 1.0f + x;
  if (u == 1.0f) return x;
  if (isinf(u)) return u;
  return log(u) * x / (u - 1.0f);
}
// exp(x) - 1 without losing a tiny x (Kahan's correction; MSL has no expm1).
TL_FN float expm1_f32(float x) {
  const float u = exp(x);
  if (u == 1.0f) return x;
  const float um1 = u - 1.0f;
  if (um1 == -1.0f || isinf(u)) return um1;
  return um1 * x / log(u);
}
#else
TL_FN float erf_f32(float x) { return std::erf(x); }
TL_FN float erfc_f32(float x) { return std::erfc(x); }
TL_FN float log1p_f32(float x) { return std::log1p(x); }
TL_FN float expm1_f32(float x) { return std::expm1(x); }
#endif

// Giles' single-precision approximation of erfinv (M. Giles, "Approximating the erfinv function", GPU
// Computing Gems, 2011): relative error below 3e-7 on (-1, 1); +-inf at +-1 and NaN beyond, as in PyTorch.
TL_FN float erfinv_f32(float x) {
  const float a = fabs(x);
  if (a >= 1.0f) return a == 1.0f ? copysign(INFINITY, x) : NAN;
  float w = -log((1.0f - x) * (1.0f + x));
  float p;
  if (w < 5.0f) {
    w -= 2.5f;
    p = 2.81022636e-08f;
    p = 3.43273939e-07f + p * w;
    p = -3.5233877e-06f + p * w;
    p = -4.39150654e-06f + p * w;
    p = 0.00021858087f + p * w;
    p = -0.00125372503f + p * w;
    p = -0.00417768164f + p * w;
    p = 0.246640727f + p * w;
    p = 1.50140941f + p * w;
  } else {
    w = sqrt(w) - 3.0f;
    p = -0.000200214257f;
    p = 0.000100950558f + p * w;
    p = 0.00134934322f + p * w;
    p = -0.00367342844f + p * w;
    p = 0.00573950773f + p * w;
    p = -0.0076224613f + p * w;
    p = 0.00943887047f + p * w;
    p = 1.00167406f + p * w;
    p = 2.83297682f + p * w;
  }
  return p * x;
}

// The gamma family. Away from Metal they compute in double: digamma and polygamma sum terms that cancel near
// their roots (digamma's at 1.4616 and one between each pair of negative integers), where float's error would
// be many f16 ulps of the small result. Metal has no double; its float results agree with the CPU's within an
// f16 ulp except beside those roots.
#if TL_MSL
typedef float special_real;
#else
typedef double special_real;
#endif
// pi as a float pair: their sum is pi to double precision (the float path keeps the first)
#define TL_PI_HI 3.14159274101257324f
#define TL_PI_LO -8.74227766e-8f

#if TL_MSL
// log|Gamma(x)| (MSL has no lgamma): Lanczos' approximation (g = 7, 9 terms) for x >= 0.5, reflection below.
TL_FN float lgamma_f32(float x) {
  if (x != x) return x;
  if (isinf(x) || (x <= 0.0f && x == floor(x))) return INFINITY;
  if (x == 1.0f || x == 2.0f) return 0.0f;
  float reflected = 0.0f;
  const bool small = x < 0.5f;
  if (small) {  // log|Gamma(x)| = log(pi / |sin(pi x)|) - log|Gamma(1 - x)|; sin's argument is the exact fraction
    reflected = log(TL_PI_HI / fabs(sin(TL_PI_HI * (x - floor(x)))));
    x = 1.0f - x;
  }
  const float c[9] = {0.99999999999980993f, 676.5203681218851f, -1259.1392167224028f, 771.32342877765313f,
                      -176.61502916214059f, 12.507343278686905f, -0.13857109526572012f, 9.9843695780195716e-6f,
                      1.5056327351493116e-7f};
  const float z = x - 1.0f;
  float a = c[0];
  for (int i = 1; i < 9; ++i) a += c[i] / (z + float(i));
  const float t = z + 7.5f;
  const float result = 0.91893853320467274f + (z + 0.5f) * log(t) - t + log(a);
  return small ? reflected - result : result;
}
#else
TL_FN float lgamma_f32(float x) { return std::lgamma(x); }
#endif

// digamma: reflection below 0, the recurrence psi(x) = psi(x + 1) - 1 / x up to 10, then the asymptotic series
// (its first omitted term is below 3e-14 there). -inf at +0 and +inf at -0, NaN at the negative integers, as PyTorch.
TL_FN float digamma_f32(float xf) {
  if (xf != xf) return xf;
  if (xf == 0.0f) return copysign(INFINITY, -xf);
  if (isinf(xf)) return xf > 0.0f ? xf : NAN;
  special_real x = xf, result = 0;
  if (x < 0) {
    const special_real frac = x - floor(x);  // exact; tan has period 1
    if (frac == 0) return NAN;
    const special_real pi = special_real(TL_PI_HI) + special_real(TL_PI_LO);
    result = -pi / tan(pi * frac);  // psi(x) = psi(1 - x) - pi / tan(pi x)
    x = 1 - x;
  }
  for (; x < 10; x += 1) result -= 1 / x;
  const special_real z = 1 / (x * x);
  const special_real series =
      z * (special_real(1) / 12 -
           z * (special_real(1) / 120 - z * (special_real(1) / 252 - z * (special_real(1) / 240 - z * (special_real(1) / 132)))));
  return float(result + log(x) - 1 / (2 * x) - series);
}
#if TL_MSL
#define TL_SPECIAL_EPS 6e-8f  // half of float's epsilon: a term below it times the sum changes nothing
#else
#define TL_SPECIAL_EPS 1.1e-16
#endif

// |a|^-s with the sign of a^-s: a < 0 only where s is an integer (zeta's other powers are complex there), odd
// integers keeping the sign. pow of a negative base is undefined in MSL.
TL_FN special_real signed_inverse_power(special_real a, special_real s) {
  const special_real m = pow(fabs(a), -s);
  return (a < 0 && fmod(s, special_real(2)) != 0) ? -m : m;
}

// Hurwitz's zeta(s, a) = sum_k (a + k)^-s by Euler-Maclaurin summation: the terms until a + k >= 9 and at least 9 of
// them (stopping once a term no longer changes the sum), then the integral of the rest, half its first term and up
// to 12 Bernoulli corrections B_2j / (2j)! s (s+1) ... (s+2j-2) (a+k)^(1-s-2j), an asymptotic series cut where its
// terms stop shrinking (only where s is large against a + k, and there the whole tail is below the sum's last digit).
// PyTorch's domain: s = 1 is a pole (+inf), s < 1 NaN; a non-positive integer a is a pole of a term (+inf), and a < 0
// with a non-integral s NaN. The limits at infinity: zeta(s, +inf) = 0; zeta(+inf, a) is 1 at a = 1, 0 beyond and
// +inf below (a term |a + k| < 1 to the power -inf, C's pow and PyTorch's answer).
TL_FN special_real hurwitz_zeta(special_real s, special_real a) {
  if (s != s || a != a) return s + a;
  if (s == 1) return INFINITY;
  if (s < 1) return NAN;
  if (a <= 0 && a == floor(a)) return INFINITY;
  if (a < 0 && s != floor(s)) return NAN;
  if (isinf(a)) return 0;
  if (isinf(s)) return a == 1 ? 1 : (a > 1 ? 0 : INFINITY);
  special_real sum = 0;
  for (int k = 0; k < 9 || a < 9; ++k, a += 1) {
    const special_real term = signed_inverse_power(a, s);
    sum += term;
    if (a > 0 && fabs(term) <= TL_SPECIAL_EPS * fabs(sum)) return sum;  // the terms only shrink from here
  }
  // B_2j / (2j)!: exact ratios of floats for the first five, the rest within float's rounding (they correct a tail
  // that is already small); MSL has no double literals.
  const special_real bernoulli[12] = {
      special_real(1) / 12, special_real(-1) / 720, special_real(1) / 30240, special_real(-1) / 1209600,
      special_real(1) / 47900160, special_real(-5.284190138687493e-10f), special_real(1.3382536530684679e-11f),
      special_real(-3.3896802963225827e-13f), special_real(8.586062056277845e-15f),
      special_real(-2.174868698558062e-16f), special_real(5.5090028283602295e-18f),
      special_real(-1.3954464685812522e-19f)};
  const special_real power = signed_inverse_power(a, s);  // a^-s, a >= 9
  sum += power * a / (s - 1) + power / 2;
  special_real rising = s, scale = power / a, last = INFINITY;  // s (s+1) ... (s+2j-2) and a^(1-s-2j), j = 1
  for (int j = 0; j < 12; ++j) {
    const special_real correction = bernoulli[j] * rising * scale;
    if (fabs(correction) >= last) break;
    sum += correction;
    if (fabs(correction) <= TL_SPECIAL_EPS * fabs(sum)) break;
    last = fabs(correction);
    rising *= (s + 2 * j + 1) * (s + 2 * j + 2);
    scale /= a * a;
  }
  return sum;
}

// polygamma(n, x) = (-1)^(n+1) n! zeta(n + 1, x) for n >= 1 (n = 0: digamma). Poles (x a non-positive integer) give
// (-1)^(n+1) inf, +inf gives 0 and -inf NaN.
TL_FN float polygamma_f32(int n, float xf) {
  if (n <= 0) return digamma_f32(xf);
  if (xf != xf) return xf;
  const special_real sign = (n % 2) ? 1 : -1;
  if (isinf(xf)) return xf > 0.0f ? float(sign * 0) : NAN;
  // The loop stops once n! overflows (k = 171 in double): a huge n (up to 2^31) would otherwise spin per element.
  special_real factorial = 1;
  for (int k = 2; k <= n && !isinf(factorial); ++k) factorial *= k;
  return float(sign * factorial * hurwitz_zeta(special_real(n + 1), special_real(xf)));
}

// exp(x^2) erfc(x): for x >= 0 the fit above without its exp(-z^2), t exp(erfc_fit_exponent(t)) (relative error
// < 1.2e-7, no underflow of erfc nor overflow of exp(x^2)); 2 exp(x^2) - erfcx(-x) below 0, where nothing cancels.
TL_FN float erfcx_f32(float x) {
  if (x != x) return x;
  const float t = 1.0f / (1.0f + 0.5f * fabs(x));
  const float r = t * exp(erfc_fit_exponent(t));
  return x >= 0.0f ? r : 2.0f * exp(x * x) - r;
}

// The standard normal distribution function Phi(x) = erfc(-x / sqrt 2) / 2, the argument scaled in f32 (an f16
// product would cost digits where erfc falls steeply).
TL_FN float ndtr_f32(float x) { return 0.5f * erfc_f32(x * -0.70710678118654752f); }

// log Phi(x): below -1 as log(erfcx(-x / sqrt 2) / 2) - x^2 / 2 (x^2 of an f16 x is exact in f32), where Phi itself
// underflows; above, log1p of -erfc(x / sqrt 2) / 2, which keeps the tiny -(1 - Phi) of large x.
TL_FN float log_ndtr_f32(float x) {
  if (x < -1.0f) return log(0.5f * erfcx_f32(x * -0.70710678118654752f)) - 0.5f * (x * x);
  return log1p_f32(-0.5f * erfc_f32(x * 0.70710678118654752f));
}

// The inverse of Phi: sqrt 2 erfinv(2p - 1). For an f16 p both 2p - 1 and erfinv's (1 - x)(1 + x) = 4p(1 - p) are
// exact in f32, so the tails keep their digits.
TL_FN float ndtri_f32(float p) { return 1.41421356237309505f * erfinv_f32(2.0f * p - 1.0f); }

// Entropy's term -x log x: 0 at 0 and -inf below, as PyTorch.
TL_FN float entr_f32(float x) {
  if (x > 0.0f) return -x * log(x);
  return x == 0.0f ? 0.0f : (x < 0.0f ? -INFINITY : x);
}

// sin(x) / x: 1 at 0, and 0 at +-inf.
TL_FN float spherical_bessel_j0_f32(float x) {
  if (x == 0.0f) return 1.0f;
  return isinf(x) ? 0.0f : sin(x) / x;
}

// ---- Bessel functions of order 0 and 1 ------------------------------------------------------------------------
// Below a switch-over point, their power series in q = x^2 / 4; beyond it, Hankel's asymptotic expansions, whose
// terms a_k = prod_{j <= k} (4 nu^2 - (2j - 1)^2) / (k! (8x)^k) shrink until k ~ 2x (the smallest ~e^-2x). The
// series of J, Y and K cancel (their terms reach ~e^x, the results are ~1 or ~e^-x): in double, switching at 12 (J
// and Y) and 8 (K) leaves ~1e-10 on both sides. Metal's float switches J and Y at 5, where its series have lost ~4
// digits and the expansions keep ~1e-4 (still below an f16 ulp), and K at 4. I's terms are all positive: its series
// runs to 15, where its expansion is exact in double too.
#if TL_MSL
#define TL_BESSEL_SERIES_JY 5.0f
#define TL_BESSEL_SERIES_K 4.0f
#else
#define TL_BESSEL_SERIES_JY 12.0
#define TL_BESSEL_SERIES_K 8.0
#endif
#define TL_BESSEL_SERIES_I 15.0f
// Euler's gamma and pi in special_real, from float pairs whose sums hold them to double precision
#define TL_EULER_GAMMA (special_real(0.5772157f) + special_real(-6.637774e-09f))
#define TL_PI_REAL (special_real(TL_PI_HI) + special_real(TL_PI_LO))

// plain = sum_k (sign q)^k / (k! (k + nu)!), and weighted = the same terms times H_k + H_(k+nu) (harmonic numbers),
// which the logarithmic parts of Y and K need; summed until the terms fall below the precision of the largest.
struct BesselSeries {
  special_real plain, weighted;
};
TL_FN BesselSeries bessel_series(int nu, special_real x, special_real sign) {
  const special_real q = sign * x * x / 4;
  special_real term = 1, h_k = 0, h_knu = nu;  // the k = 0 term, H_0 and H_nu
  special_real plain = term, weighted = term * (h_k + h_knu), largest = 1;
  for (int k = 1; k < 80; ++k) {
    term *= q / (special_real(k) * special_real(k + nu));
    h_k += special_real(1) / k;
    h_knu += special_real(1) / (k + nu);
    plain += term;
    weighted += term * (h_k + h_knu);
    largest = fmax(largest, fabs(term) * (1 + h_k + h_knu));
    if (k * k > fabs(q) && fabs(term) * (1 + h_k + h_knu) < TL_SPECIAL_EPS * largest) break;
  }
  BesselSeries out = {plain, weighted};
  return out;
}

// Hankel's sums of a_k for order nu: plus = sum a_k (K), alternating = sum (-1)^k a_k (I), and the P and Q of J and Y,
// p = sum (-1)^m a_2m, q = sum (-1)^m a_(2m+1); cut where a term stops shrinking or no longer counts.
struct HankelSums {
  special_real plus, alternating, p, q;
};
TL_FN HankelSums hankel_sums(int nu, special_real x) {
  const special_real mu = 4 * nu * nu;
  special_real a = 1, last = INFINITY;
  HankelSums out = {1, 1, 1, 0};
  for (int k = 1; k < 60; ++k) {
    a *= (mu - special_real((2 * k - 1) * (2 * k - 1))) / (special_real(k) * 8 * x);
    if (fabs(a) >= last || fabs(a) < TL_SPECIAL_EPS) break;
    last = fabs(a);
    out.plus += a;
    out.alternating += (k % 2) ? -a : a;
    if (k % 2) {
      out.q += (k % 4 == 1) ? a : -a;
    } else {
      out.p += (k % 4 == 0) ? a : -a;
    }
  }
  return out;
}

// J0 and J1 (J0 even, J1 odd), 0 at +-inf. Beyond the series, sqrt(2 / (pi x)) (P cos chi - Q sin chi) with
// chi = x - pi/4 - nu pi/2, its cos and sin written through cos x and sin x of the exact x (no rounded x - pi/4).
TL_FN float bessel_j_f32(int nu, float xf) {
  if (xf != xf) return xf;
  if (isinf(xf)) return 0.0f;
  const special_real x = fabs(special_real(xf)), odd = (nu && xf < 0.0f) ? -1 : 1;
  if (x < TL_BESSEL_SERIES_JY) {
    const special_real scale = nu ? x / 2 : special_real(1);
    return float(odd * scale * bessel_series(nu, x, -1).plain);
  }
  const HankelSums h = hankel_sums(nu, x);
  const special_real c = cos(x), s = sin(x), r = 1 / sqrt(TL_PI_REAL * x);
  const special_real j = nu ? h.p * (s - c) + h.q * (s + c) : h.p * (c + s) - h.q * (s - c);
  return float(odd * r * j);
}

// Y0 and Y1: NaN below 0, -inf at 0, 0 at +inf. The series: (2/pi)(log(x/2) + gamma) J0 - (2/pi) sum (-q)^k H_k /
// k!^2, and (2/pi)(log(x/2) + gamma) J1 - 2/(pi x) - (x / (2 pi)) sum (-q)^k (H_k + H_(k+1)) / (k! (k+1)!).
TL_FN float bessel_y_f32(int nu, float xf) {
  if (xf != xf) return xf;
  if (xf < 0.0f) return NAN;
  if (xf == 0.0f) return -INFINITY;
  if (isinf(xf)) return 0.0f;
  const special_real x = xf, pi = TL_PI_REAL;
  if (x < TL_BESSEL_SERIES_JY) {
    const BesselSeries b = bessel_series(nu, x, -1);
    const special_real lg = log(x / 2) + TL_EULER_GAMMA;
    if (!nu) return float(2 / pi * (lg * b.plain - b.weighted / 2));
    return float(2 / pi * lg * (x / 2) * b.plain - 2 / (pi * x) - x / (2 * pi) * b.weighted);
  }
  const HankelSums h = hankel_sums(nu, x);
  const special_real c = cos(x), s = sin(x), r = 1 / sqrt(pi * x);
  return float(r * (nu ? -h.p * (s + c) + h.q * (s - c) : h.p * (s - c) + h.q * (c + s)));
}

// I0 and I1 times exp(-|x|) when `scaled` (I0 even, I1 odd): the series times (x/2)^nu, or beyond it
// exp(x) / sqrt(2 pi x) sum (-1)^k a_k.
TL_FN float bessel_i_f32(int nu, float xf, bool scaled) {
  if (xf != xf) return xf;
  const special_real x = fabs(special_real(xf)), odd = (nu && xf < 0.0f) ? -1 : 1;
  if (isinf(xf)) return float(odd * (scaled ? special_real(0) : special_real(INFINITY)));
  if (x < TL_BESSEL_SERIES_I) {
    const special_real v = (nu ? x / 2 : special_real(1)) * bessel_series(nu, x, 1).plain;
    return float(odd * (scaled ? v * exp(-x) : v));
  }
  const special_real v = hankel_sums(nu, x).alternating / sqrt(2 * TL_PI_REAL * x);
  return float(odd * (scaled ? v : v * exp(x)));
}

// K0 and K1 times exp(x) when `scaled`: NaN below 0, +inf at 0, 0 at +inf. The series: -(log(x/2) + gamma) I0 +
// sum q^k H_k / k!^2, and 1/x + (log(x/2) + gamma) I1 - (x/4) sum q^k (H_k + H_(k+1)) / (k! (k+1)!); beyond it,
// sqrt(pi / (2x)) exp(-x) sum a_k.
TL_FN float bessel_k_f32(int nu, float xf, bool scaled) {
  if (xf != xf) return xf;
  if (xf < 0.0f) return NAN;
  if (xf == 0.0f) return INFINITY;
  if (isinf(xf)) return 0.0f;
  const special_real x = xf;
  if (x < TL_BESSEL_SERIES_K) {
    const BesselSeries b = bessel_series(nu, x, 1);
    const special_real lg = log(x / 2) + TL_EULER_GAMMA;
    const special_real v = nu ? 1 / x + lg * (x / 2) * b.plain - x / 4 * b.weighted : -lg * b.plain + b.weighted / 2;
    return float(scaled ? v * exp(x) : v);
  }
  const special_real v = hankel_sums(nu, x).plus * sqrt(TL_PI_REAL / (2 * x));
  return float(scaled ? v : v * exp(-x));
}

}  // namespace kernels
}  // namespace tensorlogic
