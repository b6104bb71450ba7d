// Scaled dot-product attention forward for Hopper (sm_90a), FlashAttention-3 style, tried before the mma.sync
// kernel (attention_tiled.cu) on compute capability 9.0 devices for head dims 64, 128 and 256, with or without an
// additive mask (read from global memory per score). A work item is 64 query rows per consumer warpgroup (two, or
// three at d = 64 without an additive mask: consumer_warpgroups says why) of one batch; a persistent grid of one
// block per SM walks the items. A block has a producer warpgroup, one thread of which loads each item's Q tile
// and then its K and V tiles (128 keys each, 80 at d = 256) through the tensor memory accelerator into a ring of
// 128-byte-swizzled shared buffers (three stages for d = 64, two for 128 and 256), each tile completing on its own
// mbarrier; and the consumers,
// which compute S = Q K^T with wgmma (both operands from shared memory), mask, keep a running max and sum per row
// in f32 (online softmax), round P to f16 in registers and accumulate O += P V with wgmma (P from registers, V
// from shared memory read N-major). K and V buffers are freed separately (K once the scores have landed, V after
// P V), so the producer refills K a tile early, and it loads the next item's Q and tiles while the consumers
// finish the current one.
// A consumer issues tile j's Q K^T before tile j - 1's P V and runs tile j's softmax while that P V is on the
// tensor cores; the consumers take turns issuing their GEMMs (ping-pong), so one's softmax overlaps the others'
// GEMMs. The producer gives its registers to the consumers (setmaxnreg). Tails need no special loads:
// the tensor maps' bounds are the sequence lengths, so rows and keys past the end arrive as zeros, and the
// scores of keys past the end are -inf. Key tiles entirely after an item's causal diagonal are never loaded. Each
// row's log-sum-exp (base 2 of the scaled scores, as attention_tiled's) goes to the f32 workspace the fused
// backward reads (which at d = 256 is not the Hopper backward: attention_backward_sm90a.cu says why).
// Not done here (FlashAttention-3 has them): TMA stores of O, FP8.
#include <algorithm>
#include <atomic>
#include <cmath>

#include "attention_tiled.h"
#include "common.cuh"
#include "mma_sm80.cuh"
#include "sm90a.cuh"
#include "tensor_maps_sm90a.h"

namespace tensorlogic::cuda {
namespace {

using namespace sm90a;

constexpr float kLog2e = 1.4426950408889634f;
constexpr int kProducerRegs = 24;

// The head dims built (HopperHeadDims::fits checks them, run dispatches on them).
using HeadDims = HopperHeadDims<64, 128, 256>;

// Consumer warpgroups of 64 query rows: two, or three at d = 64 without an additive mask (FlashAttention-3's
// 192-row items at that head dim: each K/V tile loaded serves 1.5 times the rows, and a third softmax can run
// while the others' GEMMs hold the tensor cores, whose time per tile shrinks with d while the softmax's does not),
// with 160 registers each (128 x 24 + 384 x 160 = 64,512 of the SM's 65,536), which hold O (32), S (64) and P (32).
// Not for a causal mask below 2048 rows: the last row block, whose rows see the most keys, is then largely rows
// past the end (at 1024 rows, 64 of its 192), and its consumers' wasted tiles are the longest of all items. On an
// H100 (2026-12-06, PyTorch SDPA time / ours, forward, 16k tokens): two / three consumers 0.83 / 0.79 causal at
// L 1k (0.93 / 0.82 at GPT-2 small's shape), 0.92 / 0.98 full at 1k, 0.89 / 1.00 causal and 0.94 / 1.03 full at 4k,
// 0.97 / 1.00 and 0.89 / 1.03 at 16k. The additive mask's kernel keeps two: it spills at 240 registers already.
int consumer_warpgroups(int d, bool causal, bool masked, int64_t len) {
  return d == 64 && !masked && !(causal && len < 2048) ? 3 : 2;
}

// The kernel's shape: head dim D and kConsumers consumer warpgroups.
template <int D, int kConsumers_>
struct Hopper {
  static_assert(D == 64 || D == 128 || D == 256, "head dims 64, 128 and 256");
  static constexpr int kD = D, kConsumers = kConsumers_;
  // Keys per K/V tile: 128, but 80 at d = 256, where Q (64 KiB) and two stages of 80-key K and V tiles (40 KiB
  // each) fill the 227 KiB (128-key tiles would need 320 KiB), and a consumer's O (128 f32 registers a thread),
  // S (40) and P (20) stay within its 240 registers (FlashAttention-3's choice at this head dim too). (176 keys at
  // d = 128 without a mask, FlashAttention-3's tile there, measured no faster: H100, 2026-12-06, 0.89 / 0.99 / 1.06
  // of PyTorch's time at L 1k / 4k / 16k against 0.88 / 1.02 / 1.04 with 128.)
  static constexpr int kBlockN = D == 256 ? 80 : 128;
  static constexpr int kBlockM = 64 * kConsumers;          // query rows per item
  static constexpr int kThreads = 128 * (1 + kConsumers);  // the producer warpgroup first
  static constexpr int kConsumerRegs = kConsumers == 3 ? 160 : 240;
  static_assert(128 * kProducerRegs + 128 * kConsumers * kConsumerRegs <= 65536, "an SM has 64 Ki registers");
  // K/V tiles in flight: three where they fit in shared memory with Q (a tile is released halfway through the
  // next one, so a third stage lets the producer run a whole tile ahead), else two.
  static constexpr int kStages = D == 64 ? 3 : 2;
  // O = P V as wgmmas of at most 128 columns (two at d = 256, each reading the same P from registers): O is
  // kPvChunks accumulators of kPvN columns.
  static constexpr int kPvN = D < 128 ? D : 128;
  static constexpr int kPvChunks = D / kPvN;
  static_assert(kPvChunks * kPvN == D && kBlockN % 16 == 0, "O in whole chunks, P in whole 16-key steps");
  static constexpr uint32_t kQBytes = kBlockM * D * sizeof(__half);
  static constexpr uint32_t kTileBytes = kBlockN * D * sizeof(__half);  // one K or V tile
  // 1024 bytes of slack: the swizzled tiles start on 1024-byte boundaries
  static constexpr size_t kSmemBytes = kQBytes + 2 * kStages * kTileBytes + 1024;
  static_assert(kSmemBytes <= 227 * 1024, "an sm_90 block has at most 227 KiB of shared memory");
};

struct Sm90Args {
  CUtensorMap q_map, k_map, v_map;  // [B0, B1, rows, E] as 4-d maps, boxes of 64 halves x (kBlockM or kBlockN) rows
  BatchSteps q_b, k_b, v_b;
  int64_t inner;  // B1: the flat batch index is b0 * B1 + b1
  int64_t row_blocks, items;  // items = row_blocks * batches
  SectionOrder order;         // of the items (row blocks of each batch)
  RowStrides out_s;
  __half* out;
  const __half* mask;                      // additive, [B0, B1, len, keys] by the strides below; null when absent
  int64_t mask_o, mask_i, mask_r, mask_c;
  RowStats lse;
  int len, keys;
  float scale_log2;
};

// `rows` rows from row0 of a 4-d map, as D / 64 swizzled tiles of 64 columns one after another.
template <int D>
__device__ __forceinline__ void load_rows(__half* dst, const CUtensorMap* map, uint64_t* bar, int rows, int row0,
                                          int bi, int bo) {
#pragma unroll
  for (int c = 0; c < D / kSwizzleCols; ++c) tma_load_4d(dst + c * rows * kSwizzleCols, map, bar, c * kSwizzleCols, row0, bi, bo);
}

// The descriptor of the operand `halves` f16 elements after the one `desc` describes: the start address field
// (bits 0-13, in 16-byte units) grows by bytes / 16 and cannot carry (shared addresses are below 2^18 bytes).
[[maybe_unused]] __device__ __forceinline__ uint64_t desc_plus(uint64_t desc, int halves) {
  return desc + static_cast<uint64_t>(halves * sizeof(__half) / 16);
}

// One arrival on `bar` where `pred` holds, as a predicated instruction: a branch around it would end the basic
// block, and ptxas would put a later wgmma wait right after it (see attention_sm90a_kernel).
[[maybe_unused]] __device__ __forceinline__ void mbar_arrive_if(uint64_t* bar, bool pred) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %1, 0;\n@p mbarrier.arrive.shared::cta.b64 _, [%0];\n}\n" ::"r"(
                   smem_u32(bar)),
               "r"(static_cast<int>(pred))
               : "memory");
}

// S = Q K^T over one 16-column step, N keys.
template <int N>
__device__ __forceinline__ void wgmma_scores(float (&s)[N / 2], uint64_t q, uint64_t k, bool accumulate) {
  if constexpr (N == 80) wgmma_ss_n80<0, 0>(s, q, k, accumulate);
  else wgmma_ss_n128<0, 0>(s, q, k, accumulate);
}

template <int N>
__device__ __forceinline__ void wgmma_pv(float (&o)[N / 2], const uint32_t (&p)[4], uint64_t v) {
  if constexpr (N == 64) wgmma_rs_n64(o, p, v);
  else wgmma_rs_n128(o, p, v);
}

// One work item: H::kBlockM query rows from row m0 of batch (bo, bi), n_tiles K/V tiles (0: no item).
struct Item {
  int64_t bo, bi;
  int m0, n_tiles;
};

template <class H, bool kCausal>
__device__ __forceinline__ Item item_at(const Sm90Args& a, int64_t index) {
  // Within a section row blocks from the last (the longest causal rows) down, every batch's in turn: drawn by the
  // blocks as they free up (next_item), the longest go first and the shortest fill in at the end.
  Item it;
  int64_t b, block;
  a.order.at(index, b, block);
  const int64_t rb = a.row_blocks - 1 - block;
  it.bo = b / a.inner, it.bi = b - it.bo * a.inner;
  it.m0 = static_cast<int>(rb) * H::kBlockM;
  const int kv_end = kCausal ? min(a.keys, it.m0 + H::kBlockM) : a.keys;
  it.n_tiles = (kv_end + H::kBlockN - 1) / H::kBlockN;  // >= 1: keys > 0 (the launcher checks)
  return it;
}

// The items after each block's first, drawn in order by the blocks' producers: the counter runs from 0
// to items - 1 (each block draws until it draws past the last item, so items draws in all), and the block that draws
// items - 1 sets it back to 0 for the next launch, which the one stream all work of a device runs on orders after
// this one. Not the backward's counter: the two kernels' draws would mix.
__device__ unsigned long long fwd_tickets;

// The item a block takes n-th, or -1 past the last. Items are numbered in item_at's order, longest first. Drawn as
// the blocks free up, they go to whichever block is free, as the hardware's block scheduler hands out a
// non-persistent grid; a static round-robin (index blockIdx.x + n gridDim.x) gives the first blocks of every round
// the longest item of that round again and again (at GPT-2 small's causal shape, 768 items over 132 blocks: the
// busiest block 30 key tiles where the mean is 26.2 and drawing gives 27, in a simulation of both).
[[maybe_unused]] __device__ __forceinline__ int64_t next_item(const Sm90Args& a, int64_t n) {
  // (the grid's size read here, where it is used: hoisted out of the producer's loop, it took one of the 24
  // registers there and spilled)
  unsigned grid;
  asm volatile("mov.u32 %0, %%nctaid.x;\n" : "=r"(grid));
  int64_t index = blockIdx.x + n * grid;
  if (n > 0) {  // drawn by lane 0 of the producer's warp, for all its lanes
    unsigned long long ticket = 0;
    if (threadIdx.x == 0) {
      ticket = atomicAdd(&fwd_tickets, 1ull);
      if (ticket == static_cast<unsigned long long>(a.items - 1)) fwd_tickets = 0;
    }
    index = grid + static_cast<int64_t>(__shfl_sync(0xffffffffu, ticket, 0));
  }
  return index < a.items ? index : -1;
}

// Persistent: a grid of at most one block per SM walks the items (next_item), so the producer loads the next
// item's Q and first K/V tiles while the consumers finish the current one (its last P V and the output's store)
// instead of each block starting from empty buffers. Only the producer draws: before the block's n-th item's Q it
// leaves the item in s_items[n % 2] and arrives on item_full (phase n; the arrive releases, the consumers' wait
// acquires), and past the last item it leaves one of no tiles there, with no Q. The consumers read the item's
// fields from shared memory where they use them, up to its output's store (held in registers across the item,
// they made the d = 64 three-consumer causal kernel spill 52 bytes). Every consumer thread frees slot n % 2 itself
// once it has stored item n, arriving on item_free[n % 2] (an arrive releases only the arriving thread's own
// accesses: with one lane per warp arriving after a warp sync, compute-sanitizer's racecheck reported the other
// lanes' reads of the slot against the producer's next write), and the producer writes the slot again for item
// n + 2 after its wait for that phase (by then long complete: it waits first for item n + 1's last scores, which
// come after item n's store in every consumer). It arrives for item n + 1 after its wait for item n's last scores
// (q_free), which every consumer warp signals after its wait for item n, so item_full never runs a phase ahead of
// a consumer's wait.
// The Q release after an item's last scores is a predicated arrive, not a branch: ptxas keeps the wait for tile
// j - 1's P V after the last mbarrier arrive before it and otherwise schedules it early, and a branch put it
// before the whole softmax, which then never ran under P V (SASS: WARPGROUP.DEPBAR.LE gsb0, 0x0 before the first
// MUFU.EX2). Tiles wholly before the causal diagonal and the keys' end take a softmax without the masking's
// selects and compares, and the wgmmas' descriptors are one base per buffer plus constant offsets: the
// instructions a warp issues per tile at d = 64 went from 644 to 471 (measured on an H100: 1.15-1.35x).
template <int D, int kConsumers, bool kCausal, bool kMasked>
__global__ void __launch_bounds__(Hopper<D, kConsumers>::kThreads, 1)
    attention_sm90a_kernel(const __grid_constant__ Sm90Args a) {
#if !defined(__CUDA_ARCH_FEAT_SM90_ALL)
  // nvcc -arch=sm_90a also emits compute_90 PTX, which cannot hold wgmma; the launcher runs this kernel only on
  // compute capability 9.0, where the sm_90a code is taken.
  __trap();
#else
  using H = Hopper<D, kConsumers>;
  constexpr int kBlockM = H::kBlockM, kBlockN = H::kBlockN, kStages = H::kStages, kPvChunks = H::kPvChunks;
  extern __shared__ unsigned char smem_raw[];
  __half* s_q = reinterpret_cast<__half*>((reinterpret_cast<uintptr_t>(smem_raw) + 1023) & ~uintptr_t{1023});
  __half* s_k = s_q + kBlockM * D;  // [kStages][D / 64][kBlockN][64]
  __half* s_v = s_k + kStages * kBlockN * D;
  // K and V of a stage are freed separately: K once the tile's scores have landed, V once its P V has, so the
  // producer refills K(j + kStages) about one tile before V (with two stages at d = 128 a whole-stage release
  // after P V left the next K load no lead at all). Q is freed once an item's last scores have landed.
  // The K/V ring runs on across items: `u`, the block's count of tiles before this one, picks stage and phase.
  __shared__ uint64_t q_full, q_free;
  __shared__ uint64_t k_full[kStages], v_full[kStages], k_free[kStages], v_free[kStages];
  __shared__ uint64_t item_full, item_free[2];
  __shared__ Item s_items[2];
  const int warpgroup = threadIdx.x / 128, lane = threadIdx.x & 31;

  if (threadIdx.x == 0) {
    mbar_init(&q_full, 1);
    mbar_init(&q_free, 4 * kConsumers);  // one arrival per consumer warp
    mbar_init(&item_full, 1);
    for (int i = 0; i < 2; ++i) mbar_init(&item_free[i], 128 * kConsumers);  // one arrival per consumer thread
    for (int s = 0; s < kStages; ++s) {
      mbar_init(&k_full[s], 1);
      mbar_init(&v_full[s], 1);
      mbar_init(&k_free[s], 4 * kConsumers);
      mbar_init(&v_free[s], 4 * kConsumers);
    }
    fence_barrier_init();
  }
  __syncthreads();

  if (warpgroup == 0) {  // the producer
    release_registers<kProducerRegs>();
    // One warp runs the loop and its lane 0 issues the loads and the draws: the loop's values are then the same in
    // every lane (warp-uniform), which ptxas keeps in uniform registers; in one thread's branch the draw's took
    // general ones, of which the producer has 24 (spilling 60-76 bytes without a mask, as the backward's did).
    if (threadIdx.x < 32) {
      const bool leader = lane == 0;
      int u = 0;  // tiles loaded so far
      int64_t index = next_item(a, 0);
      for (int n = 0;; ++n) {  // n: items loaded so far
        if (n > 0) mbar_wait(&q_free, (n - 1) & 1);  // the previous item's last scores have landed
        const Item it = index >= 0 ? item_at<H, kCausal>(a, index) : Item{};
        if (n >= 2) mbar_wait(&item_free[n % 2], (n / 2 - 1) & 1);  // every consumer thread is done with item n - 2
        if (leader) {
          s_items[n % 2] = it;
          mbar_arrive(&item_full);  // (which publishes the item)
        }
        if (index < 0) break;
        if (leader) {
          mbar_expect_tx(&q_full, H::kQBytes);
          load_rows<D>(s_q, &a.q_map, &q_full, kBlockM, it.m0,
                       static_cast<int>(it.bi * a.q_b.inner), static_cast<int>(it.bo * a.q_b.outer));
        }
        for (int j = 0; j < it.n_tiles; ++j, ++u) {
          const int s = u % kStages;
          const uint32_t freed = (u / kStages - 1) & 1;  // the phase in which its previous tile was consumed
          if (u >= kStages) mbar_wait(&k_free[s], freed);
          if (leader) {
            mbar_expect_tx(&k_full[s], H::kTileBytes);
            load_rows<D>(s_k + s * kBlockN * D, &a.k_map, &k_full[s], kBlockN, j * kBlockN,
                         static_cast<int>(it.bi * a.k_b.inner), static_cast<int>(it.bo * a.k_b.outer));
          }
          if (u >= kStages) mbar_wait(&v_free[s], freed);
          if (leader) {
            mbar_expect_tx(&v_full[s], H::kTileBytes);
            load_rows<D>(s_v + s * kBlockN * D, &a.v_map, &v_full[s], kBlockN, j * kBlockN,
                         static_cast<int>(it.bi * a.v_b.inner), static_cast<int>(it.bo * a.v_b.outer));
          }
        }
        // The next item is drawn once this one's loads are issued: the producer runs only a few tiles ahead of the
        // consumers, so the block takes it about when it frees up, and the draw's round trip overlaps the
        // consumers' last tiles.
        index = next_item(a, n + 1);
      }
    }
    return;
  }

  claim_registers<H::kConsumerRegs>();
  const int consumer = warpgroup - 1, warp = (threadIdx.x / 32) % 4, g = lane >> 2, t = lane & 3;
  const __half* q_rows = s_q + 64 * consumer * kSwizzleCols;  // its rows within each 64-column tile of Q

  float o[kPvChunks][H::kPvN / 2];  // O: D / 8 accumulator tiles of 8 columns, tile dt in o[dt / kTilesPerChunk]
  constexpr int kTilesPerChunk = H::kPvN / 8;
  float s[kBlockN / 2];        // S, then the f32 weights: kBlockN / 8 tiles of 8 keys
  uint32_t p[kBlockN / 16][4];  // the weights in f16: the A operand of P V, one per 16 keys
  float row_max[2], row_sum[2];  // rows g and g + 8 of this warp
  float alpha[2];  // O's rescale factor: applied once the previous P V lands
  int u0 = 0;      // tiles of the block before the current item's first
  int row0 = 0;    // this warpgroup's first row in the current item
  const __half* mask = nullptr;  // the current item's mask matrix (kMasked)

  // S = Q K_j^T over D / 16 steps of 16 columns: four steps per 64-column swizzled tile, 32 bytes apart.
  const auto issue_scores = [&](int j) {
    const int u = u0 + j, stage = u % kStages;
    const __half* k_tile = s_k + stage * kBlockN * D;
    mbar_wait(&k_full[stage], (u / kStages) & 1);
    fence_registers(s);
    wgmma_fence();
    const uint64_t q_desc = smem_desc(q_rows, 16, 1024), k_desc = smem_desc(k_tile, 16, 1024);
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      const int tile = kk / 4, step = (kk % 4) * 16;
      wgmma_scores<kBlockN>(s, desc_plus(q_desc, tile * kBlockM * kSwizzleCols + step),
                            desc_plus(k_desc, tile * kBlockN * kSwizzleCols + step), kk > 0);
    }
    wgmma_commit();
  };
  // O += P V_j. V's rows are the K index of B, read N-major: 16 keys are 2048 bytes of each 64-column tile,
  // and the tiles are kBlockN rows apart; O's chunk c starts at V's 64-column tile c kPvN / 64.
  const auto issue_values = [&](int j) {
    const int u = u0 + j, stage = u % kStages;
    const __half* v_tile = s_v + stage * kBlockN * D;
    mbar_wait(&v_full[stage], (u / kStages) & 1);
    fence_registers(o);
    fence_registers(p);
    wgmma_fence();
    const uint64_t v_desc = smem_desc(v_tile, kBlockN * kSwizzleCols * sizeof(__half), 1024);
#pragma unroll
    for (int kk = 0; kk < kBlockN / 16; ++kk) {
#pragma unroll
      for (int c = 0; c < kPvChunks; ++c) {
        const int offset = (c * H::kPvN / kSwizzleCols * kBlockN + kk * 16) * kSwizzleCols;  // halves
        wgmma_pv<H::kPvN>(o[c], p[kk], desc_plus(v_desc, offset));
      }
    }
    wgmma_commit();
  };
  // This warp's reads of a buffer are done: one arrival per warp, for buffers the consumers read only through the
  // async proxy (their wgmmas read Q, K and V; the producer's TMA writes them). The item slots, which consumer
  // threads read with ordinary loads, are freed by every thread itself (item_free).
  const auto release = [&](uint64_t* free) {
    __syncwarp();
    if (lane == 0) mbar_arrive(free);
  };
  // The online softmax of tile j (keys past the end or after the causal diagonal -inf): the new running max per
  // row (each row's kBlockN scores lie in the quad holding it), the weights in place of the scores, the running sum
  // rescaled, and alpha for O. Without a mask the max is taken over the raw scores and the scale (> 0, the
  // launcher checks) applied inside each weight's exponent, one FFMA: exp2(s scale_log2 - max scale_log2); with
  // one each score is first s scale_log2 + mask log2(e) (the mask read from global memory, -inf past the keys).
  // `interior` (a std::bool_constant) true: the caller knows no key of the tile is masked.
  const auto softmax = [&](int j, auto interior) {
    const int n0 = j * kBlockN;
    const bool edge = !decltype(interior)::value &&
                      (n0 + kBlockN > a.keys || (kCausal && n0 + kBlockN - 1 > row0));  // uniform per warpgroup
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int row = row0 + 16 * warp + g + 8 * h;
      [[maybe_unused]] const __half* mask_row = kMasked && row < a.len ? mask + row * a.mask_r : nullptr;
      float top = -INFINITY;
#pragma unroll
      for (int nt = 0; nt < kBlockN / 8; ++nt) {
#pragma unroll
        for (int c = 0; c < 2; ++c) {
          float& x = s[4 * nt + 2 * h + c];
          const int col = n0 + nt * 8 + 2 * t + c;
          if constexpr (kMasked) {  // rows past the end are never stored: any finite addend will do
            const float add = col >= a.keys ? -INFINITY : mask_row ? __half2float(mask_row[col * a.mask_c]) * kLog2e : 0.0f;
            x = fmaf(x, a.scale_log2, add);
          } else if (edge && (col >= a.keys || (kCausal && col > row))) {
            x = -INFINITY;
          }
          top = fmaxf(top, x);
        }
      }
      top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, 1));
      top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, 2));
      top = fmaxf(row_max[h], kMasked ? top : top * a.scale_log2);  // in log2 units, as row_max
      const float base = top == -INFINITY ? 0.0f : top;  // every key so far masked: all weights 0
      alpha[h] = exp2_ftz(row_max[h] - base);            // 0 while nothing was summed
      row_max[h] = top;
      const float scale = kMasked ? 1.0f : a.scale_log2;
      float sum = 0.0f;
#pragma unroll
      for (int nt = 0; nt < kBlockN / 8; ++nt) {
        s[4 * nt + 2 * h] = exp2_ftz(fmaf(s[4 * nt + 2 * h], scale, -base));
        s[4 * nt + 2 * h + 1] = exp2_ftz(fmaf(s[4 * nt + 2 * h + 1], scale, -base));
        sum += s[4 * nt + 2 * h] + s[4 * nt + 2 * h + 1];
      }
      row_sum[h] = row_sum[h] * alpha[h] + sum;
    }
  };
  // P rounded to f16 (as attention_tiled does): two 8-key accumulator tiles are the A operand of one 16-key step.
  const auto pack_weights = [&] {
#pragma unroll
    for (int kk = 0; kk < kBlockN / 16; ++kk) {
      p[kk][0] = pack_half2(s[8 * kk], s[8 * kk + 1]);
      p[kk][1] = pack_half2(s[8 * kk + 2], s[8 * kk + 3]);
      p[kk][2] = pack_half2(s[8 * kk + 4], s[8 * kk + 5]);
      p[kk][3] = pack_half2(s[8 * kk + 6], s[8 * kk + 7]);
    }
  };

  const auto rescale_output = [&] {
#pragma unroll
    for (int dt = 0; dt < D / 8; ++dt) {
      float* x = &o[dt / kTilesPerChunk][4 * (dt % kTilesPerChunk)];
      x[0] *= alpha[0], x[1] *= alpha[0];
      x[2] *= alpha[1], x[3] *= alpha[1];
    }
  };

  // Ping-pong: the consumers take turns, in order, to issue their GEMMs (named barrier 1 + c for consumer c,
  // passed by the previous consumer's arrival), so that one's softmax runs while the others' GEMMs hold the
  // tensor cores. Consumer 0 goes first (the last consumer's arrival below); each takes n_tiles + 1 turns per
  // item and hands over after every one, without knowing whether the item is the block's last (the next one is
  // drawn only as this one's loads are issued); consumer 0 takes one turn more after the block's last item,
  // which matches that first arrival, so that no named barrier is left with a pending arrival.
  const auto take_turn = [&] { named_barrier_sync(1 + consumer, 2 * 128); };
  const auto hand_over = [&] { named_barrier_arrive(1 + (consumer + 1) % kConsumers, 2 * 128); };
  if (consumer == kConsumers - 1) named_barrier_arrive(1, 2 * 128);

  for (int64_t n = 0;; ++n) {  // n: items done
    mbar_wait(&item_full, static_cast<uint32_t>(n) & 1);
    const Item& it = s_items[n % 2];
    if (it.n_tiles == 0) break;
    row0 = it.m0 + 64 * consumer;
    if constexpr (kMasked) mask = a.mask + it.bo * a.mask_o + it.bi * a.mask_i;
#pragma unroll
    for (int c = 0; c < kPvChunks; ++c) {
#pragma unroll
      for (int i = 0; i < H::kPvN / 2; ++i) o[c][i] = 0.0f;
    }
    row_max[0] = row_max[1] = -INFINITY;
    row_sum[0] = row_sum[1] = 0.0f;

    // Tile j's scores are computed while tile j - 1's P V runs (FlashAttention-3's overlap within a warpgroup):
    // the tensor cores work through the softmax, and O is rescaled once P V has landed.
    // Tiles before `interior` need no masking: they end before the item's first row (causal) and before the end
    // of the keys.
    const int interior = !kMasked ? (kCausal ? min(a.keys, it.m0) : a.keys) / kBlockN : 0;
    mbar_wait(&q_full, static_cast<uint32_t>(n) & 1);
    take_turn();
    issue_scores(0);
    hand_over();
    wgmma_wait<0>();
    fence_registers(s);
    release(&k_free[u0 % kStages]);
    if (it.n_tiles == 1) release(&q_free);
    if (interior > 0) softmax(0, std::true_type{});  // alpha is 0 and O still 0
    else softmax(0, std::false_type{});
    pack_weights();
    const auto step = [&](int j, auto interior_tag) {
      take_turn();
      issue_scores(j);
      issue_values(j - 1);
      hand_over();
      wgmma_wait<1>();  // the scores (committed first) have landed; P V may still run
      fence_registers(s);
      release(&k_free[(u0 + j) % kStages]);
      mbar_arrive_if(&q_free, lane == 0 && j == it.n_tiles - 1);
      softmax(j, interior_tag);
      wgmma_wait<0>();
      fence_registers(o);
      release(&v_free[(u0 + j - 1) % kStages]);
      rescale_output();  // by alpha_j, O holding P_{j-1} V_{j-1} already
      pack_weights();
    };
    for (int j = 1; j < interior; ++j) step(j, std::true_type{});
    for (int j = max(1, interior); j < it.n_tiles; ++j) step(j, std::false_type{});
    take_turn();
    issue_values(it.n_tiles - 1);
    const int last_stage = (u0 + it.n_tiles - 1) % kStages;
    u0 += it.n_tiles;
    // Normalise and store: each thread holds columns 2t, 2t+1 of every 8-column tile of rows g and g + 8. (A
    // lambda called once: with its body written out in place ptxas allocates registers differently, and this is
    // the code that was measured.)
    const auto finish = [&] {
      fence_registers(o);
      release(&v_free[last_stage]);
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        float total = row_sum[h];
        total += __shfl_xor_sync(0xffffffffu, total, 1);
        total += __shfl_xor_sync(0xffffffffu, total, 2);
        const float inv = total > 0.0f ? 1.0f / total : 0.0f;
        const int row = row0 + 16 * warp + g + 8 * h;
        if (row >= a.len) continue;
        if (a.lse.ptr && t == 0) a.lse.at(it.bo, it.bi)[row] = total > 0.0f ? row_max[h] + log2f(total) : INFINITY;
        __half* dst = a.out + a.out_s.at(it.bo, it.bi, row);
#pragma unroll
        for (int dt = 0; dt < D / 8; ++dt) {
          const float* x = &o[dt / kTilesPerChunk][4 * (dt % kTilesPerChunk) + 2 * h];
          *reinterpret_cast<__half2*>(dst + dt * 8 + 2 * t) = __floats2half2_rn(x[0] * inv, x[1] * inv);
        }
      }
    };
    hand_over();
    wgmma_wait<0>();
    finish();
    mbar_arrive(&item_free[n % 2]);  // this thread's last read of the item's slot is done
  }
  if (consumer == 0) take_turn();
#endif
}

// Launches the kernel of shape H on `args` with the operands' maps (boxes of its item's rows and its tile's keys)
// and its row blocks (args.order's batches and section width set by attention_sm90a); false (nothing launched)
// where an operand cannot be mapped.
template <class H, bool kCausal, bool kMasked>
bool launch(const Array& q, const Array& k, const Array& v, Sm90Args args) {
  if (!encode_rows_map(&args.q_map, &args.q_b, q, H::kBlockM) ||
      !encode_rows_map(&args.k_map, &args.k_b, k, H::kBlockN) ||
      !encode_rows_map(&args.v_map, &args.v_b, v, H::kBlockN)) {
    return false;
  }
  args.row_blocks = (args.len + H::kBlockM - 1) / H::kBlockM;
  args.order.blocks = args.row_blocks;
  args.items = args.row_blocks * args.order.batches;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(args.items, sm_count()));
  constexpr auto kernel = attention_sm90a_kernel<H::kD, H::kConsumers, kCausal, kMasked>;
  static std::atomic<bool> opted_in[kMaxDevices];  // above 48 KiB of shared memory must be asked for
  std::atomic<bool>& opted = opted_in[current_device()];
  if (!opted.load(std::memory_order_acquire)) {
    check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                               static_cast<int>(H::kSmemBytes)),
          "cudaFuncSetAttribute (Hopper attention shared memory)");
    opted.store(true, std::memory_order_release);
  }
  kernel<<<blocks, H::kThreads, H::kSmemBytes, stream()>>>(args);
  check_launch("Hopper attention kernel");
  return true;
}

}  // namespace

bool attention_sm90a(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal, float scale,
                     const Array& out, RowStats lse) {
  const int64_t batches = q.shape()[0] * q.shape()[1], len = q.shape()[2], keys = k.shape()[2];
  if (!HeadDims::fits(q, k, v, {&out})) return false;
  if (!(scale > 0.0f) || !std::isfinite(scale)) return false;  // the kernel takes the max of unscaled scores
  Sm90Args args{};
  args.inner = q.shape()[1];
  // Every row block of a batch reads all its K and V. With no more batches than blocks in the grid, a batch's row
  // blocks run side by side, reading the same K/V tiles at about the same time, and one section (the longest
  // items of every batch first) balances the blocks best: on an H100 (2026-12-06, with the static round-robin
  // that next_item's draw replaced) sections took the causal forward at L 16k from 1.07 / 1.03 of PyTorch's time
  // to 1.00 / 0.92 (d 64 / 128), where they took L 1k's (more batches than SMs) from 0.58-0.91 to 0.78-0.98.
  const int64_t width = batches <= sm_count() ? batches
                                              : l2_section_width(2 * keys * q.shape()[3] * int64_t{sizeof(__half)}, batches);
  args.order = {batches, 0, width};
  if (len * batches == 0) return true;  // no query rows: nothing to write (no maps needed)
  args.out_s = row_strides(out);
  args.out = out.data_as<__half>();
  if (mask) {
    args.mask = mask->data_as<__half>();
    args.mask_o = stride_of(*mask, 0), args.mask_i = stride_of(*mask, 1);
    args.mask_r = stride_of(*mask, 2), args.mask_c = stride_of(*mask, 3);
  }
  args.lse = lse;
  args.len = static_cast<int>(len), args.keys = static_cast<int>(keys);
  args.scale_log2 = scale * kLog2e;
  bool taken = true;
  HeadDims::run(q.shape()[3], causal, mask != nullptr, [&](auto d, auto causal_tag, auto mask_tag) {
    constexpr int D = decltype(d)::value;
    constexpr bool kCausal = decltype(causal_tag)::value, kMasked = decltype(mask_tag)::value;
    if (consumer_warpgroups(D, kCausal, kMasked, len) == 3) {
      if constexpr (D == 64 && !kMasked) taken = launch<Hopper<D, 3>, kCausal, kMasked>(q, k, v, args);
    } else {
      taken = launch<Hopper<D, 2>, kCausal, kMasked>(q, k, v, args);
    }
  });
  return taken;
}

}  // namespace tensorlogic::cuda
