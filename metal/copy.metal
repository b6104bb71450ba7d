// Strided copies (same dtype as raw words, or converting between any two dtypes) and fills.
#include <metal_stdlib>
using namespace metal;
#include "params.h"
#include "common.h"

// Converting copies between f16 (half), int32 (int), int64 (long) and bool (uchar 0/1), with PyTorch's
// rules: float to integer truncates toward zero (NaN and +-inf become the integer's lowest value, as
// cpp/kernels/convert.h says), anything to bool is `!= 0` (NaN is true).
template <typename To, typename From>
inline To tl_convert(From v) { return To(v); }
template <> inline int tl_convert<int, half>(half v) { return isfinite(float(v)) ? int(float(v)) : int(0x80000000u); }
template <> inline long tl_convert<long, half>(half v) {
  return isfinite(float(v)) ? long(float(v)) : long(0x8000000000000000ul);
}
template <> inline half tl_convert<half, long>(long v) { return half(float(v)); }
template <> inline uchar tl_convert<uchar, half>(half v) { return float(v) != 0.0f ? 1 : 0; }
template <> inline uchar tl_convert<uchar, int>(int v) { return v != 0 ? 1 : 0; }
template <> inline uchar tl_convert<uchar, long>(long v) { return v != 0 ? 1 : 0; }
template <> inline half tl_convert<half, uchar>(uchar v) { return half(float(v)); }

template <typename From, typename To>
inline void copy_one(device const From* in, device To* out, constant ElementwiseParams& p, uint gid) {
  if (gid >= p.numel) return;
  out[strided_offset(gid, p, 3)] = tl_convert<To>(in[strided_offset(gid, p, 0)]);
}

// Same dtype: raw words of 1, 2, 4 or 8 bytes; then every converting pair.
kernel void copy_u8(device const uchar* in [[buffer(0)]], device uchar* out [[buffer(1)]],
                    constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  copy_one(in, out, p, gid);
}

kernel void copy_u16(device const ushort* in [[buffer(0)]], device ushort* out [[buffer(1)]],
                     constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  copy_one(in, out, p, gid);
}

kernel void copy_u32(device const uint* in [[buffer(0)]], device uint* out [[buffer(1)]],
                     constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  copy_one(in, out, p, gid);
}

kernel void copy_u64(device const ulong* in [[buffer(0)]], device ulong* out [[buffer(1)]],
                     constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  copy_one(in, out, p, gid);
}

kernel void copy_f16_i32(device const half* in [[buffer(0)]], device int* out [[buffer(1)]],
                         constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  copy_one(in, out, p, gid);
}

kernel void copy_f16_i64(device const half* in [[buffer(0)]], device long* out [[buffer(1)]],
                         constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  copy_one(in, out, p, gid);
}

kernel void copy_f16_b8(device const half* in [[buffer(0)]], device uchar* out [[buffer(1)]],
                        constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  copy_one(in, out, p, gid);
}

kernel void copy_i32_f16(device const int* in [[buffer(0)]], device half* out [[buffer(1)]],
                         constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  copy_one(in, out, p, gid);
}

kernel void copy_i32_i64(device const int* in [[buffer(0)]], device long* out [[buffer(1)]],
                         constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  copy_one(in, out, p, gid);
}

kernel void copy_i32_b8(device const int* in [[buffer(0)]], device uchar* out [[buffer(1)]],
                        constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  copy_one(in, out, p, gid);
}

kernel void copy_i64_f16(device const long* in [[buffer(0)]], device half* out [[buffer(1)]],
                         constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  copy_one(in, out, p, gid);
}

kernel void copy_i64_i32(device const long* in [[buffer(0)]], device int* out [[buffer(1)]],
                         constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  copy_one(in, out, p, gid);
}

kernel void copy_i64_b8(device const long* in [[buffer(0)]], device uchar* out [[buffer(1)]],
                        constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  copy_one(in, out, p, gid);
}

kernel void copy_b8_f16(device const uchar* in [[buffer(0)]], device half* out [[buffer(1)]],
                        constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  copy_one(in, out, p, gid);
}

kernel void copy_b8_i32(device const uchar* in [[buffer(0)]], device int* out [[buffer(1)]],
                        constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  copy_one(in, out, p, gid);
}

kernel void copy_b8_i64(device const uchar* in [[buffer(0)]], device long* out [[buffer(1)]],
                        constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  copy_one(in, out, p, gid);
}

// The value's bit pattern is in iscalar_a (an f16 in its low 16 bits, a bool, or an int32); an int64's
// high word is in iscalar_b.
kernel void fill_u16(device ushort* out [[buffer(0)]], constant ElementwiseParams& p [[buffer(1)]],
                     uint gid [[thread_position_in_grid]]) {
  if (gid < p.numel) out[strided_offset(gid, p, 3)] = ushort(p.iscalar_a);
}

kernel void fill_u32(device uint* out [[buffer(0)]], constant ElementwiseParams& p [[buffer(1)]],
                     uint gid [[thread_position_in_grid]]) {
  if (gid < p.numel) out[strided_offset(gid, p, 3)] = uint(p.iscalar_a);
}

kernel void fill_u8(device uchar* out [[buffer(0)]], constant ElementwiseParams& p [[buffer(1)]],
                    uint gid [[thread_position_in_grid]]) {
  if (gid < p.numel) out[strided_offset(gid, p, 3)] = uchar(p.iscalar_a);
}

kernel void fill_u64(device ulong* out [[buffer(0)]], constant ElementwiseParams& p [[buffer(1)]],
                     uint gid [[thread_position_in_grid]]) {
  if (gid < p.numel) out[strided_offset(gid, p, 3)] = (ulong(uint(p.iscalar_b)) << 32) | ulong(uint(p.iscalar_a));
}
