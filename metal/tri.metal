// tril / triu: keeps elements with (col - row) <= k (lower) or >= k (upper) of the last two axes.
#include <metal_stdlib>
using namespace metal;
#include "params.h"
#include "common.h"

constant bool UPPER [[function_constant(0)]];

template <typename T>
inline void tri_one(device const T* in, device T* out, constant ElementwiseParams& p, uint gid) {
  if (gid >= p.numel) return;
  const long cols = p.shape[p.ndim - 1], rows = p.shape[p.ndim - 2];
  const long col = long(gid) % cols, row = (long(gid) / cols) % rows;
  const bool keep = UPPER ? (col - row >= p.k) : (col - row <= p.k);
  out[strided_offset(gid, p, 3)] = keep ? in[strided_offset(gid, p, 0)] : T(0);
}

kernel void tri_u16(device const ushort* in [[buffer(0)]], device ushort* out [[buffer(1)]],
                    constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  tri_one(in, out, p, gid);
}

kernel void tri_u32(device const uint* in [[buffer(0)]], device uint* out [[buffer(1)]],
                    constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  tri_one(in, out, p, gid);
}

kernel void tri_u8(device const uchar* in [[buffer(0)]], device uchar* out [[buffer(1)]],
                   constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  tri_one(in, out, p, gid);
}

kernel void tri_u64(device const ulong* in [[buffer(0)]], device ulong* out [[buffer(1)]],
                    constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  tri_one(in, out, p, gid);
}
