// Batch-axis folding for kernels with one or two batch axes (see batching.h).
#include "batching.h"

namespace tensorlogic {

void for_each_batch(const std::vector<const Array*>& arrays, int batch_dims, int groups,
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
  while (sizes.size() < static_cast<size_t>(groups)) {  // the kernel's axes it has no batch for: size 1
    sizes.insert(sizes.begin(), 1);
    for (auto& s : strides) s.insert(s.begin(), 0);
  }
  const size_t outer = sizes.size() - groups;  // groups looped here
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
      Shape shape(sizes.begin() + outer, sizes.end());
      Strides st(strides[i].begin() + outer, strides[i].end());
      shape.insert(shape.end(), a->shape().begin() + batch_dims, a->shape().end());
      st.insert(st.end(), a->strides().begin() + batch_dims, a->strides().end());
      views[i] = a->view_as(shape, st, offset);
    }
    fn(views);
  }
}

}  // namespace tensorlogic
