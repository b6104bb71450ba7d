// Compile-time dispatch of the op enums: dispatch_unary(op, f) calls f with a tag type whose ::value is
// op, so each backend instantiates one kernel per op (or optimizer kind) from a single template.
#pragma once
#include <type_traits>

#include "tensorlogic/ops.h"

namespace tensorlogic {

template <UnaryOp Op>
using UnaryTag = std::integral_constant<UnaryOp, Op>;
template <BinaryOp Op>
using BinaryTag = std::integral_constant<BinaryOp, Op>;

template <typename F>
void dispatch_unary(UnaryOp op, F&& f) {
  switch (op) {
#define TL_UNARY(name, ...) case UnaryOp::name: return f(UnaryTag<UnaryOp::name>{});
#include "tensorlogic/op_table.def"
  }
}

template <typename F>
void dispatch_binary(BinaryOp op, F&& f) {
  switch (op) {
#define TL_BINARY(name, ...) case BinaryOp::name: return f(BinaryTag<BinaryOp::name>{});
#include "tensorlogic/op_table.def"
  }
}

template <OptimizerKind K>
using OptimizerTag = std::integral_constant<OptimizerKind, K>;

template <typename F>
void dispatch_optimizer(OptimizerKind kind, F&& f) {
  switch (kind) {
#define TL_OPTIMIZER(k, name) case OptimizerKind::k: return f(OptimizerTag<OptimizerKind::k>{});
#include "tensorlogic/op_table.def"
  }
}

// The optimizer kernels' state-slot count (OptimizerCoeffs::slots, 0 to 3) as a compile-time constant,
// f(std::integral_constant<int, SLOTS>): the slot loops unroll and their values stay in registers (a
// run-time count kept the CPU loop scalar and put CUDA's state in local memory).
template <typename F>
void dispatch_slots(int slots, F&& f) {
  switch (slots) {
    case 0: return f(std::integral_constant<int, 0>{});
    case 1: return f(std::integral_constant<int, 1>{});
    case 2: return f(std::integral_constant<int, 2>{});
    default: return f(std::integral_constant<int, 3>{});
  }
}

}  // namespace tensorlogic
