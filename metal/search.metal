// The sorted-array kernels of the language's tuple engine: searchsorted of int64 probes in int64 keys
// sorted ascending (numpy's and PyTorch's positions, left or right of equal keys), and take_rows, whole
// rows gathered by int64 indices read on the device (the core checked their range), moved in the widest
// word that divides a row and both addresses.
#include <metal_stdlib>
using namespace metal;
#include "params.h"
#include "common.h"

kernel void searchsorted_i64(device const long* keys [[buffer(0)]], device const long* probe [[buffer(1)]],
                             device long* out [[buffer(2)]], constant SearchParams& p [[buffer(3)]],
                             uint gid [[thread_position_in_grid]]) {
  if (long(gid) >= p.n) return;
  const long v = probe[gid];
  long lo = 0, hi = p.m;
  while (lo < hi) {
    const long mid = lo + (hi - lo) / 2;
    if (p.right ? keys[mid] <= v : keys[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  out[gid] = lo;
}

// out[i] = src[index[i / width] * width + i % width] over n rows of `width` words, one thread per word.
template <typename T>
inline void take_word(device const T* src, device const long* index, device T* out, constant SearchParams& p,
                      uint gid) {
  if (long(gid) >= p.n * p.width) return;
  const long r = long(gid) / p.width, c = long(gid) % p.width;
  out[gid] = src[index[r] * p.width + c];
}

kernel void take_rows_u8(device const uchar* src [[buffer(0)]], device const long* index [[buffer(1)]],
                         device uchar* out [[buffer(2)]], constant SearchParams& p [[buffer(3)]],
                         uint gid [[thread_position_in_grid]]) {
  take_word(src, index, out, p, gid);
}

kernel void take_rows_u16(device const ushort* src [[buffer(0)]], device const long* index [[buffer(1)]],
                          device ushort* out [[buffer(2)]], constant SearchParams& p [[buffer(3)]],
                          uint gid [[thread_position_in_grid]]) {
  take_word(src, index, out, p, gid);
}

kernel void take_rows_u32(device const uint* src [[buffer(0)]], device const long* index [[buffer(1)]],
                          device uint* out [[buffer(2)]], constant SearchParams& p [[buffer(3)]],
                          uint gid [[thread_position_in_grid]]) {
  take_word(src, index, out, p, gid);
}

kernel void take_rows_u64(device const ulong* src [[buffer(0)]], device const long* index [[buffer(1)]],
                          device ulong* out [[buffer(2)]], constant SearchParams& p [[buffer(3)]],
                          uint gid [[thread_position_in_grid]]) {
  take_word(src, index, out, p, gid);
}
