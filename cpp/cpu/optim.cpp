// Fused optimizer kernels: per block, the parameter is widened to f32 and its Kahan compensation added,
// PyTorch's update (cpp/kernels/optimizer.h) runs in f32 registers, and the result is rounded to f16 once
// with the residual kept.
#include <algorithm>
#include <cmath>

#include "../core/op_dispatch.h"
#include "../kernels/optimizer.h"
#include "cpu_backend.h"
#include "f16_convert.h"
#include "parallel.h"

namespace tensorlogic::cpu {
namespace {

constexpr int64_t kBlock = 256;
constexpr int64_t kGrain = 1 << 14;

template <OptimizerKind K>
void step_all(const kernels::OptimizerCoeffs& c, const Array& param, const Array& grad,
              const std::vector<Array>& state) {
  half* p = param.data_as<half>();
  const half* gp = grad.data_as<half>();
  float* comp = reinterpret_cast<float*>(state[0].data_as<int32_t>());
  float* slots[3] = {nullptr, nullptr, nullptr};
  const int used = c.slots;
  for (int k = 0; k < used; ++k) slots[k] = reinterpret_cast<float*>(state[k + 1].data_as<int32_t>());
  parallel_for(param.numel(), kGrain, [&](int64_t begin, int64_t end) {
    float x[kBlock], g[kBlock], rounded[kBlock];
    for (int64_t b = begin; b < end; b += kBlock) {
      const int64_t n = std::min(kBlock, end - b);
      f16_to_f32(p + b, x, n);
      f16_to_f32(gp + b, g, n);
      for (int64_t i = 0; i < n; ++i) {
        float s[3] = {0.0f, 0.0f, 0.0f};
        for (int k = 0; k < used; ++k) s[k] = slots[k][b + i];
        x[i] = kernels::optimizer_update(K, c, x[i] + comp[b + i], g[i], s);
        for (int k = 0; k < used; ++k) slots[k][b + i] = s[k];
      }
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
  const kernels::OptimizerCoeffs c = optimizer_coeffs(kind, params, param.numel());
  dispatch_optimizer(kind, [&](auto tag) { step_all<decltype(tag)::value>(c, param, grad, state); });
}

}  // namespace tensorlogic::cpu
