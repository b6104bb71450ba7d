// Indexing kernels over [outer, n, inner] layouts; indices were range-checked by the core. Values move
// as raw 16- or 32-bit words (f16 or int32 data), except scatter_add, which adds f16 values.
#include <metal_stdlib>
using namespace metal;
#include "params.h"
#include "common.h"

// out[o][j][i] = in[o][index[o][j][i]][i]; one thread per output element.
template <typename T>
inline void gather_one(device const T* in, device const int* index, device T* out, constant IndexParams& p, uint gid) {
  if (gid >= p.outer * p.n_idx * p.inner) return;
  const long i = long(gid) % p.inner, o = long(gid) / (p.n_idx * p.inner);
  out[gid] = in[(o * p.n_in + index[gid]) * p.inner + i];
}

// out[o][j][i] = in[o][index[j]][i]; one thread per output element.
template <typename T>
inline void index_select_one(device const T* in, device const int* index, device T* out, constant IndexParams& p, uint gid) {
  if (gid >= p.outer * p.n_idx * p.inner) return;
  const long i = long(gid) % p.inner, j = (long(gid) / p.inner) % p.n_idx, o = long(gid) / (p.n_idx * p.inner);
  out[gid] = in[(o * p.n_in + index[j]) * p.inner + i];
}

kernel void gather_u16(device const ushort* in [[buffer(0)]], device const int* index [[buffer(1)]],
                       device ushort* out [[buffer(2)]], constant IndexParams& p [[buffer(3)]],
                       uint gid [[thread_position_in_grid]]) {
  gather_one(in, index, out, p, gid);
}

kernel void gather_u32(device const uint* in [[buffer(0)]], device const int* index [[buffer(1)]],
                       device uint* out [[buffer(2)]], constant IndexParams& p [[buffer(3)]],
                       uint gid [[thread_position_in_grid]]) {
  gather_one(in, index, out, p, gid);
}

kernel void index_select_u16(device const ushort* in [[buffer(0)]], device const int* index [[buffer(1)]],
                             device ushort* out [[buffer(2)]], constant IndexParams& p [[buffer(3)]],
                             uint gid [[thread_position_in_grid]]) {
  index_select_one(in, index, out, p, gid);
}

kernel void index_select_u32(device const uint* in [[buffer(0)]], device const int* index [[buffer(1)]],
                             device uint* out [[buffer(2)]], constant IndexParams& p [[buffer(3)]],
                             uint gid [[thread_position_in_grid]]) {
  index_select_one(in, index, out, p, gid);
}

// out[o][index[o][j][i]][i] += src[o][j][i]. One thread per (o, i) column walks j in order, so the
// additions to each element happen in index order (the CPU backend's order), f16 sums rounded at each
// addition, with no atomics: f16 has no atomic add and two columns never touch the same element.
inline half add_value(half a, half b) { return half(float(a) + float(b)); }
inline int add_value(int a, int b) { return int(uint(a) + uint(b)); }

template <typename T>
inline void scatter_add_column(device const int* index, device const T* src, device T* out, constant IndexParams& p,
                               uint gid) {
  if (gid >= p.outer * p.inner) return;
  const long o = long(gid) / p.inner, i = long(gid) % p.inner;
  for (long j = 0; j < p.n_idx; ++j) {
    const long from = (o * p.n_idx + j) * p.inner + i;
    const long to = (o * p.n_out + index[from]) * p.inner + i;
    out[to] = add_value(out[to], src[from]);
  }
}

kernel void scatter_add_f16(device const int* index [[buffer(0)]], device const half* src [[buffer(1)]],
                            device half* out [[buffer(2)]], constant IndexParams& p [[buffer(3)]],
                            uint gid [[thread_position_in_grid]]) {
  scatter_add_column(index, src, out, p, gid);
}

kernel void scatter_add_i32(device const int* index [[buffer(0)]], device const int* src [[buffer(1)]],
                            device int* out [[buffer(2)]], constant IndexParams& p [[buffer(3)]],
                            uint gid [[thread_position_in_grid]]) {
  scatter_add_column(index, src, out, p, gid);
}
