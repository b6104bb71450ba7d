// Scaled dot-product attention on tensor cores, FlashAttention-2 style: a block owns a tile of query
// rows (kept in shared memory, its fragments read again for each key tile, as FlashAttention-2 does, so
// that the registers hold the scores of 64 keys), walks the key/value tiles through double-buffered shared
// memory (cp.async), computes S = Q K^T with mma.sync, keeps a running max and sum per row in f32
// (online softmax), and accumulates P V in f32; the output is rounded to f16 once. Key tiles entirely
// after the causal diagonal are never loaded. Rows whose keys are all masked give zeros. Dropout zeroes
// the probabilities whose Philox word (philox.h's attention dropout) falls below the threshold after the
// row sums have taken them, and the output takes the 1 / (1 - p) with the normalisation.
#include <algorithm>
#include <atomic>
#include <climits>
#include <cmath>

#include "attention_tiled.h"
#include "common.cuh"
#include "mma_sm80.cuh"

namespace tensorlogic::cuda {
namespace {

constexpr float kLog2e = 1.4426950408889634f;
constexpr int kWarps = 4;
constexpr int kTileThreads = kWarps * 32;

// D: head dim padded (with zeros in shared memory) to a multiple of 32; E and Ev both <= D.
template <int D>
struct Tile {
  // m16 row tiles per warp: two for small heads (each K/V fragment read from shared memory feeds two
  // MMAs), one for large heads, where the output accumulators of two would not fit in the registers.
  static constexpr int kRowTiles = D <= 64 ? 2 : 1;
  static constexpr int kBlockM = 16 * kRowTiles * kWarps;
  // Keys per tile: the online softmax's per-tile work (rescaling O, the row max shuffles, a barrier) is
  // spread over 64 keys; at d 64 the kernel then takes 253 registers, no spills (two blocks per SM).
  static constexpr int kBlockN = 64;
  // Shared rows padded by 16 bytes so the 8 rows one ldmatrix phase reads fall in 8 different banks.
  static constexpr int kStride = D + 8;
  static constexpr int kMaskStride = kBlockN + 8;  // same reason: rows g = 0..7 of a fragment, 8 banks apart
  static constexpr size_t kSmemBytes = sizeof(__half) * (kBlockM + 4 * kBlockN) * kStride;  // Q, 2 x (K, V)
  static constexpr size_t kMaskBytes = sizeof(__half) * kBlockM * kMaskStride;                // one mask tile
};

struct TiledArgs {
  const __half *q, *k, *v, *mask;  // mask null when absent
  RowStrides q_s, k_s, v_s, out_s;  // the last dims are contiguous
  int64_t mask_o, mask_i, mask_r, mask_c;
  int64_t inner;  // B1: the flat batch index is b0 * B1 + b1
  int len, keys, e, ev;
  float scale_log2;  // scale * log2(e): the exponentials are exp2
  bool causal;
  __half* out;
  RowStats lse;  // log2 of each row's sum of exp2 scores (+inf: all masked), where kept
  DropoutArgs dropout;  // read only by the kDropout kernels
};

// Drops this thread's probabilities s[nt][0..3] (rows g and g + 8, keys n8 + 2t, n8 + 2t + 1 of an n8 tile
// at key n8) by the dropout words. A thread pair (t, t ^ 1) holds the four keys of one Philox counter in
// each row: each computes one row's words and hands its partner the two it needs.
__device__ __forceinline__ void drop_tile(float (&s)[4], const DropoutArgs& d, unsigned long long row0, int n8,
                                          int t) {
  const int odd = t & 1;
  const PhiloxWords w = tl_dropout_words(d.seed, d.offset, row0 + 8 * odd, d.keys4,
                                         static_cast<unsigned long long>(n8 / 4 + (t >> 1)));
  const unsigned own0 = odd ? w.x[2] : w.x[0], own1 = odd ? w.x[3] : w.x[1];
  const unsigned got0 = __shfl_xor_sync(0xffffffffu, odd ? w.x[0] : w.x[2], 1);
  const unsigned got1 = __shfl_xor_sync(0xffffffffu, odd ? w.x[1] : w.x[3], 1);
  const unsigned x[4] = {odd ? got0 : own0, odd ? got1 : own1, odd ? own0 : got0, odd ? own1 : got1};
#pragma unroll
  for (int i = 0; i < 4; ++i) s[i] = x[i] >= d.threshold ? s[i] : 0.0f;
}

// Rows [row0, row0 + kRows) x columns [0, D) of a row-major global matrix into shared memory; rows at or
// past `rows` and columns at or past `cols` (a multiple of 8) are zero-filled.
template <int D, int kRows>
__device__ __forceinline__ void load_tile(__half* dst, const __half* src, int64_t row_stride, int row0, int rows,
                                          int cols) {
  constexpr int kChunks = D / 8;  // 16-byte chunks per row
  static_assert(kRows * kChunks % kTileThreads == 0, "every thread copies the same number of chunks");
#pragma unroll
  for (int i = 0; i < kRows * kChunks / kTileThreads; ++i) {
    const int c = threadIdx.x + i * kTileThreads, r = c / kChunks, ch = c % kChunks;
    const bool valid = row0 + r < rows && ch * 8 < cols;
    const __half* from = valid ? src + (row0 + r) * row_stride + ch * 8 : src;
    cp_async_16(dst + r * Tile<D>::kStride + ch * 8, from, valid);
  }
}

// The mask tile [m0, m0 + kBlockM) x [n0, n0 + kBlockN) into shared memory (zeros outside the matrix), so
// the score loop reads it as f16 pairs with 32-bit addresses instead of strided 64-bit global loads.
template <int D>
__device__ __forceinline__ void load_mask_tile(__half* dst, const TiledArgs& a, int64_t bo, int64_t bi, int m0,
                                               int n0) {
  constexpr int kRows = Tile<D>::kBlockM, kBlockN = Tile<D>::kBlockN;
  const __half* base = a.mask + bo * a.mask_o + bi * a.mask_i;
#pragma unroll 4
  for (int c = threadIdx.x; c < kRows * kBlockN; c += kTileThreads) {
    const int r = c / kBlockN, col = c % kBlockN;
    const int row = m0 + r, key = n0 + col;
    dst[r * Tile<D>::kMaskStride + col] =
        row < a.len && key < a.keys ? base[row * a.mask_r + key * a.mask_c] : __float2half(0.0f);
  }
}

template <int D, bool kMasked, bool kDropout>
__global__ void __launch_bounds__(kTileThreads) attention_tiled_kernel(TiledArgs a, int64_t b0) {
  using T = Tile<D>;
  constexpr int MT = T::kRowTiles, kStride = T::kStride, kBlockN = T::kBlockN;
  extern __shared__ __align__(16) unsigned char smem[];
  __half* s_q = reinterpret_cast<__half*>(smem);
  __half* s_k = s_q + T::kBlockM * kStride;  // [2][kBlockN][kStride]
  __half* s_v = s_k + 2 * kBlockN * kStride;
  __half* s_mask = s_v + 2 * kBlockN * kStride;  // only with kMasked

  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int64_t b = b0 + blockIdx.y, bo = b / a.inner, bi = b - bo * a.inner;
  const int m0 = (gridDim.x - 1 - blockIdx.x) * T::kBlockM;  // the longest causal rows start first
  const int warp_row = warp * 16 * MT;                        // this warp's first row in the tile
  const int kv_end = a.causal ? min(a.keys, m0 + T::kBlockM) : a.keys;
  const int n_tiles = (kv_end + kBlockN - 1) / kBlockN;  // >= 1: keys > 0 (the launcher checks)

  const __half* q = a.q + a.q_s.at(bo, bi, 0);
  const __half* k = a.k + a.k_s.at(bo, bi, 0);
  const __half* v = a.v + a.v_s.at(bo, bi, 0);
  load_tile<D, T::kBlockM>(s_q, q, a.q_s.row, m0, a.len, a.e);
  cp_async_commit();
  load_tile<D, kBlockN>(s_k, k, a.k_s.row, 0, a.keys, a.e);
  load_tile<D, kBlockN>(s_v, v, a.v_s.row, 0, a.keys, a.ev);
  cp_async_commit();

  cp_async_wait<1>();  // Q has landed; the first K/V tile may still be in flight
  __syncthreads();
  float o[MT][D / 8][4];
  float row_max[MT][2], row_sum[MT][2];  // row_sum: this thread's share; the quad's four add up at the end
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
    for (int dt = 0; dt < D / 8; ++dt) o[mt][dt][0] = o[mt][dt][1] = o[mt][dt][2] = o[mt][dt][3] = 0.0f;
    row_max[mt][0] = row_max[mt][1] = -INFINITY;
    row_sum[mt][0] = row_sum[mt][1] = 0.0f;
  }

  for (int j = 0; j < n_tiles; ++j) {
    const int buf = j & 1;
    if (j + 1 < n_tiles) {  // the other buffer was released by the barrier closing the previous tile
      load_tile<D, kBlockN>(s_k + (buf ^ 1) * kBlockN * kStride, k, a.k_s.row, (j + 1) * kBlockN, a.keys, a.e);
      load_tile<D, kBlockN>(s_v + (buf ^ 1) * kBlockN * kStride, v, a.v_s.row, (j + 1) * kBlockN, a.keys, a.ev);
    }
    cp_async_commit();
    // the previous tile's readers of the mask tile are past the barrier
    if (kMasked) load_mask_tile<D>(s_mask, a, bo, bi, m0, j * kBlockN);
    cp_async_wait<1>();  // everything but the prefetch just issued has landed
    __syncthreads();
    const int n0 = j * kBlockN;
    // A warp whose rows all come before this tile's first key (causal) would only add zeros: it waits.
    if (!a.causal || n0 <= m0 + warp_row + 16 * MT - 1) {
      const __half* tk = s_k + buf * kBlockN * kStride;
      const __half* tv = s_v + buf * kBlockN * kStride;

      // S = Q K^T: K rows are B's columns, so plain ldmatrix gives B fragments for two n8 tiles at once.
      float s[MT][kBlockN / 8][4];
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
        for (int nt = 0; nt < kBlockN / 8; ++nt) s[mt][nt][0] = s[mt][nt][1] = s[mt][nt][2] = s[mt][nt][3] = 0.0f;
      }
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        uint32_t q_frag[MT][4];
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          ldmatrix_x4(q_frag[mt], s_q + (warp_row + mt * 16 + (lane & 15)) * kStride + kk * 16 + (lane >> 4) * 8);
        }
#pragma unroll
        for (int nn = 0; nn < kBlockN / 16; ++nn) {
          uint32_t kf[4];
          ldmatrix_x4(kf, tk + (nn * 16 + (lane & 7) + ((lane >> 4) << 3)) * kStride + kk * 16 + ((lane >> 3) & 1) * 8);
#pragma unroll
          for (int mt = 0; mt < MT; ++mt) {
            mma_16816(s[mt][2 * nn], q_frag[mt], kf[0], kf[1]);
            mma_16816(s[mt][2 * nn + 1], q_frag[mt], kf[2], kf[3]);
          }
        }
      }

      // Scores in log2 units; keys past the end or after the causal diagonal are -inf.
      const bool edge = n0 + kBlockN > a.keys || (a.causal && n0 + kBlockN - 1 > m0);  // uniform per block
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const int local = warp_row + mt * 16 + g + 8 * h, row = m0 + local;
#pragma unroll
          for (int nt = 0; nt < kBlockN / 8; ++nt) {
            float2 add = make_float2(0.0f, 0.0f);
            if (kMasked) {
              add = __half22float2(*reinterpret_cast<const __half2*>(s_mask + local * T::kMaskStride + nt * 8 + 2 * t));
            }
#pragma unroll
            for (int c = 0; c < 2; ++c) {
              const int col = n0 + nt * 8 + 2 * t + c;
              float x = s[mt][nt][2 * h + c] * a.scale_log2;
              if (kMasked) x = fmaf(c == 0 ? add.x : add.y, kLog2e, x);
              if (edge && (col >= a.keys || (a.causal && col > row))) x = -INFINITY;
              s[mt][nt][2 * h + c] = x;
            }
          }
        }
      }

      // Online softmax: new running max per row (over the quad holding the row), rescale what was summed.
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          float top = row_max[mt][h];
#pragma unroll
          for (int nt = 0; nt < kBlockN / 8; ++nt) top = fmaxf(top, fmaxf(s[mt][nt][2 * h], s[mt][nt][2 * h + 1]));
          top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, 1));
          top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, 2));
          const float base = top == -INFINITY ? 0.0f : top;  // every key so far masked: all weights 0
          const float alpha = exp2_ftz(row_max[mt][h] - base);  // 0 while nothing was summed
          row_max[mt][h] = top;
          float sum = 0.0f;
#pragma unroll
          for (int nt = 0; nt < kBlockN / 8; ++nt) {
            s[mt][nt][2 * h] = exp2_ftz(s[mt][nt][2 * h] - base);
            s[mt][nt][2 * h + 1] = exp2_ftz(s[mt][nt][2 * h + 1] - base);
            sum += s[mt][nt][2 * h] + s[mt][nt][2 * h + 1];
          }
          row_sum[mt][h] = row_sum[mt][h] * alpha + sum;
#pragma unroll
          for (int dt = 0; dt < D / 8; ++dt) {
            o[mt][dt][2 * h] *= alpha;
            o[mt][dt][2 * h + 1] *= alpha;
          }
        }
      }

      // O += P V. P is rounded to f16 for the tensor cores, as FlashAttention and PyTorch's fused kernels
      // do (weights in [0, 1], relative error 2^-11 each); the row sums above use the f32 weights. The S
      // accumulator layout of two n8 tiles is exactly the A fragment of one k16 step; V rows are B's k
      // index, so ldmatrix.trans gives B fragments for two n8 tiles of the output at once.
#pragma unroll
      for (int kk = 0; kk < kBlockN / 16; ++kk) {
        uint32_t p[MT][4];
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          if (kDropout) {  // after the row sums: they are over the probabilities before dropout
            const unsigned long long row0 = static_cast<unsigned long long>(b) * a.len + m0 + warp_row + mt * 16 + g;
            drop_tile(s[mt][2 * kk], a.dropout, row0, n0 + kk * 16, t);
            drop_tile(s[mt][2 * kk + 1], a.dropout, row0, n0 + kk * 16 + 8, t);
          }
          p[mt][0] = pack_half2(s[mt][2 * kk][0], s[mt][2 * kk][1]);
          p[mt][1] = pack_half2(s[mt][2 * kk][2], s[mt][2 * kk][3]);
          p[mt][2] = pack_half2(s[mt][2 * kk + 1][0], s[mt][2 * kk + 1][1]);
          p[mt][3] = pack_half2(s[mt][2 * kk + 1][2], s[mt][2 * kk + 1][3]);
        }
#pragma unroll
        for (int dn = 0; dn < D / 16; ++dn) {
          uint32_t vf[4];
          const int v_row = kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8;
          ldmatrix_x4_trans(vf, tv + v_row * kStride + dn * 16 + (lane >> 4) * 8);
#pragma unroll
          for (int mt = 0; mt < MT; ++mt) {
            mma_16816(o[mt][2 * dn], p[mt], vf[0], vf[1]);
            mma_16816(o[mt][2 * dn + 1], p[mt], vf[2], vf[3]);
          }
        }
      }
    }
    __syncthreads();  // this buffer is refilled two tiles from now
  }

  // Normalise and store: each thread holds columns 2t, 2t+1 of every n8 tile of rows g and g + 8.
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      float total = row_sum[mt][h];
      total += __shfl_xor_sync(0xffffffffu, total, 1);
      total += __shfl_xor_sync(0xffffffffu, total, 2);
      const float inv = total > 0.0f ? (kDropout ? a.dropout.scale : 1.0f) / total : 0.0f;
      const int row = m0 + warp_row + mt * 16 + g + 8 * h;
      if (row >= a.len) continue;
      if (a.lse.ptr && t == 0) a.lse.at(bo, bi)[row] = total > 0.0f ? row_max[mt][h] + log2f(total) : INFINITY;
      __half* dst = a.out + a.out_s.at(bo, bi, row);
#pragma unroll
      for (int dt = 0; dt < D / 8; ++dt) {
        const int col = dt * 8 + 2 * t;
        if (col < a.ev) {  // ev is a multiple of 8, so col + 1 < ev too
          *reinterpret_cast<__half2*>(dst + col) =
              __floats2half2_rn(o[mt][dt][2 * h] * inv, o[mt][dt][2 * h + 1] * inv);
        }
      }
    }
  }
}

template <int D, bool kMasked, bool kDropout>
void launch(const TiledArgs& args, int64_t batches) {
  using T = Tile<D>;
  const unsigned row_blocks = static_cast<unsigned>((args.len + T::kBlockM - 1) / T::kBlockM);
  launch_batches<attention_tiled_kernel<D, kMasked, kDropout>>(args, batches, row_blocks, kTileThreads,
                                                     T::kSmemBytes + (kMasked ? T::kMaskBytes : 0),
                                                     "tiled attention kernel");
}

}  // namespace

bool attention_tiled(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal, float scale,
                     const Array& out, RowStats lse, const Backend::Dropout* dropout) {
  const int64_t batches = q.shape()[0] * q.shape()[1], len = q.shape()[2], keys = k.shape()[2];
  const int64_t e = q.shape()[3], ev = v.shape()[3], dim = std::max(e, ev);
  if (e % 8 != 0 || ev % 8 != 0 || e == 0 || dim > 128 || keys == 0) return false;
  if (len > INT_MAX / 2 || keys > INT_MAX / 2) return false;  // row and key indices are int
  if (!rows_of_chunks(q) || !rows_of_chunks(k) || !rows_of_chunks(v) || !rows_of_chunks(out)) return false;
  TiledArgs args{};
  args.q = q.data_as<__half>();
  args.k = k.data_as<__half>();
  args.v = v.data_as<__half>();
  args.q_s = row_strides(q), args.k_s = row_strides(k), args.v_s = row_strides(v), args.out_s = row_strides(out);
  if (mask) {
    args.mask = mask->data_as<__half>();
    args.mask_o = stride_of(*mask, 0), args.mask_i = stride_of(*mask, 1);
    args.mask_r = mask->strides()[2], args.mask_c = mask->strides()[3];
  }
  args.inner = q.shape()[1];
  args.len = static_cast<int>(len), args.keys = static_cast<int>(keys);
  args.e = static_cast<int>(e), args.ev = static_cast<int>(ev);
  args.scale_log2 = scale * kLog2e;
  args.causal = causal;
  args.out = out.data_as<__half>();
  args.lse = lse;
  if (dropout) args.dropout = dropout_args(*dropout, keys);
  dispatch_tile(dim, mask != nullptr, dropout != nullptr, [&](auto d, auto masked, auto dropped) {
    launch<decltype(d)::value, decltype(masked)::value, decltype(dropped)::value>(args, batches);
  });
  return true;
}

}  // namespace tensorlogic::cuda
