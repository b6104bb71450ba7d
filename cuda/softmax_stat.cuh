// The online softmax statistic shared by the softmax and cross-entropy kernels (forward and backward):
// a row's (max, sum of exp(x - max)) built from groups of W values (W = 8: one 16-byte load) and merged
// across a block.
#pragma once
#include <algorithm>
#include <cmath>

#include "common.cuh"

namespace tensorlogic::cuda {

// A partial softmax statistic (max, sum of exp(x - max)); two merge into one.
struct Stat {
  float m, s;
};

// Both maxima -inf: the sums are 0 unless a NaN was seen, which the sum of the two keeps.
__device__ __forceinline__ Stat merge(const Stat& l, const Stat& r) {
  const float m = fmaxf(l.m, r.m);
  if (m == -INFINITY) return {m, l.s + r.s};
  return {m, l.s * expf(l.m - m) + r.s * expf(r.m - m)};
}

// Merges every thread's Stat; all threads get the result.
__device__ __forceinline__ Stat block_stat(Stat v, Stat* scratch /* 33 */) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    v = merge(v, Stat{__shfl_xor_sync(0xffffffffu, v.m, o), __shfl_xor_sync(0xffffffffu, v.s, o)});
  }
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = (blockDim.x + 31) >> 5;
  __syncthreads();  // scratch may still be read from a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  if (warp == 0) {
    Stat w = lane < warps ? scratch[lane] : Stat{-INFINITY, 0.0f};
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
      w = merge(w, Stat{__shfl_xor_sync(0xffffffffu, w.m, o), __shfl_xor_sync(0xffffffffu, w.s, o)});
    }
    if (lane == 0) scratch[32] = w;
  }
  __syncthreads();
  return scratch[32];
}

// W f16 values from p as f32: one 16-byte load when W is 8 (p then 16-byte aligned). Streaming loads
// (kLast) mark the bytes as read for the last time.
template <int W, bool kLast = false>
__device__ __forceinline__ void load_group(const __half* p, float (&v)[W]) {
  static_assert(W == 1 || W == 8, "groups are one value or one 16-byte vector");
  if constexpr (W == 8) {
    Half8 h;
    const uint4* q = reinterpret_cast<const uint4*>(p);
    *reinterpret_cast<uint4*>(&h) = kLast ? __ldcs(q) : *q;
#pragma unroll
    for (int j = 0; j < 8; ++j) v[j] = __half2float(h.h[j]);
  } else {
    v[0] = __half2float(kLast ? __ldcs(p) : *p);
  }
}

// W values rounded to f16 and stored at p with a streaming store (not read again soon).
template <int W>
__device__ __forceinline__ void store_group(__half* p, const float (&v)[W]) {
  if constexpr (W == 8) {
    Half8 h;
#pragma unroll
    for (int j = 0; j < 8; ++j) h.h[j] = __float2half_rn(v[j]);
    __stcs(reinterpret_cast<uint4*>(p), *reinterpret_cast<const uint4*>(&h));
  } else {
    __stcs(p, __float2half_rn(v[0]));
  }
}

// Adds W values to a thread's statistic: one rescale of the running sum per group.
template <int W>
__device__ __forceinline__ void add_group(Stat& st, const float (&v)[W]) {
  float vm = v[0];
#pragma unroll
  for (int j = 1; j < W; ++j) vm = fmaxf(vm, v[j]);
  const float m = fmaxf(st.m, vm);
  if (m == -INFINITY) {  // only -inf (or NaN) so far: exp(x - m) is undefined, but a NaN must reach the sum
#pragma unroll
    for (int j = 0; j < W; ++j) {
      if (isnan(v[j])) st.s = NAN;
    }
    return;
  }
  float s = 0.0f;
#pragma unroll
  for (int j = 0; j < W; ++j) s += expf(v[j] - m);
  st.s = st.s * expf(st.m - m) + s;
  st.m = m;
}

// Threads for one block per row of n values read in groups of W: a warp at least, up to 1024 (two blocks
// of 1024 on an SM keep ~264 rows in flight, whose re-read by a second pass mostly hits L2).
inline int row_threads(int64_t n, int w) {
  const int64_t groups = (n + w - 1) / w;
  return static_cast<int>(std::min<int64_t>(1024, std::max<int64_t>(32, (groups + 31) / 32 * 32)));
}

}  // namespace tensorlogic::cuda
