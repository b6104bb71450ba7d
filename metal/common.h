// Shared by every kernel file: op codes (the order of the enums in cpp/include/tensorlogic/ops.h), the
// scalar math of each op (identical to cpp/cpu/elementwise_ops.h), strided addressing and threadgroup
// reductions. MSL has no erf or log1p; they are written here.
#pragma once

enum : uint {
  U_NEG, U_ABS, U_EXP, U_LOG, U_LOG1P, U_SQRT, U_RSQRT, U_SIN, U_COS, U_TANH, U_SIGMOID, U_RELU, U_GELU,
  U_GELU_TANH, U_SILU, U_SOFTPLUS, U_RECIPROCAL, U_SQUARE, U_SIGN, U_FLOOR, U_CEIL, U_ROUND, U_CLAMP, U_STEP,
  U_POW_SCALAR, U_RPOW_SCALAR, U_LOGICAL_NOT
};
enum : uint {
  B_ADD, B_SUB, B_MUL, B_DIV, B_POW, B_MAXIMUM, B_MINIMUM, B_EQ, B_NE, B_LT, B_LE, B_GT, B_GE, B_ADD_RELU,
  B_MUL_RELU, B_FLOOR_DIVIDE, B_REMAINDER, B_LOGICAL_AND, B_LOGICAL_OR
};
enum : uint { T_WHERE, T_AFFINE };
enum : uint { ACT_NONE, ACT_RELU, ACT_GELU, ACT_GELU_TANH, ACT_SILU };

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

inline float activation_f32(uint act, float x) {
  switch (act) {
    case ACT_RELU: return tl_relu(x);
    case ACT_GELU: return tl_gelu(x);
    case ACT_GELU_TANH: return tl_gelu_tanh(x);
    case ACT_SILU: return x * tl_sigmoid(x);
    default: return x;
  }
}

inline float unary_op_f32(uint op, float x, float pa, float pb) {
  switch (op) {
    case U_NEG: return -x;
    case U_ABS: return fabs(x);
    case U_EXP: return exp(x);
    case U_LOG: return log(x);
    case U_LOG1P: return tl_log1p(x);
    case U_SQRT: return sqrt(x);
    case U_RSQRT: return 1.0f / sqrt(x);
    case U_SIN: return sin(x);
    case U_COS: return cos(x);
    case U_TANH: return tanh(x);
    case U_SIGMOID: return tl_sigmoid(x);
    case U_RELU: return tl_relu(x);
    case U_GELU: return tl_gelu(x);
    case U_GELU_TANH: return tl_gelu_tanh(x);
    case U_SILU: return x * tl_sigmoid(x);
    case U_SOFTPLUS: {
      const float bx = pa * x;
      return bx > pb ? x : tl_log1p(exp(bx)) / pa;
    }
    case U_RECIPROCAL: return 1.0f / x;
    case U_SQUARE: return x * x;
    case U_SIGN: return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x);
    case U_FLOOR: return floor(x);
    case U_CEIL: return ceil(x);
    case U_ROUND: return rint(x);
    case U_CLAMP: return x != x ? x : fmin(fmax(x, pa), pb);
    case U_STEP: return x > 0.0f ? 1.0f : 0.0f;
    case U_POW_SCALAR: return pow(x, pa);
    case U_RPOW_SCALAR: return pow(pa, x);
    case U_LOGICAL_NOT: return x == 0.0f ? 1.0f : 0.0f;
    default: return x;
  }
}

// Bounds of clamp on int32 data: the core keeps int32 only for integral (or infinite) bounds.
inline int clamp_bound(float v) {
  return v <= -2147483648.0f ? int(-2147483647 - 1) : (v >= 2147483647.0f ? 2147483647 : int(v));
}

inline int unary_op_i32(uint op, int x, float pa, float pb) {
  switch (op) {
    case U_NEG: return int(0u - uint(x));
    case U_ABS: return x < 0 ? int(0u - uint(x)) : x;
    case U_SQUARE: return int(uint(x) * uint(x));
    case U_SIGN: return (x > 0) - (x < 0);
    case U_RELU: return x > 0 ? x : 0;
    case U_CLAMP: return min(max(x, clamp_bound(pa)), clamp_bound(pb));
    default: return x;
  }
}

inline float binary_op_f32(uint op, float a, float b) {
  switch (op) {
    case B_ADD: return a + b;
    case B_SUB: return a - b;
    case B_MUL: return a * b;
    case B_DIV: return a / b;
    case B_POW: return pow(a, b);
    case B_MAXIMUM: return (a != a || b != b) ? a + b : (a > b ? a : b);
    case B_MINIMUM: return (a != a || b != b) ? a + b : (a < b ? a : b);
    case B_EQ: return a == b ? 1.0f : 0.0f;
    case B_NE: return a != b ? 1.0f : 0.0f;
    case B_LT: return a < b ? 1.0f : 0.0f;
    case B_LE: return a <= b ? 1.0f : 0.0f;
    case B_GT: return a > b ? 1.0f : 0.0f;
    case B_GE: return a >= b ? 1.0f : 0.0f;
    case B_ADD_RELU: return tl_relu(a + b);
    case B_MUL_RELU: return tl_relu(a * b);
    case B_FLOOR_DIVIDE: return floor(a / b);
    case B_REMAINDER: {
      const float r = fmod(a, b);
      return (r != 0.0f && ((r < 0.0f) != (b < 0.0f))) ? r + b : r;
    }
    case B_LOGICAL_AND: return (a != 0.0f && b != 0.0f) ? 1.0f : 0.0f;
    case B_LOGICAL_OR: return (a != 0.0f || b != 0.0f) ? 1.0f : 0.0f;
    default: return a;
  }
}

// Integer ops wrap like PyTorch; a zero divisor sets *divide_by_zero (the host raises).
inline int binary_op_i32(uint op, int a, int b, thread bool* divide_by_zero) {
  switch (op) {
    case B_ADD: return int(uint(a) + uint(b));
    case B_SUB: return int(uint(a) - uint(b));
    case B_MUL: return int(uint(a) * uint(b));
    case B_MAXIMUM: return a > b ? a : b;
    case B_MINIMUM: return a < b ? a : b;
    case B_FLOOR_DIVIDE:
    case B_REMAINDER: {
      if (b == 0) {
        *divide_by_zero = true;
        return 0;
      }
      if (a == int(-2147483647 - 1) && b == -1) return op == B_FLOOR_DIVIDE ? a : 0;
      int q = a / b, r = a % b;
      if (r != 0 && ((r < 0) != (b < 0))) {
        q -= 1;
        r += b;
      }
      return op == B_FLOOR_DIVIDE ? q : r;
    }
    default: return a;
  }
}

inline float compare_op_i32(uint op, int a, int b) {
  switch (op) {
    case B_EQ: return a == b ? 1.0f : 0.0f;
    case B_NE: return a != b ? 1.0f : 0.0f;
    case B_LT: return a < b ? 1.0f : 0.0f;
    case B_LE: return a <= b ? 1.0f : 0.0f;
    case B_GT: return a > b ? 1.0f : 0.0f;
    case B_GE: return a >= b ? 1.0f : 0.0f;
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
