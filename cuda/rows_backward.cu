// Gradients of the fused row kernels (cpp/cpu/rows_backward.cpp is the reference): softmax cross-entropy
// with one block per row; layer_norm / rms_norm with one block per row for dx, then a pass over columns
// for dweight and dbias. All in f32, each output rounded once.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <type_traits>

#include "common.cuh"
#include "cuda_backend.h"
#include "softmax_stat.cuh"

namespace tensorlogic::cuda {
namespace {

constexpr int64_t kMaxGrid = 0x7fffffff;

// (softmax(x) - (1 - s) onehot(t) - s / n) * g for one row, in groups of W (as cross_entropy_rows), with
// softmax(x) = exp(x - logsumexp(x)): the forward's logsumexp where it kept it (row_lse), so the row is read
// once; else one pass for the online (max, sum of exp) first, then the write pass, whose re-read of the row
// mostly hits L2. A NaN logit makes the sum NaN (or the kept logsumexp) and so the whole row, as on the CPU; a
// target outside [0, n) matches no class.
template <int W>
__global__ void __launch_bounds__(1024)
    cross_entropy_backward_rows(const __half* logits, const int32_t* target, const __half* grad,
                                const float* row_lse, int64_t n, int64_t ignore_index, float smoothing,
                                __half* out) {
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
  const float g = __half2float(grad[r]);
  float shift = 0.0f, scale = g;
  if (row_lse) {  // (the same branch for the whole block)
    shift = row_lse[r];
  } else {
    Stat st{-INFINITY, 0.0f};
    for (int64_t k = threadIdx.x * int64_t{W}; k < n; k += step) {
      float v[W];
      load_group<W>(x + k, v);
      add_group<W>(st, v);
    }
    st = block_stat(st, scratch);
    shift = st.m, scale = g / st.s;
  }
  const float spread = smoothing / static_cast<float>(n) * g, hit = (1.0f - smoothing) * g;
  for (int64_t k = threadIdx.x * int64_t{W}; k < n; k += step) {
    float v[W];
    load_group<W, true>(x + k, v);
#pragma unroll
    for (int j = 0; j < W; ++j) {
      v[j] = expf(v[j] - shift) * scale - spread;
      if (k + j == t) v[j] -= hit;
    }
    store_group<W>(y + k, v);
  }
}

// dx for one row: mean, then the squared deviations and the two gradient sums in one pass, then the write
// dx = (gw - xhat mean(gw xhat) - mean(gw)) rstd, gw = grad * weight (rms_norm: no centring, no mean(gw)).
// The row's mean and rstd go to `stats` for the column pass.
__global__ void norm_backward_rows(const __half* x, const __half* grad, const __half* weight, int64_t n, float eps,
                                   bool rms, bool accumulate, __half* dx, float2* stats) {
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
    const float d = (gw - xhat * dot_mean - gw_mean) * rstd;
    dx[r * n + k] = __float2half_rn(accumulate ? d + __half2float(dx[r * n + k]) : d);
  }
  if (threadIdx.x == 0) stats[r] = make_float2(mean, rstd);
}

// Rows of whole 16-byte vectors up to kWarpRowMax values: one warp per row, each lane holding V vectors of
// x and grad in registers as f16 (shuffle reductions only, one read of each) and the next row's already in
// flight, and, when dweight or dbias is wanted, the running column sums of grad * xhat and grad for its 8V
// columns over every row its warp takes. The warps then leave their sums in shared memory (a row each) and
// all threads add them in warp order (deterministic) into partial[block], for norm_backward_finish: x and grad
// are read once in all, instead of again by a column pass. No register bound: at 768 columns one block per SM
// (H100, [8192, 768]: 35 -> 23 us with dweight and dbias; two blocks held to 128 registers took 34 us).
// (Beyond 1024 values the column sums outgrow the registers.)
constexpr int kWarpRowMax = 32 * 8 * 4;
constexpr int kWarpRowThreads = 256;

// ACCUMULATE adds dx into dx's values (a residual stream's gradient summed in the same pass).
template <int V, bool ACCUMULATE>
__global__ void __launch_bounds__(kWarpRowThreads, 1)
    norm_backward_warps(const __half* x, const __half* grad, const __half* weight, int64_t rows, int64_t n,
                        float eps, bool rms, __half* dx, float* partial) {
  extern __shared__ float sums[];  // [warps][2n]: each warp's column sums of grad * xhat, then of grad
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  const int nv = static_cast<int>(n / 8);
  const float count = static_cast<float>(n);
  bool valid[V];
  Half8 w[V];
#pragma unroll
  for (int u = 0; u < V; ++u) {
    valid[u] = lane + 32 * u < nv;
#pragma unroll
    for (int j = 0; j < 8; ++j) w[u].h[j] = __float2half_rn(1.0f);
    if (valid[u] && weight) w[u] = reinterpret_cast<const Half8*>(weight)[lane + 32 * u];
  }
  float aw[V][8] = {}, ab[V][8] = {};
  auto load = [&](int64_t row, Half8(&xv)[V], Half8(&gv)[V]) {
    const uint4* xr = reinterpret_cast<const uint4*>(x + row * n);
    const uint4* gr = reinterpret_cast<const uint4*>(grad + row * n);
#pragma unroll
    for (int u = 0; u < V; ++u) {
      if (!valid[u]) continue;
      *reinterpret_cast<uint4*>(&xv[u]) = __ldcs(xr + lane + 32 * u);
      *reinterpret_cast<uint4*>(&gv[u]) = __ldcs(gr + lane + 32 * u);
    }
  };
  const int64_t stride = int64_t{gridDim.x} * warps;
  int64_t r = blockIdx.x * int64_t{warps} + warp;
  Half8 x_next[V], g_next[V];
  if (r < rows) load(r, x_next, g_next);
  for (; r < rows; r += stride) {
    Half8 xv[V], gv[V], before[V];  // before: dx's values (ACCUMULATE)
#pragma unroll
    for (int u = 0; u < V; ++u) {
      xv[u] = x_next[u];
      gv[u] = g_next[u];
    }
    if (r + stride < rows) load(r + stride, x_next, g_next);
    if constexpr (ACCUMULATE) {
#pragma unroll
      for (int u = 0; u < V; ++u)
        if (valid[u]) before[u] = reinterpret_cast<const Half8*>(dx + r * n)[lane + 32 * u];
    }
    float mean = 0.0f;
#pragma unroll
    for (int u = 0; u < V; ++u) {
      if (!valid[u]) continue;
#pragma unroll
      for (int j = 0; j < 8; ++j) mean += __half2float(xv[u].h[j]);
    }
    mean = rms ? 0.0f : warp_reduce(mean, SumOp{}) / count;
    float sq = 0.0f, dot = 0.0f, gsum = 0.0f;
#pragma unroll
    for (int u = 0; u < V; ++u) {
      if (!valid[u]) continue;
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        const float xc = __half2float(xv[u].h[j]) - mean;
        const float gw = __half2float(gv[u].h[j]) * __half2float(w[u].h[j]);
        sq += xc * xc;
        dot += gw * xc;
        gsum += gw;
      }
    }
    sq = warp_reduce(sq, SumOp{});
    dot = warp_reduce(dot, SumOp{});
    gsum = rms ? 0.0f : warp_reduce(gsum, SumOp{});
    const float rstd = rsqrtf(sq / count + eps);
    const float dot_mean = dot * rstd / count, gw_mean = gsum / count;
#pragma unroll
    for (int u = 0; u < V; ++u) {
      if (!valid[u]) continue;
      Half8 out;
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        const float xhat = (__half2float(xv[u].h[j]) - mean) * rstd, g = __half2float(gv[u].h[j]);
        const float d = (g * __half2float(w[u].h[j]) - xhat * dot_mean - gw_mean) * rstd;
        out.h[j] = __float2half_rn(ACCUMULATE ? d + __half2float(before[u].h[j]) : d);
        aw[u][j] += g * xhat;
        ab[u][j] += g;
      }
      __stcs(reinterpret_cast<uint4*>(dx + r * n) + lane + 32 * u, *reinterpret_cast<const uint4*>(&out));
    }
  }
  if (partial == nullptr) return;
  // Column c = 8 (lane + 32 u) + j of this warp at mine[j * nv + lane + 32 u]: a warp's stores on adjacent banks.
  float* mine = sums + warp * 2 * n;
#pragma unroll
  for (int u = 0; u < V; ++u) {
    if (!valid[u]) continue;
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      mine[j * nv + lane + 32 * u] = aw[u][j];
      mine[n + j * nv + lane + 32 * u] = ab[u][j];
    }
  }
  __syncthreads();
  for (int64_t i = threadIdx.x; i < 2 * n; i += blockDim.x) {
    float total = 0.0f;
    for (int k = 0; k < warps; ++k) total += sums[k * 2 * n + i];
    const int64_t half = i < n ? 0 : n, k = i - half;
    partial[blockIdx.x * 2 * n + half + (k % nv) * 8 + k / nv] = total;
  }
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

// The chunks' partial sums, rounded once: block (32 columns, 32 chunk lanes), lane y adding chunks y, y + 32,
// ... in order, then the lanes' sums added in lane order (deterministic). Hundreds of chunks (one per block
// of norm_backward_warps) stay a short loop per thread.
constexpr int kFinishLanes = 32;

__global__ void norm_backward_finish(const float* partial, int64_t chunks, int64_t n, __half* dweight,
                                     __half* dbias) {
  __shared__ float sw[kFinishLanes][kColumns + 1], sb[kFinishLanes][kColumns + 1];
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kColumns + threadIdx.x;
  float w = 0.0f, b = 0.0f;
  if (c < n) {
    for (int64_t k = threadIdx.y; k < chunks; k += kFinishLanes) {
      w += partial[k * 2 * n + c];
      b += partial[k * 2 * n + n + c];
    }
  }
  sw[threadIdx.y][threadIdx.x] = w;
  sb[threadIdx.y][threadIdx.x] = b;
  __syncthreads();
  if (threadIdx.y != 0 || c >= n) return;
  for (int l = 1; l < kFinishLanes; ++l) {
    w += sw[l][threadIdx.x];
    b += sb[l][threadIdx.x];
  }
  if (dweight) dweight[c] = __float2half_rn(w);
  if (dbias) dbias[c] = __float2half_rn(b);
}

// Launches norm_backward_finish over n columns.
void finish_columns(const float* partial, int64_t chunks, int64_t n, __half* dweight, __half* dbias) {
  norm_backward_finish<<<static_cast<unsigned>((n + kColumns - 1) / kColumns), dim3(kColumns, kFinishLanes), 0,
                         stream()>>>(partial, chunks, n, dweight, dbias);
  check_launch("norm backward finish kernel");
}

template <int V, bool ACCUMULATE>
void launch_norm_backward_warps(bool rms, const __half* x, const __half* grad, const __half* w, int64_t rows,
                                int64_t n, float eps, __half* dx, __half* dweight, __half* dbias) {
  const int64_t warps = kWarpRowThreads / 32;
  const size_t shared = sizeof(float) * 2 * n * warps;  // up to 64 KB: past the default 48 KB limit
  static std::atomic<bool> opted_in[kMaxDevices];  // above 48 KiB of shared memory must be asked for
  std::atomic<bool>& opted = opted_in[current_device()];
  if (shared > 48 * 1024 && !opted.load(std::memory_order_acquire)) {
    check(cudaFuncSetAttribute(norm_backward_warps<V, ACCUMULATE>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                               static_cast<int>(sizeof(float) * 2 * kWarpRowMax * warps)),
          "cudaFuncSetAttribute (norm backward shared memory)");
    opted.store(true, std::memory_order_release);
  }
  int per_sm = 0;
  check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, norm_backward_warps<V, ACCUMULATE>, kWarpRowThreads,
                                                      shared),
        "cudaOccupancyMaxActiveBlocksPerMultiprocessor");
  const int64_t blocks = std::max<int64_t>(1, std::min<int64_t>((rows + warps - 1) / warps,
                                                                 int64_t{sm_count()} * std::max(per_sm, 1)));
  const bool columns = dweight || dbias;
  Scratch partial(columns ? sizeof(float) * 2 * n * blocks : 1);
  norm_backward_warps<V, ACCUMULATE><<<static_cast<unsigned>(blocks), kWarpRowThreads, shared, stream()>>>(
      x, grad, w, rows, n, eps, rms, dx, columns ? partial.as<float>() : nullptr);
  check_launch("norm backward kernel");
  if (!columns) return;
  finish_columns(partial.as<float>(), blocks, n, dweight, dbias);
}

}  // namespace

bool CudaBackend::cross_entropy_backward(const Array& logits, const Array& target, const Array& grad,
                                         const Array* row_lse, int64_t rows, int64_t n, int64_t ignore_index,
                                         float label_smoothing, const Array& out) {
  for (int64_t r0 = 0; r0 < rows; r0 += kMaxGrid) {
    const unsigned grid = static_cast<unsigned>(std::min<int64_t>(rows - r0, kMaxGrid));
    const __half* x = logits.data_as<__half>() + r0 * n;
    const int32_t* t = target.data_as<int32_t>() + r0;
    const __half* g = grad.data_as<__half>() + r0;
    const float* lse = row_lse ? row_lse->data_as<float>() + r0 : nullptr;
    __half* y = out.data_as<__half>() + r0 * n;
    if (n % 8 == 0 && aligned16(x) && aligned16(y)) {
      cross_entropy_backward_rows<8>
          <<<grid, row_threads(n, 8), 0, stream()>>>(x, t, g, lse, n, ignore_index, label_smoothing, y);
    } else {
      cross_entropy_backward_rows<1>
          <<<grid, row_threads(n, 1), 0, stream()>>>(x, t, g, lse, n, ignore_index, label_smoothing, y);
    }
    check_launch("cross-entropy backward kernel");
  }
  return true;
}

bool CudaBackend::norm_backward(bool rms, const Array& x, const Array& grad, const Array* weight, int64_t rows,
                                int64_t n, double eps, const Array& dx, bool accumulate, const Array* dweight,
                                const Array* dbias) {
  const __half* w = weight ? weight->data_as<__half>() : nullptr;
  if (n % 8 == 0 && n <= kWarpRowMax && rows > 0 && aligned16(x.data()) && aligned16(grad.data()) &&
      aligned16(dx.data()) && aligned16(w)) {
    const int per_lane = static_cast<int>((n / 8 + 31) / 32);
    auto launch = [&](auto v) {
      auto with = [&](auto accumulating) {
        launch_norm_backward_warps<decltype(v)::value, decltype(accumulating)::value>(
            rms, x.data_as<__half>(), grad.data_as<__half>(), w, rows, n, static_cast<float>(eps),
            dx.data_as<__half>(), dweight ? dweight->data_as<__half>() : nullptr,
            dbias ? dbias->data_as<__half>() : nullptr);
      };
      if (accumulate) {
        with(std::true_type{});
      } else {
        with(std::false_type{});
      }
    };
    if (per_lane <= 1) {
      launch(std::integral_constant<int, 1>{});
    } else if (per_lane == 2) {
      launch(std::integral_constant<int, 2>{});
    } else if (per_lane == 3) {
      launch(std::integral_constant<int, 3>{});
    } else {
      launch(std::integral_constant<int, 4>{});
    }
    return true;
  }
  Scratch stats(sizeof(float2) * rows);
  for (int64_t r0 = 0; r0 < rows; r0 += kMaxGrid) {
    const unsigned grid = static_cast<unsigned>(std::min<int64_t>(rows - r0, kMaxGrid));
    norm_backward_rows<<<grid, kThreads, 0, stream()>>>(x.data_as<__half>() + r0 * n, grad.data_as<__half>() + r0 * n,
                                                        w, n, static_cast<float>(eps), rms, accumulate,
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
  finish_columns(partial.as<float>(), chunks, n, dweight ? dweight->data_as<__half>() : nullptr,
                 dbias ? dbias->data_as<__half>() : nullptr);
  return true;
}

}  // namespace tensorlogic::cuda
