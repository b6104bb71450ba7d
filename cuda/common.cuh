// Shared pieces of the CUDA kernels: error checks, the backend's stream, launch sizes, f16 vectors and
// strided operand layouts small enough to pass by value to a kernel.
#pragma once
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <array>
#include <cstdint>
#include <string>

#include "../cpp/core/backend.h"
#include "../cpp/core/strided.h"
#include "runtime.h"
#include "tensorlogic/errors.h"

namespace tensorlogic::cuda {

constexpr int kThreads = 256;
constexpr int kMaxDims = 8;

inline unsigned blocks_for(int64_t n, int threads = kThreads) {
  return static_cast<unsigned>((n + threads - 1) / threads);
}
// Enough blocks to fill the chip for grid-stride loops.
inline unsigned grid_stride_blocks(int64_t n, int threads = kThreads) {
  const int64_t need = (n + threads - 1) / threads;
  const int64_t cap = static_cast<int64_t>(sm_count()) * 16;
  return static_cast<unsigned>(need < cap ? (need > 0 ? need : 1) : cap);
}

__host__ __device__ inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

// N strided operands walked in one logical order (the output's), with mergeable dims merged.
template <int N>
struct Strided {
  int ndim = 0;
  int64_t size[kMaxDims];
  int64_t stride[N][kMaxDims];

  // Index is int64_t, or uint32_t where the caller knows every linear index fits (32-bit division is
  // several times cheaper than the 64-bit one the compiler emulates).
  template <typename Index>
  __device__ __forceinline__ void offsets(Index linear, int64_t (&off)[N]) const {
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      const Index s = static_cast<Index>(size[d]);
      const int64_t i = static_cast<int64_t>(linear % s);
      linear /= s;
#pragma unroll
      for (int k = 0; k < N; ++k) off[k] += i * stride[k][d];
    }
  }
};

// Host side: coalesces `shape` over the operands' strides (Layout does the merging).
template <int N>
Strided<N> make_strided(const Shape& shape, const std::array<const Strides*, N>& strides, bool* contiguous = nullptr) {
  const Layout<N> layout(shape, strides);
  if (layout.shape.size() > kMaxDims) {
    throw DeviceError("cuda: views with more than " + std::to_string(kMaxDims) +
                      " non-mergeable dimensions are not supported (shape " + shape_str(shape) + ")");
  }
  Strided<N> s;
  s.ndim = static_cast<int>(layout.shape.size());
  for (int d = 0; d < s.ndim; ++d) {
    s.size[d] = layout.shape[d];
    for (int k = 0; k < N; ++k) s.stride[k][d] = layout.strides[k][d];
  }
  if (contiguous) {
    bool all = true;
    for (int k = 0; k < N; ++k) all = all && layout.contiguous(k);
    *contiguous = all;
  }
  return s;
}

// Eight f16 values moved as one 16-byte access.
struct alignas(16) Half8 {
  __half h[8];
};

__device__ __forceinline__ float ld(const __half* p) { return __half2float(*p); }
__device__ __forceinline__ float to_f32(__half v) { return __half2float(v); }
__device__ __forceinline__ __half to_f16(float v) { return __float2half_rn(v); }

// Calls fn(T{}) with the device element type of `dtype` (__half, int32_t, int64_t, bool).
template <typename F>
void visit_device_dtype(Dtype dtype, F&& fn) {
  visit_dtype(dtype, [&](auto tag) {
    if constexpr (std::is_same_v<decltype(tag), half>) {
      fn(__half{});
    } else {
      fn(tag);
    }
  });
}

// Block-wide reduction of one float through shared memory; every thread gets the result.
template <typename Op>
__device__ __forceinline__ float warp_reduce(float v, Op op) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

template <typename Op>
__device__ __forceinline__ float block_reduce(float v, Op op, float identity, float* scratch /* >= 33 floats */) {
  v = warp_reduce(v, op);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = (blockDim.x + 31) >> 5;
  __syncthreads();  // scratch may still be read from a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  if (warp == 0) {
    float w = lane < warps ? scratch[lane] : identity;
    w = warp_reduce(w, op);
    if (lane == 0) scratch[32] = w;
  }
  __syncthreads();
  return scratch[32];
}

struct SumOp {
  __device__ __forceinline__ float operator()(float a, float b) const { return a + b; }
};
struct MaxOp {
  __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

}  // namespace tensorlogic::cuda
