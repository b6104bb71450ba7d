// The scalar math of each elementwise op, in f32 (and int32 where the op keeps integers): the one
// definition every backend computes. The CPU kernels and CUDA's call these functions with the op as a
// compile-time constant (the switch folds away); the Metal kernels with the op as a function constant.
#pragma once
#include "portable.h"
#include "tensorlogic/op_enums.h"

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

// polygamma(n, x) = (-1)^(n+1) n! zeta(n + 1, x) for n >= 1 (n = 0: digamma): the Hurwitz zeta as its terms up to
// 10 + n, then Euler-Maclaurin's tail with 6 Bernoulli terms (each smaller than the last by (s + 2j)^2 / (4 pi^2 a^2)
// there). Poles (x a non-positive integer) give (-1)^(n+1) inf, +inf gives 0 and -inf NaN.
TL_FN float polygamma_f32(int n, float xf) {
  if (n <= 0) return digamma_f32(xf);
  if (xf != xf) return xf;
  const special_real sign = (n % 2) ? 1 : -1;
  if (isinf(xf)) return xf > 0.0f ? float(sign * 0) : NAN;
  if (xf <= 0.0f && xf == floor(xf)) return float(sign) * INFINITY;
  const int s = n + 1;
  special_real factorial = 1;
  for (int k = 2; k <= n; ++k) factorial *= k;
  special_real a = xf, sum = 0;
  for (; a < 10 + n; a += 1) {
    const special_real inv = 1 / a;
    special_real term = inv;
    for (int k = 1; k < s; ++k) term *= inv;
    sum += term;  // a^-s by products: a may be negative, where pow is undefined in MSL
  }
  const special_real inv = 1 / a;
  special_real power = inv;  // a^-s
  for (int k = 1; k < s; ++k) power *= inv;
  sum += power * a / (s - 1) + power / 2;
  // B_2j / (2j)!, j = 1..6
  const special_real bernoulli[6] = {special_real(1) / 12, special_real(-1) / 720, special_real(1) / 30240,
                                     special_real(-1) / 1209600, special_real(1) / 47900160,
                                     special_real(-691) / special_real(1307674368000.0f)};
  special_real rising = s, term = power * inv;  // s (s+1) ... (s + 2j - 2) a^(-s - 2j + 1), j = 1
  for (int j = 0; j < 6; ++j) {
    sum += bernoulli[j] * rising * term;
    rising *= special_real(s + 2 * j + 1) * special_real(s + 2 * j + 2);
    term *= inv * inv;
  }
  return float(sign * factorial * sum);
}

// The GELU forms avoid 1 + erf / 1 + tanh, which cancel for negative x: x * Phi(x) = 0.5 x erfc(-x / sqrt 2)
// and 0.5 x (1 + tanh u) = x / (1 + exp(-2u)).
TL_FN float gelu_exact(float x) { return 0.5f * x * erfc_f32(x * -0.70710678118654752f); }
TL_FN float gelu_tanh(float x) { return x / (1.0f + exp(-1.59576912160573073f * (x + 0.044715f * x * x * x))); }
// The derivatives, for the activations' backward kernels: gelu' = Phi(x) + x phi(x) (Phi through erfc, as
// above); with s = sigmoid(2u): gelu_tanh' = s + x s (1 - s) du/dx * 2; silu' = s (1 + x (1 - s)), s = sigmoid(x);
// 1 - s is computed as sigmoid(-.), which does not cancel where s is near 1.
TL_FN float gelu_exact_grad(float x) {
  return 0.5f * erfc_f32(x * -0.70710678118654752f) + x * 0.39894228040143268f * exp(-0.5f * x * x);
}
TL_FN float gelu_tanh_grad(float x) {
  const float u2 = 1.59576912160573073f * (x + 0.044715f * x * x * x);
  const float s = 1.0f / (1.0f + exp(-u2)), rest = 1.0f / (1.0f + exp(u2));
  return s + x * s * rest * 1.59576912160573073f * (1.0f + 0.134145f * x * x);
}
TL_FN float silu_grad(float x) {
  const float s = 1.0f / (1.0f + exp(-x)), rest = 1.0f / (1.0f + exp(x));
  return s * (1.0f + x * rest);
}
// NaN-propagating max/min (a NaN in either argument wins), written as nested selects without
// short-circuit logic so that loops over them vectorise.
// Templates so that the CPU reductions also use them on 4-lane vectors.
template <class T>
TL_FN T nan_max(T a, T b) { return b != b ? b : (b > a ? b : a); }
template <class T>
TL_FN T nan_min(T a, T b) { return b != b ? b : (b < a ? b : a); }
TL_FN float sigmoid(float x) { return 1.0f / (1.0f + exp(-x)); }
TL_FN float relu_f32(float x) { return x > 0.0f ? x : (x == x ? 0.0f : x); }  // NaN stays NaN

// pa, pb: UnaryParams::a and ::b (clamp bounds, softplus beta and threshold, pow's exponent or base).
TL_FN float unary_f32(UnaryOp op, float x, float pa, float pb) {
  switch (op) {
    case UnaryOp::neg: return -x;
    case UnaryOp::abs: return fabs(x);
    case UnaryOp::exp: return exp(x);
    case UnaryOp::log: return log(x);
    case UnaryOp::log1p: return log1p_f32(x);
    case UnaryOp::sqrt: return sqrt(x);
    case UnaryOp::rsqrt: return 1.0f / sqrt(x);
    case UnaryOp::sin: return sin(x);
    case UnaryOp::cos: return cos(x);
    case UnaryOp::tanh: return tanh(x);
    case UnaryOp::sigmoid: return sigmoid(x);
    case UnaryOp::relu: return relu_f32(x);
    case UnaryOp::gelu: return gelu_exact(x);
    case UnaryOp::gelu_tanh: return gelu_tanh(x);
    case UnaryOp::silu: return x * sigmoid(x);
    case UnaryOp::softplus: {
      const float bx = pa * x;
      return bx > pb ? x : log1p_f32(exp(bx)) / pa;
    }
    case UnaryOp::reciprocal: return 1.0f / x;
    case UnaryOp::square: return x * x;
    case UnaryOp::sign: return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x);
    case UnaryOp::floor: return floor(x);
    case UnaryOp::ceil: return ceil(x);
    case UnaryOp::round: return rint(x);  // half to even
    case UnaryOp::clamp: return x != x ? x : fmin(fmax(x, pa), pb);
    case UnaryOp::step: return x > 0.0f ? 1.0f : 0.0f;
    case UnaryOp::pow_scalar:  // x^0.5 is sqrt as in PyTorch (so (-inf)^0.5 is NaN and (-0)^0.5 is -0)
      // x^2 and x^3 (the tanh GELU written out, x + 0.044715 * pow(x, 3), and its derivative) as products,
      // exact in f32 for f16 x up to the one rounding of x^3 (as powf's): a libm powf per element was ~75x
      // slower than PyTorch's pow on the CPU.
      if (pa == 2.0f) return x * x;
      if (pa == 3.0f) return x * x * x;
      return pa == 0.5f ? sqrt(x) : (pa == -0.5f ? 1.0f / sqrt(x) : pow(x, pa));
    case UnaryOp::rpow_scalar: return pow(pa, x);
    case UnaryOp::logical_not: return x == 0.0f ? 1.0f : 0.0f;
    case UnaryOp::erf: return erf_f32(x);
    case UnaryOp::erfc: return erfc_f32(x);
    case UnaryOp::erfinv: return erfinv_f32(x);
    case UnaryOp::tan: return tan(x);
    case UnaryOp::sinh: return sinh(x);
    case UnaryOp::cosh: return cosh(x);
    case UnaryOp::asin: return asin(x);
    case UnaryOp::acos: return acos(x);
    case UnaryOp::atan: return atan(x);
    case UnaryOp::asinh: return asinh(x);
    case UnaryOp::acosh: return acosh(x);
    case UnaryOp::atanh: return atanh(x);
    case UnaryOp::expm1: return expm1_f32(x);
    case UnaryOp::sinc: {
      if (x == 0.0f) return 1.0f;
      const float px = 3.14159265358979f * x;
      return sin(px) / px;
    }
    case UnaryOp::lgamma: return lgamma_f32(x);
    case UnaryOp::polygamma: return polygamma_f32(static_cast<int>(pa), x);
  }
  return x;
}

// A clamp bound on integer data: the core keeps an integer dtype only for integral (or infinite)
// bounds, so this is exact; bounds beyond the type's range saturate. The second argument picks the
// width (the templates below call it with their element).
TL_FN int clamp_bound(float v, int) {
  return v <= -2147483648.0f ? (-2147483647 - 1) : (v >= 2147483647.0f ? 2147483647 : static_cast<int>(v));
}

TL_FN int64_t clamp_bound(float v, int64_t) {
  const int64_t highest = 9223372036854775807;  // INT64_MAX, which MSL does not define
  return v <= -9.2233720e18f ? -highest - 1 : (v >= 9.2233720e18f ? highest : static_cast<int64_t>(v));
}

// The unary ops that keep an integer dtype (op_table.def) on T, wrapping through its unsigned twin U
// on overflow like PyTorch.
template <typename T, typename U>
TL_FN T unary_integer(UnaryOp op, T x, float pa, float pb) {
  const U ux = static_cast<U>(x);
  switch (op) {
    case UnaryOp::neg: return static_cast<T>(static_cast<U>(0) - ux);
    case UnaryOp::abs: return x < 0 ? static_cast<T>(static_cast<U>(0) - ux) : x;
    case UnaryOp::square: return static_cast<T>(ux * ux);
    case UnaryOp::sign: return (x > 0) - (x < 0);
    case UnaryOp::relu: return x > 0 ? x : 0;
    case UnaryOp::clamp: {
      const T lo = clamp_bound(pa, x), hi = clamp_bound(pb, x);
      const T m = x < lo ? lo : x;
      return m > hi ? hi : m;  // hi wins when lo > hi, as in PyTorch
    }
    default: return x;  // int32 operands of other ops are converted to f16 by the core
  }
}

TL_FN int unary_i32(UnaryOp op, int x, float pa, float pb) { return unary_integer<int, unsigned int>(op, x, pa, pb); }

// The comparisons as f16 0/1 masks, of f32 or of integer operands.
template <class T>
TL_FN float compare(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::eq: return a == b ? 1.0f : 0.0f;
    case BinaryOp::ne: return a != b ? 1.0f : 0.0f;
    case BinaryOp::lt: return a < b ? 1.0f : 0.0f;
    case BinaryOp::le: return a <= b ? 1.0f : 0.0f;
    case BinaryOp::gt: return a > b ? 1.0f : 0.0f;
    case BinaryOp::ge: return a >= b ? 1.0f : 0.0f;
    default: return 0.0f;  // called for comparisons only
  }
}

TL_FN float binary_f32(BinaryOp op, float a, float b) {
  switch (op) {
    case BinaryOp::add: return a + b;
    case BinaryOp::sub: return a - b;
    case BinaryOp::mul: return a * b;
    case BinaryOp::div: return a / b;
    case BinaryOp::pow: return pow(a, b);
    case BinaryOp::maximum: return (a != a || b != b) ? a + b : (a > b ? a : b);
    case BinaryOp::minimum: return (a != a || b != b) ? a + b : (a < b ? a : b);
    case BinaryOp::eq:
    case BinaryOp::ne:
    case BinaryOp::lt:
    case BinaryOp::le:
    case BinaryOp::gt:
    case BinaryOp::ge: return compare(op, a, b);
    case BinaryOp::add_relu: return relu_f32(a + b);
    case BinaryOp::mul_relu: return relu_f32(a * b);
    case BinaryOp::floor_divide: {  // PyTorch's div_floor: exact through fmod, not floor(a / b)
      if (b == 0.0f) return a / b;
      const float mod = fmod(a, b);
      float div = (a - mod) / b;
      if (mod != 0.0f && ((b < 0.0f) != (mod < 0.0f))) div -= 1.0f;
      if (div == 0.0f) return copysign(0.0f, a / b);
      const float floored = floor(div);
      return div - floored > 0.5f ? floored + 1.0f : floored;
    }
    case BinaryOp::remainder: {
      const float r = fmod(a, b);
      return (r != 0.0f && ((r < 0.0f) != (b < 0.0f))) ? r + b : r;
    }
    case BinaryOp::logical_and: return (a != 0.0f && b != 0.0f) ? 1.0f : 0.0f;
    case BinaryOp::logical_or: return (a != 0.0f || b != 0.0f) ? 1.0f : 0.0f;
    case BinaryOp::gelu_backward: return a * gelu_exact_grad(b);
    case BinaryOp::gelu_tanh_backward: return a * gelu_tanh_grad(b);
    case BinaryOp::silu_backward: return a * silu_grad(b);
    case BinaryOp::atan2: return atan2(a, b);
    case BinaryOp::hypot:  // f16 operands: the squares fit f32; an infinite side wins over a NaN, as in C
      return (isinf(a) || isinf(b)) ? INFINITY : sqrt(a * a + b * b);
    case BinaryOp::copysign: return copysign(a, b);
    case BinaryOp::logaddexp:
    case BinaryOp::logaddexp2: {
      if (isinf(a) && a == b) return a;  // -inf + -inf would be NaN through a - b
      const float m = a > b ? a : b, d = -fabs(a - b);
      if (op == BinaryOp::logaddexp) return m + log1p_f32(exp(d));
      return m + log1p_f32(exp2(d)) * 1.44269504088896f;
    }
    case BinaryOp::xlogy: return (a == 0.0f && b == b) ? 0.0f : a * log(b);
    case BinaryOp::tanh_backward: return a * (1.0f - b * b);
  }
  return a;
}

// Integer add/sub/mul/maximum/minimum/floor_divide/remainder/pow of T, wrapping through its unsigned
// twin U as PyTorch does. A zero divisor sets *divide_by_zero (the host raises) and gives 0; a
// divisor of -1 is answered without dividing (the lowest value over -1 overflows). A negative power
// is the integer part of 1 / a^-b, as PyTorch's: 1 for a = 1, +-1 for a = -1, else 0.
template <typename T, typename U>
TL_FN T binary_integer(BinaryOp op, T a, T b, TL_THREAD bool* divide_by_zero) {
  const U ua = static_cast<U>(a), ub = static_cast<U>(b);
  switch (op) {
    case BinaryOp::add: return static_cast<T>(ua + ub);
    case BinaryOp::sub: return static_cast<T>(ua - ub);
    case BinaryOp::mul: return static_cast<T>(ua * ub);
    case BinaryOp::maximum: return a > b ? a : b;
    case BinaryOp::minimum: return a < b ? a : b;
    case BinaryOp::floor_divide:
    case BinaryOp::remainder: {
      if (b == 0) {
        *divide_by_zero = true;
        return 0;
      }
      if (b == -1) return op == BinaryOp::floor_divide ? static_cast<T>(static_cast<U>(0) - ua) : 0;
      T q = a / b, r = a % b;
      if (r != 0 && ((r < 0) != (b < 0))) {
        q -= 1;
        r += b;
      }
      return op == BinaryOp::floor_divide ? q : r;
    }
    case BinaryOp::pow: {
      if (b < 0) return a == 1 ? 1 : (a == -1 ? ((b & 1) ? -1 : 1) : 0);
      U result = 1, base = ua;
      for (T e = b; e > 0; e >>= 1) {  // by squaring
        if (e & 1) result *= base;
        base *= base;
      }
      return static_cast<T>(result);
    }
    default: return a;  // int32 operands of other ops are converted to f16 by the core
  }
}

TL_FN int binary_i32(BinaryOp op, int a, int b, TL_THREAD bool* divide_by_zero) {
  return binary_integer<int, unsigned int>(op, a, b, divide_by_zero);
}

// One name for both integer widths (the loops of every backend are templated on the element type).
TL_FN int32_t unary_int(UnaryOp op, int32_t x, float pa, float pb) { return unary_i32(op, x, pa, pb); }
TL_FN int64_t unary_int(UnaryOp op, int64_t x, float pa, float pb) {
  return unary_integer<int64_t, uint64_t>(op, x, pa, pb);
}
TL_FN int32_t binary_int(BinaryOp op, int32_t a, int32_t b, TL_THREAD bool* dz) { return binary_i32(op, a, b, dz); }
TL_FN int64_t binary_int(BinaryOp op, int64_t a, int64_t b, TL_THREAD bool* dz) {
  return binary_integer<int64_t, uint64_t>(op, a, b, dz);
}

// The fused activation of the linear family (a GEMM epilogue).
TL_FN float activation_f32(Activation act, float x) {
  switch (act) {
    case Activation::none: return x;
    case Activation::relu: return relu_f32(x);
    case Activation::gelu: return gelu_exact(x);
    case Activation::gelu_tanh: return gelu_tanh(x);
    case Activation::silu: return x * sigmoid(x);
  }
  return x;
}

}  // namespace kernels
}  // namespace tensorlogic
