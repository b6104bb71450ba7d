// The ordering families on CUDA: argsort through CUB's segmented radix sort (stable, so equal keys keep
// their order in either direction; +NaN sorts above +inf as in PyTorch), and inclusive scans with one
// thread per row (f16 accumulated in f32, int64 wrapping), matching the CPU's sequential order exactly.
#include <cub/device/device_segmented_radix_sort.cuh>

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

}  // namespace

void CudaBackend::argsort(const Array& in, int64_t rows, int64_t n, bool descending, const Array& out) {
  visit_sort_key<__half>(in.dtype(), [&](auto key) { sort_pairs<decltype(key)>(in, rows, n, descending, out); });
}

void CudaBackend::scan(ScanOp op, const Array& in, int64_t rows, int64_t n, const Array& out) {
  const bool sum = op == ScanOp::cumsum;
  const unsigned grid = grid_stride_blocks(rows, 64);
  if (in.dtype() == Dtype::float16) {
    scan_kernel<__half, float><<<grid, 64, 0, stream()>>>(sum, in.data_as<__half>(), out.data_as<__half>(), rows, n);
  } else {
    scan_kernel<int64_t, unsigned long long><<<grid, 64, 0, stream()>>>(sum, in.data_as<int64_t>(), out.data_as<int64_t>(),
                                                                        rows, n);
  }
  check_launch("scan kernel");
}

}  // namespace tensorlogic::cuda
