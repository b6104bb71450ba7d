// The reduction kernel family over contiguous [outer, n, inner] f16 data, f32 accumulation throughout.
// Rows (inner == 1) are reduced pairwise over leaves; columns (inner > 1) are accumulated lane-wise across
// rows in blocks of rows. Both use the rule's runtime-dispatched vector kernels (elementwise_simd.h)
// where the CPU has them, else the portable 4-lane forms below. Two-pass ops (var,
// logsumexp, argmax/argmin) first reduce to a per-output centre (mean or max). Work is split over
// outputs and, when there are fewer outputs than threads, over the reduced axis too, with the partials
// combined afterwards.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "../kernels/elementwise.h"
#include "cpu_backend.h"
#include "elementwise_simd.h"
#include "f16_convert.h"
#include "parallel.h"

namespace tensorlogic::cpu {
namespace {

typedef float v4 __attribute__((vector_size(16)));
typedef int32_t i4 __attribute__((vector_size(16)));

constexpr int64_t kChunk = 1024;     // f16 -> f32 conversion block of a row
constexpr int64_t kTile = 256;       // columns per task: a converted block of kRowBlock rows is 64 KiB
constexpr int64_t kLeaf = 4096;      // pairwise-sum leaf size of a row
constexpr int64_t kRowBlock = 64;    // rows per partial when accumulating columns
constexpr int64_t kGrain = 1 << 16;  // elements of work per parallel task, at least: fewer cost less than a hand-over

inline v4 load4(const float* p) {
  v4 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline void store4(float* p, v4 v) { std::memcpy(p, &v, sizeof(v)); }
inline float abs_of(float x) { return std::fabs(x); }
inline v4 abs_of(v4 x) { return (v4)((i4)x & 0x7fffffff); }

// One accumulation rule: step(acc, x, centre) on floats or 4-lane vectors, combine, and an identity.
// sum_pow and sum_exp transform their block first (pow / vectorised exp), then sum. This portable form
// serves the columns and the rows where the CPU has no vector kernel (simd::reduce_kernel).
using Rule = simd::ReduceRule;

template <Rule R>
struct Reducer {
  float p = 2.0f;
  static float identity() {
    if constexpr (R == Rule::prod) return 1.0f;
    if constexpr (R == Rule::max) return -INFINITY;
    if constexpr (R == Rule::min || R == Rule::min_abs) return INFINITY;
    return 0.0f;
  }
  template <class T>
  static T step(T a, T x, T c) {
    if constexpr (R == Rule::prod) return a * x;
    if constexpr (R == Rule::max) return kernels::nan_max(a, x);
    if constexpr (R == Rule::min) return kernels::nan_min(a, x);
    if constexpr (R == Rule::sum_sq) return a + x * x;
    if constexpr (R == Rule::sum_abs) return a + abs_of(x);
    if constexpr (R == Rule::max_abs) return kernels::nan_max(a, abs_of(x));
    if constexpr (R == Rule::min_abs) return kernels::nan_min(a, abs_of(x));
    if constexpr (R == Rule::count_nonzero) return a + (x != T{} ? T{} + 1.0f : T{});
    if constexpr (R == Rule::sum_sq_dev) return a + (x - c) * (x - c);
    return a + x;  // sum, and sum_pow / sum_exp after their transform
  }
  // Max/min rules step without NaN checks in the row loop and track NaNs in a separate lane mask:
  // one maxps per step instead of a compare-and-blend chain.
  static constexpr bool kNanFlag = R == Rule::max || R == Rule::min || R == Rule::max_abs || R == Rule::min_abs;
  template <class T>
  static T fast_step(T a, T x, T c) {
    if constexpr (R == Rule::max) return x > a ? x : a;
    if constexpr (R == Rule::min) return x < a ? x : a;
    if constexpr (R == Rule::max_abs) return abs_of(x) > a ? abs_of(x) : a;
    if constexpr (R == Rule::min_abs) return abs_of(x) < a ? abs_of(x) : a;
    return step(a, x, c);
  }
  static float combine(float a, float b) {
    if constexpr (R == Rule::prod) return a * b;
    if constexpr (R == Rule::max || R == Rule::max_abs) return kernels::nan_max(a, b);
    if constexpr (R == Rule::min || R == Rule::min_abs) return kernels::nan_min(a, b);
    return a + b;
  }
  // In-place transform of a converted block before stepping (sum_pow, sum_exp).
  void transform(float* x, int64_t count, const float* centre, float c) const {
    if constexpr (R == Rule::sum_pow) {
      for (int64_t i = 0; i < count; ++i) x[i] = std::pow(std::fabs(x[i]), p);
    }
    if constexpr (R == Rule::sum_exp) {
      if (centre) {
        for (int64_t i = 0; i < count; ++i) x[i] -= centre[i];
      }
      simd::exp_shifted(x, count, centre ? 0.0f : c);
    }
  }
};

// One leaf (n <= kLeaf) of a row: converted block by block, stepped in 32 independent lanes.
template <Rule R>
__attribute__((noinline)) float reduce_leaf(const Reducer<R>& r, const half* p, int64_t n, float c) {
  using Rd = Reducer<R>;
  constexpr int kAcc = 8;  // 32 lanes: enough independent chains to hide the latency of each step
  const v4 id = v4{} + Rd::identity(), cv = v4{} + c;
  v4 acc[kAcc];
  std::fill(acc, acc + kAcc, id);
  i4 nan = {};
  float x[kChunk], tail = Rd::identity();
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t count = std::min(kChunk, n - i);
    f16_to_f32(p + i, x, count);
    r.transform(x, count, nullptr, c);
    int64_t k = 0;
    for (; k + 4 * kAcc <= count; k += 4 * kAcc) {
      for (int l = 0; l < kAcc; ++l) {
        const v4 v = load4(x + k + 4 * l);
        acc[l] = Rd::fast_step(acc[l], v, cv);
        if constexpr (Rd::kNanFlag) nan |= v != v;
      }
    }
    for (; k < count; ++k) tail = Rd::step(tail, x[k], c);
  }
  float lanes[4 * kAcc];
  std::memcpy(lanes, acc, sizeof(lanes));
  for (int w = 2 * kAcc; w >= 1; w /= 2) {
    for (int l = 0; l < w; ++l) lanes[l] = Rd::combine(lanes[l], lanes[l + w]);
  }
  if constexpr (Rd::kNanFlag) {
    if (nan[0] | nan[1] | nan[2] | nan[3]) return __builtin_nanf("");
  }
  return Rd::combine(lanes[0], tail);
}

// Pairwise reduction of one contiguous row segment over leaves of at most kLeaf elements; the leaves use
// the rule's vector kernel (fused f16 load + step) where there is one. The halves are reduced in address order, in separate
// statements: as the two arguments of one call the compiler may evaluate the upper half first, and leaves
// visited in descending order ran 2.8x slower (the hardware prefetchers follow ascending streams).
template <Rule R>
float reduce_row(const Reducer<R>& r, const half* p, int64_t n, float c, simd::ReduceKernel kernel) {
  if (n > kLeaf) {
    const int64_t half_n = (n / 2 + kChunk - 1) / kChunk * kChunk;
    const float low = reduce_row(r, p, half_n, c, kernel);
    const float high = reduce_row(r, p + half_n, n - half_n, c, kernel);
    return Reducer<R>::combine(low, high);
  }
  return kernel ? kernel(p, n, c) : reduce_leaf(r, p, n, c);
}

template <Rule R>
float reduce_row(const Reducer<R>& r, const half* p, int64_t n, float c) {
  return reduce_row(r, p, n, c, simd::reduce_kernel(R));
}

// Column reduction of rows [j0, j1) of one outer slice, for inner positions [i0, i0 + width), by blocks
// of kRowBlock rows whose results are combined into acc. Portable form: a block is converted to f32, then
// each strip of 32 columns accumulates down it in registers.
template <Rule R>
void reduce_columns(const Reducer<R>& r, const half* p, int64_t inner, int64_t j0, int64_t j1, int64_t i0,
                    int64_t width, const float* centre, float* acc) {
  using Rd = Reducer<R>;
  std::fill(acc, acc + width, Rd::identity());
  if (const simd::ColumnKernel kernel = simd::column_kernel(R)) {  // fused f16 loads, wide vectors
    for (int64_t j = j0; j < j1; j += kRowBlock) {
      kernel(p + j * inner + i0, inner, std::min(j1 - j, kRowBlock), width, centre, acc);
    }
    return;
  }
  constexpr int kStrip = 8;  // v4 registers per strip
  std::vector<float> block(static_cast<size_t>(kRowBlock * width));
  const float* step_centre = R == Rule::sum_exp ? nullptr : centre;
  for (int64_t j = j0; j < j1; j += kRowBlock) {
    const int64_t rows = std::min(j1 - j, kRowBlock);
    for (int64_t k = 0; k < rows; ++k) {
      float* x = block.data() + k * width;
      f16_to_f32(p + (j + k) * inner + i0, x, width);
      r.transform(x, width, centre, 0.0f);
    }
    int64_t s = 0;
    for (; s + 4 * kStrip <= width; s += 4 * kStrip) {
      v4 a[kStrip], c[kStrip];
      for (int l = 0; l < kStrip; ++l) {
        a[l] = v4{} + Rd::identity();
        c[l] = step_centre ? load4(step_centre + s + 4 * l) : v4{};
      }
      i4 nan[kStrip] = {};
      for (int64_t k = 0; k < rows; ++k) {
        const float* x = block.data() + k * width + s;
        for (int l = 0; l < kStrip; ++l) {
          const v4 v = load4(x + 4 * l);
          a[l] = Rd::fast_step(a[l], v, c[l]);
          if constexpr (Rd::kNanFlag) nan[l] |= v != v;
        }
      }
      for (int l = 0; l < kStrip; ++l) {
        if constexpr (Rd::kNanFlag) a[l] = nan[l] ? v4{} + __builtin_nanf("") : a[l];
        for (int e = 0; e < 4; ++e) acc[s + 4 * l + e] = Rd::combine(acc[s + 4 * l + e], a[l][e]);
      }
    }
    for (; s < width; ++s) {
      float a = Rd::identity();
      const float c = step_centre ? step_centre[s] : 0.0f;
      for (int64_t k = 0; k < rows; ++k) a = Rd::step(a, block[k * width + s], c);
      acc[s] = Rd::combine(acc[s], a);
    }
  }
}

// Reduces every output of [outer, n, inner] into result[outer * inner] (f32), in parallel.
template <Rule R>
void reduce_all(const Reducer<R>& r, const half* in, int64_t outer, int64_t n, int64_t inner, const float* centre,
                float* result) {
  const int64_t tiles = (inner + kTile - 1) / kTile;
  const int64_t outputs = outer * tiles;
  // Split the reduced axis only when the outputs alone cannot keep the threads busy.
  int64_t splits = 1;
  if (outputs < num_threads() && n * std::min(inner, kTile) >= 2 * kGrain) {
    splits = std::min<int64_t>(num_threads() * 4, n / std::max<int64_t>(1, kGrain / std::min(inner, kTile)));
    splits = std::max<int64_t>(1, splits);
  }
  const int64_t per = (n + splits - 1) / splits;
  std::vector<float> partial(static_cast<size_t>(splits > 1 ? outputs * splits * (inner == 1 ? 1 : kTile) : 0));
  const int64_t task_cost = std::max<int64_t>(1, n * std::min(inner, kTile) / splits);
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
        const int64_t i0 = tile * kTile, width = std::min(kTile, inner - i0);
        const float* c = centre ? centre + o * inner + i0 : nullptr;
        float* dst = splits > 1 ? partial.data() + t * kTile : result + o * inner + i0;
        reduce_columns(r, base, inner, j0, j1, i0, width, c, dst);
      }
    }
  });
  if (splits == 1) return;
  for (int64_t u = 0; u < outputs; ++u) {
    const int64_t o = u / tiles, tile = u % tiles;
    const int64_t width = inner == 1 ? 1 : std::min(kTile, inner - tile * kTile);
    const int64_t stride = inner == 1 ? 1 : kTile;
    float* dst = result + o * inner + tile * kTile;
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

// First index along n holding the extreme. The extreme is an f16 value, so the scan compares bit
// patterns: exactly, except that +0 and -0 match each other and any NaN matches a NaN extreme.
void arg_index(const half* in, int64_t outer, int64_t n, int64_t inner, const std::vector<float>& extreme,
               int32_t* out) {
  parallel_for(outer * inner, std::max<int64_t>(1, kGrain / n), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const half* p = in + (t / inner) * n * inner + t % inner;
      const uint16_t target = to_half(extreme[t]).bits;
      const uint16_t magnitude = target & 0x7fffu;
      int64_t j = 0;
      if (magnitude > 0x7c00u) {
        while (j < n && (p[j * inner].bits & 0x7fffu) <= 0x7c00u) ++j;
      } else if (magnitude == 0) {
        while (j < n && (p[j * inner].bits & 0x7fffu) != 0) ++j;
      } else {
        while (j < n && p[j * inner].bits != target) ++j;
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
