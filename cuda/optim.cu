// Fused optimizer steps on CUDA, many parameters per launch (multi-tensor): each parameter is cut into
// chunks of kChunk elements and every block updates one chunk. A launch covers up to kTensors parameters,
// described in a table passed by value as the kernel's argument (no device buffer, no copy to fill), so a
// model's 148 parameters take a few launches instead of 148. Each element runs the update of
// cpp/kernels/optimizer.h in f32 (parameter plus its Kahan compensation), rounds once to f16 and keeps the
// residual (an int16 count of 2^-15 f16 ulps, kernels::compensation_count: 2 bytes where an f32 took 4, the
// same weight). Built with --fmad=false like the CPU build, so both backends give the same bits.
// Under a loss scaler (tensorlogic.amp) the kernels read the scaler's flags and the step counts from device
// memory, as PyTorch's fused AdamW does, so a training step never waits for the device: a set found_inf
// makes every block return before writing, and the counts advance in a launch of their own.
#include "../cpp/core/op_dispatch.h"
#include "../cpp/kernels/optimizer.h"
#include "common.cuh"
#include "cuda_backend.h"
#include "deferred_error.cuh"

namespace tensorlogic::cuda {
namespace {

constexpr int64_t kChunk = int64_t{16} * kThreads;  // elements per block: 16 per thread
constexpr int kTensors = 48;
constexpr int64_t kMaxBlocks = 0x7fffffff;  // gridDim.x

struct TensorEntry {
  __half* param;
  const __half* grad;
  short* comp;          // the compensation (state slot 0)
  float* state[3];      // the kind's slots (unused ones null)
  int32_t* step;        // the count of updates done, on the device; null: the coefficients' step
  int64_t numel;
  int64_t first_chunk;  // this launch's block index of its first chunk
};

struct Table {
  TensorEntry tensors[kTensors];
  int count;
};
// A loss scaler's flags (ScalerFlags, null where absent) and the options a device step count enters.
struct DeviceScalars {
  const int32_t* found_inf;  // nonzero: the whole step is skipped
  const float* inv_scale;    // multiplies the coefficients' gradient scale
  kernels::StepOptions options;
};

// Kernel arguments are limited to 4 KB.
static_assert(sizeof(Table) + sizeof(kernels::OptimizerCoeffs) + sizeof(DeviceScalars) <= 4000,
              "the parameter table outgrows kernel arguments");

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
__device__ __forceinline__ void load_values(const short* p, short (&v)[V]) {
  if constexpr (V == 4) {
    const short4 q = *reinterpret_cast<const short4*>(p);
    v[0] = q.x, v[1] = q.y, v[2] = q.z, v[3] = q.w;
  } else {
    v[0] = *p;
  }
}
template <int V>
__device__ __forceinline__ void store_values(short* p, const short (&v)[V]) {
  if constexpr (V == 4) {
    *reinterpret_cast<short4*>(p) = make_short4(v[0], v[1], v[2], v[3]);
  } else {
    *p = v[0];
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
  float p[V], g[V], s[3][V];
  short comp[V];
  load_values<V>(t.param + i, p);
  load_values<V>(t.grad + i, g);
  load_values<V>(t.comp + i, comp);
#pragma unroll
  for (int k = 0; k < SLOTS; ++k) load_values<V>(t.state[k] + i, s[k]);
  __half rounded[V];
#pragma unroll
  for (int j = 0; j < V; ++j) {
    float sj[3] = {0.0f, 0.0f, 0.0f};
#pragma unroll
    for (int k = 0; k < SLOTS; ++k) sj[k] = s[k][j];
    const float x = kernels::optimizer_update(K, c, kernels::compensated(p[j], comp[j]), g[j], sj);
#pragma unroll
    for (int k = 0; k < SLOTS; ++k) s[k][j] = sj[k];
    rounded[j] = __float2half_rn(x);
    comp[j] = kernels::compensation_count(x, __half2float(rounded[j]));
  }
  store_values<V>(t.param + i, rounded);
  store_values<V>(t.comp + i, comp);
#pragma unroll
  for (int k = 0; k < SLOTS; ++k) store_values<V>(t.state[k] + i, s[k]);
}

// SLOTS is c.slots (dispatch_slots). V is 4 when every pointer of the table is aligned for 4-wide accesses
// (f16 and int16 operands to 8 bytes, f32 to 16; chunks start at multiples of kChunk): a thread then moves 4 elements
// of each operand per access, and a parameter's last few elements (numel % 4) one by one.
template <OptimizerKind K, int SLOTS, int V>
__global__ void optimizer_kernel(kernels::OptimizerCoeffs c, DeviceScalars d, Table table) {
  if (d.found_inf != nullptr && *d.found_inf != 0) return;  // every thread of the block returns alike
  const int64_t chunk = blockIdx.x;
  const TensorEntry t = table.tensors[owner(table.tensors, table.count, chunk)];
  // The coefficients of this parameter's step, once per block: the bias corrections' double pow costs
  // hundreds of cycles, a block's share of the bandwidth-bound update a few thousand.
  __shared__ kernels::OptimizerCoeffs shared;
  if (threadIdx.x == 0) {
    if (t.step != nullptr) kernels::set_step(c, d.options, *t.step + 1L);
    if (d.inv_scale != nullptr) c.scale *= *d.inv_scale;
    shared = c;
  }
  __syncthreads();
  c = shared;
  const int64_t begin = (chunk - t.first_chunk) * kChunk;
  const int64_t end = min(begin + kChunk, t.numel);
  const int64_t whole = begin + (end - begin) / V * V;
  for (int64_t i = begin + threadIdx.x * int64_t{V}; i < whole; i += int64_t{blockDim.x} * V) {
    update<K, SLOTS, V>(c, t, i);
  }
  for (int64_t i = whole + threadIdx.x; i < end; i += blockDim.x) update<K, SLOTS, 1>(c, t, i);
}

// Counts the step of every entry with a device count, unless it was skipped. A launch after the update's:
// all blocks of a parameter read its count, so none of them may write it.
__global__ void advance_steps(Table table, const int32_t* found_inf) {
  if (found_inf != nullptr && *found_inf != 0) return;
  const int i = threadIdx.x;
  if (i < table.count && table.tensors[i].step != nullptr) ++*table.tensors[i].step;
}

bool aligned_for_vectors(const TensorEntry& e, int slots) {
  auto ok = [](const void* p, uintptr_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; };
  bool aligned = ok(e.param, 8) && ok(e.grad, 8) && ok(e.comp, 8);
  for (int k = 0; k < slots; ++k) aligned = aligned && ok(e.state[k], 16);
  return aligned;
}

template <OptimizerKind K, int SLOTS>
void launch_all(const kernels::OptimizerCoeffs& c, const DeviceScalars& d,
                const std::vector<OptimizerTensors>& tensors) {
  Table table{};
  int64_t blocks = 0;
  bool aligned = true, counted = false;
  auto flush = [&] {
    if (table.count == 0) return;
    if (blocks > 0) {  // none when the table holds only empty parameters, kept for their device counts
      if (aligned) {
        optimizer_kernel<K, SLOTS, 4><<<static_cast<unsigned>(blocks), kThreads, 0, stream()>>>(c, d, table);
      } else {
        optimizer_kernel<K, SLOTS, 1><<<static_cast<unsigned>(blocks), kThreads, 0, stream()>>>(c, d, table);
      }
      check_launch("optimizer kernel");
    }
    if (counted) {
      advance_steps<<<1, kTensors, 0, stream()>>>(table, d.found_inf);
      check_launch("optimizer step count kernel");
    }
    table.count = 0;
    blocks = 0;
    aligned = true;
    counted = false;
  };
  for (const OptimizerTensors& t : tensors) {  // empty ones only with a device count: zero chunks
    const int64_t chunks = (t.param.numel() + kChunk - 1) / kChunk;
    if (table.count == kTensors || blocks + chunks > kMaxBlocks) flush();
    TensorEntry& e = table.tensors[table.count++];
    e = TensorEntry{t.param.data_as<__half>(), t.grad.data_as<__half>(), t.state[0].data_as<short>(), {}, nullptr,
                    t.param.numel(), blocks};
    if (t.step.defined()) e.step = t.step.data_as<int32_t>();
    counted = counted || t.step.defined();
    for (size_t k = 1; k < t.state.size(); ++k) e.state[k - 1] = reinterpret_cast<float*>(t.state[k].data_as<int32_t>());
    aligned = aligned && aligned_for_vectors(e, SLOTS);
    blocks += chunks;
  }
  flush();
}

// The inf/NaN check of many f16 arrays in one launch (a loss scaler's check of every gradient), each value
// then multiplied in place by the float32 word inv_scale when it is given: the table scheme of the optimizer
// step, 16-byte accesses where an array is 16-byte aligned, in chunks of kFiniteChunk: 8 loads of 16 bytes per
// thread, all in flight (with the optimizer's 4,096-element chunks a thread had 2, and GPT-2's 124.5 M
// gradients took 30,000 blocks, read at 1.4 TB/s on an H100). Any block that finds an f16
// with every exponent bit set writes 1 to `found` (the scaler's flag, never read by the host here); so does
// a pending deferred error (deferred_error.cu): gradients of data that a range check rejected must not update
// the parameters, and the error itself is raised at the host's next read.
constexpr int kFiniteTensors = 160;
constexpr int64_t kFiniteChunk = int64_t{64} * kThreads;  // elements per block: 8 vectors of 8 per thread

struct FiniteEntry {
  __half* data;
  int64_t numel;
  int64_t first_chunk;
};

struct FiniteTable {
  FiniteEntry tensors[kFiniteTensors];
  int count;
};
static_assert(sizeof(FiniteTable) + sizeof(float*) + sizeof(int32_t*) + sizeof(DeferredRecord*) <= 4000,
              "the finite-check table outgrows kernel arguments");

// Whether h is inf or NaN; h becomes h * inv_scale (rounded once) when kScale.
template <bool kScale>
__device__ __forceinline__ bool check_value(__half& h, float inv_scale) {
  const bool bad = (__half_as_ushort(h) & 0x7c00u) == 0x7c00u;
  if (kScale) h = __float2half_rn(__half2float(h) * inv_scale);
  return bad;
}

template <bool kScale>
__global__ void finite_kernel(FiniteTable table, const float* inv_scale_word, int32_t* found,
                              const DeferredRecord* record) {
  if (blockIdx.x == 0 && threadIdx.x == 0 && record->raised != 0) *found = 1;
  const float inv_scale = kScale ? *inv_scale_word : 1.0f;
  const int64_t chunk = blockIdx.x;
  const FiniteEntry t = table.tensors[owner(table.tensors, table.count, chunk)];
  const int64_t begin = (chunk - t.first_chunk) * kFiniteChunk;
  const int64_t end = min(begin + kFiniteChunk, t.numel);
  bool bad = false;
  int64_t tail = begin;
  if (aligned16(t.data)) {
    const int64_t whole = begin + (end - begin) / 8 * 8;
#pragma unroll 8
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

// GradScaler's update (kernels::update_loss_scale) in one thread: the scale never leaves the device.
__global__ void update_scale_kernel(float* scale, float* inv_scale, __half* scale_f16, int32_t* growth_tracker,
                                    const int32_t* found_inf, double growth, double backoff, long growth_interval) {
  float s = *scale;
  int tracker = *growth_tracker;
  kernels::update_loss_scale(s, tracker, *found_inf != 0, growth, backoff, growth_interval);
  *scale = s;
  *inv_scale = kernels::inverse_scale(s);
  *scale_f16 = __float2half_rn(s);  // 2^16 and above: inf, as the f16 loss would read the product
  *growth_tracker = tracker;
}

const float* f32_word(const Array& a) { return reinterpret_cast<const float*>(a.data_as<int32_t>()); }

}  // namespace

void CudaBackend::optimizer_steps(OptimizerKind kind, const OptimizerParams& params,
                                  const std::vector<OptimizerTensors>& tensors, const ScalerFlags& flags) {
  // numel is per parameter here (the table's); the coefficients are shared.
  const kernels::OptimizerCoeffs c = optimizer_coeffs(kind, params, 0);
  const DeviceScalars d{flags.found_inf.defined() ? flags.found_inf.data_as<int32_t>() : nullptr,
                        flags.inv_scale.defined() ? f32_word(flags.inv_scale) : nullptr, step_options(params)};
  dispatch_optimizer(kind, [&](auto kind_tag) {
    constexpr OptimizerKind K = decltype(kind_tag)::value;
    dispatch_slots(c.slots, [&](auto slots) { launch_all<K, decltype(slots)::value>(c, d, tensors); });
  });
}

void CudaBackend::non_finite_check_and_unscale(const std::vector<Array>& arrays, const Array& found_inf,
                                               const Array* inv_scale) {
  DeferredRecord* record = deferred_record();
  FiniteTable table{};
  int64_t blocks = 0;
  auto flush = [&] {
    if (table.count == 0) return;
    const auto kernel = inv_scale != nullptr ? finite_kernel<true> : finite_kernel<false>;
    kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream()>>>(
        table, inv_scale != nullptr ? f32_word(*inv_scale) : nullptr, found_inf.data_as<int32_t>(), record);
    check_launch("finite check kernel");
    table.count = 0;
    blocks = 0;
  };
  for (const Array& a : arrays) {  // the core passes contiguous non-empty f16 arrays
    const int64_t chunks = (a.numel() + kFiniteChunk - 1) / kFiniteChunk;
    if (table.count == kFiniteTensors || blocks + chunks > kMaxBlocks) flush();
    table.tensors[table.count++] = FiniteEntry{a.data_as<__half>(), a.numel(), blocks};
    blocks += chunks;
  }
  flush();
}

void CudaBackend::update_loss_scale(const LossScale& s, const Array& found_inf, double growth, double backoff,
                                    int64_t growth_interval) {
  update_scale_kernel<<<1, 1, 0, stream()>>>(reinterpret_cast<float*>(s.scale.data_as<int32_t>()),
                                             reinterpret_cast<float*>(s.inv_scale.data_as<int32_t>()),
                                             s.scale_f16.data_as<__half>(), s.growth_tracker.data_as<int32_t>(),
                                             found_inf.data_as<int32_t>(), growth, backoff,
                                             static_cast<long>(growth_interval));
  check_launch("loss scale update kernel");
}

}  // namespace tensorlogic::cuda
