// Compile-time dispatch of the elementwise op enums: dispatch_unary(op, f) calls f with a tag type whose
// ::value is op, so each backend instantiates one kernel per op from a single template.
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
#define TL_CASE(name) case UnaryOp::name: return f(UnaryTag<UnaryOp::name>{});
    TL_CASE(neg) TL_CASE(abs) TL_CASE(exp) TL_CASE(log) TL_CASE(log1p) TL_CASE(sqrt) TL_CASE(rsqrt) TL_CASE(sin)
    TL_CASE(cos) TL_CASE(tanh) TL_CASE(sigmoid) TL_CASE(relu) TL_CASE(gelu) TL_CASE(gelu_tanh) TL_CASE(silu)
    TL_CASE(softplus) TL_CASE(reciprocal) TL_CASE(square) TL_CASE(sign) TL_CASE(floor) TL_CASE(ceil)
    TL_CASE(round) TL_CASE(clamp) TL_CASE(step) TL_CASE(pow_scalar) TL_CASE(rpow_scalar) TL_CASE(logical_not)
#undef TL_CASE
  }
}

template <typename F>
void dispatch_binary(BinaryOp op, F&& f) {
  switch (op) {
#define TL_CASE(name) case BinaryOp::name: return f(BinaryTag<BinaryOp::name>{});
    TL_CASE(add) TL_CASE(sub) TL_CASE(mul) TL_CASE(div) TL_CASE(pow) TL_CASE(maximum) TL_CASE(minimum) TL_CASE(eq)
    TL_CASE(ne) TL_CASE(lt) TL_CASE(le) TL_CASE(gt) TL_CASE(ge) TL_CASE(add_relu) TL_CASE(mul_relu)
    TL_CASE(floor_divide) TL_CASE(remainder) TL_CASE(logical_and) TL_CASE(logical_or)
#undef TL_CASE
  }
}

}  // namespace tensorlogic
