// The core's entry to the backend GEMM for ops built on matrix products (matmul, linear, einsum, conv).
#pragma once
#include "backend.h"

namespace tensorlogic {

// out[..] = a[..] @ b[..] (+ epilogue), rounded once. a: [batch..., M, K], b: [batch..., K, N] and the
// epilogue arrays ([N] bias, or [batch..., M, N] views) share the batch shape of out, which is a fresh
// contiguous [batch..., M, N] array. Any strides; nothing is copied.
void gemm_into(Backend& backend, const Array& a, const Array& b, const Array& out, const GemmEpilogue& epilogue);

}  // namespace tensorlogic
