// Double-precision host references for the CUDA kernel checks.
#include "reference.h"

#include <cmath>
#include <limits>

namespace ref {

using tensorlogic::Activation;
using tensorlogic::ReduceOp;

Vec reduce(ReduceOp op, const Vec& x, int64_t outer, int64_t n, int64_t inner, double p, double correction) {
  Vec out(outer * inner);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t k) { return x[(o * n + k) * inner + i]; };
      double r = 0.0;
      switch (op) {
        case ReduceOp::sum: case ReduceOp::mean:
          for (int64_t k = 0; k < n; ++k) r += at(k);
          if (op == ReduceOp::mean) r /= n;
          break;
        case ReduceOp::prod:
          r = 1.0;
          for (int64_t k = 0; k < n; ++k) r *= at(k);
          break;
        case ReduceOp::max: case ReduceOp::argmax: case ReduceOp::min: case ReduceOp::argmin: {
          const bool mx = op == ReduceOp::max || op == ReduceOp::argmax;
          int64_t best = 0;
          for (int64_t k = 1; k < n; ++k) {
            if (mx ? at(k) > at(best) : at(k) < at(best)) best = k;
          }
          r = (op == ReduceOp::argmax || op == ReduceOp::argmin) ? static_cast<double>(best) : at(best);
          break;
        }
        case ReduceOp::var: {
          double mean = 0.0;
          for (int64_t k = 0; k < n; ++k) mean += at(k);
          mean /= n;
          for (int64_t k = 0; k < n; ++k) r += (at(k) - mean) * (at(k) - mean);
          r /= std::max(0.0, n - correction);
          break;
        }
        case ReduceOp::logsumexp: {
          double m = -INFINITY;
          for (int64_t k = 0; k < n; ++k) m = std::max(m, at(k));
          for (int64_t k = 0; k < n; ++k) r += std::exp(at(k) - m);
          r = m + std::log(r);
          break;
        }
        case ReduceOp::norm:
          if (std::isinf(p)) {
            for (int64_t k = 0; k < n; ++k) r = std::max(r, std::fabs(at(k)));
          } else {
            for (int64_t k = 0; k < n; ++k) r += std::pow(std::fabs(at(k)), p);
            r = std::pow(r, 1.0 / p);
          }
          break;
      }
      out[o * inner + i] = r;
    }
  }
  return out;
}

Vec softmax(const Vec& x, int64_t outer, int64_t n, int64_t inner, bool log) {
  Vec out(x.size());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      auto idx = [&](int64_t k) { return (o * n + k) * inner + i; };
      double m = -INFINITY, s = 0.0;
      for (int64_t k = 0; k < n; ++k) m = std::max(m, x[idx(k)]);
      for (int64_t k = 0; k < n; ++k) s += std::exp(x[idx(k)] - m);
      for (int64_t k = 0; k < n; ++k) out[idx(k)] = log ? x[idx(k)] - m - std::log(s) : std::exp(x[idx(k)] - m) / s;
    }
  }
  return out;
}

Vec norm(bool rms, const Vec& x, int64_t rows, int64_t n, const Vec* w, const Vec* b, double eps) {
  Vec out(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    const double* row = x.data() + r * n;
    double mean = 0.0, q = 0.0;
    if (!rms) {
      for (int64_t k = 0; k < n; ++k) mean += row[k];
      mean /= n;
    }
    for (int64_t k = 0; k < n; ++k) q += (row[k] - mean) * (row[k] - mean);
    const double inv = 1.0 / std::sqrt(q / n + eps);
    for (int64_t k = 0; k < n; ++k) {
      double y = (row[k] - mean) * inv;
      if (w) y *= (*w)[k];
      if (b && !rms) y += (*b)[k];
      out[r * n + k] = y;
    }
  }
  return out;
}

double activation(Activation act, double v) {
  switch (act) {
    case Activation::relu: return v > 0 ? v : 0.0;
    case Activation::gelu: return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
    case Activation::gelu_tanh: return 0.5 * v * (1.0 + std::tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
    case Activation::silu: return v / (1.0 + std::exp(-v));
    default: return v;
  }
}

Vec gemm(const Vec& a, const Vec& b, int64_t batch, int64_t m, int64_t n, int64_t k, const Vec* bias,
         const Vec* residual, Activation act) {
  Vec out(batch * m * n);
  for (int64_t z = 0; z < batch; ++z) {
    for (int64_t i = 0; i < m; ++i) {
      double* row = out.data() + (z * m + i) * n;
      for (int64_t j = 0; j < n; ++j) row[j] = 0.0;
      for (int64_t t = 0; t < k; ++t) {
        const double av = a[(z * m + i) * k + t];
        const double* brow = b.data() + (z * k + t) * n;
        for (int64_t j = 0; j < n; ++j) row[j] += av * brow[j];
      }
      for (int64_t j = 0; j < n; ++j) {
        double v = row[j];
        if (bias) v += (*bias)[j];
        if (residual) v += (*residual)[(z * m + i) * n + j];
        row[j] = activation(act, v);
      }
    }
  }
  return out;
}

}  // namespace ref
