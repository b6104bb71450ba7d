// Row kernels: softmax / log_softmax over the middle axis of [outer, n, inner], layer_norm / rms_norm
// over contiguous rows. Each row is read into f32, reduced with lane accumulators, and rounded once.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "../kernels/elementwise.h"
#include "cpu_backend.h"
#include "f16_convert.h"
#include "parallel.h"
#include "elementwise_simd.h"
#include "row_reduce.h"

namespace tensorlogic::cpu {

constexpr int kLanes = 16;  // independent accumulators per row
constexpr int64_t kTile = 256;
constexpr int64_t kGrain = 1 << 14;

// The maximum, NaN when the row holds one. Generic vectors (SSE / NEON width) keep the compare-select
// branch-free, and NaNs are flagged apart from the max lanes: a NaN-propagating scalar select chain
// does not vectorise and made this the row kernels' hottest loop.
float row_max(const float* x, int64_t n) {
  typedef float v4 __attribute__((vector_size(16)));
  typedef int32_t v4i __attribute__((vector_size(16)));
  v4 acc[4];
  v4i nan[4];
  for (int k = 0; k < 4; ++k) {
    acc[k] = v4{-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    nan[k] = v4i{0, 0, 0, 0};
  }
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int k = 0; k < 4; ++k) {
      v4 v;
      std::memcpy(&v, x + i + 4 * k, sizeof v);
      acc[k] = acc[k] < v ? v : acc[k];
      nan[k] |= v != v;
    }
  }
  float m = -INFINITY;
  bool any_nan = false;
  for (int k = 0; k < 4; ++k) {
    for (int l = 0; l < 4; ++l) {
      m = kernels::nan_max(m, acc[k][l]);
      any_nan |= nan[k][l] != 0;
    }
  }
  for (; i < n; ++i) m = kernels::nan_max(m, x[i]);
  return any_nan ? NAN : m;
}

float row_sum(const float* x, int64_t n) {
  float lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) lanes[l] += x[i + l];
  }
  for (; i < n; ++i) lanes[0] += x[i];
  for (int w = kLanes / 2; w >= 1; w /= 2) {
    for (int l = 0; l < w; ++l) lanes[l] += lanes[l + w];
  }
  return lanes[0];
}

namespace {


// A row of the softmax family, in place on f32 data. A row whose maximum is +inf or NaN gives NaN
// (as PyTorch); an all -inf row gives NaN for softmax and -inf - (-inf) = NaN for log_softmax too.
void softmax_row(RowOp op, float* x, float* e, int64_t n) {
  const float m = row_max(x, n);
  std::copy(x, x + n, e);
  simd::exp_shifted(e, n, m);
  const float s = row_sum(e, n);
  if (op == RowOp::softmax) {
    const float inv = 1.0f / s;
    for (int64_t i = 0; i < n; ++i) x[i] = e[i] * inv;
  } else {
    const float shift = m + std::log(s);
    for (int64_t i = 0; i < n; ++i) x[i] = x[i] - shift;
  }
}

// Columns [i0, i0 + w) of one outer slice with stride `inner` between rows of the softmax axis.
void softmax_columns(RowOp op, const half* in, half* out, int64_t n, int64_t inner, int64_t i0, int64_t w) {
  float m[kTile], s[kTile], x[kTile];
  std::fill(m, m + w, -INFINITY);
  std::fill(s, s + w, 0.0f);
  for (int64_t j = 0; j < n; ++j) {
    f16_to_f32(in + j * inner + i0, x, w);
    for (int64_t i = 0; i < w; ++i) m[i] = kernels::nan_max(m[i], x[i]);
  }
  for (int64_t j = 0; j < n; ++j) {
    f16_to_f32(in + j * inner + i0, x, w);
    for (int64_t i = 0; i < w; ++i) x[i] -= m[i];
    simd::exp_shifted(x, w, 0.0f);
    for (int64_t i = 0; i < w; ++i) s[i] += x[i];
  }
  for (int64_t i = 0; i < w; ++i) s[i] = op == RowOp::softmax ? 1.0f / s[i] : m[i] + std::log(s[i]);
  for (int64_t j = 0; j < n; ++j) {
    f16_to_f32(in + j * inner + i0, x, w);
    if (op == RowOp::softmax) {
      for (int64_t i = 0; i < w; ++i) x[i] -= m[i];
      simd::exp_shifted(x, w, 0.0f);
      for (int64_t i = 0; i < w; ++i) x[i] *= s[i];
    } else {
      for (int64_t i = 0; i < w; ++i) x[i] -= s[i];
    }
    f32_to_f16(x, out + j * inner + i0, w);
  }
}

}  // namespace

void CpuBackend::rows(RowOp op, const Array& in, int64_t outer, int64_t n, int64_t inner, const Array& out) {
  const half* src = in.data_as<half>();
  half* dst = out.data_as<half>();
  if (inner == 1) {
    if (const simd::SoftmaxRowsKernel kernel = simd::softmax_rows_kernel(op == RowOp::log_softmax)) {
      parallel_for(outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
        std::vector<float> x(static_cast<size_t>(n) + 64);
        kernel(src + b * n, dst + b * n, e - b, n, x.data());
      });
      return;
    }
    parallel_for(outer, std::max<int64_t>(1, kGrain / n), [&](int64_t b, int64_t e) {
      std::vector<float> x(static_cast<size_t>(n)), tmp(static_cast<size_t>(n));
      for (int64_t r = b; r < e; ++r) {
        f16_to_f32(src + r * n, x.data(), n);
        softmax_row(op, x.data(), tmp.data(), n);
        f32_to_f16(x.data(), dst + r * n, n);
      }
    });
    return;
  }
  const int64_t tiles = (inner + kTile - 1) / kTile;
  parallel_for(outer * tiles, std::max<int64_t>(1, kGrain / (n * std::min(inner, kTile))), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t o = t / tiles, i0 = (t % tiles) * kTile;
      softmax_columns(op, src + o * n * inner, dst + o * n * inner, n, inner, i0, std::min(kTile, inner - i0));
    }
  });
}

void CpuBackend::norm(bool rms, const Array& in, int64_t rows, int64_t n, const Array* weight, const Array* bias,
                      double eps, const Array& out) {
  std::vector<float> w, b;
  if (weight) {
    w.resize(static_cast<size_t>(n));
    f16_to_f32(weight->data_as<half>(), w.data(), n);
  }
  if (bias) {
    b.resize(static_cast<size_t>(n));
    f16_to_f32(bias->data_as<half>(), b.data(), n);
  }
  const half* src = in.data_as<half>();
  half* dst = out.data_as<half>();
  const float feps = static_cast<float>(eps), count = static_cast<float>(n);
  parallel_for(rows, std::max<int64_t>(1, kGrain / n), [&](int64_t r0, int64_t r1) {
    std::vector<float> x(static_cast<size_t>(n)), sq(static_cast<size_t>(n));
    for (int64_t r = r0; r < r1; ++r) {
      f16_to_f32(src + r * n, x.data(), n);
      const float mean = rms ? 0.0f : row_sum(x.data(), n) / count;
      for (int64_t i = 0; i < n; ++i) sq[i] = (x[i] - mean) * (x[i] - mean);
      const float rstd = 1.0f / std::sqrt(row_sum(sq.data(), n) / count + feps);
      for (int64_t i = 0; i < n; ++i) x[i] = (x[i] - mean) * rstd;
      if (weight) {
        for (int64_t i = 0; i < n; ++i) x[i] *= w[i];
      }
      if (bias) {
        for (int64_t i = 0; i < n; ++i) x[i] += b[i];
      }
      f32_to_f16(x.data(), dst + r * n, n);
    }
  });
}

}  // namespace tensorlogic::cpu

namespace tensorlogic::cpu {

// One pass per row in f32: the maximum, the shifted exponentials' sum (logsumexp), the target's logit and,
// with smoothing, the row's sum; only the loss is rounded. An all -inf row or a +inf/NaN logit gives NaN.
bool CpuBackend::cross_entropy(const Array& logits, const Array& target, int64_t rows, int64_t n,
                               int64_t ignore_index, float label_smoothing, const Array& out, const Array* row_lse) {
  const half* src = logits.data_as<half>();
  float* lse_out = row_lse ? row_lse->data_as<float>() : nullptr;
  const int32_t* tgt = target.data_as<int32_t>();
  half* dst = out.data_as<half>();
  parallel_for(rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(n, 1)), [&](int64_t r0, int64_t r1) {
    std::vector<float> x(static_cast<size_t>(n)), e(static_cast<size_t>(n));
    float loss[kTile];
    for (int64_t b = r0; b < r1; b += kTile) {
      const int64_t w = std::min(kTile, r1 - b);
      for (int64_t i = 0; i < w; ++i) {
        const int64_t r = b + i;
        if (tgt[r] == ignore_index) {
          loss[i] = 0.0f;
          continue;
        }
        f16_to_f32(src + r * n, x.data(), n);
        const float m = row_max(x.data(), n);
        std::copy(x.begin(), x.end(), e.begin());
        simd::exp_shifted(e.data(), n, m);
        const float lse = m + std::log(row_sum(e.data(), n));
        if (lse_out) lse_out[r] = lse;
        float l = lse - x[static_cast<size_t>(tgt[r])];
        if (label_smoothing > 0.0f) {  // skipped at 0 so that -inf logits elsewhere do not give 0 * inf
          l = (1.0f - label_smoothing) * l + label_smoothing * (lse - row_sum(x.data(), n) / static_cast<float>(n));
        }
        loss[i] = l;
      }
      f32_to_f16(loss, dst + b, w);
    }
  });
  return row_lse != nullptr;
}

}  // namespace tensorlogic::cpu
