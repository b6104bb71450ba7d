// Indexing kernels (gather, scatter_add, index_select, embedding, advanced indexing and pad all reduce
// to these): blocks of a strided view moved to or from element offsets that the core computed and
// range-checked. Geometry of one block: ElementwiseParams slot 0 (shape and strides of the view).
#include <metal_stdlib>
using namespace metal;
#include "params.h"
#include "common.h"

constant bool ACCUMULATE [[function_constant(0)]];

// out[b][r] = src[offsets[b] + offset of r in the view]; one thread per output element.
template <typename T>
inline void gather_one(device const T* src, device const long* offsets, device T* out, constant ElementwiseParams& g,
                       constant BlockParams& p, uint gid) {
  if (gid >= p.blocks * g.numel) return;
  const long b = long(gid) / g.numel, r = long(gid) % g.numel;
  out[gid] = src[offsets[b] + strided_offset(r, g, 0)];
}

kernel void index_gather_u16(device const ushort* src [[buffer(0)]], device const long* offsets [[buffer(1)]],
                             device ushort* out [[buffer(2)]], constant ElementwiseParams& g [[buffer(3)]],
                             constant BlockParams& p [[buffer(4)]], uint gid [[thread_position_in_grid]]) {
  gather_one(src, offsets, out, g, p, gid);
}

kernel void index_gather_u32(device const uint* src [[buffer(0)]], device const long* offsets [[buffer(1)]],
                             device uint* out [[buffer(2)]], constant ElementwiseParams& g [[buffer(3)]],
                             constant BlockParams& p [[buffer(4)]], uint gid [[thread_position_in_grid]]) {
  gather_one(src, offsets, out, g, p, gid);
}

kernel void index_gather_u8(device const uchar* src [[buffer(0)]], device const long* offsets [[buffer(1)]],
                            device uchar* out [[buffer(2)]], constant ElementwiseParams& g [[buffer(3)]],
                            constant BlockParams& p [[buffer(4)]], uint gid [[thread_position_in_grid]]) {
  gather_one(src, offsets, out, g, p, gid);
}

kernel void index_gather_u64(device const ulong* src [[buffer(0)]], device const long* offsets [[buffer(1)]],
                             device ulong* out [[buffer(2)]], constant ElementwiseParams& g [[buffer(3)]],
                             constant BlockParams& p [[buffer(4)]], uint gid [[thread_position_in_grid]]) {
  gather_one(src, offsets, out, g, p, gid);
}

// Scatter: the host sorted the blocks by offset (stably) into segments of equal offsets: segment s covers
// order[starts[s] .. starts[s + 1]) at offset seg_offsets[s]. One thread per (segment, element of the
// block) walks its segment in block order: with ACCUMULATE the values add up (f16 in f32 from the
// current value, rounded once; integers wrapping; bools or-ed), else the last block wins. Deterministic, no atomics, and
// the same order as the CPU backend. Blocks at different offsets are disjoint (distinct index tuples
// address distinct elements of one view).
inline float accumulate_start(half v) { return float(v); }
inline int accumulate_start(int v) { return v; }
inline float accumulate_add(float acc, half v) { return acc + float(v); }
inline int accumulate_add(int acc, int v) { return int(uint(acc) + uint(v)); }
inline half accumulate_end(float acc, half) { return half(acc); }
inline int accumulate_end(int acc, int) { return acc; }
inline long accumulate_start(long v) { return v; }
inline long accumulate_add(long acc, long v) { return long(ulong(acc) + ulong(v)); }
inline long accumulate_end(long acc, long) { return acc; }
inline uchar accumulate_start(uchar v) { return v; }
inline uchar accumulate_add(uchar acc, uchar v) { return (acc != 0 || v != 0) ? 1 : 0; }
inline uchar accumulate_end(uchar acc, uchar) { return acc; }

template <typename T>
inline void scatter_one(device const T* values, device const long* seg_offsets, device const int* starts,
                        device const int* order, device T* dst, constant ElementwiseParams& g, constant BlockParams& p,
                        uint gid) {
  if (gid >= p.segments * g.numel) return;
  const long s = long(gid) / g.numel, r = long(gid) % g.numel;
  device T* target = dst + seg_offsets[s] + strided_offset(r, g, 0);
  const int first = starts[s], last = starts[s + 1];
  if (!ACCUMULATE) {
    *target = values[long(order[last - 1]) * g.numel + r];
    return;
  }
  auto acc = accumulate_start(*target);
  for (int j = first; j < last; ++j) acc = accumulate_add(acc, values[long(order[j]) * g.numel + r]);
  *target = accumulate_end(acc, T());
}

kernel void index_scatter_f16(device const half* values [[buffer(0)]], device const long* seg_offsets [[buffer(1)]],
                              device const int* starts [[buffer(2)]], device const int* order [[buffer(3)]],
                              device half* dst [[buffer(4)]], constant ElementwiseParams& g [[buffer(5)]],
                              constant BlockParams& p [[buffer(6)]], uint gid [[thread_position_in_grid]]) {
  scatter_one(values, seg_offsets, starts, order, dst, g, p, gid);
}

kernel void index_scatter_i32(device const int* values [[buffer(0)]], device const long* seg_offsets [[buffer(1)]],
                              device const int* starts [[buffer(2)]], device const int* order [[buffer(3)]],
                              device int* dst [[buffer(4)]], constant ElementwiseParams& g [[buffer(5)]],
                              constant BlockParams& p [[buffer(6)]], uint gid [[thread_position_in_grid]]) {
  scatter_one(values, seg_offsets, starts, order, dst, g, p, gid);
}

kernel void index_scatter_i64(device const long* values [[buffer(0)]], device const long* seg_offsets [[buffer(1)]],
                              device const int* starts [[buffer(2)]], device const int* order [[buffer(3)]],
                              device long* dst [[buffer(4)]], constant ElementwiseParams& g [[buffer(5)]],
                              constant BlockParams& p [[buffer(6)]], uint gid [[thread_position_in_grid]]) {
  scatter_one(values, seg_offsets, starts, order, dst, g, p, gid);
}

kernel void index_scatter_b8(device const uchar* values [[buffer(0)]], device const long* seg_offsets [[buffer(1)]],
                             device const int* starts [[buffer(2)]], device const int* order [[buffer(3)]],
                             device uchar* dst [[buffer(4)]], constant ElementwiseParams& g [[buffer(5)]],
                             constant BlockParams& p [[buffer(6)]], uint gid [[thread_position_in_grid]]) {
  scatter_one(values, seg_offsets, starts, order, dst, g, p, gid);
}
