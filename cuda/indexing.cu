// Indexing kernels: blocks gathered from or scattered to element offsets computed by the core, and tri
// (triangular masks). Values move as raw 1-, 2-, 4- or 8-byte words, so one kernel serves every dtype.
#include <algorithm>
#include <memory>

#include "common.cuh"
#include "cuda_backend.h"

namespace tensorlogic::cuda {
namespace {

#define TL_GRID_LOOP(i, n) \
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < (n); i += int64_t{gridDim.x} * blockDim.x)

// Element t of the n blocks: block t / block at offsets[..], position t % block inside the strided view.
__device__ __forceinline__ int64_t block_position(const Strided<1>& view, const int64_t* offsets, int64_t t,
                                                  int64_t block) {
  int64_t off[1];
  view.offsets(t % block, off);
  return offsets[t / block] + off[0];
}

template <typename T>
__global__ void gather_kernel(Strided<1> view, const int64_t* offsets, int64_t block, int64_t total, const T* src,
                              T* out) {
  TL_GRID_LOOP(t, total) out[t] = src[block_position(view, offsets, t, block)];
}

__global__ void scatter_add_i32(Strided<1> view, const int64_t* offsets, int64_t block, int64_t total,
                                const int32_t* values, int32_t* dst) {
  TL_GRID_LOOP(t, total) atomicAdd(dst + block_position(view, offsets, t, block), values[t]);  // wraps
}

__global__ void scatter_add_i64(Strided<1> view, const int64_t* offsets, int64_t block, int64_t total,
                                const unsigned long long* values, unsigned long long* dst) {
  TL_GRID_LOOP(t, total) atomicAdd(dst + block_position(view, offsets, t, block), values[t]);  // wraps
}

// A bool sum is `or`: every writer of a true value stores the same 1, so the races are benign.
__global__ void scatter_or_b8(Strided<1> view, const int64_t* offsets, int64_t block, int64_t total,
                              const uint8_t* values, uint8_t* dst) {
  TL_GRID_LOOP(t, total) {
    if (values[t]) dst[block_position(view, offsets, t, block)] = 1;
  }
}

// f16 accumulation: positions (relative to lo) sum in f32; each touched element is rounded once.
__global__ void scatter_add_f32(Strided<1> view, const int64_t* offsets, int64_t block, int64_t total, int64_t lo,
                                const __half* values, float* sums, uint8_t* touched) {
  TL_GRID_LOOP(t, total) {
    const int64_t p = block_position(view, offsets, t, block) - lo;
    atomicAdd(sums + p, __half2float(values[t]));
    touched[p] = 1;
  }
}

__global__ void scatter_add_finish(int64_t span, const float* sums, const uint8_t* touched, __half* dst) {
  TL_GRID_LOOP(p, span) {
    if (touched[p]) dst[p] = __float2half_rn(__half2float(dst[p]) + sums[p]);
  }
}

// Plain scatter: where offsets repeat, the largest block index wins (like sequential writes).
__global__ void scatter_claim(Strided<1> view, const int64_t* offsets, int64_t block, int64_t total, int64_t lo,
                              int* winner) {
  TL_GRID_LOOP(t, total) atomicMax(winner + block_position(view, offsets, t, block) - lo, static_cast<int>(t / block));
}

template <typename T>
__global__ void scatter_write(Strided<1> view, const int64_t* offsets, int64_t block, int64_t total, int64_t lo,
                              const int* winner, const T* values, T* dst) {
  TL_GRID_LOOP(t, total) {
    const int64_t p = block_position(view, offsets, t, block);
    if (winner == nullptr || winner[p - lo] == static_cast<int>(t / block)) dst[p] = values[t];
  }
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
  switch (a.itemsize()) {
    case 1: return f(uint8_t{});
    case 2: return f(uint16_t{});
    case 4: return f(int32_t{});
    default: return f(static_cast<unsigned long long>(0));
  }
}

}  // namespace

namespace {

// The offsets on the device, and the span [lo, lo + span) of elements the blocks can touch.
struct Offsets {
  Scratch device;
  int64_t lo = 0, span = 0;
  Offsets(const std::vector<int64_t>& host, const Array& view) : device(sizeof(int64_t) * host.size()) {
    host_to_device(device.as<void>(), host.data(), sizeof(int64_t) * host.size());
    int64_t extent = 1;
    for (int d = 0; d < view.ndim(); ++d) extent += (view.shape()[d] - 1) * view.strides()[d];
    const auto [mn, mx] = std::minmax_element(host.begin(), host.end());
    lo = *mn;
    span = *mx + extent - lo;
  }
};

}  // namespace

void CudaBackend::index_gather(const Array& src, const std::vector<int64_t>& offsets, const Array& out) {
  const int64_t block = src.numel(), total = block * static_cast<int64_t>(offsets.size());
  if (total == 0) return;
  const Offsets off(offsets, src);
  const Strided<1> view = make_strided<1>(src.shape(), {&src.strides()});
  by_width(src, [&](auto w) {
    using T = decltype(w);
    gather_kernel<T><<<grid_stride_blocks(total), kThreads, 0, stream()>>>(view, off.device.as<int64_t>(), block, total,
                                                                            src.data_as<T>(), out.data_as<T>());
  });
  check_launch("index_gather kernel");
}

void CudaBackend::index_scatter(const Array& values, const std::vector<int64_t>& offsets, const Array& dst,
                                bool accumulate) {
  const int64_t block = dst.numel(), total = block * static_cast<int64_t>(offsets.size());
  if (total == 0) return;
  if (offsets.size() > static_cast<size_t>(INT32_MAX)) {
    throw DeviceError("cuda: index_scatter supports at most 2^31 - 1 blocks");
  }
  const Offsets off(offsets, dst);
  const Strided<1> view = make_strided<1>(dst.shape(), {&dst.strides()});
  const int64_t* o = off.device.as<int64_t>();
  const unsigned grid = grid_stride_blocks(total);
  if (accumulate && dst.dtype() == Dtype::int32) {
    scatter_add_i32<<<grid, kThreads, 0, stream()>>>(view, o, block, total, values.data_as<int32_t>(),
                                                     dst.data_as<int32_t>());
  } else if (accumulate && dst.dtype() == Dtype::int64) {
    scatter_add_i64<<<grid, kThreads, 0, stream()>>>(view, o, block, total, values.data_as<unsigned long long>(),
                                                     dst.data_as<unsigned long long>());
  } else if (accumulate && dst.dtype() == Dtype::bool_) {
    scatter_or_b8<<<grid, kThreads, 0, stream()>>>(view, o, block, total, values.data_as<uint8_t>(),
                                                   dst.data_as<uint8_t>());
  } else if (accumulate) {
    Scratch sums(sizeof(float) * off.span), touched(off.span);
    check(cudaMemsetAsync(sums.as<void>(), 0, sizeof(float) * off.span, stream()), "cudaMemsetAsync");
    check(cudaMemsetAsync(touched.as<void>(), 0, off.span, stream()), "cudaMemsetAsync");
    scatter_add_f32<<<grid, kThreads, 0, stream()>>>(view, o, block, total, off.lo, values.data_as<__half>(),
                                                     sums.as<float>(), touched.as<uint8_t>());
    scatter_add_finish<<<grid_stride_blocks(off.span), kThreads, 0, stream()>>>(
        off.span, sums.as<float>(), touched.as<uint8_t>(), dst.data_as<__half>() + off.lo);
  } else {
    std::unique_ptr<Scratch> winner;
    if (offsets.size() > 1) {
      winner = std::make_unique<Scratch>(sizeof(int) * off.span);
      check(cudaMemsetAsync(winner->as<void>(), 0xff, sizeof(int) * off.span, stream()), "cudaMemsetAsync");
      scatter_claim<<<grid, kThreads, 0, stream()>>>(view, o, block, total, off.lo, winner->as<int>());
    }
    const int* w = winner ? winner->as<int>() : nullptr;
    by_width(dst, [&](auto width) {
      using T = decltype(width);
      scatter_write<T><<<grid, kThreads, 0, stream()>>>(view, o, block, total, off.lo, w, values.data_as<T>(),
                                                        dst.data_as<T>());
    });
  }
  check_launch("index_scatter kernel");
}

namespace {

// Rows of an embedding by indices read on the device; a row out of range is zeros (its error is raised by
// the deferred check at the next read).
template <typename I>
__global__ void embedding_kernel(const __half* weight, const I* index, int64_t n, int64_t rows, int64_t dim,
                                 __half* out) {
  TL_GRID_LOOP(t, n * dim) {
    const int64_t r = t / dim, row = static_cast<int64_t>(index[r]);
    out[t] = row >= 0 && row < rows ? weight[row * dim + (t - r * dim)] : __float2half(0.0f);
  }
}

}  // namespace

std::optional<Array> CudaBackend::embedding_rows(const Array& weight, const Array& index_in) {
  if (index_in.dtype() != Dtype::int32 && index_in.dtype() != Dtype::int64) return std::nullopt;
  const int64_t n = index_in.numel(), rows = weight.shape()[0], dim = weight.shape()[1];
  Shape shape = index_in.shape();
  shape.push_back(dim);
  Array out = Array::empty(shape, Dtype::float16, weight.device());
  if (out.numel() == 0) return out;
  const Array index = contiguous(index_in);
  check_class_targets(index, rows, kNoIgnoredIndex, "embedding");
  const unsigned grid = grid_stride_blocks(n * dim);
  if (index.dtype() == Dtype::int32) {
    embedding_kernel<<<grid, kThreads, 0, stream()>>>(weight.data_as<__half>(), index.data_as<int32_t>(), n, rows, dim,
                                                      out.data_as<__half>());
  } else {
    embedding_kernel<<<grid, kThreads, 0, stream()>>>(weight.data_as<__half>(), index.data_as<int64_t>(), n, rows, dim,
                                                      out.data_as<__half>());
  }
  check_launch("embedding kernel");
  return out;
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

}  // namespace tensorlogic::cuda
