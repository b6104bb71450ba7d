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

// V consecutive values of one operand as f32: one 8-byte (f16) or 16-byte (f32) access when V is 4.
template <int V>
__device__ __forceinline__ void load_values(const __half* p, float (&v)[V]) {
  if constexpr (V == 4) {
    const uint2 raw = *reinterpret_cast<const uint2*>(p);
    const __half2 lo = *reinterpret_cast<const __half2*>(&raw.x), hi = *reinterpret_cast<const __half2*>(&raw.y);
    v[0] = __low2float(lo), v[1] = __high2float(lo), v[2] = __low2float(hi), v[3] = __high2float(hi);
  } else {
    v[0] = __half2float(*p);
  }
}
template <int V>
__device__ __forceinline__ void load_values(const float* p, float (&v)[V]) {
  if constexpr (V == 4) {
    const float4 q = *reinterpret_cast<const float4*>(p);
    v[0] = q.x, v[1] = q.y, v[2] = q.z, v[3] = q.w;
  } else {
    v[0] = *p;
  }
}
template <int V>
__device__ __forceinline__ void store_values(__half* p, const __half (&v)[V]) {
  if constexpr (V == 4) {
    uint2 raw;
    *reinterpret_cast<__half2*>(&raw.x) = __halves2half2(v[0], v[1]);
    *reinterpret_cast<__half2*>(&raw.y) = __halves2half2(v[2], v[3]);
    *reinterpret_cast<uint2*>(p) = raw;
  } else {
    *p = v[0];
  }
}
template <int V>
__device__ __forceinline__ void store_values(float* p, const float (&v)[V]) {
  if constexpr (V == 4) {
    *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
  } else {
    *p = v[0];
  }
}

// Updates elements [i, i + V) of one parameter: every operand read before any is written.
template <OptimizerKind K, int SLOTS, int V>
__device__ __forceinline__ void update(const kernels::OptimizerCoeffs& c, const TensorEntry& t, int64_t i) {
  float p[V], g[V], comp[V], s[3][V];
  load_values<V>(t.param + i, p);
  load_values<V>(t.grad + i, g);
  load_values<V>(t.state[0] + i, comp);
#pragma unroll
  for (int k = 0; k < SLOTS; ++k) load_values<V>(t.state[k + 1] + i, s[k]);
  __half rounded[V];
#pragma unroll
  for (int j = 0; j < V; ++j) {
    float sj[3] = {0.0f, 0.0f, 0.0f};
#pragma unroll
    for (int k = 0; k < SLOTS; ++k) sj[k] = s[k][j];
    const float x = kernels::optimizer_update(K, c, p[j] + comp[j], g[j], sj);
#pragma unroll
    for (int k = 0; k < SLOTS; ++k) s[k][j] = sj[k];
    rounded[j] = __float2half_rn(x);
    const float residual = x - __half2float(rounded[j]);
    comp[j] = isfinite(residual) ? residual : 0.0f;  // an overflowed weight keeps no residual
  }
  store_values<V>(t.param + i, rounded);
  store_values<V>(t.state[0] + i, comp);
#pragma unroll
  for (int k = 0; k < SLOTS; ++k) store_values<V>(t.state[k + 1] + i, s[k]);
}

// SLOTS is c.slots (dispatch_slots). V is 4 when every pointer of the table is aligned for 4-wide accesses
// (f16 operands to 8 bytes, f32 to 16; chunks start at multiples of kChunk): a thread then moves 4 elements
// of each operand per access, and a parameter's last few elements (numel % 4) one by one.
template <OptimizerKind K, int SLOTS, int V>
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
  const int64_t whole = begin + (end - begin) / V * V;
  for (int64_t i = begin + threadIdx.x * int64_t{V}; i < whole; i += int64_t{blockDim.x} * V) {
    update<K, SLOTS, V>(c, t, i);
  }
  for (int64_t i = whole + threadIdx.x; i < end; i += blockDim.x) update<K, SLOTS, 1>(c, t, i);
}

bool aligned_for_vectors(const TensorEntry& e, int slots) {
  auto ok = [](const void* p, uintptr_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; };
  bool aligned = ok(e.param, 8) && ok(e.grad, 8) && ok(e.state[0], 16);
  for (int k = 0; k < slots; ++k) aligned = aligned && ok(e.state[k + 1], 16);
  return aligned;
}

template <OptimizerKind K, int SLOTS>
void launch_all(const kernels::OptimizerCoeffs& c, const std::vector<OptimizerTensors>& tensors) {
  Table table{};
  int64_t blocks = 0;
  bool aligned = true;
  auto flush = [&] {
    if (table.count == 0) return;
    if (aligned) {
      optimizer_kernel<K, SLOTS, 4><<<static_cast<unsigned>(blocks), kThreads, 0, stream()>>>(c, table);
    } else {
      optimizer_kernel<K, SLOTS, 1><<<static_cast<unsigned>(blocks), kThreads, 0, stream()>>>(c, table);
    }
    check_launch("optimizer kernel");
    table.count = 0;
    blocks = 0;
    aligned = true;
  };
  for (const OptimizerTensors& t : tensors) {  // the core leaves out empty parameters
    const int64_t chunks = (t.param.numel() + kChunk - 1) / kChunk;
    if (table.count == kTensors || blocks + chunks > kMaxBlocks) flush();
    TensorEntry& e = table.tensors[table.count++];
    e = TensorEntry{t.param.data_as<__half>(), t.grad.data_as<__half>(), {}, t.param.numel(), blocks};
    for (size_t k = 0; k < t.state.size(); ++k) e.state[k] = reinterpret_cast<float*>(t.state[k].data_as<int32_t>());
    aligned = aligned && aligned_for_vectors(e, SLOTS);
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
