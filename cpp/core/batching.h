// Folding the leading batch axes of several same-batch-shaped arrays into one or two axes, for kernels
// that take [B, ...] operands (gemm) or [B0, B1, ...] ones (attention). Axes merge where every operand's
// strides allow it; what is left beyond the kernel's axes is looped here, so no operand is ever copied to
// make its batch axes flat.
#pragma once
#include <functional>
#include <vector>

#include "tensorlogic/array.h"

namespace tensorlogic {

// Calls fn(views) for each index of the axes that could not be merged into the kernel's `groups` (1 or 2)
// batch axes; views[i] is arrays[i] with its first `batch_dims` axes replaced by exactly `groups` axes
// (size-1 ones in front where fewer were needed), or an undefined Array where arrays[i] is null.
void for_each_batch(const std::vector<const Array*>& arrays, int batch_dims, int groups,
                    const std::function<void(const std::vector<Array>&)>& fn);
inline void for_each_batch(const std::vector<const Array*>& arrays, int batch_dims,
                           const std::function<void(const std::vector<Array>&)>& fn) {
  for_each_batch(arrays, batch_dims, 1, fn);
}

}  // namespace tensorlogic
