// The Philox random stream (metal/random.metal, cpp/core/philox.h) and the fused optimizer steps
// (metal/optimizer.metal, cpp/kernels/optimizer.h) on Metal.
#include "metal_launch.h"

namespace tensorlogic::metal {

void MetalBackend::random(RandomKind kind, uint64_t seed, uint64_t offset, double low, double high, const Array& out) {
  params::RandomParams p{};
  p.numel = out.numel();
  p.seed_lo = static_cast<uint32_t>(seed);
  p.seed_hi = static_cast<uint32_t>(seed >> 32);
  p.offset_lo = static_cast<uint32_t>(offset);
  p.offset_hi = static_cast<uint32_t>(offset >> 32);
  p.low = static_cast<long>(low);
  p.high = static_cast<long>(high);
  id<MTLComputePipelineState> pipeline =
      context_.pipeline("random", "random_fill", {uint_constant(0, static_cast<uint32_t>(kind))});
  run_kernel_1d(context_, pipeline, {out, out}, p, (p.numel + 3) / 4, "random");
}

void MetalBackend::optimizer_step(OptimizerKind kind, const OptimizerParams& o, const Array& param, const Array& grad,
                                  const std::vector<Array>& state) {
  const kernels::OptimizerCoeffs c = optimizer_coeffs(kind, o, param.numel());  // cpp/kernels/optimizer.h
  if (c.numel == 0) return;
  id<MTLComputePipelineState> pipeline =
      context_.pipeline("optimizer", "optimizer_step", {uint_constant(0, static_cast<uint32_t>(kind))});
  auto slot = [&](size_t k) -> const Array& { return k < state.size() ? state[k] : state[0]; };  // unused: slot 0
  run_kernel_1d(context_, pipeline, {param, grad, slot(0), slot(1), slot(2), slot(3)}, c, c.numel, optimizer_name(kind));
}

}  // namespace tensorlogic::metal
