// Reductions (float and exact), the softmax family, norms and cross-entropy rows on Metal (metal/reduce.metal,
// reduce_int.metal, rows.metal).
#include "metal_launch.h"

#include <algorithm>
#include <string>
#include <vector>
#include "tensorlogic/errors.h"

namespace tensorlogic::metal {
namespace {

// The layout of a reduction; few outputs over long rows split each row in `parts` so that enough
// threadgroups run (a second stage combines the parts).
params::ReduceParams reduce_params(int64_t outer, int64_t n, int64_t inner) {
  params::ReduceParams p{};
  p.outer = outer;
  p.n = n;
  p.inner = inner;
  p.parts = outer * inner < 256 && n >= 8192 ? std::min<int64_t>(64, n / 4096) : 1;
  p.chunk = (n + p.parts - 1) / p.parts;
  return p;
}

}  // namespace

void MetalBackend::reduce(ReduceOp op, const Array& in, int64_t outer, int64_t n, int64_t inner, const Array& out,
                          const ReduceParams& rp) {
  const int64_t outputs = outer * inner;
  if (outputs == 0) return;
  params::ReduceParams p = reduce_params(outer, n, inner);
  const int64_t parts = p.parts;
  p.correction = static_cast<float>(rp.correction);
  p.p = static_cast<float>(rp.p);
  const std::vector<Constant> constants = {uint_constant(0, static_cast<uint32_t>(op)), bool_constant(1, parts == 1)};
  id<MTLComputePipelineState> stage1 = context_.pipeline("reduce", "reduce_stage1", constants);
  id<MTLComputePipelineState> stage2 = parts > 1 ? context_.pipeline("reduce", "reduce_stage2", constants) : nil;
  // 16 bytes of partial state per (output, part) when there is a second stage (a placeholder binding
  // otherwise); released to the pool only after the command buffer completes.
  Array partials = Array::empty({parts > 1 ? outputs * parts * 4 : 4}, Dtype::int32, device_);
  if (outputs > static_cast<int64_t>(UINT32_MAX)) throw DeviceError("metal: reduction with more than 2^32 outputs");
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    set_params(encoder, p, launch.bind_all({in, out, out, partials}));
    launch.run(stage1, MTLSizeMake(static_cast<NSUInteger>(outputs), static_cast<NSUInteger>(parts), 1), kThreads);
    if (parts > 1) {
      set_params(encoder, p, launch.bind_all({partials, out, out}));
      launch.run(stage2, MTLSizeMake(static_cast<NSUInteger>(outputs), 1, 1), kThreads);
    }
  });
}

void MetalBackend::reduce_int(ReduceOp op, const Array& in, int64_t outer, int64_t n, int64_t inner,
                              const Array& out) {
  const int64_t outputs = outer * inner;
  if (outputs > static_cast<int64_t>(UINT32_MAX)) throw DeviceError("metal: reduction with more than 2^32 outputs");
  const params::ReduceParams p = reduce_params(outer, n, inner);
  const std::vector<Constant> constants = {uint_constant(0, static_cast<uint32_t>(op)), bool_constant(1, p.parts == 1)};
  id<MTLComputePipelineState> stage1 =
      context_.pipeline("reduce_int", std::string("reduce_int_") + dtype_short_name(in.dtype()), constants);
  id<MTLComputePipelineState> stage2 =
      p.parts > 1 ? context_.pipeline("reduce_int", "reduce_int_partials", constants) : nil;
  // A (value, index) pair per (output, part) when there is a second stage (a placeholder binding otherwise).
  const Array partials = Array::empty({p.parts > 1 ? 2 * outputs * p.parts : 1}, Dtype::int64, device_);
  const NSUInteger threads = p.parts > 1 ? kThreads : row_threads(n);
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    set_params(encoder, p, launch.bind_all({in, out, partials}));
    launch.run(stage1, MTLSizeMake(static_cast<NSUInteger>(outputs), static_cast<NSUInteger>(p.parts), 1), threads);
    if (p.parts > 1) {
      set_params(encoder, p, launch.bind_all({partials, out}));
      launch.run(stage2, MTLSizeMake(static_cast<NSUInteger>(outputs), 1, 1), row_threads(p.parts));
    }
  });
}

void MetalBackend::rows(RowOp op, const Array& in, int64_t outer, int64_t n, int64_t inner, const Array& out) {
  params::ReduceParams p{};
  p.outer = outer;
  p.n = n;
  p.inner = inner;
  id<MTLComputePipelineState> pipeline = context_.pipeline(
      "rows", "softmax_rows", {bool_constant(0, op == RowOp::log_softmax), bool_constant(1, false),
                               bool_constant(2, false), bool_constant(3, false)});
  run_kernel(context_, pipeline, {in, out}, p, MTLSizeMake(static_cast<NSUInteger>(outer * inner), 1, 1),
             row_threads(n));
}

void MetalBackend::norm(bool rms, const Array& in, int64_t rows, int64_t n, const Array* weight, const Array* bias,
                        double eps, const Array& out) {
  params::NormParams p{};
  p.rows = rows;
  p.n = n;
  p.eps = static_cast<float>(eps);
  id<MTLComputePipelineState> pipeline = context_.pipeline(
      "rows", "norm_rows", {bool_constant(0, false), bool_constant(1, rms), bool_constant(2, weight != nullptr),
                            bool_constant(3, bias != nullptr && !rms)});
  run_kernel(context_, pipeline, {in, weight ? *weight : in, bias ? *bias : in, out}, p,
             MTLSizeMake(static_cast<NSUInteger>(rows), 1, 1), row_threads(n));
}

// Keeps no statistics (row_lse): Metal has no fused backward to read them.
bool MetalBackend::cross_entropy(const Array& logits, const Array& target, int64_t rows, int64_t n,
                                 int64_t ignore_index, float label_smoothing, const Array& out, const Array*) {
  params::CrossEntropyParams p{};
  p.rows = rows;
  p.n = n;
  p.ignore_index = ignore_index;
  p.smoothing = label_smoothing;
  id<MTLComputePipelineState> pipeline = context_.pipeline("rows", "cross_entropy_rows", {});
  run_kernel(context_, pipeline, {logits, target, out}, p,
             MTLSizeMake(checked_groups(rows, 1, "cross_entropy"), 1, 1), row_threads(n));
  return false;
}

}  // namespace tensorlogic::metal
