// Walking N same-shaped strided operands in runs along their innermost dimension, after merging
// dimensions that are contiguous with each other in every operand and dropping size-1 dimensions (host
// code of the CPU kernels and of the CUDA launches).
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "tensorlogic/array.h"

namespace tensorlogic {

template <int N>
struct Layout {
  Shape shape;                       // coalesced, innermost last; empty means one element
  std::array<Strides, N> strides;    // in elements
  int64_t numel = 1;

  explicit Layout(const Shape& full_shape, const std::array<const Strides*, N>& full_strides) {
    for (size_t d = 0; d < full_shape.size(); ++d) {
      if (full_shape[d] == 1) continue;
      bool merge = !shape.empty();
      for (int k = 0; k < N && merge; ++k) {
        merge = strides[k].back() == (*full_strides[k])[d] * full_shape[d];
      }
      if (merge) {
        shape.back() *= full_shape[d];
        for (int k = 0; k < N; ++k) strides[k].back() = (*full_strides[k])[d];
      } else {
        shape.push_back(full_shape[d]);
        for (int k = 0; k < N; ++k) strides[k].push_back((*full_strides[k])[d]);
      }
    }
    for (int64_t s : full_shape) numel *= s;
  }

  int64_t inner() const { return shape.empty() ? 1 : shape.back(); }
  int64_t inner_stride(int k) const { return shape.empty() ? 0 : strides[k].back(); }
  bool contiguous(int k) const { return shape.size() <= 1 && (shape.empty() || strides[k][0] == 1); }

  // Calls fn(offsets, count) for each run of up to `inner()` elements in flat range [begin, end);
  // offsets are element offsets of each operand at the run's start.
  template <typename F>
  void for_each_run(int64_t begin, int64_t end, F&& fn) const {
    const int dims = static_cast<int>(shape.size());
    if (dims == 0) {
      if (begin < end) fn(std::array<int64_t, N>{}, int64_t{1});
      return;
    }
    std::vector<int64_t> index(dims, 0);
    int64_t rest = begin;
    for (int d = dims - 1; d >= 0; --d) {
      index[d] = rest % shape[d];
      rest /= shape[d];
    }
    std::array<int64_t, N> offsets{};
    for (int k = 0; k < N; ++k) {
      for (int d = 0; d < dims; ++d) offsets[k] += index[d] * strides[k][d];
    }
    int64_t pos = begin;
    while (pos < end) {
      const int64_t count = std::min(shape[dims - 1] - index[dims - 1], end - pos);
      fn(offsets, count);
      pos += count;
      for (int k = 0; k < N; ++k) offsets[k] += count * strides[k][dims - 1];
      index[dims - 1] += count;
      for (int d = dims - 1; d > 0 && index[d] == shape[d]; --d) {
        for (int k = 0; k < N; ++k) offsets[k] += strides[k][d - 1] - shape[d] * strides[k][d];
        index[d] = 0;
        ++index[d - 1];
      }
    }
  }
};

}  // namespace tensorlogic
