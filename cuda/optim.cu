// Fused optimizer steps on CUDA: one thread per element runs the update of cpp/kernels/optimizer.h in f32
// (parameter plus its Kahan compensation), rounds once to f16 and keeps the residual. Built with
// --fmad=false like the CPU build, so both backends give the same bits.
#include "../cpp/core/op_dispatch.h"
#include "../cpp/kernels/optimizer.h"
#include "common.cuh"
#include "cuda_backend.h"

namespace tensorlogic::cuda {
namespace {

struct Slots {
  float* s[3];
};

template <OptimizerKind K>
__global__ void optimizer_kernel(kernels::OptimizerCoeffs c, __half* param, const __half* grad, float* comp,
                                 Slots slots) {
  const int64_t n = c.numel;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    float s[3] = {0.0f, 0.0f, 0.0f};
    for (int k = 0; k < c.slots; ++k) s[k] = slots.s[k][i];
    const float x = kernels::optimizer_update(K, c, __half2float(param[i]) + comp[i], __half2float(grad[i]), s);
    for (int k = 0; k < c.slots; ++k) slots.s[k][i] = s[k];
    const __half rounded = __float2half_rn(x);
    param[i] = rounded;
    const float residual = x - __half2float(rounded);
    comp[i] = isfinite(residual) ? residual : 0.0f;  // an overflowed weight keeps no residual
  }
}

template <OptimizerKind K>
void launch(const kernels::OptimizerCoeffs& c, const Array& param, const Array& grad, const std::vector<Array>& state) {
  Slots slots{{nullptr, nullptr, nullptr}};
  for (int k = 0; k < c.slots; ++k) slots.s[k] = reinterpret_cast<float*>(state[k + 1].data_as<int32_t>());
  optimizer_kernel<K><<<grid_stride_blocks(c.numel), kThreads, 0, stream()>>>(
      c, param.data_as<__half>(), grad.data_as<__half>(), reinterpret_cast<float*>(state[0].data_as<int32_t>()), slots);
  check_launch("optimizer kernel");
}

}  // namespace

void CudaBackend::optimizer_step(OptimizerKind kind, const OptimizerParams& params, const Array& param,
                                 const Array& grad, const std::vector<Array>& state) {
  const kernels::OptimizerCoeffs c = optimizer_coeffs(kind, params, param.numel());
  dispatch_optimizer(kind, [&](auto tag) { launch<decltype(tag)::value>(c, param, grad, state); });
}

}  // namespace tensorlogic::cuda
