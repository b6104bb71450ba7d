// The ordering families on CUDA: argsort through CUB's segmented radix sort (stable, so equal keys keep
// their order in either direction; +NaN sorts above +inf as in PyTorch), and inclusive scans with one
// thread per row (f16 accumulated in f32, int64 wrapping), matching the CPU's sequential order exactly.
#include <cub/device/device_scan.cuh>
#include <cub/device/device_segmented_radix_sort.cuh>
#include <cub/device/device_select.cuh>
#include <thrust/iterator/counting_iterator.h>

#include "common.cuh"
#include "cuda_backend.h"

namespace tensorlogic::cuda {
namespace {

__global__ void row_positions(int64_t total, int64_t n, int64_t* out) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x) {
    out[i] = i % n;
  }
}

__global__ void row_offsets(int64_t rows, int64_t n, int64_t* out) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i <= rows; i += int64_t{gridDim.x} * blockDim.x) {
    out[i] = i * n;
  }
}

template <typename T>
void sort_pairs(const Array& in, int64_t rows, int64_t n, bool descending, const Array& out) {
  const int64_t total = rows * n;
  if (total > INT32_MAX) throw DeviceError("cuda: argsort supports at most 2^31 - 1 elements per call");
  Scratch positions(sizeof(int64_t) * total), keys_out(sizeof(T) * total), offsets(sizeof(int64_t) * (rows + 1));
  row_positions<<<grid_stride_blocks(total), kThreads, 0, stream()>>>(total, n, positions.as<int64_t>());
  row_offsets<<<grid_stride_blocks(rows + 1), kThreads, 0, stream()>>>(rows, n, offsets.as<int64_t>());
  check_launch("argsort setup kernel");
  const T* keys = in.data_as<T>();
  const int64_t* begin = offsets.as<int64_t>();
  auto run = [&](void* temp, size_t& bytes) {
    const int items = static_cast<int>(total), segments = static_cast<int>(rows);
    if (descending) {
      return cub::DeviceSegmentedRadixSort::SortPairsDescending(temp, bytes, keys, keys_out.as<T>(),
                                                                positions.as<int64_t>(), out.data_as<int64_t>(),
                                                                items, segments, begin, begin + 1, 0,
                                                                static_cast<int>(8 * sizeof(T)), stream());
    }
    return cub::DeviceSegmentedRadixSort::SortPairs(temp, bytes, keys, keys_out.as<T>(), positions.as<int64_t>(),
                                                    out.data_as<int64_t>(), items, segments, begin, begin + 1, 0,
                                                    static_cast<int>(8 * sizeof(T)), stream());
  };
  size_t bytes = 0;
  check(run(nullptr, bytes), "cub segmented sort (size query)");
  Scratch temp(bytes > 0 ? bytes : 1);
  check(run(temp.as<void>(), bytes), "cub segmented sort");
}

template <typename T, typename Acc>
__global__ void scan_kernel(bool sum, const T* in, T* out, int64_t rows, int64_t n) {
  for (int64_t r = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; r < rows; r += int64_t{gridDim.x} * blockDim.x) {
    Acc acc = sum ? Acc(0) : Acc(1);
    for (int64_t j = 0; j < n; ++j) {
      if constexpr (std::is_same_v<T, __half>) {
        const float v = __half2float(in[r * n + j]);
        acc = sum ? acc + v : acc * v;
        out[r * n + j] = __float2half_rn(acc);
      } else {
        const unsigned long long v = static_cast<unsigned long long>(in[r * n + j]);
        acc = sum ? acc + v : acc * v;
        out[r * n + j] = static_cast<T>(acc);
      }
    }
  }
}

__global__ void search_kernel(const int64_t* keys, int64_t m, const int64_t* probe, int64_t n, bool right,
                              int64_t* out) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t v = probe[i];
    int64_t lo = 0, hi = m;
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo) / 2;
      if (right ? keys[mid] <= v : keys[mid] < v) lo = mid + 1; else hi = mid;
    }
    out[i] = lo;
  }
}

// Rows of `width` words of T, moved word by word (T is the widest word dividing a row's bytes).
template <typename T>
__global__ void take_kernel(const T* src, const int64_t* index, int64_t n, int64_t width, T* out) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n * width; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t r = i / width, c = i - r * width;
    out[i] = src[index[r] * width + c];
  }
}

template <typename T>
void take_words(const Array& src, const Array& index, const Array& out, int64_t row_bytes) {
  const int64_t n = index.numel(), width = row_bytes / static_cast<int64_t>(sizeof(T));
  take_kernel<T><<<grid_stride_blocks(n * width), kThreads, 0, stream()>>>(
      static_cast<const T*>(src.data()), index.data_as<int64_t>(), n, width, static_cast<T*>(out.data()));
  check_launch("take_rows kernel");
}

// A single long int64 line scans in parallel (CUB); wrapping addition is associative, so the result is the
// sequential one exactly.
void scan_line(const Array& in, int64_t n, const Array& out) {
  if (n > INT32_MAX) throw DeviceError("cuda: cumsum supports at most 2^31 - 1 elements per line");
  const auto* src = in.data_as<unsigned long long>();
  auto* dst = out.data_as<unsigned long long>();
  size_t bytes = 0;
  check(cub::DeviceScan::InclusiveSum(nullptr, bytes, src, dst, static_cast<int>(n), stream()), "cub scan (size query)");
  Scratch temp(bytes > 0 ? bytes : 1);
  check(cub::DeviceScan::InclusiveSum(temp.as<void>(), bytes, src, dst, static_cast<int>(n), stream()), "cub scan");
}

}  // namespace

void CudaBackend::argsort(const Array& in, int64_t rows, int64_t n, bool descending, const Array& out) {
  visit_sort_key<__half>(in.dtype(), [&](auto key) { sort_pairs<decltype(key)>(in, rows, n, descending, out); });
}

void CudaBackend::scan(ScanOp op, const Array& in, int64_t rows, int64_t n, const Array& out) {
  const bool sum = op == ScanOp::cumsum;
  const unsigned grid = grid_stride_blocks(rows, 64);
  if (in.dtype() == Dtype::float16) {
    scan_kernel<__half, float><<<grid, 64, 0, stream()>>>(sum, in.data_as<__half>(), out.data_as<__half>(), rows, n);
  } else if (sum && rows == 1) {
    scan_line(in, n, out);
    return;
  } else {
    scan_kernel<int64_t, unsigned long long><<<grid, 64, 0, stream()>>>(sum, in.data_as<int64_t>(), out.data_as<int64_t>(),
                                                                        rows, n);
  }
  check_launch("scan kernel");
}

void CudaBackend::searchsorted(const Array& sorted, const Array& probe, bool right, const Array& out) {
  const int64_t n = probe.numel();
  search_kernel<<<grid_stride_blocks(n), kThreads, 0, stream()>>>(sorted.data_as<int64_t>(), sorted.numel(),
                                                                  probe.data_as<int64_t>(), n, right,
                                                                  out.data_as<int64_t>());
  check_launch("searchsorted kernel");
}

void CudaBackend::take_rows(const Array& src, const Array& index, const Array& out) {
  const int64_t row_bytes = src.numel() / src.shape()[0] * static_cast<int64_t>(src.itemsize());
  // The widest word that divides a row and both addresses (a view of bool or f16 data may start anywhere).
  const auto fit = static_cast<uint64_t>(row_bytes) | reinterpret_cast<uintptr_t>(src.data()) |
                   reinterpret_cast<uintptr_t>(out.data());
  if (fit % 8 == 0) return take_words<uint64_t>(src, index, out, row_bytes);
  if (fit % 4 == 0) return take_words<uint32_t>(src, index, out, row_bytes);
  if (fit % 2 == 0) return take_words<uint16_t>(src, index, out, row_bytes);
  take_words<uint8_t>(src, index, out, row_bytes);
}

int64_t CudaBackend::flatnonzero(const Array& mask, const Array& out) {
  const int64_t n = mask.numel();
  if (n > INT32_MAX) throw DeviceError("cuda: flatnonzero supports at most 2^31 - 1 elements per call");
  const thrust::counting_iterator<int64_t> positions(0);
  const auto* flags = mask.data_as<uint8_t>();
  Scratch count(sizeof(int64_t));
  size_t bytes = 0;
  check(cub::DeviceSelect::Flagged(nullptr, bytes, positions, flags, out.data_as<int64_t>(), count.as<int64_t>(),
                                   static_cast<int>(n), stream()),
        "cub select (size query)");
  Scratch temp(bytes > 0 ? bytes : 1);
  check(cub::DeviceSelect::Flagged(temp.as<void>(), bytes, positions, flags, out.data_as<int64_t>(),
                                   count.as<int64_t>(), static_cast<int>(n), stream()),
        "cub select");
  int64_t selected = 0;
  device_to_host(&selected, count.as<int64_t>(), sizeof(int64_t));
  raise_deferred_errors();  // the host has waited: the mask may derive from data a check kernel rejected
  return selected;
}

}  // namespace tensorlogic::cuda
