// Shared by every kernel file: the op codes and the scalar math of every op (cpp/kernels/, the one copy
// that the CPU and CUDA backends compile too), strided addressing and threadgroup reductions.
#pragma once

#include "kernels/elementwise.h"  // includes tensorlogic/op_enums.h: the op codes of op_table.def
using namespace tensorlogic::kernels;
using tensorlogic::Activation;
using tensorlogic::OptimizerKind;
using tensorlogic::BinaryOp;
using tensorlogic::ReduceOp;
using tensorlogic::TernaryOp;
using tensorlogic::UnaryOp;
using tensorlogic::is_comparison;

inline long min_long(long a, long b) { return a < b ? a : b; }
inline long max_long(long a, long b) { return a > b ? a : b; }
// ceil(a / b) for b > 0 and any a, without the overflow of (a + b - 1) / b near 2^62.
inline long ceil_div(long a, long b) { return a >= 0 ? a / b + (a % b != 0) : -((-a) / b); }

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

// Threadgroup-wide max (Max) or sum of one float per thread (every thread of the group must call; the
// group size is a multiple of 32). `scratch` is a threadgroup float[32].
template <bool Max, typename S>
inline float tg_reduce(float v, S scratch, uint lane, uint simd_group, uint simd_groups) {
  v = Max ? simd_max(v) : simd_sum(v);
  if (lane == 0) scratch[simd_group] = v;
  threadgroup_barrier(mem_flags::mem_threadgroup);
  const float partial = lane < simd_groups ? scratch[lane] : (Max ? -INFINITY : 0.0f);
  v = Max ? simd_max(partial) : simd_sum(partial);
  threadgroup_barrier(mem_flags::mem_threadgroup);
  return v;
}

template <typename S>
inline float tg_sum(float v, S scratch, uint lane, uint simd_group, uint simd_groups) {
  return tg_reduce<false>(v, scratch, lane, simd_group, simd_groups);
}

template <typename S>
inline float tg_max(float v, S scratch, uint lane, uint simd_group, uint simd_groups) {
  return tg_reduce<true>(v, scratch, lane, simd_group, simd_groups);
}
