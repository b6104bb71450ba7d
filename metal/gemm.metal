// Tiled GEMM on simdgroup matrices: out[b] = a[b] @ b[b] (+ bias) (+ residual), then the activation,
// accumulated in f32 and rounded once. A threadgroup computes a TILE x TILE block of out (TILE 16 or 32,
// chosen by the host from the problem size) with (TILE/16)^2 simdgroups of 2x2 8x8 accumulators each.
// Operands are read through their strides, so transposed views need no copy.
#include <metal_stdlib>
using namespace metal;
#include "params.h"
#include "common.h"

constant uint TILE [[function_constant(0)]];
constant bool HAS_BIAS [[function_constant(1)]];
constant bool HAS_RESIDUAL [[function_constant(2)]];
constant uint ACTIVATION [[function_constant(3)]];

#define MAX_TILE 32
#define BK 16

// groups: (ceil(n / TILE), ceil(m / TILE), batch); threads: (TILE / 16)^2 * 32.
kernel void gemm(device const half* a [[buffer(0)]], device const half* b [[buffer(1)]], device half* out [[buffer(2)]],
                 device const half* bias [[buffer(3)]], device const half* residual [[buffer(4)]],
                 constant GemmParams& p [[buffer(5)]], uint3 group [[threadgroup_position_in_grid]],
                 uint lid [[thread_index_in_threadgroup]], uint sg [[simdgroup_index_in_threadgroup]]) {
  threadgroup float a_tile[MAX_TILE * BK];    // [TILE rows][BK]
  threadgroup float b_tile[BK * MAX_TILE];    // [BK][TILE cols], row length MAX_TILE
  threadgroup float c_tile[MAX_TILE * MAX_TILE];
  const uint threads = (TILE / 16) * (TILE / 16) * 32;
  const long row0 = long(group.y) * TILE, col0 = long(group.x) * TILE, batch = group.z;
  device const half* a_batch = a + batch * p.a_strides[0];
  device const half* b_batch = b + batch * p.b_strides[0];
  const uint sub_row = (sg / (TILE / 16)) * 16, sub_col = (sg % (TILE / 16)) * 16;

  simdgroup_float8x8 acc[2][2];
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) acc[i][j] = make_filled_simdgroup_matrix<float, 8, 8>(0.0f);

  for (long k0 = 0; k0 < p.k; k0 += BK) {
    for (uint e = lid; e < TILE * BK; e += threads) {
      const long r = row0 + e / BK, k = k0 + e % BK;
      a_tile[e] = (r < p.m && k < p.k) ? float(a_batch[r * p.a_strides[1] + k * p.a_strides[2]]) : 0.0f;
    }
    for (uint e = lid; e < BK * TILE; e += threads) {
      const long k = k0 + e / TILE, c = col0 + e % TILE;
      b_tile[(e / TILE) * MAX_TILE + e % TILE] =
          (k < p.k && c < p.n) ? float(b_batch[k * p.b_strides[1] + c * p.b_strides[2]]) : 0.0f;
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);
    for (uint kk = 0; kk < BK; kk += 8) {
      simdgroup_float8x8 am[2], bm[2];
      for (int i = 0; i < 2; ++i) simdgroup_load(am[i], a_tile, BK, ulong2(ulong(kk), ulong(sub_row + i * 8)));
      for (int j = 0; j < 2; ++j) simdgroup_load(bm[j], b_tile, MAX_TILE, ulong2(ulong(sub_col + j * 8), ulong(kk)));
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) simdgroup_multiply_accumulate(acc[i][j], am[i], bm[j], acc[i][j]);
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);
  }
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) simdgroup_store(acc[i][j], c_tile, MAX_TILE, ulong2(ulong(sub_col + j * 8), ulong(sub_row + i * 8)));
  threadgroup_barrier(mem_flags::mem_threadgroup);

  for (uint e = lid; e < TILE * TILE; e += threads) {
    const long r = row0 + e / TILE, c = col0 + e % TILE;
    if (r >= p.m || c >= p.n) continue;
    float v = c_tile[(e / TILE) * MAX_TILE + e % TILE];
    if (HAS_BIAS) v += float(bias[batch * p.bias_strides[0] + r * p.bias_strides[1] + c * p.bias_strides[2]]);
    if (HAS_RESIDUAL) v += float(residual[batch * p.res_strides[0] + r * p.res_strides[1] + c * p.res_strides[2]]);
    out[(batch * p.m + r) * p.n + c] = half(activation_f32(Activation(ACTIVATION), v));
  }
}
