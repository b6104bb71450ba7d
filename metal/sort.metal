// argsort of contiguous [rows, n] lines, stable in either direction, as the CPU backend's stable_sort:
// f16 keys with NaN largest (and -0 equal to +0), int32 and int64 keys. Each value becomes an unsigned
// 64-bit key whose ascending order is the wanted order (complemented when descending), so one merge
// sort serves every dtype. Pass 1 (argsort_block_*) sorts blocks of up to 1024 keys of a line in
// threadgroup memory; each later pass (argsort_merge) merges neighbouring sorted runs of `width` keys.
// Merging ranks every element at once: its place in the merged run is its place in its own run plus
// the number of keys of the other run that precede it (a binary search), with ties sent left, which
// keeps the sort stable without comparing indices.
#include <metal_stdlib>
using namespace metal;
#include "params.h"
#include "common.h"

#define SORT_MAX_BLOCK 1024  // 4 keys per thread of at most 256 threads (the host sizes blocks)

// The unsigned key of each value, ascending in the CPU backend's order.
inline ulong value_key(half v) {
  ushort b = as_type<ushort>(v);
  if ((b & 0x7fff) > 0x7c00) return 0xffff;  // every NaN, above +inf (0x7c00 maps to 0xfc00)
  if (b == 0x8000) b = 0;                      // -0 ties with +0, as float comparison has it
  return (b & 0x8000) ? ulong(ushort(~b)) : ulong(b | 0x8000);
}
inline ulong value_key(int v) { return ulong(uint(v) ^ 0x80000000u); }
inline ulong value_key(long v) { return ulong(v) ^ 0x8000000000000000ul; }

// Where element i (key `key`) of a sorted run of width w lands when runs 2r and 2r + 1 of keys[0, len)
// merge: left-run elements pass the other run's smaller keys, right-run elements its smaller or equal
// ones (ties keep the left run first: stable). A run without a partner stays where it is.
template <typename P>
inline long merged_position(P keys, long i, ulong key, long w, long len) {
  const long start = i / w * w;
  const bool left = (i / w) % 2 == 0;
  const long other = left ? start + w : start - w;
  long lo = other, hi = left ? min_long(start + 2 * w, len) : start;
  while (lo < hi) {
    const long mid = lo + (hi - lo) / 2;
    if (left ? keys[mid] < key : keys[mid] <= key) lo = mid + 1;
    else hi = mid;
  }
  return (left ? start : other) + (i - start) + (lo - other);
}

// Sorts the keys of one block of one line (threadgroup (block, row)) and writes them with their
// positions in the line. `keys` and `where` are threadgroup [2][SORT_MAX_BLOCK] ping-pong buffers.
template <typename T, typename K, typename W>
inline void sort_block(device const T* in, device ulong* keys_out, device long* index_out, constant SortParams& p,
                       uint2 group, uint lid, uint threads, K keys, W where) {
  const long first = long(group.x) * p.block, row = group.y;
  const long len = min_long(p.block, p.n - first);
  device const T* line = in + row * p.n + first;
  for (long i = lid; i < len; i += threads) {
    const ulong key = value_key(line[i]);
    keys[0][i] = p.descending ? ~key : key;
    where[0][i] = ushort(i);
  }
  threadgroup_barrier(mem_flags::mem_threadgroup);
  int from = 0;
  for (long w = 1; w < len; w *= 2) {
    for (long i = lid; i < len; i += threads) {
      const long at = merged_position(keys[from], i, keys[from][i], w, len);
      keys[1 - from][at] = keys[from][i];
      where[1 - from][at] = where[from][i];
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);
    from = 1 - from;
  }
  for (long i = lid; i < len; i += threads) {
    keys_out[row * p.n + first + i] = keys[from][i];
    index_out[row * p.n + first + i] = first + long(where[from][i]);
  }
}

kernel void argsort_block_f16(device const half* in [[buffer(0)]], device ulong* keys_out [[buffer(1)]],
                              device long* index_out [[buffer(2)]], constant SortParams& p [[buffer(3)]],
                              uint2 group [[threadgroup_position_in_grid]], uint lid [[thread_index_in_threadgroup]],
                              uint2 threads [[threads_per_threadgroup]]) {
  threadgroup ulong keys[2][SORT_MAX_BLOCK];
  threadgroup ushort where[2][SORT_MAX_BLOCK];
  sort_block(in, keys_out, index_out, p, group, lid, threads.x, keys, where);
}

kernel void argsort_block_i32(device const int* in [[buffer(0)]], device ulong* keys_out [[buffer(1)]],
                              device long* index_out [[buffer(2)]], constant SortParams& p [[buffer(3)]],
                              uint2 group [[threadgroup_position_in_grid]], uint lid [[thread_index_in_threadgroup]],
                              uint2 threads [[threads_per_threadgroup]]) {
  threadgroup ulong keys[2][SORT_MAX_BLOCK];
  threadgroup ushort where[2][SORT_MAX_BLOCK];
  sort_block(in, keys_out, index_out, p, group, lid, threads.x, keys, where);
}

kernel void argsort_block_i64(device const long* in [[buffer(0)]], device ulong* keys_out [[buffer(1)]],
                              device long* index_out [[buffer(2)]], constant SortParams& p [[buffer(3)]],
                              uint2 group [[threadgroup_position_in_grid]], uint lid [[thread_index_in_threadgroup]],
                              uint2 threads [[threads_per_threadgroup]]) {
  threadgroup ulong keys[2][SORT_MAX_BLOCK];
  threadgroup ushort where[2][SORT_MAX_BLOCK];
  sort_block(in, keys_out, index_out, p, group, lid, threads.x, keys, where);
}

// One merge pass over every line: runs of p.width sorted keys (with their line positions) merge pairwise
// from one buffer pair into the other; one thread per element.
kernel void argsort_merge(device const ulong* keys_in [[buffer(0)]], device const long* index_in [[buffer(1)]],
                          device ulong* keys_out [[buffer(2)]], device long* index_out [[buffer(3)]],
                          constant SortParams& p [[buffer(4)]], uint gid [[thread_position_in_grid]]) {
  if (long(gid) >= p.rows * p.n) return;
  const long row = long(gid) / p.n, i = long(gid) % p.n;
  const ulong key = keys_in[gid];
  const long at = row * p.n + merged_position(keys_in + row * p.n, i, key, p.width, p.n);
  keys_out[at] = key;
  index_out[at] = index_in[gid];
}
