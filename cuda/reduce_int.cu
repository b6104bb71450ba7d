// The exact reduction family on CUDA: bool, int32 and int64 data reduced in int64 (cpp/kernels/reduce_int.h
// holds the rules). One block per output: its threads stride over the reduced axis, then combine in
// shared memory (the combine is order-free, so the result matches the CPU's sequential one exactly).
#include "../cpp/kernels/reduce_int.h"
#include "common.cuh"
#include "cuda_backend.h"

namespace tensorlogic::cuda {
namespace {

template <ReduceOp Op, typename T>
__global__ void reduce_int_kernel(const T* in, int64_t outputs, int64_t n, int64_t inner, int64_t* out) {
  __shared__ kernels::IntAcc partial[kThreads];
  for (int64_t k = blockIdx.x; k < outputs; k += gridDim.x) {
    const T* row = in + (k / inner) * n * inner + k % inner;
    kernels::IntAcc acc = kernels::int_identity<Op>();
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
      acc = kernels::int_step<Op>(acc, static_cast<int64_t>(row[j * inner]), j);
    }
    partial[threadIdx.x] = acc;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
      if (threadIdx.x < half) partial[threadIdx.x] = kernels::int_combine<Op>(partial[threadIdx.x], partial[threadIdx.x + half]);
      __syncthreads();
    }
    if (threadIdx.x == 0) out[k] = kernels::int_result<Op>(partial[0]);
    __syncthreads();  // partial is rewritten by the next output
  }
}

template <ReduceOp Op, typename T>
void launch(const Array& in, int64_t outputs, int64_t n, int64_t inner, const Array& out) {
  const unsigned grid = static_cast<unsigned>(std::min<int64_t>(outputs, int64_t{1} << 20));
  reduce_int_kernel<Op, T><<<grid, kThreads, 0, stream()>>>(in.data_as<T>(), outputs, n, inner, out.data_as<int64_t>());
}

}  // namespace

void CudaBackend::reduce_int(ReduceOp op, const Array& in, int64_t outer, int64_t n, int64_t inner, const Array& out) {
  const int64_t outputs = outer * inner;
  bool done = false;
  visit_device_dtype(in.dtype(), [&](auto type) {
    using T = decltype(type);
    if constexpr (!std::is_same_v<T, __half>) {
      done = true;
      switch (op) {
        case ReduceOp::sum: return launch<ReduceOp::sum, T>(in, outputs, n, inner, out);
        case ReduceOp::prod: return launch<ReduceOp::prod, T>(in, outputs, n, inner, out);
        case ReduceOp::max: return launch<ReduceOp::max, T>(in, outputs, n, inner, out);
        case ReduceOp::min: return launch<ReduceOp::min, T>(in, outputs, n, inner, out);
        case ReduceOp::argmax: return launch<ReduceOp::argmax, T>(in, outputs, n, inner, out);
        case ReduceOp::argmin: return launch<ReduceOp::argmin, T>(in, outputs, n, inner, out);
        default: done = false;
      }
    }
  });
  if (!done) throw DeviceError(std::string("cuda: ") + reduce_name(op) + " has no exact kernel for " + dtype_name(in.dtype()));
  check_launch("reduce_int kernel");
}

}  // namespace tensorlogic::cuda
