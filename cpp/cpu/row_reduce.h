// Reductions of one f32 row that the row kernels (rows.cpp) and their gradients (rows_backward.cpp) share.
#pragma once
#include <cstdint>

namespace tensorlogic::cpu {

// The maximum, NaN when the row holds one.
float row_max(const float* x, int64_t n);
// The sum, in independent lane accumulators.
float row_sum(const float* x, int64_t n);

}  // namespace tensorlogic::cpu
