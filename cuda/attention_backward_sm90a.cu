// Gradients of scaled dot-product attention for Hopper (sm_90a), tried by CudaBackend::attention_backward
// before the mma.sync kernel (attention_backward.cu) on compute capability 9.0 devices for head dims 64, 128 and
// 256 (with or without an additive mask, read from global memory per score); the same inputs (each row's base-2
// log-sum-exp, Delta = rowsum(dO * O), a zeroed f32 dQ buffer) and the same outputs. A work item is 128 keys of
// one batch; a persistent grid of one block per SM walks the items, drawing each next one as it gets to it. A
// block has three warpgroups: the producer, one lane of which loads, through the tensor memory accelerator, each
// item's K and V and then each query tile's Q and dO (128 rows at d = 64, 64 at 128 and 256) into a ring of two
// stages of 128-byte-swizzled buffers that runs on across items, so that the next item's K, V (at d = 64 into a
// second K/V buffer) and first query tiles load while the consumers finish the current one; and two consumers of
// 64 keys each, whose dK and dV stay in f32 registers until the item's end. Per query tile a consumer
// computes S^T = K Q^T and dP^T = V dO^T with wgmma (operands from shared memory), P^T = exp2(S^T - lse) and
// dS^T = P^T (dP^T - Delta) in registers, dV += P^T dO and dK += dS^T Q with wgmma (P^T and dS^T from
// registers, Q and dO read N-major), writes dS^T to shared memory (swizzled as TMA would; double-buffered, both
// consumers' side by side) and, once both have, computes dQ = dS K over all the item's 128 keys for half the
// tile's queries (d = 64) or half the columns (d = 128) with wgmma, which it writes to shared memory (at d = 128
// one of two buffers, used in turn; at d = 64 its tile's Q or dO buffer, read by then) and adds to the f32
// buffer with one bulk reduction of the tensor memory accelerator (FlashAttention-3's way: 64 x D float atomics
// per tile had each warp send D / 2 scattered reductions to L2; and, as there, a tile's dQ is summed over 128
// keys before its reduction). At d = 256 an item is 64 keys and the consumers split the head dim instead
// (HopperBwd says why): both compute the tile's S^T and dP^T, each keeps 128 columns of dK, dV and dQ, and a dQ
// share is staged in the tile's Q or dO buffer. (Issuing a tile's S^T and dP^T during the previous tile, behind
// its dQ product, measured slower at every d = 64 shape: benchmarks/results/attention_notes.md.)
// P and dS are rounded to f16 as MMA inputs (as attention_backward.cu does); all sums are f32. Query tiles
// entirely before a causal item's first key are skipped; rows and keys past the ends arrive as zeros through the
// tensor maps' bounds and are masked.
#include <algorithm>
#include <atomic>
#include <climits>
#include <cmath>
#include <type_traits>

#include "attention_tiled.h"
#include "common.cuh"
#include "mma_sm80.cuh"
#include "sm90a.cuh"
#include "tensor_maps_sm90a.h"

namespace tensorlogic::cuda {
namespace {

using namespace sm90a;

constexpr float kLog2e = 1.4426950408889634f;
constexpr int kConsumers = 2;                     // warpgroups of 64 keys
constexpr int kDqRows = 64;                       // query rows of a consumer's dQ share (one wgmma's M)
constexpr int kBlockThreads = 128 * (1 + kConsumers);
constexpr int kProducerRegs = 24, kConsumerRegs = 240;
static_assert(128 * kProducerRegs + 128 * kConsumers * kConsumerRegs <= 65536, "an SM has 64 Ki registers");

// The head dims built (HopperHeadDims::fits checks them, run dispatches on them).
using HeadDims = HopperHeadDims<64, 128, 256>;

template <int D>
struct HopperBwd {
  static_assert(D == 64 || D == 128 || D == 256, "head dims 64, 128 and 256");
  // Consumers dividing the head dim. At d <= 128 each consumer owns 64 keys of the block and all D columns of
  // their dK and dV. At 256 that would be 256 f32 registers a thread, more than the 240 a consumer claims, so
  // both consumers take the item's 64 keys, each computing the same S^T, dP^T, P^T and dS^T (over all 256
  // columns) and keeping half the columns of dK, dV and dQ: the register arrays of d = 128, at the price of
  // computing S^T and dP^T twice (a tile's tensor work is that of 7 products of 64 x 64 x 256 where 5 would do).
  static constexpr int kColSplit = D == 256 ? 2 : 1;
  static constexpr int kKeys = 64 * kConsumers / kColSplit;  // keys per item
  static constexpr int kCols = D / kColSplit;                 // columns of dK and dV a consumer holds
  // At d <= 128 both consumers' dS^T are shared, so that each computes dQ over all the item's keys for half the
  // columns: half the reduction traffic and operations of each reducing its own keys' dQ (all D columns), at the
  // price of one barrier of both warpgroups per tile (H100, 06:12 UTC 2026-12-06: forward + backward 6-10% faster).
  static constexpr bool kSplitDq = kColSplit == 1;
  // Queries per tile: 128 at d = 64, 64 above. At d = 64 a 64-query tile made S^T and dP^T 64 x 64 products with
  // both operands from shared memory, which read about as many bytes a cycle as shared memory delivers (an
  // m64n64k16 product: 4 KiB for 32 cycles of tensor work), and each tile's waits and barriers served little work;
  // 128 queries give m64n128k16 products (6 KiB for 64 cycles) and half the tiles (FlashAttention-3 also takes 128
  // x 128 at d = 64). At 128 and 256 the dK and dV registers leave no room for the larger S^T and dP^T.
  static constexpr int kRows = D == 64 ? 128 : 64;
  // With 128 queries, the consumers split dQ by rows (each its 64 queries, all columns: an m64n64 product over the
  // 128 keys); with 64, at d = 128, by columns (each half the columns of the tile's 64 queries).
  static constexpr bool kDqByRows = kRows == 2 * kDqRows;
  static_assert(!kDqByRows || kSplitDq, "the row split shares both consumers' dS^T");
  static constexpr int kDqCols = kDqByRows ? D : kSplitDq ? D / kConsumers : kCols;  // columns of dQ a consumer computes
  static constexpr int kDsBuffers = kSplitDq ? 2 : 1;  // shared dS^T: tile j + 1's is written while j's is read
  static constexpr int kStages = 2;  // query tiles in flight
  // K/V buffers: at d = 64 two, so that the producer loads the next item's K and V while the consumers still read
  // the current one's; at 128 and 256 one (a second would take the shared memory past 227 KiB), which the next
  // item's K and V fill once the consumers' last products of the current one (its last dQ) have landed.
  static constexpr int kKvBuffers = D == 64 ? 2 : 1;
  // A consumer's dQ buffers, used in turn: with two, a tile waits for the reduction of the tile before the
  // previous one to have read its buffer, not for the previous one's (the reductions' reads may queue behind L2).
  // One where dQ is staged in the tile's stage (below), which is freed once the reduction has read it.
  static constexpr int kDqBuffers = kSplitDq && !kDqByRows ? 2 : 1;
  static constexpr uint32_t kKeyBytes = kKeys * D * sizeof(__half);   // K or V
  static constexpr uint32_t kRowBytes = kRows * D * sizeof(__half);   // Q or dO of one query tile
  static constexpr uint32_t kDsBytes = 64 * kRows * sizeof(__half);   // one consumer's dS^T
  static constexpr uint32_t kDqBytes = kDqRows * kDqCols * sizeof(float); // one consumer's dQ share
  // At d = 64 and 256 a consumer's dQ share is staged in its tile's Q or dO buffer (as many bytes), which both
  // consumers have finished reading by then: buffers of their own would take the shared memory past 227 KiB (at
  // d = 64 with the K/V buffers, the 128-query stages and the double-buffered dS^T: 64 + 64 + 64 + 2 x 16 KiB, and the
  // 2 KiB of statistics and barriers outside).
  static constexpr bool kDqInStage = kColSplit == 2 || kDqByRows;
  static_assert(!kDqInStage || kDqBytes == kRowBytes, "a dQ share fills one Q or dO tile");
  // K and V, the stages' Q and dO, each consumer's dS^T and dQ; 1024 bytes of slack to align the swizzled tiles.
  // d = 64: 2 x 32 + 2 x 32 + 2 x 32 = 192 KiB (dQ in the stages); 128: 64 + 2 x 32 + 2 x 16 + 2 x 32 = 224 KiB;
  // 256: 64 + 2 x 64 + 2 x 8 = 208 KiB (dQ in the stages).
  static constexpr size_t kSmemBytes =
      kKvBuffers * 2 * kKeyBytes + 2 * kStages * kRowBytes +
      kConsumers * (kDsBuffers * kDsBytes + (kDqInStage ? 0 : kDqBuffers * kDqBytes)) + 1024;
  // (with the kernel's static shared memory, its barriers and statistics: under 2 KiB)
  static_assert(kSmemBytes + 2048 <= 227 * 1024, "an sm_90 block has at most 227 KiB of shared memory");
};

struct BwdSm90Args {
  // boxes of 64 columns x HopperBwd<D>::kRows (Q, dO) or HopperBwd<D>::kKeys (K, V) rows
  CUtensorMap q_map, k_map, v_map, g_map;
  CUtensorMap dq_map;  // dq_acc as [B0 * B1, len, D], boxes of 32 columns x kDqRows rows
  BatchSteps q_b, k_b, v_b, g_b;
  int64_t inner;  // B1: the flat batch index is b0 * B1 + b1
  SectionOrder order;  // of the items (key blocks of each batch)
  int items;           // key blocks x batches (attention_backward_sm90a_takes: under 2^31)
  RowStats lse;
  const float* delta;  // contiguous [B0 * B1, len]
  RowStrides dk_s, dv_s;
  __half *dk, *dv;
  const __half* mask;  // additive (its gradient not wanted), [B0, B1, len, keys] by the strides below; or null
  int64_t mask_o, mask_i, mask_r, mask_c;
  int len, keys;
  float scale, scale_log2;
};

template <int D>
__device__ __forceinline__ void load_rows(__half* dst, const CUtensorMap* map, uint64_t* bar, int rows, int row0,
                                          int bi, int bo) {
#pragma unroll
  for (int c = 0; c < D / kSwizzleCols; ++c) tma_load_4d(dst + c * rows * kSwizzleCols, map, bar, c * kSwizzleCols, row0, bi, bo);
}

// acc += A B with A (16 rows per warp) from registers and B N columns of a [kRows][D] tile (from its 64-column
// tile `tile` on) read N-major, kRows / 16 steps.
template <int N, int kRows>
__device__ __forceinline__ void wgmma_rows(float (&acc)[N / 2], const uint32_t (&a)[kRows / 16][4], const __half* tile) {
#pragma unroll
  for (int kk = 0; kk < kRows / 16; ++kk) {
    const uint64_t b = smem_desc(tile + kk * 16 * kSwizzleCols, kRows * kSwizzleCols * sizeof(__half), 1024);
    if constexpr (N == 64) wgmma_rs_n64(acc, a[kk], b);
    else wgmma_rs_n128(acc, a[kk], b);
  }
}

// An accumulator of N columns as the f16 A operand of N / 16 steps: two 8-column tiles of rows g, g + 8 each.
template <int N>
__device__ __forceinline__ void pack_rows(uint32_t (&a)[N / 16][4], const float (&x)[N / 2]) {
#pragma unroll
  for (int kk = 0; kk < N / 16; ++kk) {
    a[kk][0] = pack_half2(x[8 * kk], x[8 * kk + 1]);
    a[kk][1] = pack_half2(x[8 * kk + 2], x[8 * kk + 3]);
    a[kk][2] = pack_half2(x[8 * kk + 4], x[8 * kk + 5]);
    a[kk][3] = pack_half2(x[8 * kk + 6], x[8 * kk + 7]);
  }
}

// One work item: the key block of flat batch b from key0, and its query tiles (from tile_begin on).
struct BwdItem {
  int64_t b, bo, bi;
  int key0, tile_begin, n_tiles;
};

// Item `index` of a.order: SectionOrder::at in 32-bit arithmetic (there are under 2^31 items), because its 64-bit
// divisions are calls, whose registers the producer (24) does not have: it spilled 60-140 bytes.
template <int D, bool kCausal>
[[maybe_unused]] __device__ __forceinline__ BwdItem bwd_item(const BwdSm90Args& a, int index) {
  const unsigned width = static_cast<unsigned>(a.order.width);
  const unsigned per_section = width * static_cast<unsigned>(a.order.blocks);
  const unsigned section = static_cast<unsigned>(index) / per_section, first = section * width;
  const unsigned rest = static_cast<unsigned>(index) - section * per_section;
  const unsigned in_section = min(static_cast<unsigned>(a.order.batches) - first, width);
  const unsigned key_block = rest / in_section, b = first + rest - key_block * in_section;
  const unsigned inner = static_cast<unsigned>(a.inner), bo = b / inner;
  BwdItem w;
  w.b = b, w.bo = bo, w.bi = b - bo * inner;
  w.key0 = static_cast<int>(key_block) * HopperBwd<D>::kKeys;
  constexpr int kRows = HopperBwd<D>::kRows;
  w.tile_begin = kCausal ? w.key0 / kRows : 0;  // earlier queries see none of these keys
  w.n_tiles = max((a.len + kRows - 1) / kRows - w.tile_begin, 0);
  return w;
}

// The items after each block's first, drawn in order by the blocks' producers as they reach them: the
// counter runs from 0 to items - 1 (each block's last draw is past the items), and the block that draws items - 1
// sets it back to 0 for the next launch, which the one stream all work of a device runs on orders after this one.
__device__ unsigned bwd_tickets;

// The item a block takes n-th, or -1 past the last. Items are numbered in SectionOrder's order: within a section
// every batch's first key block comes first, which with a causal mask are the longest (they meet every later query
// tile). Drawn as the blocks free up, they go longest first to whichever block is free, as the hardware's block
// scheduler hands out a non-persistent grid; a static round-robin (index blockIdx.x + n gridDim.x) would give the
// first blocks of every round the longest items again and again (at GPT-2 small's causal shape, 768 items over
// 132 blocks: the busiest block 68 query tiles where the mean is 52.4 and drawing gives 54).
[[maybe_unused]] __device__ __forceinline__ int next_item(const BwdSm90Args& a, int n) {
  int64_t index = blockIdx.x + int64_t{n} * gridDim.x;
  if (n > 0) {  // drawn by lane 0 of the producer's warp, for all its lanes
    unsigned ticket = 0;
    if (threadIdx.x == 0) {
      ticket = atomicAdd(&bwd_tickets, 1u);
      if (ticket == static_cast<unsigned>(a.items - 1)) bwd_tickets = 0;
    }
    index = gridDim.x + int64_t{__shfl_sync(0xffffffffu, ticket, 0)};
  }
  return index < a.items ? static_cast<int>(index) : -1;
}

template <int D, bool kCausal, bool kMasked>
__global__ void __launch_bounds__(kBlockThreads, 1)
    attention_backward_sm90a_kernel(const __grid_constant__ BwdSm90Args a) {
#if !defined(__CUDA_ARCH_FEAT_SM90_ALL)
  __trap();  // the compute_90 pass of nvcc -arch=sm_90a (see attention_sm90a.cu)
#else
  using H = HopperBwd<D>;
  constexpr int kKeys = H::kKeys, kCols = H::kCols, kDqCols = H::kDqCols, kStages = H::kStages, kRows = H::kRows;
  extern __shared__ unsigned char smem_raw[];
  // (aligned by an offset from smem_raw, not through an integer, so that the compiler still knows every pointer
  // below is shared: dS^T's and dQ's stores are then STS, where generic stores took longer to drain at each proxy
  // fence: ncu, H100, GPT-2 small's shape: 4% of the stall samples at the fences and 2% at the stores)
  __half* s_kv = reinterpret_cast<__half*>(smem_raw + ((1024 - (smem_u32(smem_raw) & 1023)) & 1023));
  // [kKvBuffers][K, V][D / 64][kKeys][64]
  __half* s_q = s_kv + H::kKvBuffers * 2 * kKeys * D;  // [kStages][D / 64][kRows][64]
  __half* s_g = s_q + kStages * kRows * D;
  // [kDsBuffers][kConsumers][kRows / 64][64 keys][64 queries], swizzled
  __half* s_ds = s_g + kStages * kRows * D;
  // [kConsumers][kDqBuffers][kDqCols / 32][kDqRows][32], swizzled (unless kDqInStage)
  float* s_dq = reinterpret_cast<float*>(s_ds + H::kDsBuffers * kConsumers * 64 * kRows);
  // Persistent: the block walks items (next_item), the producer loading an item's K, V and first query tiles while
  // the consumers finish the previous one. The n-th item's K and V go to buffer n % kKvBuffers, completing phase
  // n / kKvBuffers of its kv_full, where the producer also leaves the item's index (-1: no more), and the consumers
  // free it (kv_free) once their last products reading K and V have landed: every consumer thread arrives, after
  // its own read of the index (`release` says why; racecheck reported the other lanes' reads against the
  // producer's next write of the slot while one lane per warp arrived). The query tiles' ring runs on across
  // items: the block's u-th tile (u counted over all its items) is in stage u % kStages, phase u / kStages, and
  // takes dS^T and dQ buffers u % kDsBuffers and u % kDqBuffers, so that those alternate across items too.
  __shared__ uint64_t kv_full[H::kKvBuffers], kv_free[H::kKvBuffers], rows_full[kStages], stage_free[kStages];
  __shared__ int s_item[H::kKvBuffers];
  __shared__ alignas(16) float s_lse[kConsumers][kRows];  // (read as float2)
  __shared__ alignas(16) float s_delta[kConsumers][kRows];
  const int warpgroup = threadIdx.x / 128, lane = threadIdx.x & 31;

  if (threadIdx.x == 0) {
    for (int i = 0; i < H::kKvBuffers; ++i) {
      mbar_init(&kv_full[i], 1);
      mbar_init(&kv_free[i], 128 * kConsumers);  // one arrival per consumer thread
    }
    for (int s = 0; s < kStages; ++s) {
      mbar_init(&rows_full[s], 1);
      // (per consumer thread where each writes its dQ share into the stage: see `release`)
      mbar_init(&stage_free[s], (H::kDqInStage ? 128 : 4) * kConsumers);
    }
    fence_barrier_init();
  }
  __syncthreads();

  if (warpgroup == 0) {  // the producer
    release_registers<kProducerRegs>();
    // One warp runs the loop and its lane 0 issues the loads: the loop's values are then the same in every lane
    // (warp-uniform), which ptxas keeps in uniform registers; in one thread's branch they took general ones, of
    // which the producer has 24 (spilling up to 140 bytes).
    if (threadIdx.x < 32) {
      const bool leader = lane == 0;
      int u = 0;  // query tiles loaded so far
      const auto load_tile = [&](const BwdItem& w, int it) {
        const int s = u % kStages, row0 = (w.tile_begin + it) * kRows;
        if (u >= kStages) mbar_wait(&stage_free[s], (u / kStages - 1) & 1);  // its previous tile is consumed
        if (leader) {
          mbar_expect_tx(&rows_full[s], 2 * H::kRowBytes);
          load_rows<D>(s_q + s * kRows * D, &a.q_map, &rows_full[s], kRows, row0,
                       static_cast<int>(w.bi * a.q_b.inner), static_cast<int>(w.bo * a.q_b.outer));
          load_rows<D>(s_g + s * kRows * D, &a.g_map, &rows_full[s], kRows, row0,
                       static_cast<int>(w.bi * a.g_b.inner), static_cast<int>(w.bo * a.g_b.outer));
        }
        ++u;
      };
      // Query tiles loaded before the item's K and V. With two K/V buffers none: the K/V buffer's wait is for the
      // item before the previous one, long done. With one, the first kStages (their stages are freed as the
      // previous item's tiles are consumed, before its last dQ product frees K and V), but at d = 256 only the
      // first: there a tile's stage, holding its dQ share, is freed as the next tile starts, after this item's K/V.
      constexpr int kEarly = H::kKvBuffers == 2 ? 0 : H::kDqInStage ? 1 : kStages;
      for (int n = 0;; ++n) {
        const int index = next_item(a, n);
        const BwdItem w = index >= 0 ? bwd_item<D, kCausal>(a, index) : BwdItem{};
        const int early = min(kEarly, w.n_tiles);
        for (int it = 0; it < early; ++it) load_tile(w, it);
        const int buf = n % H::kKvBuffers;
        if (n >= H::kKvBuffers) mbar_wait(&kv_free[buf], (n / H::kKvBuffers - 1) & 1);
        if (w.n_tiles == 0) {  // no more items, or none of the item's keys is seen: no K and V needed
          if (leader) {
            s_item[buf] = index;
            mbar_arrive(&kv_full[buf]);  // (which publishes the index)
          }
          if (index < 0) break;
          continue;
        }
        if (leader) {
          __half* k = s_kv + buf * 2 * kKeys * D;
          s_item[buf] = index;
          mbar_expect_tx(&kv_full[buf], 2 * H::kKeyBytes);
          load_rows<D>(k, &a.k_map, &kv_full[buf], kKeys, w.key0, static_cast<int>(w.bi * a.k_b.inner),
                       static_cast<int>(w.bo * a.k_b.outer));
          load_rows<D>(k + kKeys * D, &a.v_map, &kv_full[buf], kKeys, w.key0, static_cast<int>(w.bi * a.v_b.inner),
                       static_cast<int>(w.bo * a.v_b.outer));
        }
        for (int it = early; it < w.n_tiles; ++it) load_tile(w, it);
      }
    }
    return;
  }

  claim_registers<kConsumerRegs>();
  const int consumer = warpgroup - 1, warp = (threadIdx.x / 32) % 4, g = lane >> 2, t = lane & 3;
  const int key_part = consumer / H::kColSplit;          // which 64 keys of the block are this warpgroup's
  const int col0 = (consumer % H::kColSplit) * kCols;    // its first column of dK, dV and dQ
  const int col_tile = col0 / kSwizzleCols;              // the 64-column tile of Q, dO and K its columns start in
  const int dq_col0 = H::kDqByRows ? 0 : H::kSplitDq ? consumer * kDqCols : col0;  // its first column of dQ
  const int dq_row0 = H::kDqByRows ? consumer * kDqRows : 0;  // and its first query row of the tile
  float* dq = s_dq;  // this tile's dQ share (set per tile): [kConsumers][kDqBuffers][kDqRows * kDqCols]
  const int wg_barrier = 1 + consumer;  // named barrier of this warpgroup's 128 threads
  const bool issuer = threadIdx.x % 128 == 0;  // the thread that issues this warpgroup's dQ reductions
  // This warp's reads of a stage are done: one arrival per warp, for buffers the consumers access only through the
  // async proxy (their wgmmas read Q and dO; the producer's TMA writes them). Where a consumer thread also accesses
  // a buffer with ordinary loads or stores (the item slot s_item, a dQ share staged in Q's or dO's buffer), it
  // arrives on the buffer's barrier itself: an arrive releases the arriving thread's own prior accesses, and
  // compute-sanitizer's racecheck does not count one lane's arrive after a warp sync as releasing the others'.
  const auto release = [&](uint64_t* free) {
    __syncwarp();
    if (lane == 0) mbar_arrive(free);
  };
  int u0 = 0;  // the block's query tiles before the current item's

  for (int n = 0;; ++n) {
    const int buf = n % H::kKvBuffers;
    mbar_wait(&kv_full[buf], (n / H::kKvBuffers) & 1);  // the item's index published, its K and V landed
    const int index = s_item[buf];
    if (index < 0) break;
    const BwdItem w = bwd_item<D, kCausal>(a, index);
    const int64_t b = w.b, bo = w.bo, bi = w.bi;
    const int tile_begin = w.tile_begin, n_tiles = w.n_tiles;
    const int wg_key0 = w.key0 + 64 * key_part;  // this warpgroup's first key
    const __half* s_k = s_kv + buf * 2 * kKeys * D;
    const __half* k_rows = s_k + 64 * key_part * kSwizzleCols;  // its keys within each 64-column tile of K
    const __half* v_rows = k_rows + kKeys * D;                   // and of V
    const float* lse_row = a.lse.at(bo, bi);
    const float* delta_row = a.delta + b * a.len;
    const __half* mask = kMasked ? a.mask + bo * a.mask_o + bi * a.mask_i : nullptr;

    float dk[kCols / 2], dv[kCols / 2];  // rows: keys 16 warp + g (+ 8); columns col0 + 8 dt + 2t (+ 1)
#pragma unroll
    for (int i = 0; i < kCols / 2; ++i) dk[i] = dv[i] = 0.0f;

    // A query tile's log-sum-exps and Delta (+inf and 0 past the end: weights 0), thread j < kRows holding row j's,
    // are read from global memory one tile ahead, so their latency hides behind the previous tile's products.
    const int stat_row = threadIdx.x % 128;
    float next_lse = INFINITY, next_delta = 0.0f;
    const auto fetch_stats = [&](int it) {
      const int q = (tile_begin + it) * kRows + stat_row;
      if (stat_row < kRows && it < n_tiles && q < a.len) next_lse = lse_row[q], next_delta = delta_row[q];
      else next_lse = INFINITY, next_delta = 0.0f;
    };
    fetch_stats(0);

    // S^T = K Q^T and dP^T = V dO^T of tile `it` into s and dp: rows are this warpgroup's 64 keys, columns the
    // tile's 64 queries. Each in its own group, so that P^T is computed (and dV's product issued) while dP^T is on
    // the tensor cores. P^T is computed in s, dS^T in dp.
    float s[kRows / 2], dp[kRows / 2];
    const auto scores_product = [](float (&acc)[kRows / 2], uint64_t a_desc, uint64_t b_desc, bool accumulate) {
      if constexpr (kRows == 128) wgmma_ss_n128<0, 0>(acc, a_desc, b_desc, accumulate);
      else wgmma_ss_n64<0, 0>(acc, a_desc, b_desc, accumulate);
    };
    const auto issue_scores = [&](int it) {
      const int stage = (u0 + it) % kStages;
      const __half* q_tile = s_q + stage * kRows * D;
      const __half* g_tile = s_g + stage * kRows * D;
      mbar_wait(&rows_full[stage], ((u0 + it) / kStages) & 1);
      fence_registers(s);
      fence_registers(dp);
      wgmma_fence();
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        const int tile = kk / 4, step = (kk % 4) * 16;
        scores_product(s, smem_desc(k_rows + tile * kKeys * kSwizzleCols + step, 16, 1024),
                       smem_desc(q_tile + tile * kRows * kSwizzleCols + step, 16, 1024), kk > 0);
      }
      wgmma_commit();
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        const int tile = kk / 4, step = (kk % 4) * 16;
        scores_product(dp, smem_desc(v_rows + tile * kKeys * kSwizzleCols + step, 16, 1024),
                       smem_desc(g_tile + tile * kRows * kSwizzleCols + step, 16, 1024), kk > 0);
      }
      wgmma_commit();
    };

    // One query tile (a lambda called from the tile loop: with the body written in the loop, ptxas spilled
    // 24-52 bytes in the d = 256 kernels).
    const auto tile = [&](const int it) {
      const int u = u0 + it, stage = u % kStages, q0 = (tile_begin + it) * kRows;
      const __half* q_tile = s_q + stage * kRows * D;
      const __half* g_tile = s_g + stage * kRows * D;
      __half* ds_all = s_ds + (u % H::kDsBuffers) * kConsumers * 64 * kRows;  // this tile's dS^T, both consumers'
      __half* ds = ds_all + consumer * 64 * kRows;

      // This tile's statistics into shared memory (the previous tile's were last read before its second barrier),
      // the next tile's requested. The barrier also tells that the previous tile's dQ product, which read `ds`, is
      // done in every warp, and frees `dq`: the issuer has waited until the previous tile's reduction read it (with
      // two buffers, the reduction of the tile before that, which read this one).
      if (stat_row < kRows) s_lse[consumer][stat_row] = next_lse, s_delta[consumer][stat_row] = next_delta;
      fetch_stats(it + 1);
      if (issuer) bulk_wait_read_all_but<H::kDqBuffers - 1>();
      named_barrier_sync(wg_barrier, 128);
      if constexpr (H::kDqInStage) {  // the previous tile's stage held dQ until now
        if (u > 0) mbar_arrive(&stage_free[(u - 1) % kStages]);  // by every thread: each wrote into it
        dq = reinterpret_cast<float*>((consumer == 0 ? s_q : s_g) + stage * kRows * D);
      } else {
        dq = s_dq + (consumer * H::kDqBuffers + u % H::kDqBuffers) * kDqRows * kDqCols;
      }

      // (Loading these statistics into registers before the wgmma wait below hid their latency at 64 queries and
      // d = 64, 4-5% of the stall samples; with 128 queries, or d >= 128, those registers make ptxas spill.)
      const auto lse_at = [&](int nt) {
        return *reinterpret_cast<const float2*>(&s_lse[consumer][nt * 8 + 2 * t]);
      };
      const auto delta_at = [&](int nt) {
        return *reinterpret_cast<const float2*>(&s_delta[consumer][nt * 8 + 2 * t]);
      };
      issue_scores(it);
      wgmma_wait<1>();  // S^T has landed (dP^T may still run)
      fence_registers(s);

      // P^T = exp2(S^T scale log2(e) - lse) (0 for keys after the query, past the end, or queries past the end),
      // then dV += P^T dO (dO read N-major: the queries are the K index; this warpgroup's columns of it).
      // Tiles off the edges (most of them) take a copy of the loop without the per-score bounds and causal tests
      // (not with a mask: its kernels have no registers for both copies).
      const auto exponentials = [&](auto edge_tag) {
        constexpr bool kEdge = decltype(edge_tag)::value;
#pragma unroll
        for (int nt = 0; nt < kRows / 8; ++nt) {
          const float2 lse = lse_at(nt);
#pragma unroll
          for (int i = 0; i < 4; ++i) {
            const int col = nt * 8 + 2 * t + (i & 1), query = q0 + col, key = wg_key0 + 16 * warp + g + 8 * (i >> 1);
            const bool seen = !kEdge || (query < a.len && key < a.keys && !(kCausal && key > query));
            const float add = kMasked && seen ? __half2float(mask[query * a.mask_r + key * a.mask_c]) * kLog2e : 0.0f;
            s[4 * nt + i] = seen ? exp2_ftz(fmaf(s[4 * nt + i], a.scale_log2, add) - ((i & 1) ? lse.y : lse.x)) : 0.0f;
          }
        }
      };
      if constexpr (kMasked) {
        exponentials(std::true_type{});
      } else {
        if (q0 + kRows > a.len || wg_key0 + 64 > a.keys || (kCausal && wg_key0 + 63 > q0)) {
          exponentials(std::true_type{});
        } else {
          exponentials(std::false_type{});
        }
      }
      uint32_t p16[kRows / 16][4], ds16[kRows / 16][4];
      pack_rows<kRows>(p16, s);
      fence_registers(dv);
      fence_registers(p16);
      wgmma_fence();
      wgmma_rows<kCols, kRows>(dv, p16, g_tile + col_tile * kRows * kSwizzleCols);
      wgmma_commit();

      // dS^T = P^T (dP^T - Delta), then dK += dS^T Q.
      wgmma_wait<1>();  // dP^T has landed (dV's product may still run)
      fence_registers(dp);
#pragma unroll
      for (int nt = 0; nt < kRows / 8; ++nt) {
        const float2 delta = delta_at(nt);
#pragma unroll
        for (int i = 0; i < 4; ++i) dp[4 * nt + i] = s[4 * nt + i] * (dp[4 * nt + i] - ((i & 1) ? delta.y : delta.x));
      }
      pack_rows<kRows>(ds16, dp);
      fence_registers(dk);
      fence_registers(ds16);
      wgmma_fence();
      wgmma_rows<kCols, kRows>(dk, ds16, q_tile + col_tile * kRows * kSwizzleCols);
      wgmma_commit();

      // dS^T into shared memory as TMA would lay it out (row = key, 16-byte chunk c of row r at c ^ (r % 8); with
      // 128 queries, two such 64-query blocks), for dQ = dS K, which reads it M-major; then made visible to the
      // tensor cores (the async proxy).
#pragma unroll
      for (int nt = 0; nt < kRows / 8; ++nt) {
        unsigned char* block = reinterpret_cast<unsigned char*>(ds + (nt / 8) * 64 * 64);
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const int row = 16 * warp + g + 8 * h;
          *reinterpret_cast<uint32_t*>(block + row * 128 + (((nt % 8) ^ g) << 4) + 4 * t) = ds16[nt / 2][(nt % 2) * 2 + h];
        }
      }
      fence_proxy_async();
      // (d <= 128: both warpgroups' dS^T are written; each has also finished the previous tile's dQ product, which
      // read the other buffer, so the next tile may write it)
      if constexpr (H::kSplitDq) named_barrier_sync(3, kConsumers * 128);
      else named_barrier_sync(wg_barrier, 128);

      // dQ (64 queries of the tile x this warpgroup's kDqCols columns) = dS K over all the item's keys: dS^T read
      // M-major (16 keys are 2048 bytes; at d <= 128 both consumers' one after the other, at 256 its own copy), K
      // read N-major (its 64-column tiles kKeys rows apart; at d 64 from the second half of a 128-byte row on for
      // the second consumer). Issued behind dK before waiting for it, so the tensor cores run the products back to
      // back; dV's has landed first, freeing P^T's registers (with them still held, d = 128 needs more than the 240
      // registers a consumer has, and ptxas serialises wgmma).
      wgmma_wait<1>();
      float dq_part[kDqCols / 2];
      fence_registers(dq_part);
      wgmma_fence();
      const __half* dq_ds = (H::kSplitDq ? ds_all : ds) + dq_row0 * 64;  // its queries' 64-query block
      const __half* dq_k = H::kSplitDq ? s_k + (dq_col0 / kSwizzleCols * kKeys) * kSwizzleCols + dq_col0 % kSwizzleCols
                                       : k_rows + col_tile * kKeys * kSwizzleCols;
#pragma unroll
      for (int kk = 0; kk < kKeys / 16; ++kk) {
        // (keys 64 on are the other consumer's dS^T; the leading offset would step 64 queries: unused, M is 64)
        const uint64_t da = smem_desc(dq_ds + (kk / 4) * 64 * kRows + (kk % 4) * 16 * 64, H::kDsBytes, 1024);
        const uint64_t kb = smem_desc(dq_k + kk * 16 * kSwizzleCols, kKeys * kSwizzleCols * sizeof(__half), 1024);
        if constexpr (kDqCols == 32) wgmma_ss_n32<1, 1>(dq_part, da, kb, kk > 0);
        else if constexpr (kDqCols == 64) wgmma_ss_n64<1, 1>(dq_part, da, kb, kk > 0);
        else wgmma_ss_n128<1, 1>(dq_part, da, kb, kk > 0);
      }
      wgmma_commit();
      wgmma_wait<1>();  // dK (committed before dQ) has landed
      fence_registers(dv);
      fence_registers(dk);
      if constexpr (!H::kDqInStage) release(&stage_free[stage]);  // this warp's reads of Q and dO are done
      wgmma_wait<0>();  // dQ has landed
      fence_registers(dq_part);
      // kDqInStage: every warp of both consumers has read the stage's Q and dO for the last time (its dK has
      // landed) before either writes its dQ share over them.
      if constexpr (H::kDqInStage) named_barrier_sync(3, kConsumers * 128);
      // Into `dq` as the map reads it: kDqCols / 32 boxes of kDqRows rows x 128 bytes, the 16-byte chunk c of row r at
      // c ^ (r % 8) (rows g and g + 8 of a warp fall in different chunks: two wavefronts a store, no conflicts).
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int row = 16 * warp + g + 8 * h;
#pragma unroll
        for (int dt = 0; dt < kDqCols / 8; ++dt) {
          const int chunk = 2 * (dt % 4) + (t >> 1);
          unsigned char* box = reinterpret_cast<unsigned char*>(dq + (dt / 4) * kDqRows * 32);
          *reinterpret_cast<float2*>(box + row * 128 + ((chunk ^ g) << 4) + 8 * (t & 1)) =
              make_float2(dq_part[4 * dt + 2 * h] * a.scale, dq_part[4 * dt + 2 * h + 1] * a.scale);
        }
      }
      fence_proxy_async();
      named_barrier_sync(wg_barrier, 128);
      if (issuer) {  // rows past the end fall outside the map and are dropped
#pragma unroll
        for (int c = 0; c < kDqCols / 32; ++c) {
          tma_reduce_add_3d(&a.dq_map, dq + c * kDqRows * 32, dq_col0 + 32 * c, q0 + dq_row0, static_cast<int>(b));
        }
        bulk_commit();
      }
    };
    for (int it = 0; it < n_tiles; ++it) tile(it);
    // Every product reading K and V has landed (each tile's last wait is for all its groups), and this thread's
    // read of s_item[buf] is done.
    mbar_arrive(&kv_free[buf]);
    u0 += n_tiles;

    // dK (scaled) and dV in f16, rows of keys inside the sequence: stored while the next item's loads land.
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int key = wg_key0 + 16 * warp + g + 8 * h;
      if (key >= a.keys) continue;
      __half* dk_row = a.dk + a.dk_s.at(bo, bi, key);
      __half* dv_row = a.dv + a.dv_s.at(bo, bi, key);
#pragma unroll
      for (int dt = 0; dt < kCols / 8; ++dt) {
        const int col = col0 + dt * 8 + 2 * t;
        *reinterpret_cast<__half2*>(dk_row + col) =
            __floats2half2_rn(dk[4 * dt + 2 * h] * a.scale, dk[4 * dt + 2 * h + 1] * a.scale);
        *reinterpret_cast<__half2*>(dv_row + col) = __floats2half2_rn(dv[4 * dt + 2 * h], dv[4 * dt + 2 * h + 1]);
      }
    }
  }
  if (issuer) bulk_wait();  // the reductions have read `dq` (and landed) before the block's shared memory goes
#endif
}

}  // namespace

bool attention_backward_sm90a(const Array& q, const Array& k, const Array& v, const Array* mask, const Array& grad,
                              bool causal, float scale, RowStats lse, const float* delta, float* dq_acc, const Array& dk,
                              const Array& dv) {
  const int64_t batches = q.shape()[0] * q.shape()[1], len = q.shape()[2], keys = k.shape()[2];
  const int64_t e = q.shape()[3];
  if (!attention_backward_sm90a_takes(q, k, v, grad, dk, dv)) return false;
  BwdSm90Args args{};
  if (!encode_f32_rows_map(&args.dq_map, dq_acc, batches, len, e, kDqRows)) {
    return false;
  }
  args.inner = q.shape()[1];
  // every key block of a batch reads all its Q and dO (f16), reduces into its dQ (f32) and reads lse and Delta
  const int64_t batch_bytes = len * (e * (2 * sizeof(__half) + sizeof(float)) + 2 * sizeof(float));
  args.order = {batches, 0, l2_section_width(batch_bytes, batches)};  // (the key blocks set per head dim below)
  args.lse = lse, args.delta = delta;
  args.dk_s = row_strides(dk), args.dv_s = row_strides(dv);
  args.dk = dk.data_as<__half>(), args.dv = dv.data_as<__half>();
  args.len = static_cast<int>(len), args.keys = static_cast<int>(keys);
  args.scale = scale, args.scale_log2 = scale * kLog2e;
  if (mask) {
    args.mask = mask->data_as<__half>();
    args.mask_o = stride_of(*mask, 0), args.mask_i = stride_of(*mask, 1);
    args.mask_r = stride_of(*mask, 2), args.mask_c = stride_of(*mask, 3);
  }
  bool taken = true;
  HeadDims::run(e, causal, mask != nullptr, [&](auto d, auto causal_tag, auto mask_tag) {
    constexpr int D = decltype(d)::value;
    constexpr int kKeys = HopperBwd<D>::kKeys, kRows = HopperBwd<D>::kRows;
    if (!encode_rows_map(&args.q_map, &args.q_b, q, kRows) || !encode_rows_map(&args.g_map, &args.g_b, grad, kRows) ||
        !encode_rows_map(&args.k_map, &args.k_b, k, kKeys) || !encode_rows_map(&args.v_map, &args.v_b, v, kKeys)) {
      taken = false;  // nothing launched
      return;
    }
    args.order.blocks = (keys + kKeys - 1) / kKeys;
    args.items = static_cast<int>(args.order.blocks * batches);
    if (args.items == 0) return;  // no batches: nothing to write
    const int grid = std::min(args.items, sm_count());
    constexpr bool kCausal = decltype(causal_tag)::value, kMasked = decltype(mask_tag)::value;
    constexpr auto kernel = attention_backward_sm90a_kernel<D, kCausal, kMasked>;
    static std::atomic<bool> opted_in[kMaxDevices];  // above 48 KiB of shared memory must be asked for
    std::atomic<bool>& opted = opted_in[current_device()];
    if (!opted.load(std::memory_order_acquire)) {
      check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                 static_cast<int>(HopperBwd<D>::kSmemBytes)),
            "cudaFuncSetAttribute (Hopper attention backward shared memory)");
      opted.store(true, std::memory_order_release);
    }
    kernel<<<static_cast<unsigned>(grid), kBlockThreads, HopperBwd<D>::kSmemBytes, stream()>>>(args);
    check_launch("Hopper attention backward kernel");
  });
  return taken;
}

bool attention_backward_sm90a_takes(const Array& q, const Array& k, const Array& v, const Array& grad, const Array& dk,
                                    const Array& dv) {
  // (under 2^31 keys of all batches, so that the items, key blocks of them, are numbered in 32 bits: K alone would
  // then take 256 GiB)
  return q.shape()[2] > 0 && HeadDims::fits(q, k, v, {&grad, &dk, &dv}) &&
         q.shape()[0] * q.shape()[1] <= INT_MAX / k.shape()[2];
}

}  // namespace tensorlogic::cuda
