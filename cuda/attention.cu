// Scaled dot-product attention: the Hopper kernel (attention_sm90a.cu) on compute capability 9.0 where it
// is built and the operands suit it, then the tensor-core kernel (attention_tiled.cu) where they suit that,
// else this general one for any head dims and strides: one block per (batch, query row). Keys are
// taken in chunks with a running max and sum (online softmax), so scores, weights and the weighted sum
// of V stay in f32 and the output is rounded once. Rows whose keys are all masked give zeros (like the
// CPU backend). Dropout (attention_dropout) runs the tiled kernel or this one, never the Hopper kernel.
#include <cmath>

#include "../cpp/core/batching.h"
#include "attention_tiled.h"
#include "common.cuh"
#include "cuda_backend.h"

namespace tensorlogic::cuda {
namespace {

constexpr int kChunk = 256;
constexpr int kAttnThreads = 128;

struct View3 {
  const __half* ptr;
  int64_t s0, s1, s2;
  __device__ __forceinline__ float at(int64_t b, int64_t i, int64_t j) const {
    return __half2float(ptr[b * s0 + i * s1 + j * s2]);
  }
};

View3 view3(const Array& a) { return {a.data_as<__half>(), a.strides()[0], a.strides()[1], a.strides()[2]}; }

struct AttnArgs {
  View3 q, k, v, mask;  // mask.ptr null when absent
  int64_t len, keys, e, ev;
  bool causal;
  float scale;
  __half* out;
  int64_t out_b, out_r;  // batch and row strides; rows contiguous
  bool dropped;  // dropout on the probabilities, as `dropout` says
  DropoutArgs dropout;
};

__global__ void attention_rows(AttnArgs a, int64_t b0) {
  extern __shared__ float smem[];
  float* qrow = smem;
  float* acc = qrow + a.e;
  float* p = acc + a.ev;
  __shared__ float scratch[33];
  const int64_t b = b0 + blockIdx.y, l = blockIdx.x;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = blockDim.x >> 5;
  for (int64_t i = threadIdx.x; i < a.e; i += blockDim.x) qrow[i] = a.q.at(b, l, i);
  for (int64_t i = threadIdx.x; i < a.ev; i += blockDim.x) acc[i] = 0.0f;
  __syncthreads();
  const int64_t visible = a.causal ? min(a.keys, l + 1) : a.keys;
  float m = -INFINITY, total = 0.0f;
  for (int64_t s0 = 0; s0 < visible; s0 += kChunk) {
    const int count = static_cast<int>(min(int64_t{kChunk}, visible - s0));
    for (int j = warp; j < count; j += warps) {
      float dot = 0.0f;
      for (int64_t i = lane; i < a.e; i += 32) dot += qrow[i] * a.k.at(b, s0 + j, i);
      dot = warp_reduce(dot, SumOp{});
      if (lane == 0) p[j] = dot * a.scale + (a.mask.ptr ? a.mask.at(b, l, s0 + j) : 0.0f);
    }
    __syncthreads();
    float local = -INFINITY;
    for (int j = threadIdx.x; j < count; j += blockDim.x) local = fmaxf(local, p[j]);
    const float top = fmaxf(m, block_reduce(local, MaxOp{}, -INFINITY, scratch));
    if (top == -INFINITY) continue;  // every key so far masked (uniform across the block)
    const float factor = expf(m - top);  // 0 when m is -inf
    float sum = 0.0f;
    for (int j = threadIdx.x; j < count; j += blockDim.x) {
      const float w = expf(p[j] - top);
      sum += w;  // the softmax's sums are over the probabilities before dropout
      p[j] = a.dropped && tl_dropout_word(a.dropout.seed, a.dropout.offset, b * a.len + l, a.dropout.keys4,
                                             static_cast<unsigned>(s0 + j)) < a.dropout.threshold
                 ? 0.0f
                 : w;
    }
    total = total * factor + block_reduce(sum, SumOp{}, 0.0f, scratch);  // its barriers publish p
    for (int64_t i = threadIdx.x; i < a.ev; i += blockDim.x) {
      float r = acc[i] * factor;
      for (int j = 0; j < count; ++j) r += p[j] * a.v.at(b, s0 + j, i);
      acc[i] = r;
    }
    m = top;
    __syncthreads();
  }
  __half* out = a.out + b * a.out_b + l * a.out_r;
  const float inv = total > 0.0f ? (a.dropped ? a.dropout.scale : 1.0f) / total : 0.0f;
  for (int64_t i = threadIdx.x; i < a.ev; i += blockDim.x) out[i] = __float2half_rn(acc[i] * inv);
}

// The general kernel for operands with one batch axis ([B, L, E]), with dropout where given.
void attention_general(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal, float scale,
                       const Backend::Dropout* dropout, const Array& out) {
  const int64_t batches = q.shape()[0], len = q.shape()[1];
  AttnArgs args{view3(q),     view3(k),     view3(v),     mask ? view3(*mask) : View3{nullptr, 0, 0, 0},
                len,          k.shape()[1], q.shape()[2], v.shape()[2],
                causal,       scale,        out.data_as<__half>(), out.strides()[0], out.strides()[1]};
  if (dropout) {
    args.dropped = true;
    args.dropout = dropout_args(*dropout, args.keys);
  }
  const size_t shared = sizeof(float) * static_cast<size_t>(args.e + args.ev + kChunk);
  if (shared > 48 * 1024) {
    check(cudaFuncSetAttribute(attention_rows, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(shared)),
          "cudaFuncSetAttribute (attention shared memory)");
  }
  for (int64_t b0 = 0; b0 < batches; b0 += 65535) {
    const dim3 grid(static_cast<unsigned>(len), static_cast<unsigned>(std::min<int64_t>(65535, batches - b0)));
    attention_rows<<<grid, kAttnThreads, shared, stream()>>>(args, b0);
    check_launch("attention kernel");
  }
}

}  // namespace

bool attention_tensor_cores(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal, float scale,
                            const Array& out, RowStats lse, const Backend::Dropout* dropout) {
#ifdef TL_CUDA_SM90A
  if (!dropout && attention_sm90a(q, k, v, mask, causal, scale, out, lse)) return true;
#endif
  return attention_tiled(q, k, v, mask, causal, scale, out, lse, dropout);
}

// The general kernel over [B0, B1, ...] operands, one launch per B0 where the batch axes do not merge.
void attention_general_batches(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal,
                               float scale, const Backend::Dropout* dropout, const Array& out) {
  int64_t batch = 0;
  for_each_batch({&q, &k, &v, mask, &out}, 2, [&](const std::vector<Array>& a) {
    const Backend::Dropout d = dropout ? dropout->from_batch(batch, q.shape()[2], k.shape()[2]) : Backend::Dropout{};
    batch += a[0].shape()[0];
    attention_general(a[0], a[1], a[2], mask ? &a[3] : nullptr, causal, scale, dropout ? &d : nullptr, a[4]);
  });
}

void CudaBackend::attention(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal, float scale,
                            const Array& out) {
  if (out.numel() == 0) return;
  if (attention_tensor_cores(q, k, v, mask, causal, scale, out)) return;
  attention_general_batches(q, k, v, mask, causal, scale, nullptr, out);
}

bool CudaBackend::attention_keeping_stats(const Array& q, const Array& k, const Array& v, const Array* mask,
                                          bool causal, float scale, const Array& out, const Array& stats) {
  if (out.numel() == 0) return false;
  if (stats.shape()[2] > 1 && stats.strides()[2] != 1) return false;
  return attention_tensor_cores(q, k, v, mask, causal, scale, out,
                                {stats.data_as<float>(), stride_of(stats, 0), stride_of(stats, 1)});
}

bool CudaBackend::attention_dropout(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal,
                                    float scale, const Dropout& dropout, const Array& out, const Array* stats) {
  if (out.numel() == 0) return !stats;
  if (stats) {
    if (stats->shape()[2] > 1 && stats->strides()[2] != 1) return false;
    return attention_tensor_cores(q, k, v, mask, causal, scale, out,
                                  {stats->data_as<float>(), stride_of(*stats, 0), stride_of(*stats, 1)}, &dropout);
  }
  if (!attention_tensor_cores(q, k, v, mask, causal, scale, out, {}, &dropout)) {
    attention_general_batches(q, k, v, mask, causal, scale, &dropout, out);
  }
  return true;
}

}  // namespace tensorlogic::cuda
