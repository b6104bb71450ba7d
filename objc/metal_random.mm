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
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    launch.bind(out, 0);
    launch.bind(out, 1);
    set_params(encoder, p, 2);
    launch.run_1d(pipeline, (p.numel + 3) / 4, "random");
  });
}

void MetalBackend::optimizer_step(OptimizerKind kind, const OptimizerParams& o, const Array& param, const Array& grad,
                                  const std::vector<Array>& state) {
  const kernels::OptimizerCoeffs c = optimizer_coeffs(o, param.numel());  // cpp/kernels/optimizer.h
  if (c.numel == 0) return;
  id<MTLComputePipelineState> pipeline =
      context_.pipeline("optimizer", "optimizer_step", {uint_constant(0, static_cast<uint32_t>(kind))});
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    launch.bind(param, 0);
    launch.bind(grad, 1);
    for (size_t k = 0; k < 4; ++k) launch.bind(k < state.size() ? state[k] : state[0], 2 + k);  // unused slots: slot 0
    set_params(encoder, c, 6);
    launch.run_1d(pipeline, c.numel, optimizer_name(kind));
  });
}

}  // namespace tensorlogic::metal
