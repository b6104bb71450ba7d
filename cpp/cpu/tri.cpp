// tril/triu: copies the kept triangle of the last two axes and zeroes the rest (any dtype, any strides).
#include <algorithm>

#include "cpu_backend.h"
#include "parallel.h"

namespace tensorlogic::cpu {
namespace {

template <typename T>
void tri_typed(const Array& in, int64_t k, bool upper, const Array& out) {
  const int nd = in.ndim();
  const int64_t rows = in.shape()[nd - 2], cols = in.shape()[nd - 1];
  const int64_t rs = in.strides()[nd - 2], cs = in.strides()[nd - 1];
  const int64_t matrices = rows * cols == 0 ? 0 : in.numel() / (rows * cols);
  const T* src = in.data_as<T>();
  T* dst = out.data_as<T>();
  parallel_for(matrices * rows, std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(cols, 1)), [&](int64_t begin, int64_t end) {
    for (int64_t line = begin; line < end; ++line) {
      // Offset of the matrix through the leading (batch) axes of the strided input.
      int64_t rest = line / rows, base = 0;
      for (int d = nd - 3; d >= 0; --d) {
        base += (rest % in.shape()[d]) * in.strides()[d];
        rest /= in.shape()[d];
      }
      const int64_t r = line % rows;
      const T* s = src + base + r * rs;
      T* o = dst + line * cols;
      // Lower keeps columns j <= r + k; upper keeps j >= r + k.
      const int64_t edge = std::clamp<int64_t>(upper ? r + k : r + k + 1, 0, cols);
      const int64_t keep_begin = upper ? edge : 0, keep_end = upper ? cols : edge;
      for (int64_t j = 0; j < cols; ++j) o[j] = (j >= keep_begin && j < keep_end) ? s[j * cs] : T{};
    }
  });
}

}  // namespace

void CpuBackend::tri(const Array& in, int64_t k, bool upper, const Array& out) {
  visit_dtype(in.dtype(), [&](auto tag) { tri_typed<decltype(tag)>(in, k, upper, out); });
}

}  // namespace tensorlogic::cpu
