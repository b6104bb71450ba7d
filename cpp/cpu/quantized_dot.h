// Products with weights in GGUF block formats, dequantised in registers (see quantized_dot.cpp).
#pragma once
#include <cstdint>

#include "tensorlogic/op_enums.h"

namespace tensorlogic::cpu {

// c[r * n + j] = sum_i x[r * k + i] * W[j, i] for r < m (1 <= m <= kGemvMaxRows of gemv.h), j < n: x packed
// f32 [m, k]; row j of W is k / quant_block_elems(type) blocks of `type` at w + j * row_bytes; c packed f32
// [m, n]. Parallel over j.
void quantized_gemv(QuantType type, const float* x, int64_t m, int64_t k, const uint8_t* w, int64_t row_bytes,
                    int64_t n, float* c);

// dst[r * k + i] = W[r, i] in f32 for r < rows (W as above), on the calling thread.
void dequantize_rows(QuantType type, const uint8_t* w, int64_t row_bytes, int64_t k, int64_t rows, float* dst);

}  // namespace tensorlogic::cpu
