// Reduction family over the middle axis of a contiguous [outer, n, inner] array, in two stages: stage 1
// reduces `chunk` elements per threadgroup (one partition of one output) to a partial state; when there
// is more than one partition, stage 2 combines the partials of each output. All in f32, rounded once.
#include <metal_stdlib>
using namespace metal;
#include "params.h"
#include "common.h"

constant uint OP [[function_constant(0)]];
constant bool FINAL [[function_constant(1)]];  // stage 1 writes the result (a single partition)
// The op as its enum (a function, so that the CPU harness sees the constant it last set).
inline ReduceOp reduce_op() { return ReduceOp(OP); }

#define TG_SIZE 256

// The partial state of every op: sum/prod in s; max/min/arg value in m with its index i; var as Welford's
// (count c, mean m, M2 s); logsumexp as (max m, sum of exp(x - m) s).
struct Acc {
  float m, s, c;
  int i;
};

inline Acc acc_init() {
  Acc a;
  const ReduceOp op = reduce_op();
  a.m = (op == ReduceOp::max || op == ReduceOp::argmax || op == ReduceOp::logsumexp)
            ? -INFINITY
            : (op == ReduceOp::min || op == ReduceOp::argmin ? INFINITY : 0.0f);
  if (op == ReduceOp::norm) a.m = 0.0f;
  a.s = op == ReduceOp::prod ? 1.0f : 0.0f;
  a.c = 0.0f;
  a.i = -1;
  return a;
}

// The first NaN wins max/min/arg*, like the CPU backend and PyTorch.
inline bool better(ReduceOp op, float x, int xi, float y, int yi) {
  if (yi < 0) return xi >= 0;
  if (xi < 0) return false;
  const bool xn = isnan(x), yn = isnan(y);
  if (xn || yn) return xn && (!yn || xi < yi);
  if (x == y) return xi < yi;
  return (op == ReduceOp::max || op == ReduceOp::argmax) ? x > y : x < y;
}

inline Acc acc_add(Acc a, float x, int index, float p) {
  switch (reduce_op()) {
    case ReduceOp::sum: case ReduceOp::mean: a.s += x; break;
    case ReduceOp::prod: a.s *= x; break;
    case ReduceOp::max: case ReduceOp::min: case ReduceOp::argmax: case ReduceOp::argmin:
      if (better(reduce_op(), x, index, a.m, a.i)) { a.m = x; a.i = index; }
      break;
    case ReduceOp::var: {
      a.c += 1.0f;
      const float d = x - a.m;
      a.m += d / a.c;
      a.s += d * (x - a.m);
      break;
    }
    case ReduceOp::logsumexp:
      if (x > a.m) {
        a.s = a.s * exp(a.m - x) + 1.0f;
        a.m = x;
      } else if (x == a.m) {
        a.s += 1.0f;  // also for x = a.m = inf, where exp(x - a.m) would be NaN
      } else if (x != -INFINITY) {
        a.s += exp(x - a.m);  // NaN x makes s NaN
      }
      break;
    case ReduceOp::norm: {
      const float ax = fabs(x);
      if (isinf(p) && p > 0.0f) a.m = (ax > a.m || isnan(ax)) ? ax : a.m;
      else if (p == 0.0f) a.s += ax != 0.0f ? 1.0f : 0.0f;
      else if (p == 1.0f) a.s += ax;
      else if (p == 2.0f) a.s += ax * ax;
      else a.s += pow(ax, p);
      break;
    }
  }
  return a;
}

// Combines a (earlier indices) with b (later indices).
inline Acc acc_combine(Acc a, Acc b, float p) {
  switch (reduce_op()) {
    case ReduceOp::sum: case ReduceOp::mean: a.s += b.s; break;
    case ReduceOp::prod: a.s *= b.s; break;
    case ReduceOp::max: case ReduceOp::min: case ReduceOp::argmax: case ReduceOp::argmin:
      if (better(reduce_op(), b.m, b.i, a.m, a.i)) { a.m = b.m; a.i = b.i; }
      break;
    case ReduceOp::var: {
      const float c = a.c + b.c;
      if (c > 0.0f) {
        const float d = b.m - a.m;
        a.s = a.s + b.s + d * d * a.c * b.c / c;
        a.m = a.m + d * b.c / c;
        a.c = c;
      }
      break;
    }
    case ReduceOp::logsumexp: {
      const float m = max(a.m, b.m);
      if (isnan(a.m) || isnan(b.m)) {
        a.m = NAN;
      } else {
        a.s = (a.m == m ? a.s : a.s * exp(a.m - m)) + (b.m == m ? b.s : b.s * exp(b.m - m));
        a.m = m;
      }
      break;
    }
    case ReduceOp::norm:
      a.m = (b.m > a.m || isnan(b.m)) ? b.m : a.m;
      a.s += b.s;
      break;
  }
  return a;
}

inline void acc_store(Acc a, constant ReduceParams& p, device half* out, device int* out_index, long o) {
  float v = a.s;
  switch (reduce_op()) {
    case ReduceOp::mean: v = a.s / float(p.n); break;
    case ReduceOp::max: case ReduceOp::min: v = a.m; break;
    case ReduceOp::argmax: case ReduceOp::argmin: out_index[o] = a.i; return;
    case ReduceOp::var: v = a.s / max(a.c - p.correction, 0.0f); break;
    case ReduceOp::logsumexp: v = isnan(a.s) ? a.s : (isinf(a.m) ? a.m : a.m + log(a.s)); break;
    case ReduceOp::norm:
      if (isinf(p.p) && p.p > 0.0f) v = a.m;
      else if (p.p == 2.0f) v = sqrt(a.s);
      else if (p.p != 0.0f && p.p != 1.0f) v = pow(a.s, 1.0f / p.p);
      break;
    default: break;
  }
  out[o] = half(v);
}

// Tree reduction of one Acc per thread (TG_SIZE threads); thread 0 returns the group's state.
template <typename S>
inline Acc tg_combine(Acc a, S scratch, uint lid, float p) {
  scratch[lid] = a;
  threadgroup_barrier(mem_flags::mem_threadgroup);
  for (uint half_size = TG_SIZE / 2; half_size > 0; half_size /= 2) {
    if (lid < half_size) scratch[lid] = acc_combine(scratch[lid], scratch[lid + half_size], p);
    threadgroup_barrier(mem_flags::mem_threadgroup);
  }
  return scratch[0];
}

// groups: (outer * inner, parts); out/out_index are the same buffer (f16 values or int32 indices).
kernel void reduce_stage1(device const half* in [[buffer(0)]], device half* out [[buffer(1)]],
                          device int* out_index [[buffer(2)]], device Acc* partials [[buffer(3)]],
                          constant ReduceParams& p [[buffer(4)]], uint2 group [[threadgroup_position_in_grid]],
                          uint lid [[thread_index_in_threadgroup]]) {
  threadgroup Acc scratch[TG_SIZE];
  const long o = group.x, part = group.y;
  const long outer = o / p.inner, inner = o % p.inner;
  device const half* row = in + outer * p.n * p.inner + inner;
  const long begin = part * p.chunk, end = min_long(begin + p.chunk, p.n);
  Acc a = acc_init();
  for (long j = begin + lid; j < end; j += TG_SIZE) a = acc_add(a, float(row[j * p.inner]), int(j), p.p);
  a = tg_combine(a, scratch, lid, p.p);
  if (lid != 0) return;
  if (FINAL) acc_store(a, p, out, out_index, o);
  else partials[o * p.parts + part] = a;
}

// groups: (outer * inner); combines the `parts` partials of each output in index order.
kernel void reduce_stage2(device const Acc* partials [[buffer(0)]], device half* out [[buffer(1)]],
                          device int* out_index [[buffer(2)]], constant ReduceParams& p [[buffer(3)]],
                          uint group [[threadgroup_position_in_grid]], uint lid [[thread_index_in_threadgroup]]) {
  threadgroup Acc scratch[TG_SIZE];
  // Each thread combines a contiguous run of partials so that index order is kept for arg* ties.
  const long per = (p.parts + TG_SIZE - 1) / TG_SIZE;
  Acc a = acc_init();
  for (long q = lid * per; q < min_long(long(lid + 1) * per, p.parts); ++q) a = acc_combine(a, partials[group * p.parts + q], p.p);
  a = tg_combine(a, scratch, lid, p.p);
  if (lid == 0) acc_store(a, p, out, out_index, group);
}
