// Exact reductions of bool, int32 and int64 data over the middle axis of a contiguous [outer, n, inner]
// array into int64 (sum and prod wrapping, max/min values, argmax/argmin first indices), by the scalar
// rules that the CPU and CUDA backends share (cpp/kernels/reduce_int.h). Their combine is associative
// and commutative (ties go to the smaller index), so a tree over threads gives the CPU's sequential
// answer exactly. Stage 1 reduces `chunk` elements per threadgroup (one partition of one output); with
// several partitions stage 2 combines each output's partials.
#include <metal_stdlib>
using namespace metal;
#include "params.h"
#include "common.h"
#include "kernels/reduce_int.h"

constant uint OP [[function_constant(0)]];     // a ReduceOp: sum, prod, max, min, argmax or argmin
constant bool FINAL [[function_constant(1)]];  // stage 1 writes the result (a single partition)

#define REDUCE_INT_MAX_THREADS 256

// The shared rules for the pipeline's op (a switch on a function constant: one case survives).
inline IntAcc identity_of_op() {
  switch (ReduceOp(OP)) {
    case ReduceOp::prod: return int_identity<ReduceOp::prod>();
    default: return int_identity<ReduceOp::sum>();  // {0, -1}: every other op's start
  }
}
inline IntAcc combine_of_op(IntAcc a, IntAcc b) {
  switch (ReduceOp(OP)) {
    case ReduceOp::sum: return int_combine<ReduceOp::sum>(a, b);
    case ReduceOp::prod: return int_combine<ReduceOp::prod>(a, b);
    case ReduceOp::max: return int_combine<ReduceOp::max>(a, b);
    case ReduceOp::min: return int_combine<ReduceOp::min>(a, b);
    case ReduceOp::argmax: return int_combine<ReduceOp::argmax>(a, b);
    default: return int_combine<ReduceOp::argmin>(a, b);
  }
}

// Combines one accumulator per thread into thread 0's (`values`, `indices`: threadgroup arrays of
// REDUCE_INT_MAX_THREADS); any thread count.
template <typename V, typename I>
inline IntAcc group_combine(IntAcc acc, V values, I indices, uint lid, uint threads) {
  values[lid] = acc.value;
  indices[lid] = acc.index;
  threadgroup_barrier(mem_flags::mem_threadgroup);
  for (uint stride = 1; stride < threads; stride *= 2) {
    if (lid % (2 * stride) == 0 && lid + stride < threads) {
      const IntAcc mine = {values[lid], indices[lid]}, other = {values[lid + stride], indices[lid + stride]};
      const IntAcc both = combine_of_op(mine, other);
      values[lid] = both.value;
      indices[lid] = both.index;
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);
  }
  const IntAcc total = {values[0], indices[0]};
  return total;
}

inline long result_of_op(IntAcc acc) {
  const ReduceOp op = ReduceOp(OP);
  return (op == ReduceOp::argmax || op == ReduceOp::argmin) ? acc.index : acc.value;
}

// Stage 1: threadgroup (output, part); partials hold (value, index) pairs of each (output, part).
template <typename T, typename V, typename I>
inline void reduce_part(device const T* in, device long* out, device long* partials, constant ReduceParams& p,
                        uint2 group, uint lid, uint threads, V values, I indices) {
  const long k = group.x, part = group.y;
  device const T* line = in + (k / p.inner) * p.n * p.inner + k % p.inner;
  const long end = min_long((part + 1) * p.chunk, p.n);
  IntAcc acc = identity_of_op();
  for (long j = part * p.chunk + lid; j < end; j += threads) {
    const IntAcc x = {long(line[j * p.inner]), j};
    acc = combine_of_op(acc, x);
  }
  acc = group_combine(acc, values, indices, lid, threads);
  if (lid != 0) return;
  if (FINAL) {
    out[k] = result_of_op(acc);
  } else {
    partials[2 * (k * p.parts + part)] = acc.value;
    partials[2 * (k * p.parts + part) + 1] = acc.index;
  }
}

kernel void reduce_int_b8(device const uchar* in [[buffer(0)]], device long* out [[buffer(1)]],
                          device long* partials [[buffer(2)]], constant ReduceParams& p [[buffer(3)]],
                          uint2 group [[threadgroup_position_in_grid]], uint lid [[thread_index_in_threadgroup]],
                          uint2 threads [[threads_per_threadgroup]]) {
  threadgroup long values[REDUCE_INT_MAX_THREADS], indices[REDUCE_INT_MAX_THREADS];
  reduce_part(in, out, partials, p, group, lid, threads.x, values, indices);
}

kernel void reduce_int_i32(device const int* in [[buffer(0)]], device long* out [[buffer(1)]],
                           device long* partials [[buffer(2)]], constant ReduceParams& p [[buffer(3)]],
                           uint2 group [[threadgroup_position_in_grid]], uint lid [[thread_index_in_threadgroup]],
                           uint2 threads [[threads_per_threadgroup]]) {
  threadgroup long values[REDUCE_INT_MAX_THREADS], indices[REDUCE_INT_MAX_THREADS];
  reduce_part(in, out, partials, p, group, lid, threads.x, values, indices);
}

kernel void reduce_int_i64(device const long* in [[buffer(0)]], device long* out [[buffer(1)]],
                           device long* partials [[buffer(2)]], constant ReduceParams& p [[buffer(3)]],
                           uint2 group [[threadgroup_position_in_grid]], uint lid [[thread_index_in_threadgroup]],
                           uint2 threads [[threads_per_threadgroup]]) {
  threadgroup long values[REDUCE_INT_MAX_THREADS], indices[REDUCE_INT_MAX_THREADS];
  reduce_part(in, out, partials, p, group, lid, threads.x, values, indices);
}

// Stage 2: one threadgroup per output combines its p.parts partials.
kernel void reduce_int_partials(device const long* partials [[buffer(0)]], device long* out [[buffer(1)]],
                                constant ReduceParams& p [[buffer(2)]], uint group [[threadgroup_position_in_grid]],
                                uint lid [[thread_index_in_threadgroup]], uint threads [[threads_per_threadgroup]]) {
  threadgroup long values[REDUCE_INT_MAX_THREADS], indices[REDUCE_INT_MAX_THREADS];
  const long k = group;
  IntAcc acc = identity_of_op();
  for (long part = lid; part < p.parts; part += threads) {
    const IntAcc x = {partials[2 * (k * p.parts + part)], partials[2 * (k * p.parts + part) + 1]};
    acc = combine_of_op(acc, x);
  }
  acc = group_combine(acc, values, indices, lid, threads);
  if (lid == 0) out[k] = result_of_op(acc);
}
