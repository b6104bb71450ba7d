// The general GEMM epilogue kernel (gemm_epilogue.cu), called by the cuBLASLt host code (gemm.cpp).
#pragma once
#include "../cpp/core/backend.h"

namespace tensorlogic::cuda {

// out [batch, m, n] = act(acc + bias + residual) rounded once; acc is f32 [batch, m, n] or null (zeros).
void gemm_epilogue(const float* acc, int64_t batch, int64_t m, int64_t n, const GemmEpilogue& epilogue,
                   const Array& out);

}  // namespace tensorlogic::cuda
