// Bulk f16 <-> f32 conversion, vectorised (F16C on x86-64 chosen at run time, NEON on Arm).
#pragma once
#include <cstdint>

#include "tensorlogic/dtype.h"

namespace tensorlogic::cpu {

void f16_to_f32(const half* in, float* out, int64_t n);
void f32_to_f16(const float* in, half* out, int64_t n);  // round to nearest even, overflow to inf

}  // namespace tensorlogic::cpu
