// The `metal` backend: every kernel family of cpp/core/backend.h as dispatches of metal/*.metal kernels,
// batched into command buffers; the host waits only when it reads data (Objective-C++, Apple only).
#pragma once
#include "../cpp/core/backend.h"
#include "metal_context.h"
#include "tensorlogic/optim.h"

namespace tensorlogic::metal {

class MetalBackend : public Backend {
 public:
  MetalBackend(Context& context, Device device);
  DeviceType type() const override { return device_.type; }
  BufferCache& cache() override { return cache_; }
  void synchronize() override { context_.synchronize(); }

  TL_BACKEND_KERNELS
  void reduce_int(ReduceOp op, const Array& in, int64_t outer, int64_t n, int64_t inner, const Array& out) override;
  void optimizer_step(OptimizerKind kind, const OptimizerParams& params, const Array& param, const Array& grad,
                      const std::vector<Array>& state) override;

  Context& context() { return context_; }

 private:
  // `attention` for operands with one batch axis ([B, L, E]); `attention` loops it over the outer of two.
  void attention_3d(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal, float scale,
                    const Array& out);
  // A fresh device array holding `bytes` of host data (pool memory is idle until handed out, so it is
  // written directly, without waiting for queued work).
  Array upload(const void* data, size_t bytes);

  Context& context_;
  Device device_;
  MetalCache cache_;
};

}  // namespace tensorlogic::metal
