// Indexing kernels: gather, scatter_add, index_select and tri (triangular masks). Values are moved
// as raw 2- or 4-byte words, so one kernel serves f16 and int32.
#include "common.cuh"
#include "cuda_backend.h"

namespace tensorlogic::cuda {
namespace {

#define TL_GRID_LOOP(i, n) \
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < (n); i += int64_t{gridDim.x} * blockDim.x)

__device__ __forceinline__ int64_t wrap(int32_t idx, int64_t n) { return idx < 0 ? idx + n : idx; }

template <typename T>
__global__ void gather_kernel(const T* in, const int32_t* index, int64_t n_in, int64_t n_idx, int64_t inner,
                              int64_t total, T* out) {
  TL_GRID_LOOP(t, total) {
    const int64_t k = t % inner, o = t / (n_idx * inner);
    out[t] = in[(o * n_in + wrap(index[t], n_in)) * inner + k];
  }
}

template <typename T>
__global__ void index_select_kernel(const T* in, const int32_t* index, int64_t n_in, int64_t n_idx, int64_t inner,
                                    int64_t total, T* out) {
  TL_GRID_LOOP(t, total) {
    const int64_t k = t % inner, j = (t / inner) % n_idx, o = t / (n_idx * inner);
    out[t] = in[(o * n_in + wrap(index[j], n_in)) * inner + k];
  }
}

// Where element t of src lands in out [outer, n_out, inner].
__device__ __forceinline__ int64_t scatter_target(const int32_t* index, int64_t t, int64_t n_idx, int64_t n_out,
                                                  int64_t inner) {
  const int64_t k = t % inner, o = t / (n_idx * inner);
  return (o * n_out + wrap(index[t], n_out)) * inner + k;
}

__global__ void scatter_add_i32(const int32_t* index, const int32_t* src, int64_t n_idx, int64_t n_out, int64_t inner,
                                int64_t total, int32_t* out) {
  TL_GRID_LOOP(t, total) atomicAdd(out + scatter_target(index, t, n_idx, n_out, inner), src[t]);
}

__global__ void scatter_add_f32(const int32_t* index, const __half* src, int64_t n_idx, int64_t n_out, int64_t inner,
                                int64_t total, float* acc) {
  TL_GRID_LOOP(t, total) atomicAdd(acc + scatter_target(index, t, n_idx, n_out, inner), __half2float(src[t]));
}

__global__ void widen(const __half* in, int64_t n, float* out) {
  TL_GRID_LOOP(i, n) out[i] = __half2float(in[i]);
}
__global__ void narrow(const float* in, int64_t n, __half* out) {
  TL_GRID_LOOP(i, n) out[i] = __float2half_rn(in[i]);
}

template <typename T>
__global__ void tri_kernel(Strided<2> layout, int64_t total, int64_t rows, int64_t cols, int64_t k, bool upper,
                           const T* in, T* out) {
  TL_GRID_LOOP(t, total) {
    int64_t off[2];
    layout.offsets(t, off);
    const int64_t c = t % cols, r = (t / cols) % rows;
    const bool keep = upper ? (c - r) >= k : (c - r) <= k;
    out[off[1]] = keep ? in[off[0]] : T{0};
  }
}

template <typename F>
void by_width(const Array& a, F&& f) {
  if (a.itemsize() == 2) {
    f(uint16_t{});
  } else {
    f(int32_t{});
  }
}

}  // namespace

void CudaBackend::gather(const Array& in, const Array& index, int64_t outer, int64_t n_in, int64_t inner,
                         const Array& out) {
  const int64_t total = out.numel();
  const int64_t n_idx = total / (outer * inner);
  by_width(in, [&](auto w) {
    using T = decltype(w);
    gather_kernel<T><<<grid_stride_blocks(total), kThreads, 0, stream()>>>(
        in.data_as<T>(), index.data_as<int32_t>(), n_in, n_idx, inner, total, out.data_as<T>());
  });
  check_launch("gather kernel");
}

void CudaBackend::index_select(const Array& in, const Array& index, int64_t outer, int64_t n_in, int64_t inner,
                               const Array& out) {
  const int64_t total = out.numel();
  const int64_t n_idx = index.numel();
  by_width(in, [&](auto w) {
    using T = decltype(w);
    index_select_kernel<T><<<grid_stride_blocks(total), kThreads, 0, stream()>>>(
        in.data_as<T>(), index.data_as<int32_t>(), n_in, n_idx, inner, total, out.data_as<T>());
  });
  check_launch("index_select kernel");
}

void CudaBackend::scatter_add(const Array& index, const Array& src, int64_t outer, int64_t n_out, int64_t inner,
                              const Array& out) {
  const int64_t total = src.numel();
  const int64_t n_idx = total / (outer * inner);
  if (total == 0) return;
  if (out.dtype() == Dtype::int32) {
    scatter_add_i32<<<grid_stride_blocks(total), kThreads, 0, stream()>>>(
        index.data_as<int32_t>(), src.data_as<int32_t>(), n_idx, n_out, inner, total, out.data_as<int32_t>());
    check_launch("scatter_add kernel");
    return;
  }
  // f16: accumulate in f32 and round each output once.
  const int64_t n = out.numel();
  Scratch acc(sizeof(float) * static_cast<size_t>(n));
  widen<<<grid_stride_blocks(n), kThreads, 0, stream()>>>(out.data_as<__half>(), n, acc.as<float>());
  scatter_add_f32<<<grid_stride_blocks(total), kThreads, 0, stream()>>>(
      index.data_as<int32_t>(), src.data_as<__half>(), n_idx, n_out, inner, total, acc.as<float>());
  narrow<<<grid_stride_blocks(n), kThreads, 0, stream()>>>(acc.as<float>(), n, out.data_as<__half>());
  check_launch("scatter_add kernel");
}

void CudaBackend::tri(const Array& in, int64_t k, bool upper, const Array& out) {
  const int nd = out.ndim();
  const int64_t rows = out.shape()[nd - 2], cols = out.shape()[nd - 1], total = out.numel();
  const Strided<2> layout = make_strided<2>(out.shape(), {&in.strides(), &out.strides()});
  by_width(in, [&](auto w) {
    using T = decltype(w);
    tri_kernel<T><<<grid_stride_blocks(total), kThreads, 0, stream()>>>(layout, total, rows, cols, k, upper,
                                                                         in.data_as<T>(), out.data_as<T>());
  });
  check_launch("tri kernel");
}

void CudaBackend::random(RandomKind, uint64_t, uint64_t, double, double, const Array&) {
  throw DeviceError("cuda: random is not implemented yet (it waits for the shared Philox stream, cpp/core/philox.h)");
}

}  // namespace tensorlogic::cuda
