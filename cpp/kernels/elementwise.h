// The scalar math of each elementwise op, in f32 (and int32 where the op keeps integers): the one
// definition every backend computes. The CPU kernels and CUDA's call these functions with the op as a
// compile-time constant (the switch folds away); the Metal kernels with the op as a function constant.
#pragma once
#include "portable.h"
#include "special.h"
#include "tensorlogic/op_enums.h"

namespace tensorlogic {
namespace kernels {

// The GELU forms avoid 1 + erf / 1 + tanh, which cancel for negative x: x * Phi(x) = 0.5 x erfc(-x / sqrt 2)
// and 0.5 x (1 + tanh u) = x / (1 + exp(-2u)).
TL_FN float gelu_exact(float x) { return 0.5f * x * erfc_f32(x * -0.70710678118654752f); }
TL_FN float gelu_tanh(float x) { return x / (1.0f + exp(-1.59576912160573073f * (x + 0.044715f * x * x * x))); }
// The derivatives, for the activations' backward kernels: gelu' = Phi(x) + x phi(x) (Phi through erfc, as
// above); with s = sigmoid(2u): gelu_tanh' = s + x s (1 - s) du/dx * 2; silu' = s (1 + x (1 - s)), s = sigmoid(x);
// 1 - s is computed as sigmoid(-.), which does not cancel where s is near 1.
// Each of these derivatives has a root (gelu' and gelu_tanh' near x = -0.752, silu' near -1.278) where its two
// terms cancel, so the forms above lose up to a third of their bits there (an f16 gradient 2 ulps off float64's).
// Within 2^-8 of the root the derivative is instead its quadratic Taylor form c1 d + c2 d^2 in d = x - root, with
// d = (x - hi) - lo for the root split into two floats (x - hi is exact: Sterbenz); the root and coefficients were
// computed in float64. Its truncation error there is ~4e-6 of the value, the direct form's at the window's edge
// ~4e-5: both below half an f16 ulp.
struct DerivativeRoot {
  float hi, lo, c1, c2;
};
TL_FN DerivativeRoot gelu_grad_root() {
  return {-0.7517915368080139f, 1.211444988769017e-08f, 0.43149399231353264f, 0.38828498934625105f};
}
TL_FN DerivativeRoot gelu_tanh_grad_root() {
  return {-0.7524614334106445f, 1.1339627903339533e-08f, 0.43040009102536986f, 0.38751841735518155f};
}
TL_FN DerivativeRoot silu_grad_root() {
  return {-1.2784645557403564f, 1.2979282537628478e-08f, 0.21781170572042086f, 0.14664878208757104f};
}
TL_FN float near_root_or(float x, DerivativeRoot r, float direct) {
  const float d0 = x - r.hi, d = d0 - r.lo;
  return d0 < 0.00390625f && d0 > -0.00390625f ? d * (r.c1 + r.c2 * d) : direct;  // within 2^-8
}
TL_FN float gelu_exact_grad(float x) {
  return near_root_or(x, gelu_grad_root(),
                      0.5f * erfc_f32(x * -0.70710678118654752f) + x * 0.39894228040143268f * exp(-0.5f * x * x));
}
TL_FN float gelu_tanh_grad(float x) {
  const float u2 = 1.59576912160573073f * (x + 0.044715f * x * x * x);
  const float s = 1.0f / (1.0f + exp(-u2)), rest = 1.0f / (1.0f + exp(u2));
  return near_root_or(x, gelu_tanh_grad_root(), s + x * s * rest * 1.59576912160573073f * (1.0f + 0.134145f * x * x));
}
TL_FN float silu_grad(float x) {
  const float s = 1.0f / (1.0f + exp(-x)), rest = 1.0f / (1.0f + exp(x));
  return near_root_or(x, silu_grad_root(), s * (1.0f + x * rest));
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
    // A NaN bound gives NaN, as in PyTorch (fmax and fmin would ignore it)
    case UnaryOp::clamp: return x != x ? x : (pa != pa || pb != pb) ? pa + pb : fmin(fmax(x, pa), pb);
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
    case UnaryOp::erfcx: return erfcx_f32(x);
    case UnaryOp::ndtr: return ndtr_f32(x);
    case UnaryOp::log_ndtr: return log_ndtr_f32(x);
    case UnaryOp::ndtri: return ndtri_f32(x);
    case UnaryOp::entr: return entr_f32(x);
    case UnaryOp::spherical_bessel_j0: return spherical_bessel_j0_f32(x);
    case UnaryOp::bessel_j0: return bessel_j_f32(0, x);
    case UnaryOp::bessel_j1: return bessel_j_f32(1, x);
    case UnaryOp::bessel_y0: return bessel_y_f32(0, x);
    case UnaryOp::bessel_y1: return bessel_y_f32(1, x);
    case UnaryOp::i0: return bessel_i_f32(0, x, false);
    case UnaryOp::i1: return bessel_i_f32(1, x, false);
    case UnaryOp::i0e: return bessel_i_f32(0, x, true);
    case UnaryOp::i1e: return bessel_i_f32(1, x, true);
    case UnaryOp::bessel_k0: return bessel_k_f32(0, x, false);
    case UnaryOp::bessel_k1: return bessel_k_f32(1, x, false);
    case UnaryOp::bessel_k0e: return bessel_k_f32(0, x, true);
    case UnaryOp::bessel_k1e: return bessel_k_f32(1, x, true);
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
    case BinaryOp::xlog1py: return (a == 0.0f && b == b) ? 0.0f : a * log1p_f32(b);
    case BinaryOp::zeta: return float(hurwitz_zeta(a, b));
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
