// The tensor-core attention path (attention_tiled.cu), tried first by CudaBackend::attention, and what
// its forward and backward (attention_backward.cu) kernels share: operand checks and launching.
#pragma once
#include <algorithm>
#include <atomic>
#include <type_traits>

#ifndef TL_PHILOX_FN
#define TL_PHILOX_FN __host__ __device__ __forceinline__
#endif
#include "../cpp/core/backend.h"
#include "../cpp/core/philox.h"
#include "common.cuh"
#include "tensorlogic/array.h"

namespace tensorlogic::cuda {

// Dropout on the probabilities as the kernels draw it (Backend::Dropout): the word of flat batch b = b0 * B1
// + b1, query i, key j is tl_dropout_word(seed, offset, b * len + i, keys4, j); kept when >= threshold,
// then times scale.
struct DropoutArgs {
  unsigned long long seed, offset, keys4;
  unsigned threshold;
  float scale;
};
inline DropoutArgs dropout_args(const Backend::Dropout& d, int64_t keys) {
  return {d.seed, d.offset, static_cast<unsigned long long>((keys + 3) / 4), d.threshold, d.scale};
}

// A size-1 axis may carry any stride; it is never stepped over.
inline int64_t stride_of(const Array& a, int axis) { return a.shape()[axis] == 1 ? 0 : a.strides()[axis]; }

// Whole 16-byte rows of a [B0, B1, rows, cols] operand: aligned base, contiguous last axis, batch and row
// strides multiples of 8 halves.
inline bool rows_of_chunks(const Array& a) {
  return aligned16(a.data()) && stride_of(a, 3) == 1 && stride_of(a, 2) % 8 == 0 && stride_of(a, 1) % 8 == 0 &&
         stride_of(a, 0) % 8 == 0;
}

// The strides of a [B0, B1, rows, cols] operand with contiguous rows. The kernels take both batch axes in
// one launch (blockIdx.y + b0 runs over B0 * B1): heads split from one projection ([B, H, L, E] whose
// batch strides do not nest) fill the GPU in one grid instead of B launches of H row-tile columns each.
struct RowStrides {
  int64_t outer, inner, row;
  __host__ __device__ __forceinline__ int64_t at(int64_t bo, int64_t bi, int64_t r) const {
    return bo * outer + bi * inner + r * row;
  }
};
inline RowStrides row_strides(const Array& a) { return {stride_of(a, 0), stride_of(a, 1), stride_of(a, 2)}; }

// Each row's log-sum-exp (f32, [B0, B1, L], rows contiguous): where the forward keeps it and the
// backward reads it.
struct RowStats {
  float* ptr;  // null: not kept
  int64_t outer, inner;
  __host__ __device__ __forceinline__ float* at(int64_t bo, int64_t bi) const { return ptr + bo * outer + bi * inner; }
};

// The order in which the Hopper kernels take their work items (`blocks` row or key blocks of each of `batches`
// flat batches): batches in sections of `width`, a section's items before the next section's, and within a
// section block 0 of every batch, then block 1, ... The batches of a section share its blocks' reads of K and V
// (forward) or Q, dO and dQ (backward) in L2 only while the section's bytes fit there: with all batches in one
// section (width = batches), 132 SMs working on 132 different batches at sequence 1k read each K/V tile from
// memory once per row block.
struct SectionOrder {
  int64_t batches, blocks, width;
  __host__ __device__ __forceinline__ void at(int64_t index, int64_t& batch, int64_t& block) const {
    const int64_t per_section = width * blocks, section = index / per_section;
    const int64_t first = section * width, rest = index - section * per_section;
    const int64_t in_section = batches - first < width ? batches - first : width;
    block = rest / in_section;
    batch = first + rest - block * in_section;
  }
};

// Batches per section when each batch's items read `bytes_per_batch` bytes that its other items read again: as
// many as fill half the L2 (the other half for the streams read once and written), at least one.
inline int64_t l2_section_width(int64_t bytes_per_batch, int64_t batches) {
  const int64_t width = l2_cache_bytes() / 2 / std::max<int64_t>(bytes_per_batch, 1);
  return std::clamp<int64_t>(width, 1, std::max<int64_t>(batches, 1));
}

// Calls launch(head-dim tag, masked tag, dropout tag) with the tile head dim (32, 64, 96 or 128) that holds
// `dim`.
template <typename F>
void dispatch_tile(int64_t dim, bool masked, bool dropout, F&& launch) {
  const auto with_mask = [&](auto d) {
    const auto with_dropout = [&](auto m) {
      if (dropout) launch(d, m, std::true_type{});
      else launch(d, m, std::false_type{});
    };
    if (masked) with_dropout(std::true_type{});
    else with_dropout(std::false_type{});
  };
  if (dim <= 32) with_mask(std::integral_constant<int, 32>{});
  else if (dim <= 64) with_mask(std::integral_constant<int, 64>{});
  else if (dim <= 96) with_mask(std::integral_constant<int, 96>{});
  else with_mask(std::integral_constant<int, 128>{});
}

// Launches Kernel(args, b0) on grids of (blocks, up to 65535 batches from b0) with `smem` bytes of
// dynamic shared memory, which above 48 KiB must be asked for, once per kernel and device.
template <auto Kernel, typename Args>
void launch_batches(const Args& args, int64_t batches, unsigned blocks, unsigned threads, size_t smem,
                    const char* what) {
  static std::atomic<bool> opted_in[kMaxDevices];
  std::atomic<bool>& opted = opted_in[current_device()];
  if (!opted.load(std::memory_order_acquire)) {
    check(cudaFuncSetAttribute(Kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)),
          "cudaFuncSetAttribute (attention shared memory)");
    opted.store(true, std::memory_order_release);
  }
  for (int64_t b0 = 0; b0 < batches; b0 += 65535) {
    const dim3 grid(blocks, static_cast<unsigned>(std::min<int64_t>(65535, batches - b0)));
    Kernel<<<grid, threads, smem, stream()>>>(args, b0);
    check_launch(what);
  }
}

// Runs the tiled kernel and returns true when the operands ([B0, B1, ...] as the backend's `attention`)
// suit it: head dims E and Ev multiples of 8 in [8, 128], keys > 0, contiguous last axes with 16-byte
// aligned rows (any mask strides); returns false, having done nothing, otherwise. With `lse` it also
// stores each row's log-sum-exp in base 2 of the scaled scores (what the fused backward recomputes P from;
// before dropout, which `dropout`, if given, applies to the probabilities).
bool attention_tiled(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal, float scale,
                     const Array& out, RowStats lse = {}, const Backend::Dropout* dropout = nullptr);

// The Hopper forward (attention_sm90a.cu, built for sm_90a only, where TL_CUDA_SM90A is defined): runs on
// compute capability 9.0 devices and returns true for E == Ev in {64, 128, 256} and a positive scale, with or without
// an additive mask, on operands that attention_tiled takes; returns false, having done nothing, otherwise. The
// same `lse` as attention_tiled's.
bool attention_sm90a(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal, float scale,
                     const Array& out, RowStats lse = {});

// The Hopper backward (attention_backward_sm90a.cu, built as attention_sm90a): on compute capability 9.0, for
// E == Ev in {64, 128, 256} (any additive mask), adds scale * dS K into the zeroed f32 `dq_acc` (contiguous [B0 * B1,
// len, E]) and writes dk and dv, from each row's `lse` (as attention_tiled keeps it) and `delta` (rowsum(dO * O),
// contiguous [B0 * B1, len]); returns false, having done nothing, otherwise.
bool attention_backward_sm90a(const Array& q, const Array& k, const Array& v, const Array* mask, const Array& grad,
                              bool causal, float scale, RowStats lse, const float* delta, float* dq_acc, const Array& dk,
                              const Array& dv);
// Whether attention_backward_sm90a's shape and device conditions hold (it may still decline where the driver
// refuses a tensor map): the caller's test before work that only this kernel can finish (head dim 256).
bool attention_backward_sm90a_takes(const Array& q, const Array& k, const Array& v, const Array& grad, const Array& dk,
                                    const Array& dv);

// The first of attention_sm90a (where built) and attention_tiled that takes the operands (attention.cu): every
// forward on tensor cores goes through it, so a backward that runs the forward again recomputes exactly the
// output and log-sum-exps a kept forward would have given. With dropout only attention_tiled runs.
bool attention_tensor_cores(const Array& q, const Array& k, const Array& v, const Array* mask, bool causal, float scale,
                            const Array& out, RowStats lse = {}, const Backend::Dropout* dropout = nullptr);

}  // namespace tensorlogic::cuda
