// Strided copies (same dtype as raw 16/32-bit words, or converting f16 <-> int32) and fills.
#include <metal_stdlib>
using namespace metal;
#include "params.h"
#include "common.h"

inline ushort tl_convert(ushort v, ushort) { return v; }
inline uint tl_convert(uint v, uint) { return v; }
inline int tl_convert(half v, int) { return int(float(v)); }
inline half tl_convert(int v, half) { return half(float(v)); }

template <typename From, typename To>
inline void copy_one(device const From* in, device To* out, constant ElementwiseParams& p, uint gid) {
  if (gid >= p.numel) return;
  out[strided_offset(gid, p, 3)] = tl_convert(in[strided_offset(gid, p, 0)], To());
}

kernel void copy_u16(device const ushort* in [[buffer(0)]], device ushort* out [[buffer(1)]],
                     constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  copy_one(in, out, p, gid);
}

kernel void copy_u32(device const uint* in [[buffer(0)]], device uint* out [[buffer(1)]],
                     constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  copy_one(in, out, p, gid);
}

kernel void copy_f16_i32(device const half* in [[buffer(0)]], device int* out [[buffer(1)]],
                         constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  copy_one(in, out, p, gid);
}

kernel void copy_i32_f16(device const int* in [[buffer(0)]], device half* out [[buffer(1)]],
                         constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  copy_one(in, out, p, gid);
}

// The value's bit pattern is in iscalar_a (an f16 in its low 16 bits, or an int32).
kernel void fill_u16(device ushort* out [[buffer(0)]], constant ElementwiseParams& p [[buffer(1)]],
                     uint gid [[thread_position_in_grid]]) {
  if (gid < p.numel) out[strided_offset(gid, p, 3)] = ushort(p.iscalar_a);
}

kernel void fill_u32(device uint* out [[buffer(0)]], constant ElementwiseParams& p [[buffer(1)]],
                     uint gid [[thread_position_in_grid]]) {
  if (gid < p.numel) out[strided_offset(gid, p, 3)] = uint(p.iscalar_a);
}
