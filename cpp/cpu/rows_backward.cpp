// Gradients of the fused row kernels: softmax cross-entropy and layer_norm / rms_norm, each row read into
// f32 once and every output rounded once (the composed forms take a dozen kernels and full-size
// intermediates each).
#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu_backend.h"
#include "elementwise_simd.h"
#include "f16_convert.h"
#include "parallel.h"
#include "row_reduce.h"

namespace tensorlogic::cpu {
namespace {

constexpr int64_t kGrain = 1 << 14;

}  // namespace

bool CpuBackend::cross_entropy_backward(const Array& logits, const Array& target, const Array& grad,
                                        const Array* row_lse, int64_t rows, int64_t n, int64_t ignore_index,
                                        float label_smoothing, const Array& out) {
  const half* src = logits.data_as<half>();
  const float* lse = row_lse ? row_lse->data_as<float>() : nullptr;
  const int32_t* tgt = target.data_as<int32_t>();
  std::vector<float> g(static_cast<size_t>(rows));
  f16_to_f32(grad.data_as<half>(), g.data(), rows);
  half* dst = out.data_as<half>();
  const float spread = label_smoothing / static_cast<float>(n), hit = 1.0f - label_smoothing;
  parallel_for(rows, std::max<int64_t>(1, kGrain / n), [&](int64_t r0, int64_t r1) {
    std::vector<float> x(static_cast<size_t>(n));
    for (int64_t r = r0; r < r1; ++r) {
      if (tgt[r] == ignore_index) {
        std::fill(x.begin(), x.end(), 0.0f);
      } else {
        f16_to_f32(src + r * n, x.data(), n);
        // softmax as exp(x - logsumexp): the forward's where kept, else from this row's max and sum
        float scale = g[r];
        if (lse) {
          simd::exp_shifted(x.data(), n, lse[r]);
        } else {
          simd::exp_shifted(x.data(), n, row_max(x.data(), n));
          scale /= row_sum(x.data(), n);
        }
        for (int64_t k = 0; k < n; ++k) x[k] = x[k] * scale - spread * g[r];
        if (tgt[r] >= 0 && tgt[r] < n) x[tgt[r]] -= hit * g[r];
      }
      f32_to_f16(x.data(), dst + r * n, n);
    }
  });
  return true;
}

// dx = (gw - xhat mean(gw xhat) - mean(gw)) rstd with gw = grad * weight (rms_norm: no mean(gw) term and
// no centring). The column sums of dweight and dbias are kept per chunk of rows and added in chunk order, so
// the result does not depend on the thread count's timing.
bool CpuBackend::norm_backward(bool rms, const Array& x_in, const Array& grad, const Array* weight, int64_t rows,
                               int64_t n, double eps, const Array& dx, bool accumulate, const Array* dweight,
                               const Array* dbias) {
  const half* xs = x_in.data_as<half>();
  const half* gs = grad.data_as<half>();
  half* out = dx.data_as<half>();
  std::vector<float> w(static_cast<size_t>(n), 1.0f);
  if (weight) f16_to_f32(weight->data_as<half>(), w.data(), n);
  const float count = static_cast<float>(n), feps = static_cast<float>(eps);
  const int64_t per_chunk = std::max<int64_t>(1, kGrain / n);
  const int64_t chunks = (rows + per_chunk - 1) / per_chunk;
  const bool sums = dweight || dbias;
  std::vector<float> partial(sums ? static_cast<size_t>(chunks * 2 * n) : 0, 0.0f);
  parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
    std::vector<float> x(static_cast<size_t>(n)), g(static_cast<size_t>(n)), t(static_cast<size_t>(n));
    for (int64_t c = c0; c < c1; ++c) {
      float* pw = sums ? partial.data() + c * 2 * n : nullptr;
      for (int64_t r = c * per_chunk; r < std::min(rows, (c + 1) * per_chunk); ++r) {
        f16_to_f32(xs + r * n, x.data(), n);
        f16_to_f32(gs + r * n, g.data(), n);
        const float mean = rms ? 0.0f : row_sum(x.data(), n) / count;
        for (int64_t k = 0; k < n; ++k) t[k] = (x[k] - mean) * (x[k] - mean);
        const float rstd = 1.0f / std::sqrt(row_sum(t.data(), n) / count + feps);
        for (int64_t k = 0; k < n; ++k) x[k] = (x[k] - mean) * rstd;  // x now holds xhat
        if (pw) {
          for (int64_t k = 0; k < n; ++k) {
            pw[k] += g[k] * x[k];
            pw[n + k] += g[k];
          }
        }
        for (int64_t k = 0; k < n; ++k) g[k] *= w[k];  // g now holds grad * weight
        const float gw_mean = rms ? 0.0f : row_sum(g.data(), n) / count;
        for (int64_t k = 0; k < n; ++k) t[k] = g[k] * x[k];
        const float dot_mean = row_sum(t.data(), n) / count;
        for (int64_t k = 0; k < n; ++k) t[k] = (g[k] - x[k] * dot_mean - gw_mean) * rstd;
        if (accumulate) {  // the sum rounded once (x is free again)
          f16_to_f32(out + r * n, x.data(), n);
          for (int64_t k = 0; k < n; ++k) t[k] += x[k];
        }
        f32_to_f16(t.data(), out + r * n, n);
      }
    }
  });
  if (sums) {
    std::vector<float> total(static_cast<size_t>(2 * n), 0.0f);
    for (int64_t c = 0; c < chunks; ++c) {
      for (int64_t k = 0; k < 2 * n; ++k) total[k] += partial[c * 2 * n + k];
    }
    if (dweight) f32_to_f16(total.data(), dweight->data_as<half>(), n);
    if (dbias) f32_to_f16(total.data() + n, dbias->data_as<half>(), n);
  }
  return true;
}

}  // namespace tensorlogic::cpu
