// Gradients of the fused row kernels (cpp/cpu/rows_backward.cpp is the reference): softmax cross-entropy
// with one block per row; layer_norm / rms_norm with one block per row for dx, then a pass over columns
// for dweight and dbias. All in f32, each output rounded once.
#include <algorithm>
#include <cmath>

#include "common.cuh"
#include "cuda_backend.h"
#include "softmax_stat.cuh"

namespace tensorlogic::cuda {
namespace {

constexpr int64_t kMaxGrid = 0x7fffffff;

// (softmax(x) - (1 - s) onehot(t) - s / n) * g for one row, in groups of W (as cross_entropy_rows): one
// pass for the online (max, sum of exp), then the write pass, whose re-read of the row mostly hits L2.
// A NaN logit makes the sum NaN and so the whole row, as on the CPU; a target outside [0, n) matches no class.
template <int W>
__global__ void __launch_bounds__(1024)
    cross_entropy_backward_rows(const __half* logits, const int32_t* target, const __half* grad, int64_t n,
                                int64_t ignore_index, float smoothing, __half* out) {
  __shared__ Stat scratch[33];
  const int64_t r = blockIdx.x;
  const __half* x = logits + r * n;
  __half* y = out + r * n;
  const int32_t t = target[r];
  const int64_t step = int64_t{blockDim.x} * W;
  if (t == ignore_index) {  // the same branch for the whole block
    const float zero[W] = {};
    for (int64_t k = threadIdx.x * int64_t{W}; k < n; k += step) store_group<W>(y + k, zero);
    return;
  }
  Stat st{-INFINITY, 0.0f};
  for (int64_t k = threadIdx.x * int64_t{W}; k < n; k += step) {
    float v[W];
    load_group<W>(x + k, v);
    add_group<W>(st, v);
  }
  st = block_stat(st, scratch);
  const float g = __half2float(grad[r]);
  const float scale = g / st.s, spread = smoothing / static_cast<float>(n) * g, hit = (1.0f - smoothing) * g;
  for (int64_t k = threadIdx.x * int64_t{W}; k < n; k += step) {
    float v[W];
    load_group<W, true>(x + k, v);
#pragma unroll
    for (int j = 0; j < W; ++j) {
      v[j] = expf(v[j] - st.m) * scale - spread;
      if (k + j == t) v[j] -= hit;
    }
    store_group<W>(y + k, v);
  }
}

// dx for one row: mean, then the squared deviations and the two gradient sums in one pass, then the write
// dx = (gw - xhat mean(gw xhat) - mean(gw)) rstd, gw = grad * weight (rms_norm: no centring, no mean(gw)).
// The row's mean and rstd go to `stats` for the column pass.
__global__ void norm_backward_rows(const __half* x, const __half* grad, const __half* weight, int64_t n, float eps,
                                   bool rms, __half* dx, float2* stats) {
  __shared__ float scratch[33];
  const int64_t r = blockIdx.x;
  const __half* xr = x + r * n;
  const __half* gr = grad + r * n;
  const float count = static_cast<float>(n);
  float mean = 0.0f;
  if (!rms) {
    float s = 0.0f;
    for (int64_t k = threadIdx.x; k < n; k += blockDim.x) s += __half2float(xr[k]);
    mean = block_reduce(s, SumOp{}, 0.0f, scratch) / count;
  }
  float sq = 0.0f, dot = 0.0f, gsum = 0.0f;
  for (int64_t k = threadIdx.x; k < n; k += blockDim.x) {
    const float xc = __half2float(xr[k]) - mean;
    const float gw = __half2float(gr[k]) * (weight ? __half2float(weight[k]) : 1.0f);
    sq += xc * xc;
    dot += gw * xc;
    gsum += gw;
  }
  sq = block_reduce(sq, SumOp{}, 0.0f, scratch);
  dot = block_reduce(dot, SumOp{}, 0.0f, scratch);
  gsum = rms ? 0.0f : block_reduce(gsum, SumOp{}, 0.0f, scratch);
  const float rstd = rsqrtf(sq / count + eps);
  const float dot_mean = dot * rstd / count, gw_mean = gsum / count;
  for (int64_t k = threadIdx.x; k < n; k += blockDim.x) {
    const float xhat = (__half2float(xr[k]) - mean) * rstd;
    const float gw = __half2float(gr[k]) * (weight ? __half2float(weight[k]) : 1.0f);
    dx[r * n + k] = __float2half_rn((gw - xhat * dot_mean - gw_mean) * rstd);
  }
  if (threadIdx.x == 0) stats[r] = make_float2(mean, rstd);
}

constexpr int kColumns = 32, kRowLanes = 8;

// Partial column sums of grad * xhat and grad over one chunk of rows: block (32 columns, 8 row lanes), so
// each row's 32 columns are one coalesced read; partial[chunk] holds [n] sums of each.
__global__ void norm_backward_columns(const __half* x, const __half* grad, const float2* stats, int64_t rows,
                                      int64_t n, int64_t rows_per_chunk, float* partial) {
  __shared__ float sw[kRowLanes][kColumns + 1], sb[kRowLanes][kColumns + 1];
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kColumns + threadIdx.x;
  const int64_t r0 = static_cast<int64_t>(blockIdx.y) * rows_per_chunk;
  const int64_t r1 = r0 + rows_per_chunk < rows ? r0 + rows_per_chunk : rows;
  float aw = 0.0f, ab = 0.0f;
  if (c < n) {
    for (int64_t r = r0 + threadIdx.y; r < r1; r += kRowLanes) {
      const float2 st = stats[r];
      const float g = __half2float(grad[r * n + c]);
      aw += g * (__half2float(x[r * n + c]) - st.x) * st.y;
      ab += g;
    }
  }
  sw[threadIdx.y][threadIdx.x] = aw;
  sb[threadIdx.y][threadIdx.x] = ab;
  __syncthreads();
  if (threadIdx.y == 0 && c < n) {
    for (int l = 1; l < kRowLanes; ++l) {
      aw += sw[l][threadIdx.x];
      ab += sb[l][threadIdx.x];
    }
    partial[blockIdx.y * 2 * n + c] = aw;
    partial[blockIdx.y * 2 * n + n + c] = ab;
  }
}

// The chunks' partial sums added in chunk order (deterministic), rounded once.
__global__ void norm_backward_finish(const float* partial, int64_t chunks, int64_t n, __half* dweight,
                                     __half* dbias) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= n) return;
  float w = 0.0f, b = 0.0f;
  for (int64_t k = 0; k < chunks; ++k) {
    w += partial[k * 2 * n + c];
    b += partial[k * 2 * n + n + c];
  }
  if (dweight) dweight[c] = __float2half_rn(w);
  if (dbias) dbias[c] = __float2half_rn(b);
}

}  // namespace

bool CudaBackend::cross_entropy_backward(const Array& logits, const Array& target, const Array& grad, int64_t rows,
                                         int64_t n, int64_t ignore_index, float label_smoothing, const Array& out) {
  for (int64_t r0 = 0; r0 < rows; r0 += kMaxGrid) {
    const unsigned grid = static_cast<unsigned>(std::min<int64_t>(rows - r0, kMaxGrid));
    const __half* x = logits.data_as<__half>() + r0 * n;
    const int32_t* t = target.data_as<int32_t>() + r0;
    const __half* g = grad.data_as<__half>() + r0;
    __half* y = out.data_as<__half>() + r0 * n;
    if (n % 8 == 0 && aligned16(x) && aligned16(y)) {
      cross_entropy_backward_rows<8>
          <<<grid, row_threads(n, 8), 0, stream()>>>(x, t, g, n, ignore_index, label_smoothing, y);
    } else {
      cross_entropy_backward_rows<1>
          <<<grid, row_threads(n, 1), 0, stream()>>>(x, t, g, n, ignore_index, label_smoothing, y);
    }
    check_launch("cross-entropy backward kernel");
  }
  return true;
}

bool CudaBackend::norm_backward(bool rms, const Array& x, const Array& grad, const Array* weight, int64_t rows,
                                int64_t n, double eps, const Array& dx, const Array* dweight, const Array* dbias) {
  Scratch stats(sizeof(float2) * rows);
  const __half* w = weight ? weight->data_as<__half>() : nullptr;
  for (int64_t r0 = 0; r0 < rows; r0 += kMaxGrid) {
    const unsigned grid = static_cast<unsigned>(std::min<int64_t>(rows - r0, kMaxGrid));
    norm_backward_rows<<<grid, kThreads, 0, stream()>>>(x.data_as<__half>() + r0 * n, grad.data_as<__half>() + r0 * n,
                                                        w, n, static_cast<float>(eps), rms,
                                                        dx.data_as<__half>() + r0 * n, stats.as<float2>() + r0);
    check_launch("norm backward kernel");
  }
  if (!dweight && !dbias) return true;
  // Enough chunks of rows to fill the chip with (32-column x chunk) blocks, each chunk at least 64 rows.
  const int64_t column_blocks = (n + kColumns - 1) / kColumns;
  const int64_t wanted = std::max<int64_t>(1, static_cast<int64_t>(sm_count()) * 8 / column_blocks);
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>({wanted, (rows + 63) / 64, 65535}));
  const int64_t per_chunk = (rows + chunks - 1) / chunks;
  Scratch partial(sizeof(float) * 2 * n * chunks);
  norm_backward_columns<<<dim3(static_cast<unsigned>(column_blocks), static_cast<unsigned>(chunks)),
                          dim3(kColumns, kRowLanes), 0, stream()>>>(x.data_as<__half>(), grad.data_as<__half>(),
                                                                    stats.as<float2>(), rows, n, per_chunk,
                                                                    partial.as<float>());
  check_launch("norm backward column kernel");
  norm_backward_finish<<<blocks_for(n), kThreads, 0, stream()>>>(
      partial.as<float>(), chunks, n, dweight ? dweight->data_as<__half>() : nullptr,
      dbias ? dbias->data_as<__half>() : nullptr);
  check_launch("norm backward finish kernel");
  return true;
}

}  // namespace tensorlogic::cuda
