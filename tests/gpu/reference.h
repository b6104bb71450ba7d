// Double-precision host references for the CUDA kernel checks (independent of every backend).
#pragma once
#include <cstdint>
#include <vector>

#include "core/backend.h"

namespace ref {

using Vec = std::vector<double>;

// One output per (outer, inner) of [outer, n, inner]; argmax/argmin give the index.
Vec reduce(tensorlogic::ReduceOp op, const Vec& x, int64_t outer, int64_t n, int64_t inner, double p, double correction);
Vec softmax(const Vec& x, int64_t outer, int64_t n, int64_t inner, bool log);
Vec norm(bool rms, const Vec& x, int64_t rows, int64_t n, const Vec* w, const Vec* b, double eps);
// a [B, M, K] and b [B, K, N] contiguous; bias [N] or null; residual [B, M, N] or null.
Vec gemm(const Vec& a, const Vec& b, int64_t batch, int64_t m, int64_t n, int64_t k, const Vec* bias,
         const Vec* residual, tensorlogic::Activation act);
double activation(tensorlogic::Activation act, double v);

}  // namespace ref
