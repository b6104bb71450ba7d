// Fused scaled dot-product attention: per chunk of (batch, query rows), scores, mask, softmax and the
// product with V stay in f32 and the result is rounded to f16 once.
#include <algorithm>
#include <cmath>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

#include "blas.h"
#include "cpu_backend.h"
#include "f16_convert.h"
#include "parallel.h"

namespace tensorlogic::cpu {
namespace {

constexpr int64_t kScoreBudget = int64_t{1} << 22;  // f32 scores held per chunk (16 MiB)
constexpr int64_t kCausalRows = 128;

Array sub_batch(const Array& a, int64_t b0, int64_t nb, int64_t r0, int64_t rows) {
  return a.view_as({nb, rows, a.shape()[2]}, a.strides(), a.offset() + b0 * a.strides()[0] + r0 * a.strides()[1]);
}

#if defined(__x86_64__) || defined(_M_X64)
// exp(x - shift) for a row, returning the sum (Cephes expf polynomial, ~1 ulp of f32; NaN propagates).
__attribute__((target("avx2,fma"))) float exp_sum_avx2(float* row, int64_t n, float shift) {
  const __m256 hi = _mm256_set1_ps(88.3762626647949f), lo = _mm256_set1_ps(-88.3762626647949f);
  const __m256 vshift = _mm256_set1_ps(shift), one = _mm256_set1_ps(1.0f);
  __m256 acc = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 x = _mm256_sub_ps(_mm256_loadu_ps(row + j), vshift);
    x = _mm256_min_ps(hi, _mm256_max_ps(lo, x));  // operand order keeps NaN
    const __m256 fx = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f)));
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
    __m256 y = _mm256_set1_ps(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
    y = _mm256_add_ps(_mm256_fmadd_ps(y, _mm256_mul_ps(x, x), x), one);
    const __m256i scale = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(fx), _mm256_set1_epi32(127)), 23);
    y = _mm256_mul_ps(y, _mm256_castsi256_ps(scale));
    _mm256_storeu_ps(row + j, y);
    acc = _mm256_add_ps(acc, y);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, acc);
  float total = 0.0f;
  for (float v : lanes) total += v;
  for (; j < n; ++j) {
    row[j] = std::exp(row[j] - shift);
    total += row[j];
  }
  return total;
}
const bool has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif

float exp_sum(float* row, int64_t n, float shift) {
#if defined(__x86_64__) || defined(_M_X64)
  if (has_avx2) return exp_sum_avx2(row, n, shift);
#endif
  float total = 0.0f;
  for (int64_t j = 0; j < n; ++j) {
    row[j] = std::exp(row[j] - shift);
    total += row[j];
  }
  return total;
}

// Scales, masks and normalises one row of scores in place. A row with every key masked gets zero
// weights (PyTorch's safe softmax), so its output is zero rather than NaN.
void softmax_row(float* row, int64_t cols, float scale, const half* mask, int64_t mask_stride, int64_t visible) {
  visible = std::min(visible, cols);
  if (mask) {
    for (int64_t j = 0; j < visible; ++j) row[j] = row[j] * scale + to_float(mask[j * mask_stride]);
  } else {
    for (int64_t j = 0; j < visible; ++j) row[j] *= scale;
  }
  float top = -INFINITY;
  for (int64_t j = 0; j < visible; ++j) top = std::max(top, row[j]);
  std::fill(row + visible, row + cols, 0.0f);
  if (top == -INFINITY) {
    std::fill(row, row + visible, 0.0f);
    return;
  }
  const float inv = 1.0f / exp_sum(row, visible, top);
  for (int64_t j = 0; j < visible; ++j) row[j] *= inv;
}

}  // namespace

void CpuBackend::attention(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal, float scale,
                           const Array& out) {
  const int64_t batches = q.shape()[0], len = q.shape()[1], e = q.shape()[2];
  const int64_t keys = k.shape()[1], ev = v.shape()[2];
  // Causal attention works in row blocks so that keys after a block's last query are never scored.
  int64_t rb = causal ? std::min<int64_t>(len, kCausalRows) : len;
  const int64_t nb = std::max<int64_t>(1, kScoreBudget / std::max<int64_t>(rb * keys, 1));
  if (nb == 1) rb = std::min(rb, std::max<int64_t>(1, kScoreBudget / std::max<int64_t>(keys, 1)));
  Scratch sq(0), sk(1), sv(2), ss(3), so(4);
  half* dst = out.data_as<half>();

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
        for (int64_t i = begin; i < end; ++i) {
          const int64_t b = b0 + i / rows, r = r0 + i % rows;
          const half* mrow = mask ? mask->data_as<half>() + b * mask->strides()[0] + r * mask->strides()[1] : nullptr;
          softmax_row(scores + i * cols, cols, scale, mrow, mask ? mask->strides()[2] : 0, causal ? r + 1 : cols);
        }
      });
      Panel pp;
      pp.data = scores;
      pp.ld = std::max<int64_t>(cols, 1);
      pp.batch_stride = rows * cols;
      float* result = so.get(static_cast<size_t>(nbc * rows * ev));
      sgemm_batched(pp, pv, nbc, rows, ev, cols, result);
      parallel_for(nbc, 1, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          f32_to_f16(result + i * rows * ev, dst + ((b0 + i) * len + r0) * ev, rows * ev);
        }
      });
    }
  }
}

}  // namespace tensorlogic::cpu
