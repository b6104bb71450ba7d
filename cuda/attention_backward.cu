// Gradients of scaled dot-product attention for q, k and v (an additive mask is a constant here) on
// tensor cores, FlashAttention-2 style. Each row's log-sum-exp and the output O come from the forward (kept,
// or the forward run again); Delta_i = dO_i . O_i; then a block owns 64 keys (16 per warp, their dK and dV
// stay in f32 registers) and walks the query tiles, recomputing P^T = exp2(S^T - lse) from K Q^T, with
// dV += P^T dO, dP^T = V dO^T, dS^T = P^T (dP^T - Delta), dK += dS^T Q, and dQ += dS K added atomically
// into an f32 buffer that is rounded to f16 at the end. The next query tile's Q and dO load (cp.async)
// while this one is used. P and dS are rounded to f16 as MMA inputs (as FlashAttention does); all sums
// are f32. Query tiles entirely before a causal block's first key are skipped. On compute capability 9.0 the
// Hopper kernel (attention_backward_sm90a.cu) takes the shapes it handles instead, from the same inputs.
// Dropout (factors z: 1 / (1 - p) or 0 from philox.h's attention dropout, regenerated here) makes the output
// (P z) V: dV += (P z)^T dO and dS = P (z dP - Delta), Delta being rowsum(dO * O) as before (this kernel
// only; the Hopper one takes no dropout).
#include <algorithm>
#include <atomic>
#include <climits>
#include <type_traits>

#include "attention_tiled.h"
#include "common.cuh"
#include "cuda_backend.h"
#include "mma_sm80.cuh"

namespace tensorlogic::cuda {
namespace {

constexpr float kLog2e = 1.4426950408889634f;
constexpr int kWarps = 4;
constexpr int kBwdThreads = kWarps * 32;
constexpr int kKeys = 16 * kWarps;  // keys per block
constexpr int kRows = 64;            // queries per tile
constexpr int kDsStride = kRows + 8;  // dS^T rows in shared memory, padded like the others

template <int D>
struct BwdTile {
  static constexpr int kStride = D + 8;  // 16 bytes of padding: ldmatrix rows in distinct banks
  // Query tiles (Q, dO, lse, Delta) held at once: two where two blocks still fit an SM's shared memory, so
  // the next tile loads while this one is used; one for the largest heads.
  static constexpr int kStages = D <= 96 ? 2 : 1;
  static constexpr size_t kQueryHalfs = 2 * kRows * kStride;  // Q and dO of one query tile
  // K, V, dS^T, the query tiles (f16), then lse and Delta of each query tile (f32)
  static constexpr size_t kHalfs = 2 * kKeys * kStride + kKeys * kDsStride + kStages * kQueryHalfs;
  static constexpr size_t kSmemBytes = sizeof(__half) * kHalfs + kStages * 2 * sizeof(float) * kRows;
};

struct BwdArgs {
  const __half *q, *k, *v, *grad, *mask;     // mask null when absent
  RowStrides q_s, k_s, v_s, g_s, dk_s, dv_s;  // last dims contiguous
  int64_t mask_o, mask_i, mask_r, mask_c;     // any strides
  int64_t inner;                              // B1: the flat batch index is b0 * B1 + b1
  RowStats lse;
  const float* delta;  // contiguous [B0 * B1, len]
  float* dq_acc;       // contiguous [B0 * B1, len, e], zeroed
  __half *dk, *dv;
  int len, keys, e, ev;
  float scale, scale_log2;
  bool causal;
  DropoutArgs dropout;  // read only by the kDropout kernels
};

// This thread's dropout decisions for one n8 tile of P^T (keys key0 and key0 + 8, queries query0 and
// query0 + 1; element i of the accumulator is key0 + 8 (i >> 1), query0 + (i & 1)) as bit i. The four
// threads with one t and one g >> 2 hold the four keys of one Philox counter in each of those four
// (query, key group) pairs: each computes one pair's words and hands the others their words, four rounds
// of shuffles within the quadruple.
__device__ __forceinline__ unsigned dropout_bits(const DropoutArgs& d, unsigned long long row0, int key0, int lane) {
  const int s = (lane >> 2) & 3;  // g & 3: which pair this thread computes, and the key it holds in each group
  const PhiloxWords w = tl_dropout_words(d.seed, d.offset, row0 + (s & 1), d.keys4,
                                         static_cast<unsigned long long>((key0 - s) / 4 + 2 * (s >> 1)));
  unsigned bits = 0;
#pragma unroll
  for (int r = 0; r < 4; ++r) {
    const int give = (s + r) & 3;  // the key of the thread this round serves
    const unsigned word = give == 0 ? w.x[0] : give == 1 ? w.x[1] : give == 2 ? w.x[2] : w.x[3];
    const int from = (s - r) & 3;  // the pair this thread receives this round
    const unsigned got = __shfl_sync(0xffffffffu, word, (lane & ~12) | (from << 2));
    bits |= static_cast<unsigned>(got >= d.threshold) << from;
  }
  return bits;
}

template <int D, int kTileRows>
__device__ __forceinline__ void load_rows(__half* dst, const __half* src, int64_t row_stride, int row0, int rows,
                                          int cols) {
  constexpr int kChunks = D / 8;
  static_assert(kTileRows * kChunks % kBwdThreads == 0, "every thread copies the same number of chunks");
#pragma unroll
  for (int i = 0; i < kTileRows * kChunks / kBwdThreads; ++i) {
    const int c = threadIdx.x + i * kBwdThreads, r = c / kChunks, ch = c % kChunks;
    const bool valid = row0 + r < rows && ch * 8 < cols;
    cp_async_16(dst + r * BwdTile<D>::kStride + ch * 8, valid ? src + (row0 + r) * row_stride + ch * 8 : src, valid);
  }
}

// acc[16 rows of `a_rows` (shared, row-major)][8 n8 tiles of `b_rows`] += A B^T over D columns: the
// product of a warp's 16 rows with 64 rows of another tile, both read with plain ldmatrix.
template <int D>
__device__ __forceinline__ void rows_times_rows(float (&acc)[kRows / 8][4], const __half* a_rows, const __half* b_rows,
                                                int lane) {
  constexpr int S = BwdTile<D>::kStride;
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
    uint32_t a[4];
    ldmatrix_x4(a, a_rows + (lane & 15) * S + kk * 16 + (lane >> 4) * 8);
#pragma unroll
    for (int nn = 0; nn < kRows / 16; ++nn) {
      uint32_t b[4];
      ldmatrix_x4(b, b_rows + (nn * 16 + (lane & 7) + ((lane >> 4) << 3)) * S + kk * 16 + ((lane >> 3) & 1) * 8);
      mma_16816(acc[2 * nn], a, b[0], b[1]);
      mma_16816(acc[2 * nn + 1], a, b[2], b[3]);
    }
  }
}

// out[16 x D] += X[16 x 64] B where X is a 16 x 64 accumulator (rounded to f16 as the A operand) and B
// [64 rows][D] is row-major in shared memory (read with ldmatrix.trans). With kDropout, X times the
// dropout factors: element i of n8 tile nt is kept where bit 4 nt + i of `keep` is set, then times `scale`.
template <int D, bool kDropout = false>
__device__ __forceinline__ void acc_times_rows(float (&out)[D / 8][4], const float (&x)[kRows / 8][4], const __half* b,
                                               int lane, unsigned keep = 0, float scale = 1.0f) {
  constexpr int S = BwdTile<D>::kStride;
  const auto z = [&](int nt, int i) {
    return kDropout ? ((keep >> (4 * nt + i)) & 1u ? x[nt][i] * scale : 0.0f) : x[nt][i];
  };
#pragma unroll
  for (int kk = 0; kk < kRows / 16; ++kk) {
    const uint32_t a[4] = {pack_half2(z(2 * kk, 0), z(2 * kk, 1)), pack_half2(z(2 * kk, 2), z(2 * kk, 3)),
                           pack_half2(z(2 * kk + 1, 0), z(2 * kk + 1, 1)),
                           pack_half2(z(2 * kk + 1, 2), z(2 * kk + 1, 3))};
#pragma unroll
    for (int dn = 0; dn < D / 16; ++dn) {
      uint32_t f[4];
      ldmatrix_x4_trans(f, b + (kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * S + dn * 16 + (lane >> 4) * 8);
      mma_16816(out[2 * dn], a, f[0], f[1]);
      mma_16816(out[2 * dn + 1], a, f[2], f[3]);
    }
  }
}

template <int D, bool kMasked, bool kDropout>
__global__ void __launch_bounds__(kBwdThreads) attention_backward_kernel(BwdArgs a, int64_t b0) {
  using T = BwdTile<D>;
  constexpr int S = T::kStride;
  extern __shared__ __align__(16) unsigned char smem[];
  __half* s_k = reinterpret_cast<__half*>(smem);
  __half* s_v = s_k + kKeys * S;
  __half* s_ds = s_v + kKeys * S;                     // dS^T [kKeys][kDsStride]
  __half* s_query = s_ds + kKeys * kDsStride;         // per stage: Q [kRows][S], then dO [kRows][S]
  float* s_stats = reinterpret_cast<float*>(s_query + T::kStages * T::kQueryHalfs);  // per stage: lse, Delta

  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int64_t b = b0 + blockIdx.y, bo = b / a.inner, bi = b - bo * a.inner;
  const int n0 = blockIdx.x * kKeys;
  const __half* q = a.q + a.q_s.at(bo, bi, 0);
  const __half* dout = a.grad + a.g_s.at(bo, bi, 0);
  const __half* mask = a.mask + bo * a.mask_o + bi * a.mask_i;
  const float* lse = a.lse.at(bo, bi);
  load_rows<D, kKeys>(s_k, a.k + a.k_s.at(bo, bi, 0), a.k_s.row, n0, a.keys, a.e);
  load_rows<D, kKeys>(s_v, a.v + a.v_s.at(bo, bi, 0), a.v_s.row, n0, a.keys, a.ev);

  // Q and dO by cp.async, lse and Delta by plain stores (published by the barrier before their use).
  const auto load_query_tile = [&](int m0, int stage) {
    __half* dst = s_query + stage * T::kQueryHalfs;
    load_rows<D, kRows>(dst, q, a.q_s.row, m0, a.len, a.e);
    load_rows<D, kRows>(dst + kRows * S, dout, a.g_s.row, m0, a.len, a.ev);
    if (threadIdx.x < kRows) {
      const int row = m0 + threadIdx.x;
      s_stats[stage * 2 * kRows + threadIdx.x] = row < a.len ? lse[row] : INFINITY;
      s_stats[stage * 2 * kRows + kRows + threadIdx.x] = row < a.len ? a.delta[b * a.len + row] : 0.0f;
    }
  };

  float dk[D / 8][4] = {}, dv[D / 8][4] = {};
  const __half* my_k = s_k + warp * 16 * S;
  const __half* my_v = s_v + warp * 16 * S;
  // Query tiles ending before key n0 see none of this block's keys under the causal mask.
  const int first = a.causal ? n0 / kRows * kRows : 0;
  if (T::kStages == 2 && first < a.len) load_query_tile(first, 0);
  cp_async_commit();  // K and V (and the first query tile)
  for (int m0 = first, it = 0; m0 < a.len; m0 += kRows, ++it) {
    const int stage = T::kStages == 2 ? it & 1 : 0;
    if (T::kStages == 2) {
      // the other stage was released by the barrier closing the previous tile
      if (m0 + kRows < a.len) load_query_tile(m0 + kRows, stage ^ 1);
      cp_async_commit();
      cp_async_wait<1>();  // everything but the prefetch just issued has landed
    } else {
      load_query_tile(m0, 0);
      cp_async_commit();
      cp_async_wait<0>();
    }
    __syncthreads();
    const __half* s_q = s_query + stage * T::kQueryHalfs;
    const __half* s_do = s_q + kRows * S;
    const float* s_lse = s_stats + stage * 2 * kRows;
    const float* s_delta = s_lse + kRows;

    // P^T = exp2(K Q^T scale log2(e) - lse): this warp's 16 keys x 64 queries. Only tiles crossing the
    // matrix's end or the causal diagonal (uniform per block) check each element.
    float p[kRows / 8][4] = {};
    rows_times_rows<D>(p, my_k, s_q, lane);
    const auto probabilities = [&](auto checked) {
#pragma unroll
      for (int nt = 0; nt < kRows / 8; ++nt) {
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const int key = n0 + warp * 16 + g + 8 * (i >> 1), col = nt * 8 + 2 * t + (i & 1), query = m0 + col;
          const bool seen = !checked || (query < a.len && key < a.keys && !(a.causal && key > query));
          float x = p[nt][i] * a.scale_log2;
          if (kMasked && seen) x += __half2float(mask[query * a.mask_r + key * a.mask_c]) * kLog2e;
          p[nt][i] = seen ? exp2_ftz(x - s_lse[col]) : 0.0f;  // 0 in rows whose keys are all masked (lse +inf)
        }
      }
    };
    if (m0 + kRows > a.len || n0 + kKeys > a.keys || (a.causal && n0 + kKeys - 1 > m0)) {
      probabilities(std::true_type{});
    } else {
      probabilities(std::false_type{});
    }
    unsigned keep = 0;  // bit 4 nt + i: element i of n8 tile nt kept by the dropout
    if (kDropout) {
#pragma unroll
      for (int nt = 0; nt < kRows / 8; ++nt) {
        const unsigned long long row0 = static_cast<unsigned long long>(b) * a.len + m0 + nt * 8 + 2 * t;
        keep |= dropout_bits(a.dropout, row0, n0 + warp * 16 + g, lane) << (4 * nt);
      }
    }
    acc_times_rows<D, kDropout>(dv, p, s_do, lane, keep, a.dropout.scale);  // dV += (P z)^T dO

    // dS^T = P^T (z dP^T - Delta) with dP^T = V dO^T.
    float ds[kRows / 8][4] = {};
    rows_times_rows<D>(ds, my_v, s_do, lane);
#pragma unroll
    for (int nt = 0; nt < kRows / 8; ++nt) {
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const float dp = kDropout ? ((keep >> (4 * nt + i)) & 1u ? ds[nt][i] * a.dropout.scale : 0.0f) : ds[nt][i];
        ds[nt][i] = p[nt][i] * (dp - s_delta[nt * 8 + 2 * t + (i & 1)]);
      }
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        *reinterpret_cast<__half2*>(s_ds + (warp * 16 + g + 8 * h) * kDsStride + nt * 8 + 2 * t) =
            __floats2half2_rn(ds[nt][2 * h], ds[nt][2 * h + 1]);
      }
    }
    acc_times_rows<D>(dk, ds, s_q, lane);  // dK += dS^T Q (scaled at the end)
    __syncthreads();                       // all of dS^T is in shared memory

    // dQ += dS K for this warp's 16 queries, half of the columns at a time (registers: dK and dV are
    // live): A = (dS^T)^T, read transposed from shared memory; the sums go atomically to f32 memory.
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      constexpr int kPairs = D / 32;  // n16 column pairs per half
      float dq[2 * kPairs][4] = {};
#pragma unroll
      for (int kk = 0; kk < kKeys / 16; ++kk) {
        uint32_t x[4];
        ldmatrix_x4_trans(x, s_ds + (kk * 16 + (lane & 7) + ((lane >> 4) << 3)) * kDsStride + warp * 16 +
                                 ((lane >> 3) & 1) * 8);
#pragma unroll
        for (int j = 0; j < kPairs; ++j) {
          const int dn = half * kPairs + j;
          uint32_t f[4];
          ldmatrix_x4_trans(f, s_k + (kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * S + dn * 16 + (lane >> 4) * 8);
          mma_16816(dq[2 * j], x, f[0], f[1]);
          mma_16816(dq[2 * j + 1], x, f[2], f[3]);
        }
      }
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int query = m0 + warp * 16 + g + 8 * h;
        if (query >= a.len) continue;
        float* dst = a.dq_acc + (b * a.len + query) * a.e;
#pragma unroll
        for (int j = 0; j < 2 * kPairs; ++j) {
          const int col = (half * 2 * kPairs + j) * 8 + 2 * t;
          if (col < a.e) {
#if __CUDA_ARCH__ >= 900  // one 64-bit reduction for the pair
            atomicAdd(reinterpret_cast<float2*>(dst + col),
                      make_float2(dq[j][2 * h] * a.scale, dq[j][2 * h + 1] * a.scale));
#else
            atomicAdd(dst + col, dq[j][2 * h] * a.scale);
            atomicAdd(dst + col + 1, dq[j][2 * h + 1] * a.scale);
#endif
          }
        }
      }
    }
    __syncthreads();  // the next query tile overwrites Q, dO, dS^T, lse and Delta
  }
  cp_async_wait<0>();  // K and V were never waited for when no query tile sees this block's keys

#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int key = n0 + warp * 16 + g + 8 * h;
    if (key >= a.keys) continue;
#pragma unroll
    for (int dt = 0; dt < D / 8; ++dt) {
      const int col = dt * 8 + 2 * t;
      if (col < a.e) {
        *reinterpret_cast<__half2*>(a.dk + a.dk_s.at(bo, bi, key) + col) =
            __floats2half2_rn(dk[dt][2 * h] * a.scale, dk[dt][2 * h + 1] * a.scale);
      }
      if (col < a.ev) {
        *reinterpret_cast<__half2*>(a.dv + a.dv_s.at(bo, bi, key) + col) =
            __floats2half2_rn(dv[dt][2 * h], dv[dt][2 * h + 1]);
      }
    }
  }
}

// delta[r] = sum_c out[r, c] grad[r, c] in f32 over the flat rows r = b * len + l, and row r of the f32 dQ buffer
// ([rows, e], contiguous) zeroed for the backward kernels to add into. A row is kDeltaLanes threads of one warp,
// each reading 16-byte chunks of out and grad (rows of chunks): bandwidth-bound, where a warp a row reading two
// bytes a thread was not (29 us for 25 MB at the GPT shape on an H100).
constexpr int kDeltaLanes = 8;
__global__ void attention_delta(const __half* out, RowStrides out_s, const __half* grad, RowStrides g_s, int64_t inner,
                                int64_t len, int ev, int e, int64_t rows, float* delta, float* dq_acc) {
  const int64_t row = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / kDeltaLanes;
  if (row >= rows) return;  // (a row's lanes leave together: blockDim is a multiple of kDeltaLanes)
  const int part = threadIdx.x % kDeltaLanes;
  const int64_t b = row / len, l = row - b * len, bo = b / inner, bi = b - bo * inner;
  const __half* o = out + out_s.at(bo, bi, l);
  const __half* d = grad + g_s.at(bo, bi, l);
  float sum = 0.0f;
  for (int c = part * 8; c < ev; c += kDeltaLanes * 8) {
    const uint4 oc = *reinterpret_cast<const uint4*>(o + c), dc = *reinterpret_cast<const uint4*>(d + c);
    const __half2* oh = reinterpret_cast<const __half2*>(&oc);
    const __half2* dh = reinterpret_cast<const __half2*>(&dc);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const float2 x = __half22float2(oh[i]), y = __half22float2(dh[i]);
      sum = fmaf(x.x, y.x, fmaf(x.y, y.y, sum));
    }
  }
  const unsigned lanes = ((1u << kDeltaLanes) - 1) << ((threadIdx.x & 31) & ~(kDeltaLanes - 1));  // this row's
#pragma unroll
  for (int step = kDeltaLanes / 2; step > 0; step /= 2) sum += __shfl_xor_sync(lanes, sum, step);
  if (part == 0) delta[row] = sum;
  float4* zero = reinterpret_cast<float4*>(dq_acc + row * e);  // (e a multiple of 8: 32-byte rows)
  for (int c = part; c < e / 4; c += kDeltaLanes) zero[c] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
}

// dq [B0, B1, len, e] (rows of 16-byte chunks, any row and batch strides) from the f32 sums [B0 * B1, len,
// e]: each thread rounds 8 consecutive values into one chunk.
__global__ void store_dq(const float* in, int64_t chunks, int64_t len, int e, int64_t inner, RowStrides dq_s,
                         __half* dq) {
  const int per_row = e / 8;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < chunks;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t row = i / per_row, b = row / len, l = row - b * len, bo = b / inner, bi = b - bo * inner;
    const int c = static_cast<int>(i - row * per_row) * 8;
    const float4 lo = *reinterpret_cast<const float4*>(in + i * 8);
    const float4 hi = *reinterpret_cast<const float4*>(in + i * 8 + 4);
    const __half2 h[4] = {__floats2half2_rn(lo.x, lo.y), __floats2half2_rn(lo.z, lo.w), __floats2half2_rn(hi.x, hi.y),
                          __floats2half2_rn(hi.z, hi.w)};
    *reinterpret_cast<uint4*>(dq + dq_s.at(bo, bi, l) + c) = *reinterpret_cast<const uint4*>(h);
  }
}

template <int D, bool kMasked, bool kDropout>
void launch(const BwdArgs& args, int64_t batches) {
  const unsigned key_blocks = static_cast<unsigned>((args.keys + kKeys - 1) / kKeys);
  launch_batches<attention_backward_kernel<D, kMasked, kDropout>>(args, batches, key_blocks, kBwdThreads,
                                                                  BwdTile<D>::kSmemBytes, "attention backward kernel");
}

// The mma.sync backward kernel over every batch, from the log-sum-exps, Delta and a zeroed dQ buffer.
void launch_backward(const Array& q, const Array& k, const Array& v, const Array* mask, const Array& grad, bool causal,
                     float scale, const Backend::Dropout* dropout, RowStats row_lse, const float* delta, float* dq_acc,
                     const Array& dk, const Array& dv) {
  const int64_t inner = q.shape()[1], batches = q.shape()[0] * inner;
  const int64_t dim = std::max(q.shape()[3], v.shape()[3]);
  BwdArgs args{};
  args.q = q.data_as<__half>(), args.k = k.data_as<__half>(), args.v = v.data_as<__half>();
  args.grad = grad.data_as<__half>();
  if (mask) {
    args.mask = mask->data_as<__half>();
    args.mask_o = stride_of(*mask, 0), args.mask_i = stride_of(*mask, 1);
    args.mask_r = mask->strides()[2], args.mask_c = mask->strides()[3];
  }
  args.q_s = row_strides(q), args.k_s = row_strides(k), args.v_s = row_strides(v), args.g_s = row_strides(grad);
  args.dk_s = row_strides(dk), args.dv_s = row_strides(dv);
  args.inner = inner;
  args.lse = row_lse, args.delta = delta, args.dq_acc = dq_acc;
  args.dk = dk.data_as<__half>(), args.dv = dv.data_as<__half>();
  args.len = static_cast<int>(q.shape()[2]), args.keys = static_cast<int>(k.shape()[2]);
  args.e = static_cast<int>(q.shape()[3]), args.ev = static_cast<int>(v.shape()[3]);
  args.scale = scale, args.scale_log2 = scale * kLog2e;
  args.causal = causal;
  if (dropout) args.dropout = dropout_args(*dropout, k.shape()[2]);
  dispatch_tile(dim, mask != nullptr, dropout != nullptr, [&](auto d, auto masked, auto dropped) {
    launch<decltype(d)::value, decltype(masked)::value, decltype(dropped)::value>(args, batches);
  });
}

}  // namespace

bool CudaBackend::attention_backward(const Array& q, const Array& k, const Array& v, const Array* mask,
                                     const Array& grad, bool causal, float scale, const AttentionSaved* saved,
                                     const Dropout* dropout, const Array& dq, const Array& dk, const Array& dv) {
  const int64_t inner = q.shape()[1], batches = q.shape()[0] * inner, len = q.shape()[2], keys = k.shape()[2];
  const int64_t e = q.shape()[3], ev = v.shape()[3], dim = std::max(e, ev);
  // Head dims up to 128 run either kernel; beyond, only the Hopper one (d = 256) where it takes the operands.
#ifdef TL_CUDA_SM90A
  const bool hopper_only = dim > 128 && !dropout && attention_backward_sm90a_takes(q, k, v, grad, dk, dv);
#else
  const bool hopper_only = false;
#endif
  if (e % 8 != 0 || ev % 8 != 0 || e == 0 || (dim > 128 && !hopper_only) || keys == 0 || len == 0 || batches == 0) {
    return false;
  }
  if (len > INT_MAX / 2 || keys > INT_MAX / 2) return false;
  for (const Array* a : {&q, &k, &v, &grad, &dq, &dk, &dv}) {
    if (!rows_of_chunks(*a)) return false;
  }
  if (saved && (!rows_of_chunks(saved->out) || stride_of(saved->stats, 2) != 1)) return false;
  // O and each row's log-sum-exp: the forward's, when it kept them, else the forward again; then
  // Delta = rowsum(dO * O) and the dQ buffer zeroed.
  const int64_t rows = batches * len;
  Scratch lse(sizeof(float) * (saved ? 1 : rows)), delta(sizeof(float) * rows), dq_acc(sizeof(float) * rows * e);
  const RowStats row_lse = saved ? RowStats{saved->stats.data_as<float>(), stride_of(saved->stats, 0),
                                            stride_of(saved->stats, 1)}
                                 : RowStats{lse.as<float>(), inner * len, len};
  const Array out = saved ? saved->out : Array::empty({q.shape()[0], inner, len, ev}, Dtype::float16, q.device());
  if (!saved && !attention_tensor_cores(q, k, v, mask, causal, scale, out, row_lse, dropout)) return false;
  attention_delta<<<blocks_for(rows * kDeltaLanes), kThreads, 0, stream()>>>(
      out.data_as<__half>(), row_strides(out), grad.data_as<__half>(), row_strides(grad), inner, len,
      static_cast<int>(ev), static_cast<int>(e), rows, delta.as<float>(), dq_acc.as<float>());
  check_launch("attention backward (delta)");
#ifdef TL_CUDA_SM90A
  const bool hopper = !dropout && attention_backward_sm90a(q, k, v, mask, grad, causal, scale, row_lse,
                                                            delta.as<float>(), dq_acc.as<float>(), dk, dv);
#else
  const bool hopper = false;
#endif
  if (!hopper) {
    if (hopper_only) return false;  // the driver refused a tensor map, and no other kernel here takes this head dim
    launch_backward(q, k, v, mask, grad, causal, scale, dropout, row_lse, delta.as<float>(), dq_acc.as<float>(), dk,
                    dv);
  }
  const int64_t chunks = rows * e / 8;
  store_dq<<<grid_stride_blocks(chunks), kThreads, 0, stream()>>>(dq_acc.as<float>(), chunks, len, static_cast<int>(e),
                                                                   inner, row_strides(dq), dq.data_as<__half>());
  check_launch("attention backward (dq)");
  return true;
}

}  // namespace tensorlogic::cuda
