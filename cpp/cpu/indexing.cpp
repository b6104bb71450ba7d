// Indexing kernels: strided blocks moved to or from precomputed element offsets (see backend.h).
#include <cstring>

#include "cpu_backend.h"
#include "parallel.h"
#include "strided.h"

namespace tensorlogic::cpu {
namespace {

constexpr int64_t kGrain = 1 << 14;

// Element types moved as raw bits (gather) or added in their own arithmetic (accumulating scatter).
template <typename T>
inline T add_values(T a, T b) {
  if constexpr (std::is_same_v<T, half>) {
    return to_half(to_float(a) + to_float(b));
  } else {
    return static_cast<T>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));  // wraps, never UB
  }
}

template <typename T>
void gather_typed(const Array& src, const std::vector<int64_t>& offsets, const Array& out) {
  const Strides block_strides = contiguous_strides(src.shape());
  const Layout<2> layout(src.shape(), {&src.strides(), &block_strides});
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

template <typename T>
void scatter_typed(const Array& values, const std::vector<int64_t>& offsets, const Array& dst, bool accumulate) {
  const Strides block_strides = contiguous_strides(dst.shape());
  const Layout<2> layout(dst.shape(), {&dst.strides(), &block_strides});
  const int64_t block = layout.numel;
  const T* in = values.data_as<T>();
  T* out = dst.data_as<T>();
  const int64_t n = static_cast<int64_t>(offsets.size());
  const int64_t s = layout.inner_stride(0);
  // Offsets may repeat, so blocks are written in order of b; large blocks are split across threads.
  for (int64_t b = 0; b < n; ++b) {
    T* base = out + offsets[b];
    const T* v = in + b * block;
    if (block == 1) {
      base[0] = accumulate ? add_values(base[0], v[0]) : v[0];
      continue;
    }
    parallel_for(block, kGrain, [&](int64_t begin, int64_t end) {
      layout.for_each_run(begin, end, [&](const std::array<int64_t, 2>& off, int64_t count) {
        T* d = base + off[0];
        const T* x = v + off[1];
        if (accumulate) {
          for (int64_t i = 0; i < count; ++i) d[i * s] = add_values(d[i * s], x[i]);
        } else {
          for (int64_t i = 0; i < count; ++i) d[i * s] = x[i];
        }
      });
    });
  }
}

}  // namespace

void CpuBackend::index_gather(const Array& src, const std::vector<int64_t>& offsets, const Array& out) {
  if (src.dtype() == Dtype::float16) return gather_typed<half>(src, offsets, out);
  gather_typed<int32_t>(src, offsets, out);
}

void CpuBackend::index_scatter(const Array& values, const std::vector<int64_t>& offsets, const Array& dst,
                               bool accumulate) {
  if (dst.dtype() == Dtype::float16) return scatter_typed<half>(values, offsets, dst, accumulate);
  scatter_typed<int32_t>(values, offsets, dst, accumulate);
}

}  // namespace tensorlogic::cpu
