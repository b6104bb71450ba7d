// Row kernels, one threadgroup per row with simdgroup + threadgroup reductions in f32: softmax and
// log_softmax over the middle axis of contiguous [outer, n, inner]; layer_norm, rms_norm and the fused
// softmax + cross-entropy over the last axis of contiguous [rows, n]. The threadgroup size is a multiple of 32 (at most 1024).
#include <metal_stdlib>
using namespace metal;
#include "params.h"
#include "common.h"

constant bool LOG [[function_constant(0)]];         // log_softmax
constant bool RMS [[function_constant(1)]];         // rms_norm (no mean, no bias)
constant bool HAS_WEIGHT [[function_constant(2)]];
constant bool HAS_BIAS [[function_constant(3)]];

kernel void softmax_rows(device const half* in [[buffer(0)]], device half* out [[buffer(1)]],
                         constant ReduceParams& p [[buffer(2)]], uint row [[threadgroup_position_in_grid]],
                         uint lid [[thread_index_in_threadgroup]], uint threads [[threads_per_threadgroup]],
                         uint lane [[thread_index_in_simdgroup]], uint sg [[simdgroup_index_in_threadgroup]]) {
  threadgroup float scratch[32];
  const uint simd_groups = threads / 32;
  const long base = (row / p.inner) * p.n * p.inner + row % p.inner;
  device const half* x = in + base;
  device half* y = out + base;
  float m = -INFINITY;
  for (long j = lid; j < p.n; j += threads) m = max(m, float(x[j * p.inner]));
  m = tg_max(m, scratch, lane, sg, simd_groups);
  float s = 0.0f;
  for (long j = lid; j < p.n; j += threads) s += exp(float(x[j * p.inner]) - m);
  s = tg_sum(s, scratch, lane, sg, simd_groups);
  if (LOG) {
    const float shift = m + log(s);
    for (long j = lid; j < p.n; j += threads) y[j * p.inner] = half(float(x[j * p.inner]) - shift);
  } else {
    const float inv = 1.0f / s;
    for (long j = lid; j < p.n; j += threads) y[j * p.inner] = half(exp(float(x[j * p.inner]) - m) * inv);
  }
}

// layer_norm: (x - mean) / sqrt(var + eps) * w + b with the biased variance (two passes for accuracy);
// rms_norm: x / sqrt(mean(x^2) + eps) * w.
kernel void norm_rows(device const half* in [[buffer(0)]], device const half* weight [[buffer(1)]],
                      device const half* bias [[buffer(2)]], device half* out [[buffer(3)]],
                      constant NormParams& p [[buffer(4)]], uint row [[threadgroup_position_in_grid]],
                      uint lid [[thread_index_in_threadgroup]], uint threads [[threads_per_threadgroup]],
                      uint lane [[thread_index_in_simdgroup]], uint sg [[simdgroup_index_in_threadgroup]]) {
  threadgroup float scratch[32];
  const uint simd_groups = threads / 32;
  device const half* x = in + row * p.n;
  device half* y = out + row * p.n;
  float mean = 0.0f;
  if (!RMS) {
    float s = 0.0f;
    for (long j = lid; j < p.n; j += threads) s += float(x[j]);
    mean = tg_sum(s, scratch, lane, sg, simd_groups) / float(p.n);
  }
  float q = 0.0f;
  for (long j = lid; j < p.n; j += threads) {
    const float d = float(x[j]) - mean;
    q += d * d;
  }
  const float rstd = 1.0f / sqrt(tg_sum(q, scratch, lane, sg, simd_groups) / float(p.n) + p.eps);
  for (long j = lid; j < p.n; j += threads) {
    float v = (float(x[j]) - mean) * rstd;
    if (HAS_WEIGHT) v *= float(weight[j]);
    if (HAS_BIAS) v += float(bias[j]);
    y[j] = half(v);
  }
}

// Softmax cross-entropy (Backend::cross_entropy): loss = logsumexp(x) - (1 - s) x[t] - s / n * sum(x), in
// f32 and rounded once; 0 where the target is ignore_index. A NaN or +inf logit, or an all -inf row, makes
// the shifted exponentials' sum NaN and so the loss, as on the CPU.
kernel void cross_entropy_rows(device const half* logits [[buffer(0)]], device const int* target [[buffer(1)]],
                               device half* out [[buffer(2)]], constant CrossEntropyParams& p [[buffer(3)]],
                               uint row [[threadgroup_position_in_grid]], uint lid [[thread_index_in_threadgroup]],
                               uint threads [[threads_per_threadgroup]], uint lane [[thread_index_in_simdgroup]],
                               uint sg [[simdgroup_index_in_threadgroup]]) {
  threadgroup float scratch[32];
  const uint simd_groups = threads / 32;
  const int t = target[row];
  if (long(t) == p.ignore_index) {  // the whole threadgroup leaves before any barrier
    if (lid == 0) out[row] = half(0.0f);
    return;
  }
  device const half* x = logits + long(row) * p.n;
  float m = -INFINITY;
  for (long j = lid; j < p.n; j += threads) m = max(m, float(x[j]));
  m = tg_max(m, scratch, lane, sg, simd_groups);
  float s = 0.0f, total = 0.0f;
  for (long j = lid; j < p.n; j += threads) {
    const float v = float(x[j]);
    s += exp(v - m);
    total += v;
  }
  s = tg_sum(s, scratch, lane, sg, simd_groups);
  total = tg_sum(total, scratch, lane, sg, simd_groups);
  const float lse = m + log(s);
  float loss = lse - float(x[t]);
  // Skipped at 0 so that -inf logits elsewhere in the row do not give 0 * inf.
  if (p.smoothing > 0.0f) loss = (1.0f - p.smoothing) * loss + p.smoothing * (lse - total / float(p.n));
  if (lid == 0) out[row] = half(loss);
}
