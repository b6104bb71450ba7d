// The embedding's weight gradient on CUDA without reading the indices on the host (issue #18): each row of
// the output sums the gradient rows whose index names it, in f32, rounded once to f16.
//
// Deterministic, as PyTorch's is, by sorting: the (index, position) pairs go through a stable radix sort, so
// the entries of each output row lie together in position order. Fixed chunks of kChunk sorted entries are
// summed by one block each, in that order; a row whose entries span chunks then adds its chunks' partial
// sums in chunk order. Every run gives the same bits (f32 atomics would make each row's rounding depend on
// the order in which blocks ran), and no block's serial work exceeds kChunk rows or the row's chunk count,
// however often one index repeats. An index out of range is recorded for the deferred error
// (deferred_error.cuh) and sorted past the valid ones, where it adds nothing.
#include <cub/device/device_radix_sort.cuh>

#include "common.cuh"
#include "cuda_backend.h"
#include "deferred_error.cuh"

namespace tensorlogic::cuda {
namespace {

constexpr int kChunk = 32;        // sorted entries summed by one block
constexpr int kColumns = 128;     // threads of a block, one column each per pass
constexpr int kMaxColumnBlocks = 1024;

#define TL_COLUMN_LOOP(col, dim)                                                  \
  for (int64_t col = blockIdx.y * int64_t{blockDim.x} + threadIdx.x; col < (dim); \
       col += int64_t{gridDim.y} * blockDim.x)

// Sort keys (the index, or `rows` for one out of range: it sorts last) and the positions they come from.
template <typename I>
__global__ void sort_keys_kernel(const I* index, int64_t n, int64_t rows, unsigned long long op,
                                 DeferredRecord* record, int* keys, int* positions) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t v = static_cast<int64_t>(index[i]);
    const bool valid = v >= 0 && v < rows;
    if (!valid) record_out_of_range(record, v, rows, kNoIgnoredIndex, op);
    keys[i] = static_cast<int>(valid ? v : rows);
    positions[i] = static_cast<int>(i);
  }
}

// Chunk c = blockIdx.x sums its entries run by run (a run: equal keys). A run wholly inside the chunk is
// written to out; the part of a run that began in an earlier chunk goes to head[c], and a run that begins here
// and goes on into the next chunk to tail[c] (combine_kernel adds those up).
__global__ void chunk_kernel(const int* keys, const int* positions, int64_t n, int rows, const __half* grad,
                             int64_t dim, float* head, float* tail, __half* out) {
  const int64_t c = blockIdx.x, begin = c * kChunk, end = min(begin + kChunk, n);
  TL_COLUMN_LOOP(col, dim) {
    float acc = 0.0f;
    bool fresh = begin == 0 || keys[begin - 1] != keys[begin];  // the current run began in this chunk
    for (int64_t i = begin; i < end; ++i) {
      const int key = keys[i];
      acc += __half2float(grad[positions[i] * dim + col]);
      const bool run_ends = i + 1 == n || keys[i + 1] != key;
      if (!run_ends && i + 1 < end) continue;
      if (key < rows) {
        if (fresh && run_ends) {
          out[key * dim + col] = __float2half_rn(acc);
        } else if (!fresh) {
          head[c * dim + col] = acc;
        } else {
          tail[c * dim + col] = acc;
        }
      }
      acc = 0.0f;
      fresh = true;
    }
  }
}

// Runs that begin in chunk c = blockIdx.x and go on past it: tail[c] plus head[j] of the following chunks
// the run reaches, in chunk order.
__global__ void combine_kernel(const int* keys, int64_t n, int rows, int64_t dim, const float* head,
                               const float* tail, __half* out) {
  const int64_t c = blockIdx.x, begin = c * kChunk, end = min(begin + kChunk, n);
  const int key = keys[end - 1];
  const bool began_before = begin > 0 && keys[begin - 1] == key;  // (sorted: the whole chunk is that run)
  if (key >= rows || end == n || keys[end] != key || began_before) return;
  TL_COLUMN_LOOP(col, dim) {
    float acc = tail[c * dim + col];
    for (int64_t j = c + 1;; ++j) {
      acc += head[j * dim + col];
      const int64_t j_end = min((j + 1) * kChunk, n);
      if (j_end == n || keys[j_end] != key) break;
    }
    out[key * dim + col] = __float2half_rn(acc);
  }
}

int bits_for(int64_t value) {  // bits of the largest key (sorting only those saves radix passes)
  int bits = 1;
  while (bits < 31 && (int64_t{1} << bits) <= value) ++bits;
  return bits;
}

}  // namespace

std::optional<Array> CudaBackend::embedding_backward(const Array& grad, const Array& index, int64_t num_weights) {
  const int64_t n = index.numel(), dim = grad.shape()[1];
  // int keys and positions, rows as the key past the valid ones: larger tables go through the core's path
  if (n > INT32_MAX || num_weights >= INT32_MAX) return std::nullopt;
  if (index.dtype() != Dtype::int32 && index.dtype() != Dtype::int64) return std::nullopt;
  Array out = Array::empty({num_weights, dim}, Dtype::float16, grad.device());
  if (out.numel() > 0) {
    check(cudaMemsetAsync(out.data(), 0, out.nbytes(), stream()), "cudaMemsetAsync");  // f16 zeros are zero bits
  }
  if (n == 0) return out;
  DeferredRecord* record = deferred_record();
  const int rows = static_cast<int>(num_weights);
  Scratch keys(sizeof(int) * n), sorted_keys(sizeof(int) * n), positions(sizeof(int) * n),
      sorted_positions(sizeof(int) * n);
  const unsigned grid = grid_stride_blocks(n);
  if (index.dtype() == Dtype::int32) {
    sort_keys_kernel<<<grid, kThreads, 0, stream()>>>(index.data_as<int32_t>(), n, num_weights,
                                                      op_tag("embedding_backward"), record, keys.as<int>(),
                                                      positions.as<int>());
  } else {
    sort_keys_kernel<<<grid, kThreads, 0, stream()>>>(index.data_as<int64_t>(), n, num_weights,
                                                      op_tag("embedding_backward"), record, keys.as<int>(),
                                                      positions.as<int>());
  }
  check_launch("embedding backward key kernel");
  arm_deferred_record();
  if (dim == 0) return out;
  const int end_bit = bits_for(num_weights);
  size_t bytes = 0;
  check(cub::DeviceRadixSort::SortPairs(nullptr, bytes, keys.as<int>(), sorted_keys.as<int>(), positions.as<int>(),
                                        sorted_positions.as<int>(), static_cast<int>(n), 0, end_bit, stream()),
        "cub radix sort (size query)");
  Scratch temp(bytes > 0 ? bytes : 1);
  check(cub::DeviceRadixSort::SortPairs(temp.as<void>(), bytes, keys.as<int>(), sorted_keys.as<int>(),
                                        positions.as<int>(), sorted_positions.as<int>(), static_cast<int>(n), 0,
                                        end_bit, stream()),
        "cub radix sort");
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  Scratch head(sizeof(float) * chunks * dim), tail(sizeof(float) * chunks * dim);  // written before they are read
  const dim3 blocks(static_cast<unsigned>(chunks),
                    static_cast<unsigned>(std::min<int64_t>((dim + kColumns - 1) / kColumns, kMaxColumnBlocks)));
  chunk_kernel<<<blocks, kColumns, 0, stream()>>>(sorted_keys.as<int>(), sorted_positions.as<int>(), n, rows,
                                                  grad.data_as<__half>(), dim, head.as<float>(), tail.as<float>(),
                                                  out.data_as<__half>());
  check_launch("embedding backward chunk kernel");
  if (chunks > 1) {
    combine_kernel<<<blocks, kColumns, 0, stream()>>>(sorted_keys.as<int>(), n, rows, dim, head.as<float>(),
                                                      tail.as<float>(), out.data_as<__half>());
    check_launch("embedding backward combine kernel");
  }
  return out;
}

}  // namespace tensorlogic::cuda
