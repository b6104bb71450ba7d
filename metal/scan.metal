// Inclusive scans (cumsum, cumprod) of contiguous [rows, n] lines and flatnonzero of a bool mask.
//
// f16 lines, and int64 lines of at most one block, scan with one thread per line: f16 accumulates in f32
// in index order with each output rounded once, exactly the CPU backend's sequence (a parallel order
// would round differently). Long int64 lines scan in blocks, since wrapping sums and products (mod 2^64)
// are associative: pass 1 (scan_block_totals) reduces each block, pass 2 (scan_carries, one threadgroup
// per line) turns the block totals into each block's exclusive prefix, pass 3 (scan_blocks) scans inside
// each block from its prefix. flatnonzero is the same three passes over the mask's 0/1 counts
// (nonzero_block_counts, scan_carries, nonzero_write), pass 3 writing each true position at its rank.
//
// A block is `block` elements, block / threads contiguous ones per thread, so each thread's run and
// the threads' order keep the line's order.
#include <metal_stdlib>
using namespace metal;
#include "params.h"
#include "common.h"

#define SCAN_MAX_THREADS 256

inline ulong combine(bool product, ulong a, ulong b) { return product ? a * b : a + b; }

kernel void scan_rows_f16(device const half* in [[buffer(0)]], device half* out [[buffer(1)]],
                          constant ScanParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  if (long(gid) >= p.rows) return;
  const long base = long(gid) * p.n;
  float acc = p.product ? 1.0f : 0.0f;
  for (long j = 0; j < p.n; ++j) {
    acc = p.product ? acc * float(in[base + j]) : acc + float(in[base + j]);
    out[base + j] = half(acc);
  }
}

kernel void scan_rows_i64(device const long* in [[buffer(0)]], device long* out [[buffer(1)]],
                          constant ScanParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  if (long(gid) >= p.rows) return;
  const long base = long(gid) * p.n;
  ulong acc = p.product ? 1 : 0;
  for (long j = 0; j < p.n; ++j) {
    acc = combine(p.product, acc, ulong(in[base + j]));
    out[base + j] = long(acc);
  }
}

// The exclusive scan of one value per thread across the threadgroup (Hillis-Steele over `shared`, a
// threadgroup ulong[SCAN_MAX_THREADS]); every thread calls it.
template <typename S>
inline ulong group_exclusive(bool product, ulong v, S shared, uint lid, uint threads) {
  shared[lid] = v;
  threadgroup_barrier(mem_flags::mem_threadgroup);
  for (uint offset = 1; offset < threads; offset *= 2) {
    const ulong x = lid >= offset ? combine(product, shared[lid - offset], shared[lid]) : shared[lid];
    threadgroup_barrier(mem_flags::mem_threadgroup);
    shared[lid] = x;
    threadgroup_barrier(mem_flags::mem_threadgroup);
  }
  const ulong before = lid > 0 ? shared[lid - 1] : (product ? 1 : 0);
  threadgroup_barrier(mem_flags::mem_threadgroup);  // the next call rewrites `shared`
  return before;
}

// The elements [begin, end) of this thread in block group.x of line group.y.
struct Run {
  long begin, end;
};
inline Run thread_run(constant ScanParams& p, uint2 group, uint lid, uint threads) {
  const long per_thread = p.block / long(threads);
  const long first = long(group.y) * p.n + long(group.x) * p.block;
  const long block_end = long(group.y) * p.n + min_long(long(group.x + 1) * p.block, p.n);
  Run r;
  r.begin = min_long(first + long(lid) * per_thread, block_end);
  r.end = min_long(r.begin + per_thread, block_end);
  return r;
}

// Pass 1: totals[row * blocks + block] = the block's sum or product.
kernel void scan_block_totals(device const long* in [[buffer(0)]], device ulong* totals [[buffer(1)]],
                              constant ScanParams& p [[buffer(2)]], uint2 group [[threadgroup_position_in_grid]],
                              uint lid [[thread_index_in_threadgroup]], uint2 threads [[threads_per_threadgroup]]) {
  threadgroup ulong shared[SCAN_MAX_THREADS];
  const Run r = thread_run(p, group, lid, threads.x);
  ulong acc = p.product ? 1 : 0;
  for (long j = r.begin; j < r.end; ++j) acc = combine(p.product, acc, ulong(in[j]));
  const ulong before = group_exclusive(p.product, acc, shared, lid, threads.x);
  if (lid == threads.x - 1) totals[long(group.y) * p.blocks + group.x] = combine(p.product, before, acc);
}

// Pass 2, one threadgroup per line: totals of the line's blocks become exclusive prefixes, in chunks of
// one value per thread carried forward; line_totals[row] = the whole line's total.
kernel void scan_carries(device ulong* totals [[buffer(0)]], device ulong* line_totals [[buffer(1)]],
                         constant ScanParams& p [[buffer(2)]], uint2 group [[threadgroup_position_in_grid]],
                         uint lid [[thread_index_in_threadgroup]], uint2 threads [[threads_per_threadgroup]]) {
  threadgroup ulong shared[SCAN_MAX_THREADS];
  threadgroup ulong carry[1];
  device ulong* line = totals + long(group.y) * p.blocks;
  if (lid == 0) carry[0] = p.product ? 1 : 0;
  for (long chunk = 0; chunk < p.blocks; chunk += threads.x) {
    const long i = chunk + lid;
    const ulong v = i < p.blocks ? line[i] : (p.product ? 1 : 0);
    const ulong before = group_exclusive(p.product, v, shared, lid, threads.x);  // its barriers publish carry
    const ulong start = carry[0];
    if (i < p.blocks) line[i] = combine(p.product, start, before);
    threadgroup_barrier(mem_flags::mem_threadgroup);  // every thread has read carry
    if (lid == threads.x - 1) carry[0] = combine(p.product, start, combine(p.product, before, v));
    threadgroup_barrier(mem_flags::mem_threadgroup);
  }
  if (lid == 0) line_totals[group.y] = carry[0];
}

// Pass 3: each block scans from its prefix.
kernel void scan_blocks(device const long* in [[buffer(0)]], device const ulong* prefixes [[buffer(1)]],
                        device long* out [[buffer(2)]], constant ScanParams& p [[buffer(3)]],
                        uint2 group [[threadgroup_position_in_grid]], uint lid [[thread_index_in_threadgroup]],
                        uint2 threads [[threads_per_threadgroup]]) {
  threadgroup ulong shared[SCAN_MAX_THREADS];
  const Run r = thread_run(p, group, lid, threads.x);
  ulong acc = p.product ? 1 : 0;
  for (long j = r.begin; j < r.end; ++j) acc = combine(p.product, acc, ulong(in[j]));
  const ulong before = group_exclusive(p.product, acc, shared, lid, threads.x);
  acc = combine(p.product, prefixes[long(group.y) * p.blocks + group.x], before);
  for (long j = r.begin; j < r.end; ++j) {
    acc = combine(p.product, acc, ulong(in[j]));
    out[j] = long(acc);
  }
}

// flatnonzero pass 1: counts[block] = the number of true flags in the block (one line).
kernel void nonzero_block_counts(device const uchar* mask [[buffer(0)]], device ulong* counts [[buffer(1)]],
                                 constant ScanParams& p [[buffer(2)]], uint2 group [[threadgroup_position_in_grid]],
                                 uint lid [[thread_index_in_threadgroup]], uint2 threads [[threads_per_threadgroup]]) {
  threadgroup ulong shared[SCAN_MAX_THREADS];
  const Run r = thread_run(p, group, lid, threads.x);
  ulong count = 0;
  for (long j = r.begin; j < r.end; ++j) count += mask[j] != 0 ? 1 : 0;
  const ulong before = group_exclusive(false, count, shared, lid, threads.x);
  if (lid == threads.x - 1) counts[group.x] = before + count;
}

// flatnonzero pass 3: the k-th true flag of the mask (counting from 0) writes its position to out[k].
kernel void nonzero_write(device const uchar* mask [[buffer(0)]], device const ulong* prefixes [[buffer(1)]],
                          device long* out [[buffer(2)]], constant ScanParams& p [[buffer(3)]],
                          uint2 group [[threadgroup_position_in_grid]], uint lid [[thread_index_in_threadgroup]],
                          uint2 threads [[threads_per_threadgroup]]) {
  threadgroup ulong shared[SCAN_MAX_THREADS];
  const Run r = thread_run(p, group, lid, threads.x);
  ulong count = 0;
  for (long j = r.begin; j < r.end; ++j) count += mask[j] != 0 ? 1 : 0;
  ulong k = prefixes[group.x] + group_exclusive(false, count, shared, lid, threads.x);
  for (long j = r.begin; j < r.end; ++j) {
    if (mask[j] != 0) out[k++] = j;
  }
}
