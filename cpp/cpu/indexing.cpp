// Indexing kernels: strided blocks moved to or from precomputed element offsets (see backend.h).
#include <algorithm>
#include <cstring>

#include "../core/strided.h"
#include "cpu_backend.h"
#include "f16_convert.h"
#include "parallel.h"

namespace tensorlogic::cpu {
namespace {

constexpr int64_t kGrain = 1 << 16;  // elements per parallel chunk: a copy of fewer costs less than handing it over

// Integer sums wrap (never UB); a bool sum is `or`, as PyTorch's bool addition.
template <typename T>
inline T add_wrapping(T a, T b) {
  if constexpr (std::is_same_v<T, bool>) {
    return a || b;
  } else {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
  }
}

// One indexed block: operand 0 walks it inside the indexed array (from an offset), operand 1 its packed copy.
Layout<2> block_layout(const Array& indexed) {
  const Strides packed = contiguous_strides(indexed.shape());
  return Layout<2>(indexed.shape(), {&indexed.strides(), &packed});
}

template <typename T>
void gather_typed(const Array& src, const std::vector<int64_t>& offsets, const Array& out) {
  const Layout<2> layout = block_layout(src);
  const int64_t block = layout.numel;
  const T* in = src.data_as<T>();
  T* dst = out.data_as<T>();
  const int64_t n = static_cast<int64_t>(offsets.size());
  const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(block, 1));
  parallel_for(n, grain, [&](int64_t begin, int64_t end) {
    if (block == 1) {
      for (int64_t b = begin; b < end; ++b) dst[b] = in[offsets[b]];
    } else if (layout.contiguous(0)) {
      for (int64_t b = begin; b < end; ++b) {
        std::memcpy(dst + b * block, in + offsets[b], static_cast<size_t>(block) * sizeof(T));
      }
    } else {
      const int64_t s = layout.inner_stride(0);
      for (int64_t b = begin; b < end; ++b) {
        const T* base = in + offsets[b];
        T* o = dst + b * block;
        layout.for_each_run(0, block, [&](const std::array<int64_t, 2>& off, int64_t count) {
          for (int64_t i = 0; i < count; ++i) o[off[1] + i] = base[off[0] + i * s];
        });
      }
    }
  });
}

// The rows case of scatter_add_f16 (an embedding's backward): contiguous blocks whose distinct offsets lie
// at least a block apart, so each destination row sums in one f32 row, its values added in their order.
// False (nothing written) when the blocks overlap.
bool scatter_add_f16_rows(const half* in, const std::vector<int64_t>& offsets, int64_t block, half* out) {
  std::vector<int64_t> order(offsets.size());
  for (size_t b = 0; b < order.size(); ++b) order[b] = static_cast<int64_t>(b);
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return offsets[x] < offsets[y]; });
  for (size_t i = 1; i < order.size(); ++i) {
    const int64_t gap = offsets[order[i]] - offsets[order[i - 1]];
    if (gap != 0 && gap < block) return false;
  }
  std::vector<float> row(static_cast<size_t>(block));
  for (size_t i = 0; i < order.size();) {
    half* dst = out + offsets[order[i]];
    f16_to_f32(dst, row.data(), block);
    size_t j = i;
    for (; j < order.size() && offsets[order[j]] == offsets[order[i]]; ++j) {
      add_f16_row(row.data(), block, in + order[j] * block, 1);
    }
    f32_to_f16(row.data(), dst, block);
    i = j;
  }
  return true;
}

// float16 accumulation: every touched element sums in f32 and is rounded once at the end (one rounding
// per op, however often a position repeats).
void scatter_add_f16(const Array& values, const std::vector<int64_t>& offsets, const Array& dst) {
  const Layout<2> layout = block_layout(dst);
  const int64_t block = layout.numel;
  if (block > 1 && layout.contiguous(0) &&
      scatter_add_f16_rows(values.data_as<half>(), offsets, block, dst.data_as<half>())) {
    return;
  }
  int64_t extent = 1;  // elements spanned by one block
  for (int d = 0; d < dst.ndim(); ++d) extent += (dst.shape()[d] - 1) * dst.strides()[d];
  const auto [lo_it, hi_it] = std::minmax_element(offsets.begin(), offsets.end());
  const int64_t lo = *lo_it, span = *hi_it + extent - lo;
  std::vector<float> sums(span);
  std::vector<uint8_t> touched(span, 0);
  const half* in = values.data_as<half>();
  half* out = dst.data_as<half>() + lo;
  const int64_t s = layout.inner_stride(0);
  if (block == 1) {
    for (size_t b = 0; b < offsets.size(); ++b) {
      const int64_t pos = offsets[b] - lo;
      if (!touched[pos]) {
        touched[pos] = 1;
        sums[pos] = to_float(out[pos]);
      }
      sums[pos] += to_float(in[b]);
    }
  }
  for (size_t b = 0; block > 1 && b < offsets.size(); ++b) {
    const half* v = in + static_cast<int64_t>(b) * block;
    const int64_t base = offsets[b] - lo;
    layout.for_each_run(0, block, [&](const std::array<int64_t, 2>& off, int64_t count) {
      for (int64_t i = 0; i < count; ++i) {
        const int64_t pos = base + off[0] + i * s;
        if (!touched[pos]) {
          touched[pos] = 1;
          sums[pos] = to_float(out[pos]);
        }
        sums[pos] += to_float(v[off[1] + i]);
      }
    });
  }
  for (int64_t pos = 0; pos < span; ++pos) {
    if (touched[pos]) out[pos] = to_half(sums[pos]);
  }
}

template <typename T>
void scatter_typed(const Array& values, const std::vector<int64_t>& offsets, const Array& dst, bool accumulate) {
  const Layout<2> layout = block_layout(dst);
  const int64_t block = layout.numel;
  const T* in = values.data_as<T>();
  T* out = dst.data_as<T>();
  const int64_t n = static_cast<int64_t>(offsets.size());
  const int64_t s = layout.inner_stride(0);
  // Offsets may repeat, so blocks are written in order of b (the last write wins); large blocks are
  // split across threads.
  if (block == 1) {
    for (int64_t b = 0; b < n; ++b) {
      if constexpr (!std::is_same_v<T, half>) {
        out[offsets[b]] = accumulate ? add_wrapping(out[offsets[b]], in[b]) : in[b];
      } else {
        out[offsets[b]] = in[b];
      }
    }
    return;
  }
  for (int64_t b = 0; b < n; ++b) {
    T* base = out + offsets[b];
    const T* v = in + b * block;
    parallel_for(block, kGrain, [&](int64_t begin, int64_t end) {
      layout.for_each_run(begin, end, [&](const std::array<int64_t, 2>& off, int64_t count) {
        T* d = base + off[0];
        const T* x = v + off[1];
        for (int64_t i = 0; i < count; ++i) {
          if constexpr (!std::is_same_v<T, half>) {
            d[i * s] = accumulate ? add_wrapping(d[i * s], x[i]) : x[i];
          } else {
            d[i * s] = x[i];
          }
        }
      });
    });
  }
}

}  // namespace

void CpuBackend::index_gather(const Array& src, const std::vector<int64_t>& offsets, const Array& out) {
  visit_dtype(src.dtype(), [&](auto tag) { gather_typed<decltype(tag)>(src, offsets, out); });
}

void CpuBackend::index_scatter(const Array& values, const std::vector<int64_t>& offsets, const Array& dst,
                               bool accumulate) {
  if (offsets.empty()) return;
  if (dst.dtype() == Dtype::float16) {
    return accumulate ? scatter_add_f16(values, offsets, dst) : scatter_typed<half>(values, offsets, dst, false);
  }
  visit_dtype(dst.dtype(), [&](auto tag) { scatter_typed<decltype(tag)>(values, offsets, dst, accumulate); });
}

}  // namespace tensorlogic::cpu
