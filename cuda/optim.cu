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

// The entry of a launch's table whose chunks hold `chunk`: the last whose first chunk is at or before it
// (binary search).
template <typename Entry>
__device__ __forceinline__ int owner(const Entry* entries, int count, int64_t chunk) {
  int lo = 0, hi = count - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (entries[mid].first_chunk <= chunk) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

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
  const int64_t chunk = blockIdx.x;
  const TensorEntry t = table.tensors[owner(table.tensors, table.count, chunk)];
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

// The inf/NaN check of many f16 arrays in one launch (a loss scaler's check of every gradient), each value
// then multiplied in place by inv_scale unless it is 1: the same chunks and table scheme as the optimizer
// step, 16-byte accesses where an array is 16-byte aligned. Any block that finds an f16 with every exponent
// bit set writes 1 to `found`.
constexpr int kFiniteTensors = 160;

struct FiniteEntry {
  __half* data;
  int64_t numel;
  int64_t first_chunk;
};

struct FiniteTable {
  FiniteEntry tensors[kFiniteTensors];
  int count;
};
static_assert(sizeof(FiniteTable) + sizeof(float) + sizeof(int*) <= 4000,
              "the finite-check table outgrows kernel arguments");

// Whether h is inf or NaN; h becomes h * inv_scale (rounded once) when kScale.
template <bool kScale>
__device__ __forceinline__ bool check_value(__half& h, float inv_scale) {
  const bool bad = (__half_as_ushort(h) & 0x7c00u) == 0x7c00u;
  if (kScale) h = __float2half_rn(__half2float(h) * inv_scale);
  return bad;
}

template <bool kScale>
__global__ void finite_kernel(FiniteTable table, float inv_scale, int* found) {
  const int64_t chunk = blockIdx.x;
  const FiniteEntry t = table.tensors[owner(table.tensors, table.count, chunk)];
  const int64_t begin = (chunk - t.first_chunk) * kChunk;
  const int64_t end = min(begin + kChunk, t.numel);
  bool bad = false;
  int64_t tail = begin;
  if (aligned16(t.data)) {
    const int64_t whole = begin + (end - begin) / 8 * 8;
    for (int64_t i = begin + threadIdx.x * int64_t{8}; i < whole; i += int64_t{blockDim.x} * 8) {
      Half8 v = *reinterpret_cast<const Half8*>(t.data + i);
#pragma unroll
      for (int j = 0; j < 8; ++j) bad = check_value<kScale>(v.h[j], inv_scale) || bad;
      if (kScale) *reinterpret_cast<Half8*>(t.data + i) = v;
    }
    tail = whole;
  }
  for (int64_t i = tail + threadIdx.x; i < end; i += blockDim.x) {
    bad = check_value<kScale>(t.data[i], inv_scale) || bad;
  }
  if (bad) *found = 1;  // every writer writes the same value
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

bool CudaBackend::check_finite_and_unscale(const std::vector<Array>& arrays, float inv_scale) {
  Scratch flag(sizeof(int));
  check(cudaMemsetAsync(flag.as<int>(), 0, sizeof(int), stream()), "cudaMemsetAsync");
  FiniteTable table{};
  int64_t blocks = 0;
  auto flush = [&] {
    if (table.count == 0) return;
    const auto kernel = inv_scale != 1.0f ? finite_kernel<true> : finite_kernel<false>;
    kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream()>>>(table, inv_scale, flag.as<int>());
    check_launch("finite check kernel");
    table.count = 0;
    blocks = 0;
  };
  for (const Array& a : arrays) {  // the core passes contiguous non-empty f16 arrays
    const int64_t chunks = (a.numel() + kChunk - 1) / kChunk;
    if (table.count == kFiniteTensors || blocks + chunks > kMaxBlocks) flush();
    table.tensors[table.count++] = FiniteEntry{a.data_as<__half>(), a.numel(), blocks};
    blocks += chunks;
  }
  flush();
  int found = 0;
  device_to_host(&found, flag.as<int>(), sizeof(int));
  raise_deferred_errors();  // gradients may derive from data a check kernel rejected, as for any read
  return found == 0;
}

}  // namespace tensorlogic::cuda
