// The elementwise map kernels shared by every elementwise family: a 16-byte vectorised path for
// contiguous aligned f16 operands and a strided path for everything else (int32 too).
#pragma once
#include "common.cuh"

namespace tensorlogic::cuda {

template <int K, typename In>
struct Inputs {
  const In* p[K > 0 ? K : 1];
};

template <typename T>
__device__ __forceinline__ auto load_value(const T* p) {
  if constexpr (std::is_same_v<T, __half>) {
    return __half2float(*p);
  } else {
    return *p;
  }
}

template <typename Out, typename V>
__device__ __forceinline__ Out store_value(V v) {
  if constexpr (std::is_same_v<Out, __half>) {
    return __float2half_rn(static_cast<float>(v));
  } else {
    return static_cast<Out>(v);
  }
}

template <int K, typename F, typename V>
__device__ __forceinline__ auto call(const F& f, const V (&v)[K > 0 ? K : 1]) {
  if constexpr (K == 0) return f();
  if constexpr (K == 1) return f(v[0]);
  if constexpr (K == 2) return f(v[0], v[1]);
  if constexpr (K == 3) return f(v[0], v[1], v[2]);
}

constexpr int kVec = 8;  // f16 values per 16-byte access

// Each thread maps kVec * kUnroll consecutive elements; the tail is done element by element.
constexpr int kUnroll = 2;

template <int K, typename F>
__global__ void map_vec(int64_t n, Inputs<K, __half> in, __half* out, F f) {
  const int64_t first = (blockIdx.x * int64_t{blockDim.x} + threadIdx.x) * (kVec * kUnroll);
  if (first >= n) return;
  if (first + kVec * kUnroll <= n) {
    Half8 v[kUnroll][K > 0 ? K : 1];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
#pragma unroll
      for (int k = 0; k < K; ++k) v[u][k] = *reinterpret_cast<const Half8*>(in.p[k] + first + u * kVec);
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      Half8 r;
#pragma unroll
      for (int j = 0; j < kVec; ++j) {
        float x[K > 0 ? K : 1];
#pragma unroll
        for (int k = 0; k < K; ++k) x[k] = __half2float(v[u][k].h[j]);
        r.h[j] = __float2half_rn(call<K>(f, x));
      }
      *reinterpret_cast<Half8*>(out + first + u * kVec) = r;
    }
    return;
  }
  for (int64_t i = first; i < n; ++i) {
    float x[K > 0 ? K : 1];
#pragma unroll
    for (int k = 0; k < K; ++k) x[k] = __half2float(in.p[k][i]);
    out[i] = __float2half_rn(call<K>(f, x));
  }
}

// Index: uint32_t where n allows (Strided::offsets divides in 32 bits), else int64_t.
template <int K, typename In, typename Out, typename Index, typename F>
__global__ void map_strided(Strided<K + 1> layout, Index n, Inputs<K, In> in, Out* out, F f) {
  for (Index i = blockIdx.x * Index{blockDim.x} + threadIdx.x; i < n; i += Index{gridDim.x} * blockDim.x) {
    int64_t off[K + 1];
    layout.offsets(i, off);
    decltype(load_value(in.p[0])) x[K > 0 ? K : 1];
#pragma unroll
    for (int k = 0; k < K; ++k) x[k] = load_value(in.p[k] + off[k]);
    out[off[K]] = store_value<Out>(call<K>(f, x));
  }
}

// out = f(inputs...) over out's shape; inputs are views of out's shape (broadcast already applied).
template <typename In, typename Out, int K, typename F>
void launch_map(const std::array<const Array*, K>& inputs, const Array& out, const F& f) {
  std::array<const Strides*, K + 1> strides;
  Inputs<K, In> ptrs;
  bool aligned = aligned16(out.data());
  for (int k = 0; k < K; ++k) {
    strides[k] = &inputs[k]->strides();
    ptrs.p[k] = static_cast<const In*>(inputs[k]->data());
    aligned = aligned && aligned16(ptrs.p[k]);
  }
  strides[K] = &out.strides();
  bool contiguous = false;
  const Strided<K + 1> layout = make_strided<K + 1>(out.shape(), strides, &contiguous);
  const int64_t n = out.numel();
  if constexpr (std::is_same_v<In, __half> && std::is_same_v<Out, __half>) {
    if (contiguous && aligned) {
      map_vec<K><<<blocks_for((n + kVec * kUnroll - 1) / (kVec * kUnroll)), kThreads, 0, stream()>>>(
          n, ptrs, static_cast<__half*>(out.data()), f);
      check_launch("elementwise kernel");
      return;
    }
  }
  Out* dst = static_cast<Out*>(out.data());
  if (n <= INT32_MAX) {  // grid * block stays below 2^31 too, so the loop's increment cannot wrap
    map_strided<K, In, Out><<<grid_stride_blocks(n), kThreads, 0, stream()>>>(layout, static_cast<uint32_t>(n), ptrs,
                                                                               dst, f);
  } else {
    map_strided<K, In, Out><<<grid_stride_blocks(n), kThreads, 0, stream()>>>(layout, n, ptrs, dst, f);
  }
  check_launch("elementwise kernel");
}

}  // namespace tensorlogic::cuda
