// CUDA recurrent cell steps (RNN, LSTM, GRU; cpp/cpu/recurrent.cpp is the reference): one thread per state
// element computes cpp/kernels/recurrent.h's math for its gates in f32, every output rounded once.
#include "../cpp/kernels/recurrent.h"
#include "common.cuh"
#include "cuda_backend.h"

namespace tensorlogic::cuda {
namespace {

struct ScalarMath {
  static __device__ __forceinline__ float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }
  static __device__ __forceinline__ float tanh(float x) { return tanhf(x); }
  static __device__ __forceinline__ float relu(float x) { return x > 0.0f ? x : 0.0f; }
  static __device__ __forceinline__ float positive(float x, float v) { return x > 0.0f ? v : 0.0f; }
};

// The gates of element (row, j): gate k at row * G * H + k * H + j.
template <CellKind K>
__device__ __forceinline__ kernels::CellGates<float> load_gates(const __half* p, int64_t row, int64_t j,
                                                                int64_t hidden) {
  kernels::CellGates<float> g;
#pragma unroll
  for (int k = 0; k < 4; ++k) g.v[k] = k < cell_gates(K) ? to_f32(p[(row * cell_gates(K) + k) * hidden + j]) : 0.0f;
  return g;
}

template <CellKind K>
__device__ __forceinline__ void store_gates(__half* p, int64_t row, int64_t j, int64_t hidden,
                                            const kernels::CellGates<float>& g) {
#pragma unroll
  for (int k = 0; k < cell_gates(K); ++k) p[(row * cell_gates(K) + k) * hidden + j] = to_f16(g.v[k]);
}

template <CellKind K>
__global__ void cell_forward(const __half* gi, const __half* gh, const __half* h, const __half* c, int64_t n,
                             int64_t hidden, __half* h_out, __half* c_out) {
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n * hidden;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t row = e / hidden, j = e % hidden;
    const kernels::CellState<float> s = kernels::cell_forward<ScalarMath>(
        K, load_gates<K>(gi, row, j, hidden), load_gates<K>(gh, row, j, hidden), to_f32(h[e]),
        K == CellKind::lstm ? to_f32(c[e]) : 0.0f);
    h_out[e] = to_f16(s.h);
    if (K == CellKind::lstm) c_out[e] = to_f16(s.c);
  }
}

template <CellKind K>
__global__ void cell_backward(const __half* gi, const __half* gh, const __half* h, const __half* c, const __half* dh,
                              const __half* dc, int64_t n, int64_t hidden, __half* dgi, __half* dgh, __half* dh_prev,
                              __half* dc_prev) {
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n * hidden;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t row = e / hidden, j = e % hidden;
    const bool lstm = K == CellKind::lstm;
    const kernels::CellGrads<float> d = kernels::cell_backward<ScalarMath>(
        K, load_gates<K>(gi, row, j, hidden), load_gates<K>(gh, row, j, hidden), to_f32(h[e]),
        lstm ? to_f32(c[e]) : 0.0f, to_f32(dh[e]), lstm && dc ? to_f32(dc[e]) : 0.0f);
    store_gates<K>(dgi, row, j, hidden, d.dgi);
    if (K == CellKind::gru) {
      store_gates<K>(dgh, row, j, hidden, d.dgh);
      dh_prev[e] = to_f16(d.dh);
    }
    if (lstm) dc_prev[e] = to_f16(d.dc);
  }
}

const __half* data_or_null(const Array* a) { return a ? a->data_as<__half>() : nullptr; }
__half* out_or_null(const Array* a) { return a ? a->data_as<__half>() : nullptr; }

// Calls fn(tag) with std::integral_constant of `kind`, so each kernel is instantiated per cell kind.
template <typename F>
void visit_cell(CellKind kind, F&& fn) {
  switch (kind) {
#define TL_CELL(k, name, gates) \
  case CellKind::k: fn(std::integral_constant<CellKind, CellKind::k>{}); break;
#include "tensorlogic/op_table.def"
  }
}

}  // namespace

bool CudaBackend::recurrent_cell(CellKind kind, const Array& gi, const Array& gh, const Array& h, const Array* c,
                                 const Array& h_out, const Array* c_out) {
  const int64_t n = h.shape()[0], hidden = h.shape()[1];
  if (n * hidden == 0) return true;
  visit_cell(kind, [&](auto k) {
    cell_forward<decltype(k)::value><<<grid_stride_blocks(n * hidden), kThreads, 0, stream()>>>(
        gi.data_as<__half>(), gh.data_as<__half>(), h.data_as<__half>(), data_or_null(c), n, hidden,
        h_out.data_as<__half>(), out_or_null(c_out));
  });
  check_launch("recurrent cell kernel");
  return true;
}

bool CudaBackend::recurrent_cell_backward(CellKind kind, const Array& gi, const Array& gh, const Array& h,
                                          const Array* c, const Array& dh, const Array* dc, const Array& dgi,
                                          const CellGradArrays& out) {
  const int64_t n = h.shape()[0], hidden = h.shape()[1];
  if (n * hidden == 0) return true;
  visit_cell(kind, [&](auto k) {
    cell_backward<decltype(k)::value><<<grid_stride_blocks(n * hidden), kThreads, 0, stream()>>>(
        gi.data_as<__half>(), gh.data_as<__half>(), h.data_as<__half>(), data_or_null(c), dh.data_as<__half>(),
        data_or_null(dc), n, hidden, dgi.data_as<__half>(), out_or_null(out.dgh), out_or_null(out.dh_prev),
        out_or_null(out.dc_prev));
  });
  check_launch("recurrent cell backward kernel");
  return true;
}

}  // namespace tensorlogic::cuda
