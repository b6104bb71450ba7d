// scaled_dot_product_attention in one kernel: one threadgroup per (batch, query row) streams the keys in
// blocks of BLOCK with an online softmax (running max and sum), so scores never leave threadgroup memory.
// f32 throughout, rounded once. Causal masking is PyTorch's (key s is visible to query l when s <= l);
// the optional mask is additive (f16, broadcast through its strides). A threadgroup writes a slice of
// BLOCK * MAX_DV_PER_THREAD output columns (groups.y covers wider values, recomputing the scores).
#include <metal_stdlib>
using namespace metal;
#include "params.h"
#include "common.h"

constant bool CAUSAL [[function_constant(0)]];
constant bool HAS_MASK [[function_constant(1)]];

#define BLOCK 128             // threads per threadgroup = keys per block
#define MAX_DV_PER_THREAD 4

kernel void attention(device const half* q [[buffer(0)]], device const half* k [[buffer(1)]],
                      device const half* v [[buffer(2)]], device const half* mask [[buffer(3)]],
                      device half* out [[buffer(4)]], constant AttentionParams& p [[buffer(5)]],
                      uint2 group [[threadgroup_position_in_grid]], uint lid [[thread_index_in_threadgroup]],
                      uint lane [[thread_index_in_simdgroup]], uint sg [[simdgroup_index_in_threadgroup]]) {
  threadgroup float scratch[32];
  threadgroup float probs[BLOCK];
  const uint simd_groups = BLOCK / 32;
  const long b = group.x / p.l, l = group.x % p.l;
  const long dv0 = long(group.y) * BLOCK * MAX_DV_PER_THREAD;
  device const half* q_row = q + b * p.q_strides[0] + l * p.q_strides[1];
  float running_max = -INFINITY, running_sum = 0.0f;
  float acc[MAX_DV_PER_THREAD] = {0.0f, 0.0f, 0.0f, 0.0f};

  for (long s0 = 0; s0 < p.s; s0 += BLOCK) {
    const long s = s0 + lid;
    float score = -INFINITY;
    if (s < p.s && (!CAUSAL || s <= l)) {
      device const half* k_row = k + b * p.k_strides[0] + s * p.k_strides[1];
      float dot = 0.0f;
      for (long d = 0; d < p.d; ++d) dot += float(q_row[d * p.q_strides[2]]) * float(k_row[d * p.k_strides[2]]);
      score = dot * p.scale;
      if (HAS_MASK) score += float(mask[b * p.mask_strides[0] + l * p.mask_strides[1] + s * p.mask_strides[2]]);
    }
    const float block_max = tg_max(score, scratch, lane, sg, simd_groups);
    const float new_max = max(running_max, block_max);
    // Nothing visible yet: keep zero weights instead of exp(-inf - -inf) = NaN.
    const float correction = new_max == -INFINITY ? 1.0f : exp(running_max - new_max);
    const float prob = new_max == -INFINITY ? 0.0f : exp(score - new_max);
    probs[lid] = prob;
    running_sum = running_sum * correction + tg_sum(prob, scratch, lane, sg, simd_groups);
    running_max = new_max;
    threadgroup_barrier(mem_flags::mem_threadgroup);  // probs complete
    const long block_end = min_long(BLOCK, p.s - s0);
    for (int t = 0; t < MAX_DV_PER_THREAD; ++t) {
      const long d = dv0 + lid + long(t) * BLOCK;
      if (d >= p.dv) break;
      float a = acc[t] * correction;
      for (long j = 0; j < block_end; ++j) {
        a += probs[j] * float(v[b * p.v_strides[0] + (s0 + j) * p.v_strides[1] + d * p.v_strides[2]]);
      }
      acc[t] = a;
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);  // probs is rewritten by the next block
  }
  for (int t = 0; t < MAX_DV_PER_THREAD; ++t) {
    const long d = dv0 + lid + long(t) * BLOCK;
    if (d < p.dv) out[b * p.out_strides[0] + l * p.out_strides[1] + d] = half(acc[t] / running_sum);
  }
}
