// Row kernels: softmax / log_softmax over the middle axis of [outer, n, inner], layer_norm and rms_norm
// over contiguous [rows, n]. A row of up to 64K f16 values is read once into registers (16-byte loads),
// reduced and written: one pass over memory. Other layouts take a plain multi-pass path.
#include <cmath>

#include "common.cuh"
#include "cuda_backend.h"
#include "softmax_stat.cuh"

namespace tensorlogic::cuda {
namespace {

enum class Mode { softmax, log_softmax, layer_norm, rms_norm };

struct RowArgs {
  const __half* in;
  __half* out;
  const __half* weight;  // norms only, may be null
  const __half* bias;
  int64_t n;
  float eps;
};

// y from x and the row statistics (a, b): softmax a = max, b = 1 / sum; log_softmax b = log(sum);
// layer_norm a = mean, b = 1 / std; rms_norm b = 1 / rms. w and c are the weight and bias values.
template <Mode M>
__device__ __forceinline__ float finish_value(float x, float a, float b, float w, float c) {
  if constexpr (M == Mode::softmax) return expf(x - a) * b;
  if constexpr (M == Mode::log_softmax) return x - a - b;
  if constexpr (M == Mode::layer_norm) return (x - a) * b * w + c;
  return x * b * w;
}

// The row statistics (a, b) of finish_value. Each thread summarises the values `each` gives it (local
// passes are cheap when the values sit in registers); softmax then needs one block merge, layer_norm
// two sums (mean, then squared deviations: measured 0.5% faster than one Chan merge of three values).
template <Mode M, typename Each>
__device__ __forceinline__ void row_stats(const RowArgs& args, Each each, Stat* scratch, float* a, float* b) {
  const float n = static_cast<float>(args.n);
  float* sums = reinterpret_cast<float*>(scratch);
  if constexpr (M == Mode::softmax || M == Mode::log_softmax) {
    Stat s{-INFINITY, 0.0f};
    each([&](float x) { s.m = fmaxf(s.m, x); });
    if (s.m != -INFINITY) each([&](float x) { s.s += expf(x - s.m); });
    else each([&](float x) { s.s = isnan(x) ? NAN : s.s; });  // only -inf and NaN: the NaN must reach the sum
    s = block_stat(s, scratch);
    // A row of -inf has sum 0: softmax gives NaN (0 * inf) like PyTorch.
    *a = s.m;
    *b = M == Mode::softmax ? 1.0f / s.s : logf(s.s);
  } else if constexpr (M == Mode::layer_norm) {
    float sum = 0.0f;
    each([&](float x) { sum += x; });
    const float mean = block_reduce(sum, SumOp{}, 0.0f, sums) / n;
    float q = 0.0f;
    each([&](float x) { q += (x - mean) * (x - mean); });
    *a = mean;
    *b = 1.0f / sqrtf(block_reduce(q, SumOp{}, 0.0f, sums) / n + args.eps);
  } else {
    float q = 0.0f;
    each([&](float x) { q += x * x; });
    *a = 0.0f;
    *b = 1.0f / sqrtf(block_reduce(q, SumOp{}, 0.0f, sums) / n + args.eps);
  }
}

// One block per row; each thread keeps V 16-byte vectors of the row in registers, as f16 (converted on
// every pass: fewer registers, more resident rows; measured 0.5-1.6% faster than holding f32).
template <Mode M, int V>
__global__ void row_registers(RowArgs args) {
  __shared__ Stat scratch[33];
  const int64_t nv = args.n / 8;
  const Half8* in = reinterpret_cast<const Half8*>(args.in + blockIdx.x * args.n);
  Half8* out = reinterpret_cast<Half8*>(args.out + blockIdx.x * args.n);
  Half8 raw[V];
#pragma unroll
  for (int u = 0; u < V; ++u) {
    const int64_t k = threadIdx.x + u * int64_t{blockDim.x};
    // streaming load: the row is read once
    if (k < nv) *reinterpret_cast<uint4*>(&raw[u]) = __ldcs(reinterpret_cast<const uint4*>(in + k));
  }
  auto each = [&](auto fn) {
#pragma unroll
    for (int u = 0; u < V; ++u) {
      if (threadIdx.x + u * int64_t{blockDim.x} < nv) {
#pragma unroll
        for (int j = 0; j < 8; ++j) fn(__half2float(raw[u].h[j]));
      }
    }
  };
  float a, b;
  row_stats<M>(args, each, scratch, &a, &b);
#pragma unroll
  for (int u = 0; u < V; ++u) {
    const int64_t k = threadIdx.x + u * int64_t{blockDim.x};
    if (k < nv) {
      Half8 w, c, h;
      if (args.weight) *reinterpret_cast<uint4*>(&w) = __ldg(reinterpret_cast<const uint4*>(args.weight) + k);
      if (args.bias) *reinterpret_cast<uint4*>(&c) = __ldg(reinterpret_cast<const uint4*>(args.bias) + k);
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        h.h[j] = __float2half_rn(finish_value<M>(__half2float(raw[u].h[j]), a, b,
                                                 args.weight ? __half2float(w.h[j]) : 1.0f,
                                                 args.bias ? __half2float(c.h[j]) : 0.0f));
      }
      __stcs(reinterpret_cast<uint4*>(out + k), *reinterpret_cast<const uint4*>(&h));
    }
  }
}

// Any row length and alignment: one block per row, reading the row once per statistic.
template <Mode M>
__global__ void row_passes(RowArgs args) {
  __shared__ Stat scratch[33];
  const __half* in = args.in + blockIdx.x * args.n;
  __half* out = args.out + blockIdx.x * args.n;
  auto each = [&](auto fn) {
    for (int64_t k = threadIdx.x; k < args.n; k += blockDim.x) fn(__half2float(in[k]));
  };
  float a, b;
  row_stats<M>(args, each, scratch, &a, &b);
  for (int64_t k = threadIdx.x; k < args.n; k += blockDim.x) {
    out[k] = __float2half_rn(finish_value<M>(__half2float(in[k]), a, b,
                                             args.weight ? __half2float(args.weight[k]) : 1.0f,
                                             args.bias ? __half2float(args.bias[k]) : 0.0f));
  }
}

// softmax over the middle axis when inner > 1: one thread per (outer, inner) column.
template <Mode M>
__global__ void softmax_columns(const __half* in, __half* out, int64_t outer, int64_t n, int64_t inner) {
  const int64_t j = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (j >= outer * inner) return;
  const int64_t base = (j / inner) * n * inner + j % inner;
  float m = -INFINITY;
  for (int64_t k = 0; k < n; ++k) m = fmaxf(m, __half2float(in[base + k * inner]));
  const float shift = m == -INFINITY ? 0.0f : m;
  float s = 0.0f;
  for (int64_t k = 0; k < n; ++k) s += expf(__half2float(in[base + k * inner]) - shift);
  const float b = M == Mode::softmax ? 1.0f / s : logf(s);
  for (int64_t k = 0; k < n; ++k) {
    out[base + k * inner] = __float2half_rn(finish_value<M>(__half2float(in[base + k * inner]), m, b, 1.0f, 0.0f));
  }
}

template <Mode M>
void launch_rows(const RowArgs& args, int64_t rows) {
  if (rows == 0) return;
  const int64_t nv = args.n / 8;
  const bool vec = args.n % 8 == 0 && aligned16(args.in) && aligned16(args.out) && aligned16(args.weight) &&
                   aligned16(args.bias) && nv <= 8 * 1024;
  for (int64_t r0 = 0; r0 < rows; r0 += 0x7fffffff) {
    const unsigned grid = static_cast<unsigned>(std::min<int64_t>(rows - r0, 0x7fffffff));
    RowArgs part = args;
    part.in += r0 * args.n;
    part.out += r0 * args.n;
    if (vec && nv > 0) {
      // About 128 threads per row, each holding V vectors (V a power of two up to 8).
      // (64, 256 and 512 threads per row measured slower on an H100 for 4096-wide rows.)
      int v = 1;
      while (v < 8 && (nv + v - 1) / v > 128) v *= 2;
      const int threads = static_cast<int>(std::min<int64_t>(1024, ((nv + v - 1) / v + 31) / 32 * 32));
      switch (v) {
        case 1: row_registers<M, 1><<<grid, threads, 0, stream()>>>(part); break;
        case 2: row_registers<M, 2><<<grid, threads, 0, stream()>>>(part); break;
        case 4: row_registers<M, 4><<<grid, threads, 0, stream()>>>(part); break;
        default: row_registers<M, 8><<<grid, threads, 0, stream()>>>(part); break;
      }
    } else {
      row_passes<M><<<grid, kThreads, 0, stream()>>>(part);
    }
    check_launch("row kernel");
  }
}

// Fused softmax + cross-entropy, one block per row of [rows, n] logits, read once in groups of W (W = 8 when
// rows are whole 16-byte vectors): the row's (max, sum of exp) gives logsumexp, minus the target's logit;
// label smoothing also needs the row's plain sum. A NaN anywhere in the row makes the loss NaN (the plain
// sum carries it), as on the CPU. Where row_lse is given, each counted row's logsumexp goes there too.
template <int W>
__global__ void __launch_bounds__(1024) cross_entropy_rows(const __half* logits, const int32_t* target, int64_t n,
                                                           int64_t ignore_index, float smoothing, __half* out,
                                                           float* row_lse) {
  __shared__ Stat scratch[33];
  __shared__ float sums[33];
  const int64_t r = blockIdx.x;
  const int32_t t = target[r];
  if (t == ignore_index) {  // the same branch for the whole block
    if (threadIdx.x == 0) out[r] = __float2half_rn(0.0f);
    return;
  }
  const __half* x = logits + r * n;
  Stat local{-INFINITY, 0.0f};
  float total = 0.0f;
  for (int64_t k = threadIdx.x * int64_t{W}; k < n; k += int64_t{blockDim.x} * W) {
    float v[W];
    load_group<W, true>(x + k, v);
    add_group<W>(local, v);
#pragma unroll
    for (int j = 0; j < W; ++j) total += v[j];
  }
  const Stat row = block_stat(local, scratch);
  const float sum_x = block_reduce(total, SumOp{}, 0.0f, sums);
  const float lse = row.m + logf(row.s);
  // A target outside the row (check_class_targets raises its error later, without a host wait) gives NaN
  // instead of a read out of bounds.
  float loss = t >= 0 && t < n ? lse - __half2float(x[t]) : NAN;
  if (smoothing > 0.0f) loss = (1.0f - smoothing) * loss + smoothing * (lse - sum_x / static_cast<float>(n));
  if (isnan(sum_x)) loss = sum_x;
  if (threadIdx.x == 0) {
    out[r] = __float2half_rn(loss);
    if (row_lse) row_lse[r] = lse;
  }
}

}  // namespace

void CudaBackend::rows(RowOp op, const Array& in, int64_t outer, int64_t n, int64_t inner, const Array& out) {
  const bool log = op == RowOp::log_softmax;
  if (inner == 1) {
    const RowArgs args{in.data_as<__half>(), out.data_as<__half>(), nullptr, nullptr, n, 0.0f};
    return log ? launch_rows<Mode::log_softmax>(args, outer) : launch_rows<Mode::softmax>(args, outer);
  }
  const int64_t columns = outer * inner;
  if (log) {
    softmax_columns<Mode::log_softmax><<<blocks_for(columns), kThreads, 0, stream()>>>(
        in.data_as<__half>(), out.data_as<__half>(), outer, n, inner);
  } else {
    softmax_columns<Mode::softmax><<<blocks_for(columns), kThreads, 0, stream()>>>(
        in.data_as<__half>(), out.data_as<__half>(), outer, n, inner);
  }
  check_launch("softmax kernel");
}

void CudaBackend::norm(bool rms, const Array& in, int64_t rows, int64_t n, const Array* weight, const Array* bias,
                       double eps, const Array& out) {
  // Weight and bias are read as flat [n] vectors.
  const Array w = weight ? contiguous(*weight) : Array();
  const Array b = bias ? contiguous(*bias) : Array();
  const RowArgs args{in.data_as<__half>(), out.data_as<__half>(), weight ? w.data_as<__half>() : nullptr,
                     bias ? b.data_as<__half>() : nullptr, n, static_cast<float>(eps)};
  if (rms) {
    launch_rows<Mode::rms_norm>(args, rows);
  } else {
    launch_rows<Mode::layer_norm>(args, rows);
  }
}

bool CudaBackend::cross_entropy(const Array& logits, const Array& target, int64_t rows, int64_t n,
                                int64_t ignore_index, float label_smoothing, const Array& out, const Array* row_lse) {
  for (int64_t r0 = 0; r0 < rows; r0 += 0x7fffffff) {
    const unsigned grid = static_cast<unsigned>(std::min<int64_t>(rows - r0, 0x7fffffff));
    const __half* x = logits.data_as<__half>() + r0 * n;
    const int32_t* t = target.data_as<int32_t>() + r0;
    __half* y = out.data_as<__half>() + r0;
    float* lse = row_lse ? row_lse->data_as<float>() + r0 : nullptr;
    if (n % 8 == 0 && aligned16(x)) {
      cross_entropy_rows<8><<<grid, row_threads(n, 8), 0, stream()>>>(x, t, n, ignore_index, label_smoothing, y, lse);
    } else {
      cross_entropy_rows<1><<<grid, row_threads(n, 1), 0, stream()>>>(x, t, n, ignore_index, label_smoothing, y, lse);
    }
    check_launch("cross-entropy kernel");
  }
  return row_lse != nullptr;
}

}  // namespace tensorlogic::cuda
