// The reduction kernel family over contiguous [outer, n, inner] f16 data, f32 accumulation throughout.
// Rows (inner == 1) are summed pairwise over blocks with 16 independent lanes; columns (inner > 1) are
// accumulated lane-wise across rows in blocks. Two-pass ops (var, logsumexp, argmax/argmin) first
// reduce to a per-output centre (mean or max). Work is split over outputs and, when there are fewer
// outputs than threads, over the reduced axis too, with the partials combined afterwards.
#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu_backend.h"
#include "f16_convert.h"
#include "parallel.h"
#include "vec_base.h"


namespace tensorlogic::cpu {
namespace {

constexpr int kLanes = 16;
constexpr int64_t kChunk = 256;        // f16 -> f32 conversion block
constexpr int64_t kLeaf = 4096;        // pairwise-sum leaf size of a row
constexpr int64_t kRowBlock = 64;      // rows per partial when accumulating columns
constexpr int64_t kGrain = 1 << 14;    // elements of work per parallel task, at least

inline float nan_max(float a, float b) { return (a > b || a != a) ? a : b; }
inline float nan_min(float a, float b) { return (a < b || a != a) ? a : b; }

// One accumulation rule: step(acc, x, centre) and combine(acc, acc), with an identity.
enum class Rule { sum, prod, max, min, sum_sq, sum_abs, max_abs, min_abs, count_nonzero, sum_pow, sum_sq_dev, sum_exp };

template <Rule R>
struct Reducer {
  float p = 2.0f;
  static float identity() {
    if constexpr (R == Rule::prod) return 1.0f;
    if constexpr (R == Rule::max) return -INFINITY;
    if constexpr (R == Rule::min || R == Rule::min_abs) return INFINITY;
    return 0.0f;
  }
  float step(float a, float x, float c) const {
    if constexpr (R == Rule::sum) return a + x;
    if constexpr (R == Rule::prod) return a * x;
    if constexpr (R == Rule::max) return nan_max(a, x);
    if constexpr (R == Rule::min) return nan_min(a, x);
    if constexpr (R == Rule::sum_sq) return a + x * x;
    if constexpr (R == Rule::sum_abs) return a + std::fabs(x);
    if constexpr (R == Rule::max_abs) return nan_max(a, std::fabs(x));
    if constexpr (R == Rule::min_abs) return nan_min(a, std::fabs(x));
    if constexpr (R == Rule::count_nonzero) return a + (x != 0.0f ? 1.0f : 0.0f);
    if constexpr (R == Rule::sum_pow) return a + std::pow(std::fabs(x), p);
    if constexpr (R == Rule::sum_sq_dev) return a + (x - c) * (x - c);
    return a;  // sum_exp is handled on whole blocks (vectorised exp)
  }
  static float combine(float a, float b) {
    if constexpr (R == Rule::prod) return a * b;
    if constexpr (R == Rule::max || R == Rule::max_abs) return nan_max(a, b);
    if constexpr (R == Rule::min || R == Rule::min_abs) return nan_min(a, b);
    return a + b;
  }
  // Applies the rule to a converted f32 block.
  void block(float* lanes, float* x, int64_t count, float c) const {
    if constexpr (R == Rule::sum_exp) {
      int64_t i = 0;
      for (; i + vec::kLanes <= count; i += vec::kLanes) vec::store(x + i, vec::exp(vec::load(x + i) - c));
      for (; i < count; ++i) x[i] = std::exp(x[i] - c);
      for (i = 0; i < count; ++i) lanes[i % kLanes] += x[i];
    } else {
      int64_t i = 0;
      for (; i + kLanes <= count; i += kLanes) {
        for (int l = 0; l < kLanes; ++l) lanes[l] = step(lanes[l], x[i + l], c);
      }
      for (; i < count; ++i) lanes[0] = step(lanes[0], x[i], c);
    }
  }
};

// Pairwise reduction of one contiguous row segment.
template <Rule R>
float reduce_row(const Reducer<R>& r, const half* p, int64_t n, float c) {
  if (n > kLeaf) {
    const int64_t half_n = (n / 2 + kChunk - 1) / kChunk * kChunk;
    return Reducer<R>::combine(reduce_row(r, p, half_n, c), reduce_row(r, p + half_n, n - half_n, c));
  }
  float lanes[kLanes], x[kChunk];
  std::fill(lanes, lanes + kLanes, Reducer<R>::identity());
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t count = std::min(kChunk, n - i);
    f16_to_f32(p + i, x, count);
    r.block(lanes, x, count, c);
  }
  for (int w = kLanes / 2; w >= 1; w /= 2) {
    for (int l = 0; l < w; ++l) lanes[l] = Reducer<R>::combine(lanes[l], lanes[l + w]);
  }
  return lanes[0];
}

// Column reduction of rows [j0, j1) of one outer slice, for inner positions [i0, i0 + width).
template <Rule R>
void reduce_columns(const Reducer<R>& r, const half* p, int64_t inner, int64_t j0, int64_t j1, int64_t i0,
                    int64_t width, const float* centre, float* acc) {
  float part[kChunk], x[kChunk];
  std::fill(acc, acc + width, Reducer<R>::identity());
  for (int64_t j = j0; j < j1; j += kRowBlock) {
    std::fill(part, part + width, Reducer<R>::identity());
    for (int64_t k = j; k < std::min(j1, j + kRowBlock); ++k) {
      f16_to_f32(p + k * inner + i0, x, width);
      if constexpr (R == Rule::sum_exp) {
        for (int64_t i = 0; i < width; ++i) x[i] -= centre[i];
        int64_t i = 0;
        for (; i + vec::kLanes <= width; i += vec::kLanes) vec::store(x + i, vec::exp(vec::load(x + i)));
        for (; i < width; ++i) x[i] = std::exp(x[i]);
        for (i = 0; i < width; ++i) part[i] += x[i];
      } else if (centre) {
        for (int64_t i = 0; i < width; ++i) part[i] = r.step(part[i], x[i], centre[i]);
      } else {
        for (int64_t i = 0; i < width; ++i) part[i] = r.step(part[i], x[i], 0.0f);
      }
    }
    for (int64_t i = 0; i < width; ++i) acc[i] = Reducer<R>::combine(acc[i], part[i]);
  }
}

// Reduces every output of [outer, n, inner] into result[outer * inner] (f32), in parallel.
template <Rule R>
void reduce_all(const Reducer<R>& r, const half* in, int64_t outer, int64_t n, int64_t inner, const float* centre,
                float* result) {
  const int64_t tiles = (inner + kChunk - 1) / kChunk;
  const int64_t outputs = outer * tiles;
  // Split the reduced axis only when the outputs alone cannot keep the threads busy.
  int64_t splits = 1;
  if (outputs < num_threads() && n * std::min(inner, kChunk) >= 2 * kGrain) {
    splits = std::min<int64_t>(num_threads() * 4, n / std::max<int64_t>(1, kGrain / std::min(inner, kChunk)));
    splits = std::max<int64_t>(1, splits);
  }
  const int64_t per = (n + splits - 1) / splits;
  std::vector<float> partial(static_cast<size_t>(splits > 1 ? outputs * splits * (inner == 1 ? 1 : kChunk) : 0));
  const int64_t task_cost = std::max<int64_t>(1, n * std::min(inner, kChunk) / splits);
  parallel_for(outputs * splits, std::max<int64_t>(1, kGrain / task_cost), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t s = t % splits, o = (t / splits) / tiles, tile = (t / splits) % tiles;
      const int64_t j0 = s * per, j1 = std::min(n, j0 + per);
      const half* base = in + o * n * inner;
      if (inner == 1) {
        const float c = centre ? centre[o] : 0.0f;
        const float v = j1 > j0 ? reduce_row(r, base + j0, j1 - j0, c) : Reducer<R>::identity();
        (splits > 1 ? partial[t] : result[o]) = v;
      } else {
        const int64_t i0 = tile * kChunk, width = std::min(kChunk, inner - i0);
        const float* c = centre ? centre + o * inner + i0 : nullptr;
        float* dst = splits > 1 ? partial.data() + t * kChunk : result + o * inner + i0;
        reduce_columns(r, base, inner, j0, j1, i0, width, c, dst);
      }
    }
  });
  if (splits == 1) return;
  for (int64_t u = 0; u < outputs; ++u) {
    const int64_t o = u / tiles, tile = u % tiles;
    const int64_t width = inner == 1 ? 1 : std::min(kChunk, inner - tile * kChunk);
    const int64_t stride = inner == 1 ? 1 : kChunk;
    float* dst = result + o * inner + tile * kChunk;
    for (int64_t i = 0; i < width; ++i) {
      float v = partial[u * splits * stride + i];
      for (int64_t s = 1; s < splits; ++s) v = Reducer<R>::combine(v, partial[(u * splits + s) * stride + i]);
      dst[i] = v;
    }
  }
}

template <Rule R>
std::vector<float> run(const half* in, int64_t outer, int64_t n, int64_t inner, const float* centre = nullptr,
                       float p = 2.0f) {
  std::vector<float> result(static_cast<size_t>(outer * inner));
  Reducer<R> r;
  r.p = p;
  reduce_all(r, in, outer, n, inner, centre, result.data());
  return result;
}

// First index along n where the value equals the extreme (or is NaN when the extreme is NaN).
void arg_index(const half* in, int64_t outer, int64_t n, int64_t inner, const std::vector<float>& extreme,
               int32_t* out) {
  parallel_for(outer * inner, std::max<int64_t>(1, kGrain / n), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t o = t / inner, i = t % inner;
      const half* p = in + o * n * inner + i;
      const float m = extreme[t];
      int64_t j = 0;
      if (m != m) {
        while (j < n && to_float(p[j * inner]) == to_float(p[j * inner])) ++j;
      } else {
        while (j < n && to_float(p[j * inner]) != m) ++j;
      }
      out[t] = static_cast<int32_t>(j);
    }
  });
}

}  // namespace

void CpuBackend::reduce(ReduceOp op, const Array& in, int64_t outer, int64_t n, int64_t inner, const Array& out,
                        const ReduceParams& params) {
  const half* x = in.data_as<half>();
  const float count = static_cast<float>(n);
  std::vector<float> v;
  switch (op) {
    case ReduceOp::sum: v = run<Rule::sum>(x, outer, n, inner); break;
    case ReduceOp::prod: v = run<Rule::prod>(x, outer, n, inner); break;
    case ReduceOp::max: v = run<Rule::max>(x, outer, n, inner); break;
    case ReduceOp::min: v = run<Rule::min>(x, outer, n, inner); break;
    case ReduceOp::mean:
      v = run<Rule::sum>(x, outer, n, inner);
      for (float& s : v) s /= count;
      break;
    case ReduceOp::argmax:
    case ReduceOp::argmin: {
      const std::vector<float> m = op == ReduceOp::argmax ? run<Rule::max>(x, outer, n, inner)
                                                          : run<Rule::min>(x, outer, n, inner);
      arg_index(x, outer, n, inner, m, out.data_as<int32_t>());
      return;
    }
    case ReduceOp::var: {
      std::vector<float> mean = run<Rule::sum>(x, outer, n, inner);
      for (float& s : mean) s /= count;
      v = run<Rule::sum_sq_dev>(x, outer, n, inner, mean.data());
      const float denom = static_cast<float>(std::max(0.0, static_cast<double>(n) - params.correction));
      for (float& s : v) s /= denom;
      break;
    }
    case ReduceOp::logsumexp: {
      std::vector<float> m = run<Rule::max>(x, outer, n, inner);
      // An infinite or NaN maximum is the answer itself; centre at 0 so exp sees finite values.
      std::vector<float> centre(m);
      for (float& c : centre) c = std::isfinite(c) ? c : 0.0f;
      v = run<Rule::sum_exp>(x, outer, n, inner, centre.data());
      for (size_t k = 0; k < v.size(); ++k) v[k] = std::isfinite(m[k]) ? m[k] + std::log(v[k]) : m[k];
      break;
    }
    case ReduceOp::norm: {
      const double p = params.p;
      if (p == 2.0) {
        v = run<Rule::sum_sq>(x, outer, n, inner);
        for (float& s : v) s = std::sqrt(s);
      } else if (p == 1.0) {
        v = run<Rule::sum_abs>(x, outer, n, inner);
      } else if (std::isinf(p)) {
        v = p > 0 ? run<Rule::max_abs>(x, outer, n, inner) : run<Rule::min_abs>(x, outer, n, inner);
      } else if (p == 0.0) {
        v = run<Rule::count_nonzero>(x, outer, n, inner);
      } else {
        v = run<Rule::sum_pow>(x, outer, n, inner, nullptr, static_cast<float>(p));
        for (float& s : v) s = std::pow(s, static_cast<float>(1.0 / p));
      }
      break;
    }
  }
  f32_to_f16(v.data(), out.data_as<half>(), static_cast<int64_t>(v.size()));
}

}  // namespace tensorlogic::cpu
