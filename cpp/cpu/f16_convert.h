// Bulk f16 <-> f32 conversion, vectorised (F16C on x86-64 chosen at run time, NEON on Arm).
#pragma once
#include <cstdint>

#include "tensorlogic/dtype.h"

namespace tensorlogic::cpu {

void f16_to_f32(const half* in, float* out, int64_t n);
void f32_to_f16(const float* in, half* out, int64_t n);  // round to nearest even, overflow to inf
// row[j] += p[j * stride] for j < n: f16 values added to an f32 row (vectorised conversion when contiguous).
void add_f16_row(float* row, int64_t n, const half* p, int64_t stride);

}  // namespace tensorlogic::cpu
