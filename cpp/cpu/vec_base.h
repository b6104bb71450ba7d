// The baseline-ISA instance of vec_math.h (4 lanes: SSE2 / NEON width) for kernels outside the
// elementwise family (softmax, logsumexp).
#pragma once
#include <cstdint>
#include <cstring>

namespace tensorlogic::cpu::vec {
#define TL_VEC_LANES 4
#include "vec_math.h"
#undef TL_VEC_LANES
}  // namespace tensorlogic::cpu::vec
