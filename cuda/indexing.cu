// Indexing kernels: blocks gathered from or scattered to element offsets computed by the core (or, for
// gather/scatter along an axis, on the device: no host read), and tri (triangular masks). Values move as raw
// 1-, 2-, 4- or 8-byte words, so one kernel serves every dtype.
#include <algorithm>
#include <memory>
#include <optional>

#include "common.cuh"
#include "cuda_backend.h"
#include "deferred_error.cuh"

namespace tensorlogic::cuda {
namespace {

#define TL_GRID_LOOP(i, n) \
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < (n); i += int64_t{gridDim.x} * blockDim.x)

// An element whose index was out of range (gather_device, scatter_device): it reads zero and writes nothing.
constexpr int64_t kSkipOffset = INT64_MIN;

// Element t of the n blocks: block t / block at offsets[..], position t % block inside the strided view;
// false for a skipped block.
__device__ __forceinline__ bool block_position(const Strided<1>& view, const int64_t* offsets, int64_t t,
                                               int64_t block, int64_t* p) {
  const int64_t base = offsets[t / block];
  if (base == kSkipOffset) return false;
  int64_t off[1];
  view.offsets(t % block, off);
  *p = base + off[0];
  return true;
}

template <typename T>
__global__ void gather_kernel(Strided<1> view, const int64_t* offsets, int64_t block, int64_t total, const T* src,
                              T* out) {
  TL_GRID_LOOP(t, total) {
    int64_t p;
    out[t] = block_position(view, offsets, t, block, &p) ? src[p] : T{0};
  }
}

__global__ void scatter_add_i32(Strided<1> view, const int64_t* offsets, int64_t block, int64_t total,
                                const int32_t* values, int32_t* dst) {
  TL_GRID_LOOP(t, total) {
    int64_t p;
    if (block_position(view, offsets, t, block, &p)) atomicAdd(dst + p, values[t]);  // wraps
  }
}

__global__ void scatter_add_i64(Strided<1> view, const int64_t* offsets, int64_t block, int64_t total,
                                const unsigned long long* values, unsigned long long* dst) {
  TL_GRID_LOOP(t, total) {
    int64_t p;
    if (block_position(view, offsets, t, block, &p)) atomicAdd(dst + p, values[t]);  // wraps
  }
}

// A bool sum is `or`: every writer of a true value stores the same 1, so the races are benign.
__global__ void scatter_or_b8(Strided<1> view, const int64_t* offsets, int64_t block, int64_t total,
                              const uint8_t* values, uint8_t* dst) {
  TL_GRID_LOOP(t, total) {
    int64_t p;
    if (values[t] && block_position(view, offsets, t, block, &p)) dst[p] = 1;
  }
}

// f16 accumulation: positions (relative to lo) sum in f32; each touched element is rounded once.
__global__ void scatter_add_f32(Strided<1> view, const int64_t* offsets, int64_t block, int64_t total, int64_t lo,
                                const __half* values, float* sums, uint8_t* touched) {
  TL_GRID_LOOP(t, total) {
    int64_t p;
    if (!block_position(view, offsets, t, block, &p)) continue;
    atomicAdd(sums + p - lo, __half2float(values[t]));
    touched[p - lo] = 1;
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
  TL_GRID_LOOP(t, total) {
    int64_t p;
    if (block_position(view, offsets, t, block, &p)) atomicMax(winner + p - lo, static_cast<int>(t / block));
  }
}

template <typename T>
__global__ void scatter_write(Strided<1> view, const int64_t* offsets, int64_t block, int64_t total, int64_t lo,
                              const int* winner, const T* values, T* dst) {
  TL_GRID_LOOP(t, total) {
    int64_t p;
    if (!block_position(view, offsets, t, block, &p)) continue;
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

// Offsets on the device (`count` blocks) and the span [lo, lo + span) of elements the blocks can touch.
struct DeviceOffsets {
  const int64_t* device;
  int64_t count, lo, span;
};

// The core's offsets copied to the device.
struct HostOffsets {
  Scratch device;
  DeviceOffsets off;
  HostOffsets(const std::vector<int64_t>& host, const Array& view) : device(sizeof(int64_t) * host.size()) {
    host_to_device(device.as<void>(), host.data(), sizeof(int64_t) * host.size());
    int64_t extent = 1;
    for (int d = 0; d < view.ndim(); ++d) extent += (view.shape()[d] - 1) * view.strides()[d];
    const auto [mn, mx] = std::minmax_element(host.begin(), host.end());
    off = {device.as<int64_t>(), static_cast<int64_t>(host.size()), *mn, *mx + extent - *mn};
  }
};

void gather_at(const Array& src, const DeviceOffsets& off, const Array& out) {
  const int64_t block = src.numel(), total = block * off.count;
  if (total == 0) return;
  const Strided<1> view = make_strided<1>(src.shape(), {&src.strides()});
  by_width(src, [&](auto w) {
    using T = decltype(w);
    gather_kernel<T><<<grid_stride_blocks(total), kThreads, 0, stream()>>>(view, off.device, block, total,
                                                                            src.data_as<T>(), out.data_as<T>());
  });
  check_launch("index_gather kernel");
}

void scatter_at(const Array& values, const DeviceOffsets& off, const Array& dst, bool accumulate) {
  const int64_t block = dst.numel(), total = block * off.count;
  if (total == 0) return;
  if (off.count > INT32_MAX) throw DeviceError("cuda: index_scatter supports at most 2^31 - 1 blocks");
  const Strided<1> view = make_strided<1>(dst.shape(), {&dst.strides()});
  const int64_t* o = off.device;
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
    if (off.count > 1) {
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

// Where element e of a contiguous index sends gather/scatter along `axis`: its coordinates in the index's
// shape with the axis' one replaced by the index, through the other array's strides.
struct AxisLayout {
  int ndim, axis;
  int64_t size[kMaxDims], stride[kMaxDims];
  int64_t axis_size;
};

template <typename I>
__global__ void axis_offsets_kernel(AxisLayout layout, const I* index, int64_t n, unsigned long long op,
                                    DeferredRecord* record, int64_t* out) {
  TL_GRID_LOOP(e, n) {
    int64_t rest = e, off = 0;
    for (int d = layout.ndim - 1; d >= 0; --d) {
      const int64_t c = rest % layout.size[d];
      rest /= layout.size[d];
      if (d != layout.axis) off += c * layout.stride[d];
    }
    const int64_t v = static_cast<int64_t>(index[e]);
    if (v < 0 || v >= layout.axis_size) {
      record_out_of_range(record, v, layout.axis_size, kNoIgnoredIndex, op, layout.axis);
      out[e] = kSkipOffset;
    } else {
      out[e] = off + v * layout.stride[layout.axis];
    }
  }
}

// The offsets of gather/scatter along an axis made on the device, or false where the index has more
// dimensions than a kernel layout holds.
bool axis_offsets(const Array& index, const Strides& strides, int axis, int64_t size, const char* op,
                  Scratch& out) {
  if (index.ndim() > kMaxDims || (index.dtype() != Dtype::int32 && index.dtype() != Dtype::int64)) return false;
  AxisLayout layout{};
  layout.ndim = index.ndim();
  layout.axis = axis;
  layout.axis_size = size;
  for (int d = 0; d < layout.ndim; ++d) {
    layout.size[d] = index.shape()[d];
    layout.stride[d] = strides[d];
  }
  DeferredRecord* record = deferred_record();
  const int64_t n = index.numel();
  const unsigned grid = grid_stride_blocks(n);
  if (index.dtype() == Dtype::int32) {
    axis_offsets_kernel<<<grid, kThreads, 0, stream()>>>(layout, index.data_as<int32_t>(), n, op_tag(op), record,
                                                         out.as<int64_t>());
  } else {
    axis_offsets_kernel<<<grid, kThreads, 0, stream()>>>(layout, index.data_as<int64_t>(), n, op_tag(op), record,
                                                         out.as<int64_t>());
  }
  check_launch("axis offsets kernel");
  arm_deferred_record();
  return true;
}

// Where block e of t[index] along one dimension lies: lead = e / m (m = the index's size) walks the dimensions
// before `dim` through their strides, and index[e % m] (wrapped where negative and `wrap`) the dimension itself.
struct TakeLayout {
  int ndim;  // lead dimensions
  int64_t size[kMaxDims], stride[kMaxDims];
  int64_t m, axis_size, axis_stride, dim;
  bool wrap;
};

template <typename I>
__global__ void take_offsets_kernel(TakeLayout layout, const I* index, int64_t total, unsigned long long op,
                                    DeferredRecord* record, int64_t* out) {
  TL_GRID_LOOP(e, total) {
    int64_t lead = e / layout.m, off = 0;
    for (int d = layout.ndim - 1; d >= 0; --d) {
      off += (lead % layout.size[d]) * layout.stride[d];
      lead /= layout.size[d];
    }
    const int64_t v = static_cast<int64_t>(index[e % layout.m]);
    if (v < (layout.wrap ? -layout.axis_size : 0) || v >= layout.axis_size) {
      record_out_of_range(record, v, layout.axis_size, kNoIgnoredIndex, op, layout.dim);
      out[e] = kSkipOffset;
    } else {
      out[e] = off + (v < 0 ? v + layout.axis_size : v) * layout.axis_stride;
    }
  }
}

// The blocks' offsets of t[index] along `dim` made on the device (`count` of them), with the view of one block
// (a's dimensions after `dim`, at a's offset); false where the lead dimensions exceed a kernel layout.
struct Taken {
  std::unique_ptr<Scratch> offsets;
  int64_t count = 0;
  std::optional<Array> block;
};

Taken take_offsets(const Array& a, int dim, const Array& index, bool wrap, const char* op) {
  Taken taken;
  // an empty `a` is left to the core's host path (its block would reach past a's storage, which no view may)
  if (dim > kMaxDims || (index.dtype() != Dtype::int32 && index.dtype() != Dtype::int64) || a.numel() == 0) {
    return taken;
  }
  TakeLayout layout{};
  layout.ndim = dim;
  int64_t lead = 1;
  for (int d = 0; d < dim; ++d) {
    layout.size[d] = a.shape()[d];
    layout.stride[d] = a.strides()[d];
    lead *= a.shape()[d];
  }
  layout.m = index.numel();
  layout.axis_size = a.shape()[dim];
  layout.axis_stride = a.strides()[dim];
  layout.dim = dim;
  layout.wrap = wrap;
  taken.count = lead * layout.m;
  taken.block = a.view_as(Shape(a.shape().begin() + dim + 1, a.shape().end()),
                          Strides(a.strides().begin() + dim + 1, a.strides().end()), a.offset());
  if (taken.count == 0) return taken;
  taken.offsets = std::make_unique<Scratch>(sizeof(int64_t) * taken.count);
  DeferredRecord* record = deferred_record();
  const unsigned grid = grid_stride_blocks(taken.count);
  int64_t* out = taken.offsets->as<int64_t>();
  if (index.dtype() == Dtype::int32) {
    take_offsets_kernel<<<grid, kThreads, 0, stream()>>>(layout, index.data_as<int32_t>(), taken.count, op_tag(op),
                                                         record, out);
  } else {
    take_offsets_kernel<<<grid, kThreads, 0, stream()>>>(layout, index.data_as<int64_t>(), taken.count, op_tag(op),
                                                         record, out);
  }
  check_launch("take offsets kernel");
  arm_deferred_record();
  return taken;
}

}  // namespace

void CudaBackend::index_gather(const Array& src, const std::vector<int64_t>& offsets, const Array& out) {
  if (offsets.empty() || src.numel() == 0) return;
  const HostOffsets off(offsets, src);
  gather_at(src, off.off, out);
}

void CudaBackend::index_scatter(const Array& values, const std::vector<int64_t>& offsets, const Array& dst,
                                bool accumulate) {
  if (offsets.empty() || dst.numel() == 0) return;
  const HostOffsets off(offsets, dst);
  scatter_at(values, off.off, dst, accumulate);
}

std::optional<Array> CudaBackend::gather_device(const Array& a, int axis, const Array& index, const char* op) {
  if (a.numel() == 0) return std::nullopt;  // the core's host path: no 0-d base view of an empty array
  const int64_t n = index.numel();
  Scratch offsets(sizeof(int64_t) * n);
  if (!axis_offsets(index, a.strides(), axis, a.shape()[axis], op, offsets)) return std::nullopt;
  Array out = Array::empty(index.shape(), a.dtype(), a.device());
  gather_at(a.view_as({}, {}, a.offset()), DeviceOffsets{offsets.as<int64_t>(), n, 0, 0}, out);
  return out;
}

bool CudaBackend::scatter_device(const Array& values, int axis, const Array& index, const Array& dst,
                                 bool accumulate, const char* op) {
  if (dst.numel() == 0) return false;  // the core's host path: no 0-d base view of an empty array
  const int64_t n = index.numel();
  Scratch offsets(sizeof(int64_t) * n);
  if (!axis_offsets(index, dst.strides(), axis, dst.shape()[axis], op, offsets)) return false;
  // dst is contiguous: its span from its first element covers every offset
  scatter_at(values, DeviceOffsets{offsets.as<int64_t>(), n, 0, dst.numel()}, dst.view_as({}, {}, dst.offset()),
             accumulate);
  return true;
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

std::optional<Array> CudaBackend::take_device(const Array& a, int dim, const Array& index, bool wrap, const char* op) {
  const Taken taken = take_offsets(a, dim, index, wrap, op);
  if (!taken.block) return std::nullopt;
  Shape shape(a.shape().begin(), a.shape().begin() + dim);
  shape.insert(shape.end(), index.shape().begin(), index.shape().end());
  shape.insert(shape.end(), a.shape().begin() + dim + 1, a.shape().end());
  Array out = Array::empty(shape, a.dtype(), a.device());
  if (taken.offsets) gather_at(*taken.block, DeviceOffsets{taken.offsets->as<int64_t>(), taken.count, 0, 0}, out);
  return out;
}

bool CudaBackend::put_device(const Array& a, int dim, const Array& index, const Array& values, bool accumulate,
                             const char* op) {
  const Taken taken = take_offsets(a, dim, index, true, op);
  if (!taken.block) return false;
  if (!taken.offsets) return true;
  // the elements of a, relative to its first one, that any block can reach (any strides)
  int64_t lo = 0, hi = 0;
  for (int d = 0; d < a.ndim(); ++d) {
    const int64_t reach = (a.shape()[d] - 1) * a.strides()[d];
    (reach < 0 ? lo : hi) += reach;
  }
  scatter_at(values, DeviceOffsets{taken.offsets->as<int64_t>(), taken.count, lo, hi - lo + 1}, *taken.block,
             accumulate);
  return true;
}

}  // namespace tensorlogic::cuda
