// Elementwise kernel family: unary, binary and ternary ops over broadcast, strided operands, one thread
// per output element. The op is a function constant, so each op is its own specialised pipeline.
#include <metal_stdlib>
using namespace metal;
#include "params.h"
#include "common.h"

constant uint OP [[function_constant(0)]];
constant bool CONTIGUOUS [[function_constant(1)]];  // every operand is contiguous: offsets are the index
constant bool A_SCALAR [[function_constant(2)]];
constant bool B_SCALAR [[function_constant(3)]];

inline long operand_offset(long i, constant ElementwiseParams& p, int which) {
  return CONTIGUOUS ? i : strided_offset(i, p, which);
}

kernel void unary_f16(device const half* in [[buffer(0)]], device half* out [[buffer(1)]],
                      constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  if (gid >= p.numel) return;
  const float x = float(in[operand_offset(gid, p, 0)]);
  out[operand_offset(gid, p, 3)] = half(unary_f32(UnaryOp(OP), x, p.pa, p.pb));
}

kernel void unary_i32(device const int* in [[buffer(0)]], device int* out [[buffer(1)]],
                      constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  if (gid >= p.numel) return;
  out[operand_offset(gid, p, 3)] = unary_i32(UnaryOp(OP), in[operand_offset(gid, p, 0)], p.pa, p.pb);
}

kernel void unary_i64(device const long* in [[buffer(0)]], device long* out [[buffer(1)]],
                      constant ElementwiseParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  if (gid >= p.numel) return;
  out[operand_offset(gid, p, 3)] = unary_int(UnaryOp(OP), in[operand_offset(gid, p, 0)], p.pa, p.pb);
}

kernel void binary_f16(device const half* a [[buffer(0)]], device const half* b [[buffer(1)]],
                       device half* out [[buffer(2)]], constant ElementwiseParams& p [[buffer(3)]],
                       uint gid [[thread_position_in_grid]]) {
  if (gid >= p.numel) return;
  const float x = A_SCALAR ? p.scalar_a : float(a[operand_offset(gid, p, 0)]);
  const float y = B_SCALAR ? p.scalar_b : float(b[operand_offset(gid, p, 1)]);
  out[operand_offset(gid, p, 3)] = half(binary_f32(BinaryOp(OP), x, y));
}

// int32 operands: int32 results, or f16 0/1 masks for comparisons (written through out_mask, the same
// buffer as out). A zero divisor raises flags[0] for the host to report.
kernel void binary_i32(device const int* a [[buffer(0)]], device const int* b [[buffer(1)]],
                       device int* out [[buffer(2)]], device half* out_mask [[buffer(3)]],
                       device atomic_uint* flags [[buffer(4)]], constant ElementwiseParams& p [[buffer(5)]],
                       uint gid [[thread_position_in_grid]]) {
  if (gid >= p.numel) return;
  const int x = A_SCALAR ? p.iscalar_a : a[operand_offset(gid, p, 0)];
  const int y = B_SCALAR ? p.iscalar_b : b[operand_offset(gid, p, 1)];
  const long o = operand_offset(gid, p, 3);
  if (is_comparison(BinaryOp(OP))) {
    out_mask[o] = half(compare(BinaryOp(OP), x, y));
    return;
  }
  bool divide_by_zero = false;
  out[o] = binary_i32(BinaryOp(OP), x, y, &divide_by_zero);
  if (divide_by_zero) atomic_fetch_or_explicit(flags, 1u, memory_order_relaxed);
}

// int64 operands, as binary_i32; a scalar operand (either side: the core passes at most one) is the
// 64-bit word of iscalar_a (low half) and iscalar_b (high half).
kernel void binary_i64(device const long* a [[buffer(0)]], device const long* b [[buffer(1)]],
                       device long* out [[buffer(2)]], device half* out_mask [[buffer(3)]],
                       device atomic_uint* flags [[buffer(4)]], constant ElementwiseParams& p [[buffer(5)]],
                       uint gid [[thread_position_in_grid]]) {
  if (gid >= p.numel) return;
  const long scalar = long(ulong(uint(p.iscalar_a)) | (ulong(uint(p.iscalar_b)) << 32));
  const long x = A_SCALAR ? scalar : a[operand_offset(gid, p, 0)];
  const long y = B_SCALAR ? scalar : b[operand_offset(gid, p, 1)];
  const long o = operand_offset(gid, p, 3);
  if (is_comparison(BinaryOp(OP))) {
    out_mask[o] = half(compare(BinaryOp(OP), x, y));
    return;
  }
  bool divide_by_zero = false;
  out[o] = binary_int(BinaryOp(OP), x, y, &divide_by_zero);
  if (divide_by_zero) atomic_fetch_or_explicit(flags, 1u, memory_order_relaxed);
}

// where(c, a, b) (operand 0 is the condition) and affine a * b + c, all f16.
kernel void ternary_f16(device const half* a [[buffer(0)]], device const half* b [[buffer(1)]],
                        device const half* c [[buffer(2)]], device half* out [[buffer(3)]],
                        constant ElementwiseParams& p [[buffer(4)]], uint gid [[thread_position_in_grid]]) {
  if (gid >= p.numel) return;
  const float x = float(a[operand_offset(gid, p, 0)]);
  const float y = float(b[operand_offset(gid, p, 1)]);
  const float z = float(c[operand_offset(gid, p, 2)]);
  out[operand_offset(gid, p, 3)] = half(TernaryOp(OP) == TernaryOp::where ? (x != 0.0f ? y : z) : x * y + z);
}

// where(c, a, b) with the f16 condition c and int32, int64 or bool values a, b.
template <typename T>
inline void where_one(device const half* c, device const T* a, device const T* b, device T* out,
                      constant ElementwiseParams& p, uint gid) {
  if (gid >= p.numel) return;
  const bool take_a = float(c[operand_offset(gid, p, 0)]) != 0.0f;
  out[operand_offset(gid, p, 3)] = take_a ? a[operand_offset(gid, p, 1)] : b[operand_offset(gid, p, 2)];
}

kernel void where_i32(device const half* c [[buffer(0)]], device const int* a [[buffer(1)]],
                      device const int* b [[buffer(2)]], device int* out [[buffer(3)]],
                      constant ElementwiseParams& p [[buffer(4)]], uint gid [[thread_position_in_grid]]) {
  where_one(c, a, b, out, p, gid);
}

kernel void where_i64(device const half* c [[buffer(0)]], device const long* a [[buffer(1)]],
                      device const long* b [[buffer(2)]], device long* out [[buffer(3)]],
                      constant ElementwiseParams& p [[buffer(4)]], uint gid [[thread_position_in_grid]]) {
  where_one(c, a, b, out, p, gid);
}

kernel void where_b8(device const half* c [[buffer(0)]], device const uchar* a [[buffer(1)]],
                     device const uchar* b [[buffer(2)]], device uchar* out [[buffer(3)]],
                     constant ElementwiseParams& p [[buffer(4)]], uint gid [[thread_position_in_grid]]) {
  where_one(c, a, b, out, p, gid);
}
