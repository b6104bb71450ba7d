// Column sums over the rows of f16 data, 8 adjacent columns per thread (16-byte loads): the bias gradients of
// linear layers. The pieces shared by the plain sum (reduce.cu) and the activation backward that sums its own
// result (elementwise.cu): how the rows are split, the block's merge of its row lanes and the splits' merge.
#pragma once

#include <algorithm>
#include <utility>

#include "common.cuh"

namespace tensorlogic::cuda {

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
// conflict-free shared layout), then each of the block's columns goes to partial[split][column] (a coalesced row
// of [splits, groups * 8]) or, without partial, divided by `divisor` to out.
template <int LANES>
__device__ __forceinline__ void store_column_sums(const float (&acc)[8], int64_t g0, int64_t groups, int64_t split,
                                                  float* partial, __half* out, float divisor) {
  __shared__ float lanes[LANES][8 * 32];  // [lane][j * 32 + x]: a warp's stores on 32 banks
#pragma unroll
  for (int j = 0; j < 8; ++j) lanes[threadIdx.y][j * 32 + threadIdx.x] = acc[j];
  __syncthreads();
  const int t = threadIdx.y * 32 + threadIdx.x, x = t >> 3, j = t & 7;  // thread t: the block's column t
  if (t >= 256 || g0 + x >= groups) return;
  float v = 0.0f;
#pragma unroll
  for (int l = 0; l < LANES; ++l) v += lanes[l][j * 32 + x];
  const int64_t column = (g0 + x) * 8 + j;
  if (partial) {
    partial[split * groups * 8 + column] = v;
  } else {
    out[column] = __float2half_rn(v / divisor);
  }
}

// out[c] = (the sum over splits of partial[split][c]) / divisor, rounded once, in a fixed order (reduce.cu).
void merge_column_partials(const float* partial, int64_t outputs, int64_t splits, __half* out, float divisor);

}  // namespace tensorlogic::cuda
