// Folding the leading batch axes of several same-batch-shaped arrays into one axis, for kernels that
// take [B, ...] operands (gemm, attention). Axes merge where every operand's strides allow it; the
// rest are looped here, so no operand is ever copied to make its batch axes flat.
#pragma once
#include <functional>
#include <vector>

#include "tensorlogic/array.h"

namespace tensorlogic {

// Calls fn(views) for each index of the axes that could not be merged; views[i] is arrays[i] with its
// first `batch_dims` axes replaced by one axis (undefined Array where arrays[i] is null).
void for_each_batch(const std::vector<const Array*>& arrays, int batch_dims,
                    const std::function<void(const std::vector<Array>&)>& fn);

}  // namespace tensorlogic
