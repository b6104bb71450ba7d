// Fused optimizer kernels: per block, the parameter is widened to f32 and its Kahan compensation added,
// PyTorch's update runs in f32 registers, and the result is rounded to f16 once with the residual kept.
#include <algorithm>
#include <cmath>

#include "cpu_backend.h"
#include "f16_convert.h"
#include "optim_ops.h"
#include "parallel.h"

namespace tensorlogic::cpu {
namespace {

constexpr int64_t kBlock = 256;
constexpr int64_t kGrain = 1 << 14;

template <OptimizerKind K>
void step_all(const Coeffs& c, const Array& param, const Array& grad, const std::vector<Array>& state) {
  half* p = param.data_as<half>();
  const half* gp = grad.data_as<half>();
  float* comp = reinterpret_cast<float*>(state[0].data_as<int32_t>());
  float* slots[4] = {nullptr, nullptr, nullptr, nullptr};
  for (size_t k = 1; k < state.size(); ++k) slots[k - 1] = reinterpret_cast<float*>(state[k].data_as<int32_t>());
  parallel_for(param.numel(), kGrain, [&](int64_t begin, int64_t end) {
    float x[kBlock], g[kBlock], rounded[kBlock];
    for (int64_t b = begin; b < end; b += kBlock) {
      const int64_t n = std::min(kBlock, end - b);
      f16_to_f32(p + b, x, n);
      f16_to_f32(gp + b, g, n);
      float* const local[4] = {slots[0] ? slots[0] + b : nullptr, slots[1] ? slots[1] + b : nullptr,
                               slots[2] ? slots[2] + b : nullptr, slots[3] ? slots[3] + b : nullptr};
      for (int64_t i = 0; i < n; ++i) x[i] = update<K>(c, x[i] + comp[b + i], g[i], local, i);
      f32_to_f16(x, p + b, n);
      f16_to_f32(p + b, rounded, n);
      for (int64_t i = 0; i < n; ++i) {
        const float residual = x[i] - rounded[i];
        comp[b + i] = std::isfinite(residual) ? residual : 0.0f;  // an overflowed weight keeps no residual
      }
    }
  });
}

}  // namespace

void CpuBackend::optimizer_step(OptimizerKind kind, const OptimizerParams& params, const Array& param,
                                const Array& grad, const std::vector<Array>& state) {
  const Coeffs c = make_coeffs(kind, params);
  switch (kind) {
    case OptimizerKind::sgd: return step_all<OptimizerKind::sgd>(c, param, grad, state);
    case OptimizerKind::adam: return step_all<OptimizerKind::adam>(c, param, grad, state);
    case OptimizerKind::adamw: return step_all<OptimizerKind::adamw>(c, param, grad, state);
    case OptimizerKind::rmsprop: return step_all<OptimizerKind::rmsprop>(c, param, grad, state);
    case OptimizerKind::lion: return step_all<OptimizerKind::lion>(c, param, grad, state);
  }
}

}  // namespace tensorlogic::cpu
