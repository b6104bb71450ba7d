// Fused scaled dot-product attention: per chunk of (batch, query rows), scores, mask, softmax and the
// product with V stay in f32 and the result is rounded to f16 once. Its backward recomputes the
// probabilities per chunk of batches the same way and runs the four gradient products as f32 GEMMs.
// Dropout multiplies the probabilities by the keep decisions of philox.h's attention dropout (regenerated
// by the backward) times 1 / (1 - p).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "../core/batching.h"
#include "../core/philox.h"
#include "blas.h"
#include "cpu_backend.h"
#include "f16_convert.h"
#include "parallel.h"
#include "elementwise_simd.h"
#include "row_reduce.h"


namespace tensorlogic::cpu {
namespace {

constexpr int64_t kScoreBudget = int64_t{1} << 22;  // f32 scores held per chunk (16 MiB)
constexpr int64_t kCausalRows = 128;

Array sub_batch(const Array& a, int64_t b0, int64_t nb, int64_t r0, int64_t rows) {
  return a.view_as({nb, rows, a.shape()[2]}, a.strides(), a.offset() + b0 * a.strides()[0] + r0 * a.strides()[1]);
}

// Rounds `rows` f32 rows (contiguous, `cols` each) into rows [r0, r0 + rows) of batch b of `out` [B, n, cols]
// (contiguous rows, any row and batch strides: the core lays outputs out as their inputs are).
void store_rows(const float* src, const Array& out, int64_t b, int64_t r0, int64_t rows) {
  const int64_t cols = out.shape()[2];
  half* base = out.data_as<half>() + b * out.strides()[0] + r0 * out.strides()[1];
  if (out.strides()[1] == cols) {
    f32_to_f16(src, base, rows * cols);
    return;
  }
  for (int64_t r = 0; r < rows; ++r) f32_to_f16(src + r * cols, base + r * out.strides()[1], cols);
}

// row[j] = exp(row[j] - shift) with the dispatched vector exp shared with softmax; returns the sum.
float exp_sum(float* row, int64_t n, float shift) {
  simd::exp_shifted(row, n, shift);
  float lanes[16] = {};  // independent partial sums, so the loop vectorises
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    for (int l = 0; l < 16; ++l) lanes[l] += row[j + l];
  }
  for (; j < n; ++j) lanes[0] += row[j];
  float total = 0.0f;
  for (float part : lanes) total += part;
  return total;
}

// Scales, masks and normalises one row of scores in place. A row with every key masked gets zero
// weights (PyTorch's safe softmax), so its output is zero rather than NaN.
void softmax_row(float* row, int64_t cols, float scale, const half* mask, int64_t mask_stride, int64_t visible) {
  visible = std::min(visible, cols);
  if (mask) {
    for (int64_t j = 0; j < visible; ++j) row[j] = row[j] * scale + to_float(mask[j * mask_stride]);
    scale = 1.0f;
  }
  static const simd::ScaledSoftmaxKernel vector_form = simd::scaled_softmax_kernel();
  if (vector_form) {  // rows are short (causal rows average half the keys): one call, no pass per step
    vector_form(row, visible, scale);
    std::fill(row + visible, row + cols, 0.0f);
    return;
  }
  if (scale != 1.0f) {
    for (int64_t j = 0; j < visible; ++j) row[j] *= scale;
  }
  const float top = row_max(row, visible);  // NaN when a score is: then every weight is NaN, as PyTorch's
  std::fill(row + visible, row + cols, 0.0f);
  if (top == -INFINITY) {
    std::fill(row, row + visible, 0.0f);
    return;
  }
  const float inv = 1.0f / exp_sum(row, visible, top);
  for (int64_t j = 0; j < visible; ++j) row[j] *= inv;
}

// z[j] = the dropout's factor (scale or 0) of keys [0, n) of flat row `row` of probabilities with
// `keys` keys, for a dropout whose offset is that of the call's first batch.
void dropout_factors(float* z, int64_t n, const Backend::Dropout& d, int64_t row, int64_t keys) {
  const uint64_t keys4 = static_cast<uint64_t>((keys + 3) / 4);
  for (int64_t j = 0; j < n; j += 4) {
    const PhiloxWords w = tl_dropout_words(d.seed, d.offset, static_cast<uint64_t>(row), keys4, static_cast<uint64_t>(j / 4));
    for (int64_t l = 0; l < 4 && j + l < n; ++l) z[j + l] = w.x[l] >= d.threshold ? d.scale : 0.0f;
  }
}

// attention for [B, ...] operands (one batch axis), with dropout where `drop` is given.
void attention_3d(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal, float scale,
                  const Backend::Dropout* drop, const Array& out) {
  const int64_t batches = q.shape()[0], len = q.shape()[1], e = q.shape()[2];
  const int64_t keys = k.shape()[1], ev = v.shape()[2];
  // Causal attention works in row blocks so that keys after a block's last query are never scored.
  int64_t rb = causal ? std::min<int64_t>(len, kCausalRows) : len;
  const int64_t nb = std::max<int64_t>(1, kScoreBudget / std::max<int64_t>(rb * keys, 1));
  if (nb == 1) rb = std::min(rb, std::max<int64_t>(1, kScoreBudget / std::max<int64_t>(keys, 1)));
  Scratch sq(0), sk(1), sv(2), ss(3), so(4);

  for (int64_t b0 = 0; b0 < batches; b0 += nb) {
    const int64_t nbc = std::min(nb, batches - b0);
    const Array kb = sub_batch(k, b0, nbc, 0, keys), vb = sub_batch(v, b0, nbc, 0, keys);
    Panel pk = widen(kb, sk.get(panel_floats(kb)));
    const Panel pv = widen(vb, sv.get(panel_floats(vb)));
    pk.trans = !pk.trans;  // used as k^T
    for (int64_t r0 = 0; r0 < len; r0 += rb) {
      const int64_t rows = std::min(rb, len - r0);
      // Causal (top-left aligned, like PyTorch): query i sees keys j <= i, so later keys are skipped.
      const int64_t cols = causal ? std::min(keys, r0 + rows) : keys;
      const Array qb = sub_batch(q, b0, nbc, r0, rows);
      const Panel pq = widen(qb, sq.get(panel_floats(qb)));
      float* scores = ss.get(static_cast<size_t>(nbc * rows * std::max<int64_t>(cols, 1)));
      sgemm_batched(pq, pk, nbc, rows, cols, e, scores);
      parallel_for(nbc * rows, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(cols, 1)), [&](int64_t begin, int64_t end) {
        std::vector<float> z(drop ? static_cast<size_t>(cols) : 0);
        for (int64_t i = begin; i < end; ++i) {
          const int64_t b = b0 + i / rows, r = r0 + i % rows;
          const half* mrow = mask ? mask->data_as<half>() + b * mask->strides()[0] + r * mask->strides()[1] : nullptr;
          float* row = scores + i * cols;
          softmax_row(row, cols, scale, mrow, mask ? mask->strides()[2] : 0, causal ? r + 1 : cols);
          if (drop) {
            dropout_factors(z.data(), cols, *drop, b * len + r, keys);
            for (int64_t j = 0; j < cols; ++j) row[j] *= z[j];
          }
        }
      });
      Panel pp;
      pp.data = scores;
      pp.ld = std::max<int64_t>(cols, 1);
      pp.batch_stride = rows * cols;
      float* result = so.get(static_cast<size_t>(nbc * rows * ev));
      sgemm_batched(pp, pv, nbc, rows, ev, cols, result);
      parallel_for(nbc, 1, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) store_rows(result + i * rows * ev, out, b0 + i, r0, rows);
      });
    }
  }
}

// attention_backward for [B, ...] operands (one batch axis), recomputing the probabilities.
void attention_backward_3d(const Array& q, const Array& k, const Array& v, const Array* mask, const Array& grad,
                           bool causal, float scale, const Backend::Dropout* drop, const Array& dq, const Array& dk,
                           const Array& dv) {
  const int64_t batches = q.shape()[0], len = q.shape()[1], e = q.shape()[2];
  const int64_t keys = k.shape()[1], ev = v.shape()[2];
  const int64_t scores_per_batch = len * keys;
  const int64_t nb = std::max<int64_t>(1, kScoreBudget / std::max<int64_t>(scores_per_batch, 1));
  Scratch sq(0), sk(1), sv(2), sg(3), sp(4), sd(5);
  for (int64_t b0 = 0; b0 < batches; b0 += nb) {
    const int64_t nbc = std::min(nb, batches - b0);
    const Array qb = sub_batch(q, b0, nbc, 0, len), kb = sub_batch(k, b0, nbc, 0, keys);
    const Array vb = sub_batch(v, b0, nbc, 0, keys), gb = sub_batch(grad, b0, nbc, 0, len);
    const Panel pq = widen(qb, sq.get(panel_floats(qb)));
    const Panel pk = widen(kb, sk.get(panel_floats(kb)));
    const Panel pv = widen(vb, sv.get(panel_floats(vb)));
    const Panel pg = widen(gb, sg.get(panel_floats(gb)));
    Panel pkt = pk, pvt = pv;  // K^T and V^T
    pkt.trans = !pk.trans;
    pvt.trans = !pv.trans;
    // p: the probabilities, recomputed as the forward's; then dp = dO V^T becomes dS = P * (dP - rowsum(dP * P))
    // scaled, in place. Both [nbc, len, keys], then the f32 results dq, dk, dv after them.
    const size_t scores = static_cast<size_t>(nbc * scores_per_batch);
    const size_t results = static_cast<size_t>(nbc * (len * e + keys * e + keys * ev));
    float* p = sp.get(scores);
    float* work = sd.get(scores + results);
    float* ds = work;
    float* rq = work + scores;
    float* rk = rq + nbc * len * e;
    float* rv = rk + nbc * keys * e;
    sgemm_batched(pq, pkt, nbc, len, keys, e, p);
    sgemm_batched(pg, pvt, nbc, len, keys, ev, ds);
    // With dropout factors z the output is (P z) V: dP = z (dO V^T), rowsum(dP * P) is unchanged in form,
    // and dV takes P z, so the factors multiply dO V^T before and P after dS is formed.
    parallel_for(nbc * len, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(keys, 1)), [&](int64_t begin, int64_t end) {
      std::vector<float> z(drop ? static_cast<size_t>(keys) : 0);
      for (int64_t i = begin; i < end; ++i) {
        const int64_t b = b0 + i / len, r = i % len;
        const half* mrow = mask ? mask->data_as<half>() + b * mask->strides()[0] + r * mask->strides()[1] : nullptr;
        float* prow = p + i * keys;
        float* drow = ds + i * keys;
        softmax_row(prow, keys, scale, mrow, mask ? mask->strides()[2] : 0, causal ? r + 1 : keys);
        if (drop) {
          dropout_factors(z.data(), keys, *drop, b * len + r, keys);
          for (int64_t j = 0; j < keys; ++j) drow[j] *= z[j];
        }
        float dot = 0.0f;
        for (int64_t j = 0; j < keys; ++j) dot += drow[j] * prow[j];
        for (int64_t j = 0; j < keys; ++j) drow[j] = prow[j] * (drow[j] - dot) * scale;
        if (drop) {
          for (int64_t j = 0; j < keys; ++j) prow[j] *= z[j];
        }
      }
    });
    Panel pp, pds;  // [len, keys] row-major per batch
    pp.data = p;
    pds.data = ds;
    pp.ld = pds.ld = std::max<int64_t>(keys, 1);
    pp.batch_stride = pds.batch_stride = scores_per_batch;
    Panel ppt = pp, pdst = pds;  // P^T and dS^T
    ppt.trans = pdst.trans = true;
    sgemm_batched(pds, pk, nbc, len, e, keys, rq);    // dQ = dS K
    sgemm_batched(pdst, pq, nbc, keys, e, len, rk);   // dK = dS^T Q
    sgemm_batched(ppt, pg, nbc, keys, ev, len, rv);   // dV = P^T dO
    parallel_for(nbc, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        store_rows(rq + i * len * e, dq, b0 + i, 0, len);
        store_rows(rk + i * keys * e, dk, b0 + i, 0, keys);
        store_rows(rv + i * keys * ev, dv, b0 + i, 0, keys);
      }
    });
  }
}

}  // namespace

void CpuBackend::attention(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal, float scale,
                           const Array& out) {
  for_each_batch({&q, &k, &v, mask, &out}, 2, [&](const std::vector<Array>& a) {
    attention_3d(a[0], a[1], a[2], mask ? &a[3] : nullptr, causal, scale, nullptr, a[4]);
  });
}

bool CpuBackend::attention_dropout(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal,
                                   float scale, const Dropout& dropout, const Array& out, const Array* stats) {
  if (stats) return false;  // the CPU keeps no statistics
  int64_t batch = 0;
  for_each_batch({&q, &k, &v, mask, &out}, 2, [&](const std::vector<Array>& a) {
    const Dropout d = dropout.from_batch(batch, q.shape()[2], k.shape()[2]);
    batch += a[0].shape()[0];
    attention_3d(a[0], a[1], a[2], mask ? &a[3] : nullptr, causal, scale, &d, a[4]);
  });
  return true;
}

bool CpuBackend::attention_backward(const Array& q, const Array& k, const Array& v, const Array* mask, const Array& grad,
                                    bool causal, float scale, const AttentionSaved* /*saved*/, const Dropout* dropout,
                                    const Array& dq, const Array& dk, const Array& dv) {
  // `saved` is always null here: the CPU keeps no statistics (attention_keeping_stats declines). One batch's
  // scores must fit the budget (the forward's row blocks have no counterpart here); beyond it the caller's
  // composed backward runs instead.
  if (q.shape()[2] * k.shape()[2] > kScoreBudget) return false;
  int64_t batch = 0;
  for_each_batch({&q, &k, &v, mask, &grad, &dq, &dk, &dv}, 2, [&](const std::vector<Array>& a) {
    const Dropout d = dropout ? dropout->from_batch(batch, q.shape()[2], k.shape()[2]) : Dropout{};
    batch += a[0].shape()[0];
    attention_backward_3d(a[0], a[1], a[2], mask ? &a[3] : nullptr, a[4], causal, scale, dropout ? &d : nullptr, a[5],
                          a[6], a[7]);
  });
  return true;
}

}  // namespace tensorlogic::cpu
