// Host side of the Hopper kernels (*_sm90a.cu): whether the device runs sm_90a code, and tensor maps for the
// tensor memory accelerator over [B0, B1, rows, E] operands, read in 128-byte-swizzled boxes of 64 columns.
#pragma once
#include <cuda.h>

#include <cstdint>
#include <initializer_list>
#include <type_traits>

#include "tensorlogic/array.h"

namespace tensorlogic::cuda {

constexpr int kSwizzleCols = 64;  // halves in one 128-byte swizzled row: a box's width

// The batch coordinates of one operand's tensor map: an axis of size 1 or stride 0 (broadcast) is a map axis of
// size 1, always read at 0.
struct BatchSteps {
  int inner, outer;  // 1: the coordinate is the batch index, 0: always 0
};

// Whether the current device runs sm_90a code (compute capability 9.0 exactly), asked once per device.
bool device_is_sm90();

// A 4-d map of x ([B0, B1, rows, E], rows of 16-byte chunks) read in boxes of 64 columns x box_rows rows with
// 128-byte swizzling, rows and columns past the end read as zeros; false where the driver refuses it.
bool encode_rows_map(CUtensorMap* map, BatchSteps* steps, const Array& x, uint32_t box_rows);

// A 3-d map of a contiguous f32 array [batches, rows, cols] (cols a multiple of 32) in boxes of 32 columns (128
// bytes) x box_rows rows with 128-byte swizzling: the Hopper backward's dQ accumulator, which it adds tiles into.
// False where the driver refuses it or a coordinate would not fit an int.
bool encode_f32_rows_map(CUtensorMap* map, float* x, int64_t batches, int64_t rows, int64_t cols, uint32_t box_rows);

// Whether the Hopper attention kernels take q, k, v ([B0, B1, rows, E]) and the other operands (outputs,
// gradients) on this device: q's and v's head dims equal and one of `head_dims` (those the kernel is built for),
// some keys, row, key and batch coordinates within int, every operand in rows of 16-byte chunks (an additive mask
// is read per score with any strides, so it has no condition).
bool hopper_attention_fits(const Array& q, const Array& k, const Array& v, std::initializer_list<const Array*> others,
                           std::initializer_list<int> head_dims);

// The head dims one Hopper kernel is built for, named once per kernel file so that the shape check and the
// dispatch cannot disagree.
template <int... kDims>
struct HopperHeadDims {
  static bool fits(const Array& q, const Array& k, const Array& v, std::initializer_list<const Array*> others) {
    return hopper_attention_fits(q, k, v, others, {kDims...});
  }

  // Calls run(head dim, causal, masked) with the three as compile-time constants (std::integral_constant /
  // bool_constant) for a head dim that fits() accepted. The core passes a mask or is_causal, never both.
  template <class Run>
  static void run(int64_t head_dim, bool causal, bool masked, Run&& run) {
    const auto with_mask = [&](auto d) {
      if (masked) run(d, std::false_type{}, std::true_type{});
      else if (causal) run(d, std::true_type{}, std::false_type{});
      else run(d, std::false_type{}, std::false_type{});
    };
    (void)((head_dim == kDims && (with_mask(std::integral_constant<int, kDims>{}), true)) || ...);
  }
};

}  // namespace tensorlogic::cuda
