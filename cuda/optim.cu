// Fused optimizer steps on CUDA, many parameters per launch (multi-tensor): each parameter is cut into
// chunks of kChunk elements and every block updates one chunk. A launch covers up to kTensors parameters,
// described in a table passed by value as the kernel's argument (no device buffer, no copy to fill), so a
// model's 148 parameters take a few launches instead of 148. Each element runs the update of
// cpp/kernels/optimizer.h in f32 (parameter plus its Kahan compensation), rounds once to f16 and keeps the
// residual. Built with --fmad=false like the CPU build, so both backends give the same bits.
#include "../cpp/core/op_dispatch.h"
#include "../cpp/kernels/optimizer.h"
#include "common.cuh"
#include "cuda_backend.h"

namespace tensorlogic::cuda {
namespace {

constexpr int64_t kChunk = int64_t{16} * kThreads;  // elements per block: 16 per thread
constexpr int kTensors = 48;
constexpr int64_t kMaxBlocks = 0x7fffffff;  // gridDim.x

struct TensorEntry {
  __half* param;
  const __half* grad;
  float* state[4];      // the compensation, then the kind's slots (unused ones null)
  int64_t numel;
  int64_t first_chunk;  // this launch's block index of its first chunk
};

struct Table {
  TensorEntry tensors[kTensors];
  int count;
};
// Kernel arguments are limited to 4 KB.
static_assert(sizeof(Table) + sizeof(kernels::OptimizerCoeffs) <= 4000, "the parameter table outgrows kernel arguments");

// SLOTS is c.slots (dispatch_slots).
template <OptimizerKind K, int SLOTS>
__global__ void optimizer_kernel(kernels::OptimizerCoeffs c, Table table) {
  // This block's parameter: the last whose first chunk is at or before the block (binary search).
  const int64_t chunk = blockIdx.x;
  int lo = 0, hi = table.count - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (table.tensors[mid].first_chunk <= chunk) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  const TensorEntry t = table.tensors[lo];
  const int64_t begin = (chunk - t.first_chunk) * kChunk;
  const int64_t end = min(begin + kChunk, t.numel);
  float* comp = t.state[0];
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    float s[3] = {0.0f, 0.0f, 0.0f};
#pragma unroll
    for (int k = 0; k < SLOTS; ++k) s[k] = t.state[k + 1][i];
    const float x = kernels::optimizer_update(K, c, __half2float(t.param[i]) + comp[i], __half2float(t.grad[i]), s);
#pragma unroll
    for (int k = 0; k < SLOTS; ++k) t.state[k + 1][i] = s[k];
    const __half rounded = __float2half_rn(x);
    t.param[i] = rounded;
    const float residual = x - __half2float(rounded);
    comp[i] = isfinite(residual) ? residual : 0.0f;  // an overflowed weight keeps no residual
  }
}

template <OptimizerKind K, int SLOTS>
void launch_all(const kernels::OptimizerCoeffs& c, const std::vector<OptimizerTensors>& tensors) {
  Table table{};
  int64_t blocks = 0;
  auto flush = [&] {
    if (table.count == 0) return;
    optimizer_kernel<K, SLOTS><<<static_cast<unsigned>(blocks), kThreads, 0, stream()>>>(c, table);
    check_launch("optimizer kernel");
    table.count = 0;
    blocks = 0;
  };
  for (const OptimizerTensors& t : tensors) {  // the core leaves out empty parameters
    const int64_t chunks = (t.param.numel() + kChunk - 1) / kChunk;
    if (table.count == kTensors || blocks + chunks > kMaxBlocks) flush();
    TensorEntry& e = table.tensors[table.count++];
    e = TensorEntry{t.param.data_as<__half>(), t.grad.data_as<__half>(), {}, t.param.numel(), blocks};
    for (size_t k = 0; k < t.state.size(); ++k) e.state[k] = reinterpret_cast<float*>(t.state[k].data_as<int32_t>());
    blocks += chunks;
  }
  flush();
}

}  // namespace

void CudaBackend::optimizer_steps(OptimizerKind kind, const OptimizerParams& params,
                                  const std::vector<OptimizerTensors>& tensors) {
  // numel is per parameter here (the table's); the coefficients are shared.
  const kernels::OptimizerCoeffs c = optimizer_coeffs(kind, params, 0);
  dispatch_optimizer(kind, [&](auto kind_tag) {
    constexpr OptimizerKind K = decltype(kind_tag)::value;
    dispatch_slots(c.slots, [&](auto slots) { launch_all<K, decltype(slots)::value>(c, tensors); });
  });
}

}  // namespace tensorlogic::cuda
