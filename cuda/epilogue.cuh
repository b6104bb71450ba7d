// The fused linear epilogue in device code, shared by the GEMM's epilogue kernel (gemm_epilogue.cu) and the
// quantised GEMV (quantized.cu): act(acc + bias + residual) in f32, rounded once by the caller.
#pragma once
#include "../cpp/kernels/elementwise.h"
#include "common.cuh"

namespace tensorlogic::cuda {

struct EpilogueView {
  const __half* ptr = nullptr;
  int64_t stride[3] = {0, 0, 0};
};

// A [B, M, N] reading of a bias or residual view (missing leading dims broadcast); null when absent.
inline EpilogueView epilogue_view(const Array* a) {
  EpilogueView v;
  if (a == nullptr) return v;
  v.ptr = a->data_as<__half>();
  const int nd = a->ndim();
  for (int d = 0; d < nd && d < 3; ++d) {
    const int src = nd - 1 - d;
    v.stride[2 - d] = a->shape()[src] == 1 ? 0 : a->strides()[src];
  }
  return v;
}

// The value of out[b, r, c] from its f32 accumulator.
__device__ __forceinline__ float epilogue_value(Activation act, float v, int64_t b, int64_t r, int64_t c,
                                                const EpilogueView& bias, const EpilogueView& residual) {
  if (bias.ptr) v += __half2float(bias.ptr[b * bias.stride[0] + r * bias.stride[1] + c * bias.stride[2]]);
  if (residual.ptr) {
    v += __half2float(residual.ptr[b * residual.stride[0] + r * residual.stride[1] + c * residual.stride[2]]);
  }
  return kernels::activation_f32(act, v);
}

}  // namespace tensorlogic::cuda
