// The core's entry to the backend GEMM for ops built on matrix products (matmul, linear, einsum, conv).
#pragma once
#include <optional>

#include "backend.h"

namespace tensorlogic {

// out[..] = a[..] @ b[..] (+ epilogue), rounded once. a: [batch..., M, K], b: [batch..., K, N] and the
// epilogue arrays ([N] bias, or [batch..., M, N] views) share the batch shape of out, which is a fresh
// contiguous [batch..., M, N] array. Any strides; nothing is copied.
void gemm_into(Backend& backend, const Array& a, const Array& b, const Array& out, const GemmEpilogue& epilogue);

// The epilogue operands of the fused linear family (linear, quantized_linear), checked against the weight
// shape [out_features, in_features] and the output shape `result` (the residual expanded to it; `op` names
// the caller in errors). They are owned here, for the GemmEpilogue that get() points at them.
struct LinearEpilogue {
  LinearEpilogue(const char* op, const Shape& w_shape, const Shape& result, Activation act,
                 const std::optional<Array>& bias, const std::optional<Array>& residual);
  GemmEpilogue get() const;

  Activation activation;
  std::optional<Array> bias, residual;
};

}  // namespace tensorlogic
