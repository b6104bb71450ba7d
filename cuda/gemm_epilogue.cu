// The general GEMM epilogue: out = act(acc + bias + residual), rounded to f16 once, for the bias,
// residual and activation forms that cuBLASLt's fused epilogues do not cover.
#include "epilogue.cuh"
#include "gemm_epilogue.h"

namespace tensorlogic::cuda {
namespace {

template <Activation A>
__global__ void epilogue_kernel(const float* acc, int64_t batch, int64_t m, int64_t n, EpilogueView bias,
                                EpilogueView residual, __half* out) {
  const int64_t total = batch * m * n;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t c = i % n, r = (i / n) % m, b = i / (m * n);
    out[i] = __float2half_rn(epilogue_value(A, acc ? acc[i] : 0.0f, b, r, c, bias, residual));
  }
}

}  // namespace

void gemm_epilogue(const float* acc, int64_t batch, int64_t m, int64_t n, const GemmEpilogue& e, const Array& out) {
  const int64_t total = batch * m * n;
  const EpilogueView bias = epilogue_view(e.bias), residual = epilogue_view(e.residual);
  __half* dst = out.data_as<__half>();
  const unsigned grid = grid_stride_blocks(total);
  switch (e.activation) {
    case Activation::none: epilogue_kernel<Activation::none><<<grid, kThreads, 0, stream()>>>(acc, batch, m, n, bias, residual, dst); break;
    case Activation::relu: epilogue_kernel<Activation::relu><<<grid, kThreads, 0, stream()>>>(acc, batch, m, n, bias, residual, dst); break;
    case Activation::gelu: epilogue_kernel<Activation::gelu><<<grid, kThreads, 0, stream()>>>(acc, batch, m, n, bias, residual, dst); break;
    case Activation::gelu_tanh: epilogue_kernel<Activation::gelu_tanh><<<grid, kThreads, 0, stream()>>>(acc, batch, m, n, bias, residual, dst); break;
    case Activation::silu: epilogue_kernel<Activation::silu><<<grid, kThreads, 0, stream()>>>(acc, batch, m, n, bias, residual, dst); break;
  }
  check_launch("gemm epilogue kernel");
}

}  // namespace tensorlogic::cuda
