// The tensor-core attention path (attention_tiled.cu), tried first by CudaBackend::attention.
#pragma once
#include "tensorlogic/array.h"

namespace tensorlogic::cuda {

// Runs the tiled kernel and returns true when the operands suit it: head dims E and Ev multiples of 8
// in [8, 128], keys > 0, contiguous last axes with 16-byte aligned rows (any mask strides);
// returns false, having done nothing, otherwise. With `lse` (device memory, [B, L] f32) it also stores
// each row's log-sum-exp in base 2 of the scaled scores (what the fused backward recomputes P from).
bool attention_tiled(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal, float scale,
                     const Array& out, float* lse = nullptr);

}  // namespace tensorlogic::cuda
