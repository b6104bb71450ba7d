// The ordering families of the CPU backend: a stable argsort of each row (NaN largest, as in PyTorch)
// and inclusive scans (f16 in f32, each output rounded once; int64 wrapping), one row per task.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "cpu_backend.h"
#include "parallel.h"

namespace tensorlogic::cpu {
namespace {

// Sort keys: f16 as f32 with NaN above +inf; integers as they are.
inline float key_of(half v) {
  const float f = to_float(v);
  return f != f ? INFINITY : f;
}
inline bool is_nan(half v) { return to_float(v) != to_float(v); }
inline int64_t key_of(int32_t v) { return v; }
inline int64_t key_of(int64_t v) { return v; }
inline bool is_nan(int64_t) { return false; }
inline bool is_nan(int32_t) { return false; }

template <typename T>
void argsort_rows(const Array& in, int64_t rows, int64_t n, bool descending, const Array& out) {
  const T* src = in.data_as<T>();
  int64_t* dst = out.data_as<int64_t>();
  parallel_for(rows, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(n, 1)), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T* row = src + r * n;
      int64_t* order = dst + r * n;
      std::iota(order, order + n, int64_t{0});
      // (nan, key) orders NaN after +inf; ties keep their index order (stable_sort).
      auto before = [&](int64_t i, int64_t j) {
        const bool ni = is_nan(row[i]), nj = is_nan(row[j]);
        if (ni != nj) return descending ? ni : nj;
        return descending ? key_of(row[i]) > key_of(row[j]) : key_of(row[i]) < key_of(row[j]);
      };
      std::stable_sort(order, order + n, before);
    }
  });
}

template <typename T, typename Acc>
void scan_rows(ScanOp op, const T* src, T* dst, int64_t rows, int64_t n) {
  parallel_for(rows, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(n, 1)), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      Acc acc = op == ScanOp::cumsum ? Acc{0} : Acc{1};
      for (int64_t j = 0; j < n; ++j) {
        if constexpr (std::is_same_v<T, half>) {
          acc = op == ScanOp::cumsum ? acc + to_float(src[r * n + j]) : acc * to_float(src[r * n + j]);
          dst[r * n + j] = to_half(acc);
        } else {  // int64, wrapping through uint64
          const uint64_t v = static_cast<uint64_t>(src[r * n + j]);
          acc = op == ScanOp::cumsum ? acc + v : acc * v;
          dst[r * n + j] = static_cast<int64_t>(acc);
        }
      }
    }
  });
}

}  // namespace

void CpuBackend::argsort(const Array& in, int64_t rows, int64_t n, bool descending, const Array& out) {
  visit_sort_key<half>(in.dtype(), [&](auto key) { argsort_rows<decltype(key)>(in, rows, n, descending, out); });
}

void CpuBackend::scan(ScanOp op, const Array& in, int64_t rows, int64_t n, const Array& out) {
  if (in.dtype() == Dtype::float16) return scan_rows<half, float>(op, in.data_as<half>(), out.data_as<half>(), rows, n);
  scan_rows<int64_t, uint64_t>(op, in.data_as<int64_t>(), out.data_as<int64_t>(), rows, n);
}

void CpuBackend::searchsorted(const Array& sorted, const Array& probe, bool right, const Array& out) {
  const int64_t* keys = sorted.data_as<int64_t>();
  const int64_t* values = probe.data_as<int64_t>();
  int64_t* dst = out.data_as<int64_t>();
  const int64_t m = sorted.numel();
  parallel_for(probe.numel(), 1 << 12, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      dst[i] = (right ? std::upper_bound(keys, keys + m, values[i]) : std::lower_bound(keys, keys + m, values[i])) - keys;
    }
  });
}

void CpuBackend::take_rows(const Array& src, const Array& index, const Array& out) {
  const size_t row = src.numel() / src.shape()[0] * src.itemsize();
  const char* from = static_cast<const char*>(src.data());
  char* to = static_cast<char*>(out.data());
  const int64_t* rows = index.data_as<int64_t>();
  parallel_for(index.numel(), 1 << 12, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) std::memcpy(to + i * row, from + rows[i] * row, row);
  });
}

int64_t CpuBackend::flatnonzero(const Array& mask, const Array& out) {
  const uint8_t* flags = mask.data_as<uint8_t>();
  int64_t* dst = out.data_as<int64_t>();
  int64_t count = 0;
  for (int64_t i = 0, n = mask.numel(); i < n; ++i) {
    if (flags[i]) dst[count++] = i;
  }
  return count;
}

}  // namespace tensorlogic::cpu
