// The general GEMM epilogue: out = act(acc + bias + residual), rounded to f16 once, for the bias,
// residual and activation forms that cuBLASLt's fused epilogues do not cover.
#include "../cpp/kernels/elementwise.h"
#include "common.cuh"
#include "gemm_epilogue.h"

namespace tensorlogic::cuda {
namespace {

struct View3 {
  const __half* ptr = nullptr;
  int64_t stride[3] = {0, 0, 0};
};

// A [B, M, N] reading of a bias or residual view (missing leading dims broadcast).
View3 view3(const Array* a) {
  View3 v;
  if (a == nullptr) return v;
  v.ptr = a->data_as<__half>();
  const int nd = a->ndim();
  for (int d = 0; d < nd && d < 3; ++d) {
    const int src = nd - 1 - d;
    v.stride[2 - d] = a->shape()[src] == 1 ? 0 : a->strides()[src];
  }
  return v;
}

template <Activation A>
__global__ void epilogue_kernel(const float* acc, int64_t batch, int64_t m, int64_t n, View3 bias, View3 residual,
                                __half* out) {
  const int64_t total = batch * m * n;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t c = i % n, r = (i / n) % m, b = i / (m * n);
    float v = acc ? acc[i] : 0.0f;
    if (bias.ptr) v += __half2float(bias.ptr[b * bias.stride[0] + r * bias.stride[1] + c * bias.stride[2]]);
    if (residual.ptr) {
      v += __half2float(residual.ptr[b * residual.stride[0] + r * residual.stride[1] + c * residual.stride[2]]);
    }
    v = kernels::activation_f32(A, v);
    out[i] = __float2half_rn(v);
  }
}

}  // namespace

void gemm_epilogue(const float* acc, int64_t batch, int64_t m, int64_t n, const GemmEpilogue& e, const Array& out) {
  const int64_t total = batch * m * n;
  const View3 bias = view3(e.bias), residual = view3(e.residual);
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
