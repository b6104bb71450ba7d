// Shared by every kernel file: op codes (the enums of cpp/include/tensorlogic/op_enums.h), the
// scalar math of each op (identical to cpp/cpu/elementwise_ops.h), strided addressing and threadgroup
// reductions. MSL has no erf or log1p; they are written here.
#pragma once

#include "tensorlogic/op_enums.h"  // the op codes: the enums of cpp/include/tensorlogic/op_table.def
using tensorlogic::Activation;
using tensorlogic::BinaryOp;
using tensorlogic::ReduceOp;
using tensorlogic::TernaryOp;
using tensorlogic::UnaryOp;
using tensorlogic::is_comparison;

// erfc by the Chebyshev fit of Numerical Recipes (relative error < 1.2e-7), far below an f16 ulp.
inline float tl_erf(float x) {
  const float z = fabs(x);
  const float t = 1.0f / (1.0f + 0.5f * z);
  const float r = t * exp(-z * z - 1.26551223f +
                          t * (1.00002368f + t * (0.37409196f + t * (0.09678418f + t * (-0.18628806f +
                          t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f +
                          t * 0.17087277f)))))))));
  return x >= 0.0f ? 1.0f - r : r - 1.0f;
}

// log(1 + x) without losing x when it is tiny (Goldberg's correction).
inline float tl_log1p(float x) {
  const float u = 1.0f + x;
  if (u == 1.0f) return x;
  if (isinf(u)) return u;
  return log(u) * x / (u - 1.0f);
}

inline long min_long(long a, long b) { return a < b ? a : b; }

inline float tl_sigmoid(float x) { return 1.0f / (1.0f + exp(-x)); }
inline float tl_relu(float x) { return x > 0.0f ? x : (x == x ? 0.0f : x); }
inline float tl_gelu(float x) { return 0.5f * x * (1.0f + tl_erf(x * 0.70710678118654752f)); }
inline float tl_gelu_tanh(float x) { return 0.5f * x * (1.0f + tanh(0.79788456080286536f * (x + 0.044715f * x * x * x))); }

inline float activation_f32(Activation act, float x) {
  switch (act) {
    case Activation::relu: return tl_relu(x);
    case Activation::gelu: return tl_gelu(x);
    case Activation::gelu_tanh: return tl_gelu_tanh(x);
    case Activation::silu: return x * tl_sigmoid(x);
    default: return x;
  }
}

inline float unary_op_f32(UnaryOp op, float x, float pa, float pb) {
  switch (op) {
    case UnaryOp::neg: return -x;
    case UnaryOp::abs: return fabs(x);
    case UnaryOp::exp: return exp(x);
    case UnaryOp::log: return log(x);
    case UnaryOp::log1p: return tl_log1p(x);
    case UnaryOp::sqrt: return sqrt(x);
    case UnaryOp::rsqrt: return 1.0f / sqrt(x);
    case UnaryOp::sin: return sin(x);
    case UnaryOp::cos: return cos(x);
    case UnaryOp::tanh: return tanh(x);
    case UnaryOp::sigmoid: return tl_sigmoid(x);
    case UnaryOp::relu: return tl_relu(x);
    case UnaryOp::gelu: return tl_gelu(x);
    case UnaryOp::gelu_tanh: return tl_gelu_tanh(x);
    case UnaryOp::silu: return x * tl_sigmoid(x);
    case UnaryOp::softplus: {
      const float bx = pa * x;
      return bx > pb ? x : tl_log1p(exp(bx)) / pa;
    }
    case UnaryOp::reciprocal: return 1.0f / x;
    case UnaryOp::square: return x * x;
    case UnaryOp::sign: return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x);
    case UnaryOp::floor: return floor(x);
    case UnaryOp::ceil: return ceil(x);
    case UnaryOp::round: return rint(x);
    case UnaryOp::clamp: return x != x ? x : fmin(fmax(x, pa), pb);
    case UnaryOp::step: return x > 0.0f ? 1.0f : 0.0f;
    case UnaryOp::pow_scalar: return pow(x, pa);
    case UnaryOp::rpow_scalar: return pow(pa, x);
    case UnaryOp::logical_not: return x == 0.0f ? 1.0f : 0.0f;
    default: return x;
  }
}

// Bounds of clamp on int32 data: the core keeps int32 only for integral (or infinite) bounds.
inline int clamp_bound(float v) {
  return v <= -2147483648.0f ? int(-2147483647 - 1) : (v >= 2147483647.0f ? 2147483647 : int(v));
}

inline int unary_op_i32(UnaryOp op, int x, float pa, float pb) {
  switch (op) {
    case UnaryOp::neg: return int(0u - uint(x));
    case UnaryOp::abs: return x < 0 ? int(0u - uint(x)) : x;
    case UnaryOp::square: return int(uint(x) * uint(x));
    case UnaryOp::sign: return (x > 0) - (x < 0);
    case UnaryOp::relu: return x > 0 ? x : 0;
    case UnaryOp::clamp: return min(max(x, clamp_bound(pa)), clamp_bound(pb));
    default: return x;
  }
}

inline float binary_op_f32(BinaryOp op, float a, float b) {
  switch (op) {
    case BinaryOp::add: return a + b;
    case BinaryOp::sub: return a - b;
    case BinaryOp::mul: return a * b;
    case BinaryOp::div: return a / b;
    case BinaryOp::pow: return pow(a, b);
    case BinaryOp::maximum: return (a != a || b != b) ? a + b : (a > b ? a : b);
    case BinaryOp::minimum: return (a != a || b != b) ? a + b : (a < b ? a : b);
    case BinaryOp::eq: return a == b ? 1.0f : 0.0f;
    case BinaryOp::ne: return a != b ? 1.0f : 0.0f;
    case BinaryOp::lt: return a < b ? 1.0f : 0.0f;
    case BinaryOp::le: return a <= b ? 1.0f : 0.0f;
    case BinaryOp::gt: return a > b ? 1.0f : 0.0f;
    case BinaryOp::ge: return a >= b ? 1.0f : 0.0f;
    case BinaryOp::add_relu: return tl_relu(a + b);
    case BinaryOp::mul_relu: return tl_relu(a * b);
    case BinaryOp::floor_divide: return floor(a / b);
    case BinaryOp::remainder: {
      const float r = fmod(a, b);
      return (r != 0.0f && ((r < 0.0f) != (b < 0.0f))) ? r + b : r;
    }
    case BinaryOp::logical_and: return (a != 0.0f && b != 0.0f) ? 1.0f : 0.0f;
    case BinaryOp::logical_or: return (a != 0.0f || b != 0.0f) ? 1.0f : 0.0f;
    default: return a;
  }
}

// Integer ops wrap like PyTorch; a zero divisor sets *divide_by_zero (the host raises).
inline int binary_op_i32(BinaryOp op, int a, int b, thread bool* divide_by_zero) {
  switch (op) {
    case BinaryOp::add: return int(uint(a) + uint(b));
    case BinaryOp::sub: return int(uint(a) - uint(b));
    case BinaryOp::mul: return int(uint(a) * uint(b));
    case BinaryOp::maximum: return a > b ? a : b;
    case BinaryOp::minimum: return a < b ? a : b;
    case BinaryOp::floor_divide:
    case BinaryOp::remainder: {
      if (b == 0) {
        *divide_by_zero = true;
        return 0;
      }
      if (a == int(-2147483647 - 1) && b == -1) return op == BinaryOp::floor_divide ? a : 0;
      int q = a / b, r = a % b;
      if (r != 0 && ((r < 0) != (b < 0))) {
        q -= 1;
        r += b;
      }
      return op == BinaryOp::floor_divide ? q : r;
    }
    default: return a;
  }
}

inline float compare_op_i32(BinaryOp op, int a, int b) {
  switch (op) {
    case BinaryOp::eq: return a == b ? 1.0f : 0.0f;
    case BinaryOp::ne: return a != b ? 1.0f : 0.0f;
    case BinaryOp::lt: return a < b ? 1.0f : 0.0f;
    case BinaryOp::le: return a <= b ? 1.0f : 0.0f;
    case BinaryOp::gt: return a > b ? 1.0f : 0.0f;
    case BinaryOp::ge: return a >= b ? 1.0f : 0.0f;
    default: return 0.0f;
  }
}

// Element offset of logical index i in operand `which` of an ElementwiseParams block.
inline long strided_offset(long i, constant ElementwiseParams& p, int which) {
  long off = 0;
  for (int d = p.ndim - 1; d >= 0; --d) {
    const long size = p.shape[d];
    off += (i % size) * p.strides[which][d];
    i /= size;
  }
  return off;
}

// Threadgroup-wide sum / max of one float per thread (every thread of the group must call; the group
// size is a multiple of 32). `scratch` is a threadgroup float[32].
template <typename S>
inline float tg_sum(float v, S scratch, uint lane, uint simd_group, uint simd_groups) {
  v = simd_sum(v);
  if (lane == 0) scratch[simd_group] = v;
  threadgroup_barrier(mem_flags::mem_threadgroup);
  v = simd_sum(lane < simd_groups ? scratch[lane] : 0.0f);
  threadgroup_barrier(mem_flags::mem_threadgroup);
  return v;
}

template <typename S>
inline float tg_max(float v, S scratch, uint lane, uint simd_group, uint simd_groups) {
  v = simd_max(v);
  if (lane == 0) scratch[simd_group] = v;
  threadgroup_barrier(mem_flags::mem_threadgroup);
  v = simd_max(lane < simd_groups ? scratch[lane] : -INFINITY);
  threadgroup_barrier(mem_flags::mem_threadgroup);
  return v;
}
