// The scalar rules of the exact (integer and bool) reductions, shared by the CPU, CUDA and Metal kernels
// (plain `if` on the op, since MSL has no `if constexpr`; the op is a constant either way): an
// accumulator of an int64 value and the index of the extreme, a step over elements in index order, and an
// order-free combine of partial results (ties go to the smaller index, so argmax is the first maximum).
#pragma once
#include "portable.h"
#include "tensorlogic/op_enums.h"

namespace tensorlogic::kernels {

struct IntAcc {
  int64_t value;
  int64_t index;  // -1: nothing seen yet (so max/min need no sentinel value)
};

template <ReduceOp Op>
TL_FN IntAcc int_identity() {
  if (Op == ReduceOp::prod) return {1, -1};
  return {0, -1};
}

// Sums and products wrap like PyTorch's int64 arithmetic (through uint64, never UB).
template <ReduceOp Op>
TL_FN IntAcc int_combine(IntAcc a, IntAcc b) {
  if (Op == ReduceOp::sum) {
    return {static_cast<int64_t>(static_cast<uint64_t>(a.value) + static_cast<uint64_t>(b.value)), 0};
  } else if (Op == ReduceOp::prod) {
    return {static_cast<int64_t>(static_cast<uint64_t>(a.value) * static_cast<uint64_t>(b.value)), 0};
  } else {
    if (a.index < 0) return b;
    if (b.index < 0) return a;
    const bool kMax = Op == ReduceOp::max || Op == ReduceOp::argmax;
    const bool b_wins = kMax ? b.value > a.value : b.value < a.value;
    if (b_wins || (b.value == a.value && b.index < a.index)) return b;
    return a;
  }
}

template <ReduceOp Op>
TL_FN IntAcc int_step(IntAcc acc, int64_t value, int64_t index) {
  return int_combine<Op>(acc, IntAcc{value, index});
}

template <ReduceOp Op>
TL_FN int64_t int_result(IntAcc acc) {
  return (Op == ReduceOp::argmax || Op == ReduceOp::argmin) ? acc.index : acc.value;
}

}  // namespace tensorlogic::kernels
