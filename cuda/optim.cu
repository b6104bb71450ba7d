// Fused optimizer steps on CUDA: one thread per element runs the update of cpp/cpu/optim_ops.h in f32
// (parameter plus its Kahan compensation), rounds once to f16 and keeps the residual. Built with
// --fmad=false like the CPU build, so both backends give the same bits.
#include "../cpp/cpu/optim_ops.h"
#include "common.cuh"
#include "cuda_backend.h"

namespace tensorlogic::cuda {
namespace {

struct Slots {
  float* s[4];
};

template <OptimizerKind K>
__global__ void optimizer_kernel(cpu::Coeffs c, int64_t n, __half* param, const __half* grad, float* comp,
                                 Slots slots) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    const float x = cpu::update<K>(c, __half2float(param[i]) + comp[i], __half2float(grad[i]), slots.s, i);
    const __half rounded = __float2half_rn(x);
    param[i] = rounded;
    const float residual = x - __half2float(rounded);
    comp[i] = isfinite(residual) ? residual : 0.0f;  // an overflowed weight keeps no residual
  }
}

template <OptimizerKind K>
void launch(const cpu::Coeffs& c, const Array& param, const Array& grad, const std::vector<Array>& state) {
  const int64_t n = param.numel();
  Slots slots{{nullptr, nullptr, nullptr, nullptr}};
  for (size_t k = 1; k < state.size(); ++k) slots.s[k - 1] = reinterpret_cast<float*>(state[k].data_as<int32_t>());
  optimizer_kernel<K><<<grid_stride_blocks(n), kThreads, 0, stream()>>>(
      c, n, param.data_as<__half>(), grad.data_as<__half>(), reinterpret_cast<float*>(state[0].data_as<int32_t>()),
      slots);
  check_launch("optimizer kernel");
}

}  // namespace

void CudaBackend::optimizer_step(OptimizerKind kind, const OptimizerParams& params, const Array& param,
                                 const Array& grad, const std::vector<Array>& state) {
  const cpu::Coeffs c = cpu::make_coeffs(kind, params);
  switch (kind) {
    case OptimizerKind::sgd: return launch<OptimizerKind::sgd>(c, param, grad, state);
    case OptimizerKind::adam: return launch<OptimizerKind::adam>(c, param, grad, state);
    case OptimizerKind::adamw: return launch<OptimizerKind::adamw>(c, param, grad, state);
    case OptimizerKind::rmsprop: return launch<OptimizerKind::rmsprop>(c, param, grad, state);
    case OptimizerKind::lion: return launch<OptimizerKind::lion>(c, param, grad, state);
  }
}

}  // namespace tensorlogic::cuda
