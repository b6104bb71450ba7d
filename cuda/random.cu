// The random kernel: the Philox stream of cpp/core/philox.h, one thread per counter (four elements).
// Built with --fmad=false (see cmake/Cuda.cmake) so that only the header's explicit fmaf calls fuse,
// which makes every value bit-identical to the CPU backend's.
#define TL_PHILOX_FN __host__ __device__ __forceinline__
#define TL_FMAF fmaf
#define TL_SQRTF sqrtf
#include "../cpp/core/philox.h"
#include "common.cuh"
#include "cuda_backend.h"

namespace tensorlogic::cuda {
namespace {

__global__ void random_kernel(RandomKind kind, unsigned long long seed, unsigned long long offset, long long low,
                              long long high, int64_t n, void* out) {
  const int64_t counters = (n + 3) / 4;
  for (int64_t c = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; c < counters; c += int64_t{gridDim.x} * blockDim.x) {
    const PhiloxWords w = philox4x32_10(offset + static_cast<unsigned long long>(c), seed);
    const int64_t first = c * 4;
    const int count = static_cast<int>(n - first < 4 ? n - first : 4);
    if (kind == RandomKind::integer) {
      int32_t* dst = static_cast<int32_t*>(out) + first;
      for (int l = 0; l < count; ++l) dst[l] = tl_philox_integer(w.x[l], low, high);
      continue;
    }
    float v[4];
    if (kind == RandomKind::uniform) {
      for (int l = 0; l < 4; ++l) v[l] = tl_philox_uniform(w.x[l]);
    } else {
      const PhiloxNormals lo = tl_philox_normal2(w.x[0], w.x[1]), hi = tl_philox_normal2(w.x[2], w.x[3]);
      v[0] = lo.first;
      v[1] = lo.second;
      v[2] = hi.first;
      v[3] = hi.second;
    }
    __half* dst = static_cast<__half*>(out) + first;
    for (int l = 0; l < count; ++l) dst[l] = __float2half_rn(v[l]);
  }
}

}  // namespace

void CudaBackend::random(RandomKind kind, uint64_t seed, uint64_t offset, double low, double high, const Array& out) {
  const int64_t n = out.numel();
  if (n == 0) return;
  random_kernel<<<grid_stride_blocks((n + 3) / 4), kThreads, 0, stream()>>>(
      kind, seed, offset, static_cast<long long>(low), static_cast<long long>(high), n, out.data());
  check_launch("random kernel");
}

}  // namespace tensorlogic::cuda
