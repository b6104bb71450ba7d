// Batch-axis folding for kernels with one batch axis (see batching.h).
#include "batching.h"

namespace tensorlogic {

void for_each_batch(const std::vector<const Array*>& arrays, int batch_dims,
                    const std::function<void(const std::vector<Array>&)>& fn) {
  const size_t count = arrays.size();
  const Array* first = nullptr;
  for (const Array* a : arrays) {
    if (a && !first) first = a;
  }
  // Coalesced batch groups, outermost first: sizes and per-array strides.
  Shape sizes;
  std::vector<Strides> strides(count);
  for (int d = 0; d < batch_dims; ++d) {
    const int64_t size = first->shape()[d];
    if (size == 1) continue;
    bool merge = !sizes.empty();
    for (size_t i = 0; i < count && merge; ++i) {
      if (arrays[i]) merge = strides[i].back() == arrays[i]->strides()[d] * size;
    }
    if (merge) sizes.back() *= size;
    else sizes.push_back(size);
    for (size_t i = 0; i < count; ++i) {
      const int64_t s = arrays[i] ? arrays[i]->strides()[d] : 0;
      if (merge) strides[i].back() = s;
      else strides[i].push_back(s);
    }
  }
  if (sizes.empty()) {
    sizes.push_back(1);
    for (auto& s : strides) s.push_back(0);
  }
  const size_t outer = sizes.size() - 1;
  int64_t total = 1;
  for (size_t g = 0; g < outer; ++g) total *= sizes[g];
  for (int64_t flat = 0; flat < total; ++flat) {
    std::vector<Array> views(count);
    for (size_t i = 0; i < count; ++i) {
      const Array* a = arrays[i];
      if (!a) continue;
      int64_t offset = a->offset(), rest = flat;
      for (size_t g = outer; g-- > 0;) {
        offset += (rest % sizes[g]) * strides[i][g];
        rest /= sizes[g];
      }
      Shape shape{sizes[outer]};
      Strides st{strides[i][outer]};
      shape.insert(shape.end(), a->shape().begin() + batch_dims, a->shape().end());
      st.insert(st.end(), a->strides().begin() + batch_dims, a->strides().end());
      views[i] = a->view_as(shape, st, offset);
    }
    fn(views);
  }
}

}  // namespace tensorlogic
