// The CUDA quantized_gemm and dequantize families (GGUF block formats, see backend.h), with the block
// math of cpp/kernels/quantized.h that the CPU backend runs too. Up to kGemvRows rows of x (decoding) take
// a GEMV over the blocks: one warp per weight row, each lane a block at a time, the weights decoded in
// registers and never written out, so a step reads the quantised bytes only (about 1/2 of f16's for Q8_0,
// 0.28 for Q4_0); lane 0 applies the linear epilogue (bias, residual, activation) to the row's sums, so a
// product is one launch. More rows (a prefill) dequantise the weight to f16 once and run the dense GEMM,
// where the decoding is spread over the rows. Both compute each weight as scale * q - offset in f32,
// exactly gguf's value, and accumulate in f32 like the GEMM.
#include <type_traits>

#include "../cpp/kernels/quantized.h"
#include "common.cuh"
#include "cuda_backend.h"
#include "epilogue.cuh"

namespace tensorlogic::cuda {
namespace {

constexpr int kGemvRows = 8;  // rows of x multiplied per pass over the weights
constexpr int kWarpsPerBlock = 4;

// Calls fn(std::integral_constant<QuantType, T>{}) for the runtime `type`: one kernel per format, so that
// the block layout is a compile-time constant and a small block's decoded integers stay in registers.
template <typename F>
void visit_quant(QuantType type, F&& fn) {
  switch (type) {
#define TL_QUANT(t, name, block_elems, block_bytes) \
  case QuantType::t:                                \
    fn(std::integral_constant<QuantType, QuantType::t>{}); \
    return;
#include "tensorlogic/op_table.def"
  }
}

// The epilogue of a product [1, m, n]: operands and activation.
struct Epilogue {
  EpilogueView bias, residual;
  Activation act;
};

// out[r * n + j] = epilogue(sum over i of W[j, i] * x[r * k + i]) for r < m <= R: warp j of the grid takes
// row j.
template <QuantType T, int R>
__global__ void gemv_kernel(const __half* x, int m, int64_t k, const uint8_t* w, int64_t row_bytes, int64_t n,
                            Epilogue ep, __half* out) {
  constexpr int elems = quant_block_elems(T), bytes = quant_block_bytes(T), sub = kernels::quant_sub_elems(T);
  const int lane = threadIdx.x % 32;
  const int64_t j = int64_t{blockIdx.x} * kWarpsPerBlock + threadIdx.x / 32;
  if (j >= n) return;
  const uint8_t* row = w + j * row_bytes;
  float acc[R];
#pragma unroll
  for (int r = 0; r < R; ++r) acc[r] = 0.0f;
  for (int64_t b = lane; b < k / elems; b += 32) {
    float scale[kernels::kQuantMaxSubs], offset[kernels::kQuantMaxSubs];
    int8_t buffer[kernels::kQuantMaxBlock];
    kernels::decode_scales(T, row + b * bytes, scale, offset);
    const int8_t* q = kernels::decode_values(T, row + b * bytes, buffer);
    const __half* xb = x + b * elems;
#pragma unroll 32
    for (int i = 0; i < elems; ++i) {
      const float weight = scale[i / sub] * static_cast<float>(q[i]) - offset[i / sub];
#pragma unroll
      for (int r = 0; r < R; ++r) {
        if (r < m) acc[r] = fmaf(weight, __half2float(xb[r * k + i]), acc[r]);
      }
    }
  }
#pragma unroll
  for (int r = 0; r < R; ++r) {
    float v = acc[r];
    for (int delta = 16; delta > 0; delta >>= 1) v += __shfl_xor_sync(0xffffffffu, v, delta);
    if (lane == 0 && r < m) out[r * n + j] = __float2half_rn(epilogue_value(ep.act, v, 0, r, j, ep.bias, ep.residual));
  }
}

// out [n, k] f16 = the weights, one thread per block.
template <QuantType T>
__global__ void dequantize_kernel(const uint8_t* w, int64_t row_bytes, int64_t n, int64_t k, __half* out) {
  constexpr int elems = quant_block_elems(T), bytes = quant_block_bytes(T), sub = kernels::quant_sub_elems(T);
  const int64_t per_row = k / elems, total = n * per_row;
  for (int64_t t = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; t < total; t += int64_t{gridDim.x} * blockDim.x) {
    const int64_t j = t / per_row, b = t % per_row;
    const uint8_t* block = w + j * row_bytes + b * bytes;
    float scale[kernels::kQuantMaxSubs], offset[kernels::kQuantMaxSubs];
    int8_t buffer[kernels::kQuantMaxBlock];
    kernels::decode_scales(T, block, scale, offset);
    const int8_t* q = kernels::decode_values(T, block, buffer);
    __half* dst = out + j * k + b * elems;
#pragma unroll 32
    for (int i = 0; i < elems; ++i) dst[i] = __float2half_rn(scale[i / sub] * static_cast<float>(q[i]) - offset[i / sub]);
  }
}

const uint8_t* block_bytes(const Array& blocks) { return static_cast<const uint8_t*>(blocks.data()); }
int64_t row_bytes(const Array& blocks) { return blocks.strides()[0] * 4; }

template <QuantType T, int R>
void launch_gemv(const Array& x, int m, const Array& blocks, const Epilogue& ep, const Array& out) {
  const int64_t n = out.shape()[2];
  const auto grid = static_cast<unsigned>((n + kWarpsPerBlock - 1) / kWarpsPerBlock);
  gemv_kernel<T, R><<<grid, 32 * kWarpsPerBlock, 0, stream()>>>(
      x.data_as<__half>(), m, x.shape()[2], block_bytes(blocks), row_bytes(blocks), n, ep, out.data_as<__half>());
}

}  // namespace

void CudaBackend::quantized_gemm(QuantType type, const Array& x, const Array& blocks, const Array& out,
                                 const GemmEpilogue& epilogue) {
  const int64_t m = out.shape()[1], n = out.shape()[2], k = x.shape()[2];
  if (m > kGemvRows) {
    const Array dense = Array::empty({n, k}, Dtype::float16, x.device());
    dequantize(type, blocks, dense);
    gemm(x, dense.view_as({1, k, n}, {n * k, 1, k}, 0), out, epilogue);  // W^T as a view, no copy
    return;
  }
  const Epilogue ep{epilogue_view(epilogue.bias), epilogue_view(epilogue.residual), epilogue.activation};
  const int rows = static_cast<int>(m);
  visit_quant(type, [&](auto t) {
    constexpr QuantType T = decltype(t)::value;
    if (rows == 1) {
      launch_gemv<T, 1>(x, rows, blocks, ep, out);
    } else if (rows == 2) {
      launch_gemv<T, 2>(x, rows, blocks, ep, out);
    } else if (rows <= 4) {
      launch_gemv<T, 4>(x, rows, blocks, ep, out);
    } else {
      launch_gemv<T, kGemvRows>(x, rows, blocks, ep, out);
    }
  });
  check_launch("quantized gemv kernel");
}

void CudaBackend::dequantize(QuantType type, const Array& blocks, const Array& out) {
  const int64_t n = out.shape()[0], k = out.shape()[1];
  const int64_t total = n * (k / quant_block_elems(type));
  visit_quant(type, [&](auto t) {
    constexpr QuantType T = decltype(t)::value;
    dequantize_kernel<T><<<grid_stride_blocks(total), kThreads, 0, stream()>>>(
        block_bytes(blocks), row_bytes(blocks), n, k, out.data_as<__half>());
  });
  check_launch("dequantize kernel");
}

}  // namespace tensorlogic::cuda
