// The scalar math of each elementwise op, in f32 (and int32/int64 where the op keeps integers). Every
// backend's kernels follow these definitions; the CPU kernels instantiate them directly.
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "tensorlogic/ops.h"

// The CUDA backend compiles these same definitions for the device.
#ifdef __CUDACC__
#define TL_HD __host__ __device__
#else
#define TL_HD
#endif

namespace tensorlogic::cpu {

// The GELU forms avoid 1 + erf / 1 + tanh, which cancel for negative x: x * Phi(x) = 0.5 x erfc(-x / sqrt 2)
// and 0.5 x (1 + tanh u) = x / (1 + exp(-2u)).
TL_HD inline float gelu_exact(float x) { return 0.5f * x * std::erfc(x * -0.70710678118654752f); }
TL_HD inline float gelu_tanh(float x) {
  return x / (1.0f + std::exp(-1.59576912160573073f * (x + 0.044715f * x * x * x)));
}
// NaN-propagating max/min (a NaN in either argument wins), written as nested selects without
// short-circuit logic so that loops over them vectorise.
// Templates so that the reductions also use them on 4-lane vectors.
template <class T>
TL_HD inline T nan_max(T a, T b) { return b != b ? b : (b > a ? b : a); }
template <class T>
TL_HD inline T nan_min(T a, T b) { return b != b ? b : (b < a ? b : a); }
TL_HD inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

template <UnaryOp Op>
TL_HD inline float unary_f32(float x, const UnaryParams& p) {
  if constexpr (Op == UnaryOp::neg) return -x;
  if constexpr (Op == UnaryOp::abs) return std::fabs(x);
  if constexpr (Op == UnaryOp::exp) return std::exp(x);
  if constexpr (Op == UnaryOp::log) return std::log(x);
  if constexpr (Op == UnaryOp::log1p) return std::log1p(x);
  if constexpr (Op == UnaryOp::sqrt) return std::sqrt(x);
  if constexpr (Op == UnaryOp::rsqrt) return 1.0f / std::sqrt(x);
  if constexpr (Op == UnaryOp::sin) return std::sin(x);
  if constexpr (Op == UnaryOp::cos) return std::cos(x);
  if constexpr (Op == UnaryOp::tanh) return std::tanh(x);
  if constexpr (Op == UnaryOp::sigmoid) return sigmoid(x);
  if constexpr (Op == UnaryOp::relu) return x > 0.0f ? x : (x == x ? 0.0f : x);
  if constexpr (Op == UnaryOp::gelu) return gelu_exact(x);
  if constexpr (Op == UnaryOp::gelu_tanh) return gelu_tanh(x);
  if constexpr (Op == UnaryOp::silu) return x * sigmoid(x);
  if constexpr (Op == UnaryOp::softplus) {
    const float bx = p.a * x;
    return bx > p.b ? x : std::log1p(std::exp(bx)) / p.a;
  }
  if constexpr (Op == UnaryOp::reciprocal) return 1.0f / x;
  if constexpr (Op == UnaryOp::square) return x * x;
  if constexpr (Op == UnaryOp::sign) return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x);
  if constexpr (Op == UnaryOp::floor) return std::floor(x);
  if constexpr (Op == UnaryOp::ceil) return std::ceil(x);
  if constexpr (Op == UnaryOp::round) return std::nearbyint(x);
  if constexpr (Op == UnaryOp::clamp) return x != x ? x : std::fmin(std::fmax(x, p.a), p.b);
  if constexpr (Op == UnaryOp::step) return x > 0.0f ? 1.0f : 0.0f;
  if constexpr (Op == UnaryOp::pow_scalar) {  // x^0.5 is sqrt as in PyTorch (so (-inf)^0.5 is NaN)
    return p.a == 0.5f ? std::sqrt(x) : (p.a == -0.5f ? 1.0f / std::sqrt(x) : std::pow(x, p.a));
  }
  if constexpr (Op == UnaryOp::rpow_scalar) return std::pow(p.a, x);
  if constexpr (Op == UnaryOp::logical_not) return x == 0.0f ? 1.0f : 0.0f;
  return x;
}

// Integer math (T = int32_t or int64_t) wraps on overflow like PyTorch (through the unsigned type).
template <UnaryOp Op, typename T>
TL_HD inline T unary_int(T x, const UnaryParams& p) {
  using U = std::make_unsigned_t<T>;
  if constexpr (Op == UnaryOp::neg) return static_cast<T>(U{0} - static_cast<U>(x));
  if constexpr (Op == UnaryOp::abs) return x < 0 ? static_cast<T>(U{0} - static_cast<U>(x)) : x;
  if constexpr (Op == UnaryOp::square) return static_cast<T>(static_cast<U>(x) * static_cast<U>(x));
  if constexpr (Op == UnaryOp::sign) return static_cast<T>((x > 0) - (x < 0));
  if constexpr (Op == UnaryOp::relu) return x > 0 ? x : T{0};
  if constexpr (Op == UnaryOp::clamp) {
    const double v = std::fmin(std::fmax(static_cast<double>(x), static_cast<double>(p.a)), static_cast<double>(p.b));
    return static_cast<T>(v);
  }
  return x;
}

template <BinaryOp Op>
TL_HD inline float binary_f32(float a, float b) {
  if constexpr (Op == BinaryOp::add) return a + b;
  if constexpr (Op == BinaryOp::sub) return a - b;
  if constexpr (Op == BinaryOp::mul) return a * b;
  if constexpr (Op == BinaryOp::div) return a / b;
  if constexpr (Op == BinaryOp::pow) return std::pow(a, b);
  if constexpr (Op == BinaryOp::maximum) return (a != a || b != b) ? a + b : (a > b ? a : b);
  if constexpr (Op == BinaryOp::minimum) return (a != a || b != b) ? a + b : (a < b ? a : b);
  if constexpr (Op == BinaryOp::eq) return a == b ? 1.0f : 0.0f;
  if constexpr (Op == BinaryOp::ne) return a != b ? 1.0f : 0.0f;
  if constexpr (Op == BinaryOp::lt) return a < b ? 1.0f : 0.0f;
  if constexpr (Op == BinaryOp::le) return a <= b ? 1.0f : 0.0f;
  if constexpr (Op == BinaryOp::gt) return a > b ? 1.0f : 0.0f;
  if constexpr (Op == BinaryOp::ge) return a >= b ? 1.0f : 0.0f;
  if constexpr (Op == BinaryOp::add_relu) { const float s = a + b; return s > 0.0f ? s : (s == s ? 0.0f : s); }
  if constexpr (Op == BinaryOp::mul_relu) { const float s = a * b; return s > 0.0f ? s : (s == s ? 0.0f : s); }
  if constexpr (Op == BinaryOp::floor_divide) {  // PyTorch's div_floor: exact through fmod, not floor(a / b)
    if (b == 0.0f) return a / b;
    const float mod = std::fmod(a, b);
    float div = (a - mod) / b;
    if (mod != 0.0f && ((b < 0.0f) != (mod < 0.0f))) div -= 1.0f;
    if (div == 0.0f) return std::copysign(0.0f, a / b);
    const float floored = std::floor(div);
    return div - floored > 0.5f ? floored + 1.0f : floored;
  }
  if constexpr (Op == BinaryOp::remainder) {
    const float r = std::fmod(a, b);
    return (r != 0.0f && ((r < 0.0f) != (b < 0.0f))) ? r + b : r;
  }
  if constexpr (Op == BinaryOp::logical_and) return (a != 0.0f && b != 0.0f) ? 1.0f : 0.0f;
  if constexpr (Op == BinaryOp::logical_or) return (a != 0.0f || b != 0.0f) ? 1.0f : 0.0f;
  return a;
}

// Integer ops wrap on overflow like PyTorch; division by zero is reported by the caller (flag).
template <BinaryOp Op, typename T>
TL_HD inline T binary_int(T a, T b, bool* divide_by_zero) {
  using U = std::make_unsigned_t<T>;
  const U ua = static_cast<U>(a), ub = static_cast<U>(b);
  if constexpr (Op == BinaryOp::add) return static_cast<T>(ua + ub);
  if constexpr (Op == BinaryOp::sub) return static_cast<T>(ua - ub);
  if constexpr (Op == BinaryOp::mul) return static_cast<T>(ua * ub);
  if constexpr (Op == BinaryOp::maximum) return a > b ? a : b;
  if constexpr (Op == BinaryOp::minimum) return a < b ? a : b;
  if constexpr (Op == BinaryOp::floor_divide || Op == BinaryOp::remainder) {
    if (b == 0) {
      *divide_by_zero = true;
      return 0;
    }
    constexpr T kMin = static_cast<T>(U{1} << (8 * sizeof(T) - 1));
    if (a == kMin && b == -1) return Op == BinaryOp::floor_divide ? kMin : T{0};
    T q = a / b, r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) {
      q -= 1;
      r += b;
    }
    return Op == BinaryOp::floor_divide ? q : r;
  }
  return a;
}

template <BinaryOp Op, typename T>
TL_HD inline float compare_int(T a, T b) {
  if constexpr (Op == BinaryOp::eq) return a == b;
  if constexpr (Op == BinaryOp::ne) return a != b;
  if constexpr (Op == BinaryOp::lt) return a < b;
  if constexpr (Op == BinaryOp::le) return a <= b;
  if constexpr (Op == BinaryOp::gt) return a > b;
  if constexpr (Op == BinaryOp::ge) return a >= b;
  return 0.0f;
}

}  // namespace tensorlogic::cpu
