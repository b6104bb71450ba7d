// Vectorised f16 elementwise kernels for contiguous runs (AVX-512 or AVX2+F16C+FMA, chosen once at run
// time). A lookup returns nullptr when the CPU or the op has no vector path; callers then use the
// portable block loop, which gives the same results within an f16 ulp.
#pragma once
#include <cstdint>

#include "tensorlogic/dtype.h"
#include "tensorlogic/ops.h"

namespace tensorlogic::cpu::simd {

// out[i] = op(in[i]) over n contiguous elements.
using UnaryKernel = void (*)(const half* in, half* out, int64_t n, const UnaryParams& params);
// out[i] = op(in[0][i], in[1][i], ...) for binary (2 operands) and ternary (3) ops; a null in[k] reads
// the scalar s[k] instead. One generic loop serves every operand count.
using NaryKernel = void (*)(const half* const* in, const float* s, half* out, int64_t n);

// x[i] = exp(x[i] - shift) over f32 data (softmax, logsumexp); never null (portable fallback inside).
void exp_shifted(float* x, int64_t n, float shift);

// Softmax (or log_softmax) of each of `rows` rows of n contiguous f16 values, in f32 and rounded once;
// x: scratch of n + 64 floats. Null where the CPU has no vector path.
using SoftmaxRowsKernel = void (*)(const half* in, half* out, int64_t rows, int64_t n, float* x);
SoftmaxRowsKernel softmax_rows_kernel(bool log);
// x = softmax(scale * x) over n f32 values in place, zeros where every value is -inf (fused attention's rows
// of scores). Null where the CPU has no vector path.
using ScaledSoftmaxKernel = void (*)(float* x, int64_t n, float scale);
ScaledSoftmaxKernel scaled_softmax_kernel();

// The accumulation rules of the CPU reductions (reduce.cpp): step(acc, x) per element, with c the row's
// centre (sum_sq_dev: (x - c)^2, sum_exp: exp(x - c)).
enum class ReduceRule : uint8_t {
  sum, prod, max, min, sum_sq, sum_abs, max_abs, min_abs, count_nonzero, sum_pow, sum_sq_dev, sum_exp
};
constexpr int kReduceRules = static_cast<int>(ReduceRule::sum_exp) + 1;

// Reduces n contiguous f16 values in f32 under one rule (n up to a few thousand: callers reduce longer
// rows pairwise); null where the CPU or the rule (sum_pow) has no vector path.
using ReduceKernel = float (*)(const half* in, int64_t n, float c);
ReduceKernel reduce_kernel(ReduceRule rule);

// Columns: for each of `width` columns i, reduces rows [0, rows) of in[j * stride + i] (a block of a few
// dozen rows) from the rule's identity and merges the result into acc[i]; centre: one per column, or
// null. Null where ReduceKernel is.
using ColumnKernel = void (*)(const half* in, int64_t stride, int64_t rows, int64_t width, const float* centre,
                              float* acc);
ColumnKernel column_kernel(ReduceRule rule);

UnaryKernel unary_kernel(UnaryOp op);
NaryKernel binary_kernel(BinaryOp op);
NaryKernel ternary_kernel(TernaryOp op);

}  // namespace tensorlogic::cpu::simd
