// Column sums over the rows of f16 data, 8 adjacent columns per thread (16-byte loads): the bias gradients of
// linear layers. The pieces shared by the plain sum (reduce.cu) and the activation backward that sums its own
// result (elementwise.cu): how the rows are split, the block's merge of its row lanes and the splits' merge.
#pragma once

#include <algorithm>
#include <utility>

#include "common.cuh"

namespace tensorlogic::cuda {

// The lanes (of a block's row lanes) that merge the splits' partial sums: merge_column_partials' 8.
constexpr int kMergeLanes = 8;

// {splits, rows per split} of `rows` for `col_blocks` blocks of 256 columns: about `blocks_per_sm` blocks per SM in
// all, each split at least 32 rows.
inline std::pair<int64_t, int64_t> column_splits(int64_t rows, int64_t col_blocks, int blocks_per_sm) {
  int64_t splits = std::max<int64_t>(1, std::min<int64_t>(int64_t{sm_count()} * blocks_per_sm / col_blocks, rows / 32));
  const int64_t seg = std::max<int64_t>(1, (rows + splits - 1) / splits);
  splits = rows == 0 ? 1 : (rows + seg - 1) / seg;
  return {splits, seg};
}

// Block (32, LANES) of split `split`: thread (x, y) holds in acc[j] its row lane's sum of column 8 (g0 + x) + j,
// where g0 is the block's first 8-column group of `groups` in all. The lanes' sums are added in lane order (a
// conflict-free shared layout), then each of the block's columns goes, without partial, divided by `divisor` to
// out, or else to partial[split][column] (a coalesced row of [splits, groups * 8]). With partial and `tickets`
// (column_tickets), the last of the `splits` blocks of this column block to finish adds the splits' partials and
// writes out, in merge_column_partials' order (the same bits), saving that kernel's launch: each block makes its
// partials visible (fence) before it takes a ticket, and the block that takes the last one resets the counter.
template <int LANES>
__device__ __forceinline__ void store_column_sums(const float (&acc)[8], int64_t g0, int64_t groups, int64_t split,
                                                  int64_t splits, float* partial, int* tickets, __half* out,
                                                  float divisor) {
  static_assert(LANES >= kMergeLanes, "the merge uses the first kMergeLanes row lanes");
  __shared__ float lanes[LANES][8 * 32];  // [lane][j * 32 + x]: a warp's stores on 32 banks
  __shared__ bool last;
#pragma unroll
  for (int j = 0; j < 8; ++j) lanes[threadIdx.y][j * 32 + threadIdx.x] = acc[j];
  __syncthreads();
  const int t = threadIdx.y * 32 + threadIdx.x, x = t >> 3, j = t & 7;  // thread t: the block's column t
  const bool mine = t < 256 && g0 + x < groups;
  const int64_t column = (g0 + x) * 8 + j, outputs = groups * 8;
  float v = 0.0f;
  if (mine) {
#pragma unroll
    for (int l = 0; l < LANES; ++l) v += lanes[l][j * 32 + x];
  }
  if (partial == nullptr) {
    if (mine) out[column] = __float2half_rn(v / divisor);
    return;
  }
  if (mine) partial[split * outputs + column] = v;
  if (tickets == nullptr) return;
  __threadfence();
  __syncthreads();
  if (t == 0) last = atomicAdd(&tickets[blockIdx.x], 1) == static_cast<int>(splits) - 1;
  __syncthreads();
  if (!last) return;
  // Thread (x, y < kMergeLanes) sums columns 8 (g0 + x) .. + 7 over splits y, y + kMergeLanes, ... (L2 reads: the
  // other blocks' partials were never in this SM's L1), then the lanes are added in order, as merge_column_partials.
  float own[8] = {};
  if (threadIdx.y < kMergeLanes && g0 + threadIdx.x < groups) {
    const float* p = partial + (g0 + threadIdx.x) * 8;
#pragma unroll 4
    for (int64_t s = threadIdx.y; s < splits; s += kMergeLanes) {
      const float4 a = __ldcg(reinterpret_cast<const float4*>(p + s * outputs));
      const float4 b = __ldcg(reinterpret_cast<const float4*>(p + s * outputs + 4));
      own[0] += a.x, own[1] += a.y, own[2] += a.z, own[3] += a.w;
      own[4] += b.x, own[5] += b.y, own[6] += b.z, own[7] += b.w;
    }
  }
  __syncthreads();  // every thread is done reading `lanes` above
  if (threadIdx.y < kMergeLanes) {
#pragma unroll
    for (int k = 0; k < 8; ++k) lanes[threadIdx.y][k * 32 + threadIdx.x] = own[k];
  }
  __syncthreads();
  if (mine) {
    float total = lanes[0][j * 32 + x];
#pragma unroll
    for (int l = 1; l < kMergeLanes; ++l) total += lanes[l][j * 32 + x];
    out[column] = __float2half_rn(total / divisor);
  }
  if (t == 0) tickets[blockIdx.x] = 0;
}

// The ticket counters of store_column_sums' merge for `col_blocks` column blocks on the selected device (zero
// between launches), or nullptr where the caller merges with merge_column_partials instead: more column blocks
// than the fixed array holds (fixed, so that a CUDA graph's captured address stays valid), or the array not yet
// made while a graph is captured (its allocation and zeroing may not run then).
int* column_tickets(int64_t col_blocks);

// out[c] = (the sum over splits of partial[split][c]) / divisor, rounded once, in a fixed order (reduce.cu).
void merge_column_partials(const float* partial, int64_t outputs, int64_t splits, __half* out, float divisor);

}  // namespace tensorlogic::cuda
