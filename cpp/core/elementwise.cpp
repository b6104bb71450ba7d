// Elementwise ops: dtype rules, broadcasting and argument checks, then one backend kernel family call.
#include <cmath>
#include <string>

#include "backend.h"
#include "tensorlogic/errors.h"
#include "tensorlogic/ops.h"

namespace tensorlogic {

const char* unary_name(UnaryOp op) {
  static const char* const names[] = {
#define TL_UNARY(op, name, ...) name,
#include "tensorlogic/op_table.def"
  };
  return names[static_cast<int>(op)];
}

const char* binary_name(BinaryOp op) {
  static const char* const names[] = {
#define TL_BINARY(op, ...) #op,
#include "tensorlogic/op_table.def"
  };
  return names[static_cast<int>(op)];
}

namespace {

// The dtype the inputs are computed in, the dtype the kernel writes (comparisons write f16 0/1), and the
// dtype of the result (bool for comparisons, logical ops and arithmetic between bools).
struct BinaryTypes {
  Dtype compute;
  Dtype kernel_out;
  Dtype result;
};

// PyTorch's promotion (SPEC §1): bool < int32 < int64 < float16; integers stay exact in the ops that keep
// them; two bools add as `or` and multiply as `and` (computed in int32, converted back to bool).
BinaryTypes binary_types(BinaryOp op, Dtype a, Dtype b) {
  if (op == BinaryOp::sub && (a == Dtype::bool_ || b == Dtype::bool_)) {
    throw DtypeError("sub: subtraction with a bool tensor is not supported (PyTorch neither); to invert a mask use "
                     "~ or logical_not");
  }
  const Dtype p = promote_types(a, b);
  const bool logical = op == BinaryOp::logical_and || op == BinaryOp::logical_or;
  if (p == Dtype::float16 || logical || !(is_comparison(op) || binary_keeps_int(op))) {
    return {Dtype::float16, Dtype::float16, logical || is_comparison(op) ? Dtype::bool_ : Dtype::float16};
  }
  const Dtype compute = p == Dtype::bool_ ? Dtype::int32 : p;
  if (is_comparison(op)) return {compute, Dtype::float16, Dtype::bool_};
  if (p == Dtype::bool_ && op != BinaryOp::add && op != BinaryOp::mul && op != BinaryOp::maximum &&
      op != BinaryOp::minimum) {  // floor_divide, remainder
    throw DtypeError(std::string(binary_name(op)) + ": not supported between two bool tensors (PyTorch neither); "
                     "use logical_xor / logical_not or convert one side with .long()");
  }
  return {compute, compute, p};
}

// The dtype a Python scalar takes beside a tensor of dtype t: an integral value keeps an integer tensor's
// type (if it fits) and makes a bool tensor int64; anything else makes the operation float16.
Dtype scalar_type(double value, Dtype t) {
  if (!std::isfinite(value) || value != std::floor(value) || t == Dtype::float16) return Dtype::float16;
  const double limit = t == Dtype::int32 ? 2147483648.0 : 9223372036854775808.0;
  if (std::fabs(value) >= limit) return Dtype::float16;
  return t == Dtype::bool_ ? Dtype::int64 : t;
}

bool is_integral(double value) { return std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 2147483648.0; }

Array finish(const BinaryTypes& types, const Array& out) { return astype(out, types.result); }

// In place, the result is converted to the target's dtype, except a float into an integer or bool tensor.
void check_inplace(const char* op, Dtype result, const Array& out) {
  if (result == Dtype::float16 && out.dtype() != Dtype::float16) {
    throw DtypeError(std::string(op) + "_: the result is float16 and cannot be written in place into a " +
                     dtype_name(out.dtype()) + " tensor");
  }
}

}  // namespace

Array unary(UnaryOp op, const Array& a, UnaryParams params) {
  Backend& backend = backend_of(unary_name(op), {&a});
  const bool keep_int = is_integer(a.dtype()) && unary_keeps_int(op) &&
                        (op != UnaryOp::clamp || ((is_integral(params.a) || std::isinf(params.a)) &&
                                                  (is_integral(params.b) || std::isinf(params.b))));
  const Array in = keep_int ? a : astype(a, Dtype::float16);
  Array out = Array::empty(in.shape(), in.dtype(), in.device());
  if (out.numel() > 0) backend.unary(op, in, out, params);
  return op == UnaryOp::logical_not ? astype(out, Dtype::bool_) : out;
}

void unary_(UnaryOp op, const Array& out, UnaryParams params) {
  Backend& backend = backend_of(unary_name(op), {&out});
  check_no_internal_overlap(out, unary_name(op));
  if (out.dtype() == Dtype::float16 || (is_integer(out.dtype()) && unary_keeps_int(op))) {
    if (out.numel() > 0) backend.unary(op, out, out, params);
    return;
  }
  check_inplace(unary_name(op), op == UnaryOp::logical_not ? Dtype::bool_ : Dtype::float16, out);
  copy_(out, unary(op, out, params));
}

Array binary(BinaryOp op, const Array& a, const Array& b) {
  Backend& backend = backend_of(binary_name(op), {&a, &b});
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), binary_name(op));
  const BinaryTypes types = binary_types(op, a.dtype(), b.dtype());
  const Array ea = expand(astype(a, types.compute), shape);
  const Array eb = expand(astype(b, types.compute), shape);
  Array out = Array::empty(shape, types.kernel_out, a.device());
  if (out.numel() > 0) backend.binary(op, Operand{&ea, 0.0}, Operand{&eb, 0.0}, out);
  return finish(types, out);
}

Array binary(BinaryOp op, const Array& a, double b) {
  Backend& backend = backend_of(binary_name(op), {&a});
  const BinaryTypes types = binary_types(op, a.dtype(), scalar_type(b, a.dtype()));
  const Array in = astype(a, types.compute);
  Array out = Array::empty(in.shape(), types.kernel_out, in.device());
  if (out.numel() > 0) backend.binary(op, Operand{&in, 0.0}, Operand{nullptr, b}, out);
  return finish(types, out);
}

Array binary(BinaryOp op, double a, const Array& b) {
  Backend& backend = backend_of(binary_name(op), {&b});
  const BinaryTypes types = binary_types(op, scalar_type(a, b.dtype()), b.dtype());
  const Array in = astype(b, types.compute);
  Array out = Array::empty(in.shape(), types.kernel_out, in.device());
  if (out.numel() > 0) backend.binary(op, Operand{nullptr, a}, Operand{&in, 0.0}, out);
  return finish(types, out);
}

// A kernel writes in place when it computes in the target's dtype; otherwise the result is computed
// apart and converted into the target.
void binary_(BinaryOp op, const Array& out, const Array& b) {
  Backend& backend = backend_of(binary_name(op), {&out, &b});
  const Shape shape = broadcast_shapes(out.shape(), b.shape(), binary_name(op));
  if (shape != out.shape()) {
    throw ShapeMismatchError(std::string(binary_name(op)) + "_: the operand of shape " + shape_str(b.shape()) +
                             " would broadcast the in-place target of shape " + shape_str(out.shape()) + " to " +
                             shape_str(shape));
  }
  check_no_internal_overlap(out, binary_name(op));
  const BinaryTypes types = binary_types(op, out.dtype(), b.dtype());
  check_inplace(binary_name(op), types.result, out);
  if (types.compute != out.dtype() || types.kernel_out != out.dtype()) return copy_(out, binary(op, out, b));
  Array eb = expand(astype(b, out.dtype()), shape);
  if (eb.shares_storage(out) && (eb.strides() != out.strides() || eb.offset() != out.offset())) eb = clone(eb);
  if (out.numel() > 0) backend.binary(op, Operand{&out, 0.0}, Operand{&eb, 0.0}, out);
}

void binary_(BinaryOp op, const Array& out, double b) {
  Backend& backend = backend_of(binary_name(op), {&out});
  check_no_internal_overlap(out, binary_name(op));
  const BinaryTypes types = binary_types(op, out.dtype(), scalar_type(b, out.dtype()));
  check_inplace(binary_name(op), types.result, out);
  if (types.compute != out.dtype() || types.kernel_out != out.dtype()) return copy_(out, binary(op, out, b));
  if (out.numel() > 0) backend.binary(op, Operand{&out, 0.0}, Operand{nullptr, b}, out);
}

Array ternary(TernaryOp op, const Array& a, const Array& b, const Array& c) {
  const char* name = op == TernaryOp::where ? "where" : "affine";
  Backend& backend = backend_of(name, {&a, &b, &c});
  const Shape shape = broadcast_shapes(broadcast_shapes(a.shape(), b.shape(), name), c.shape(), name);
  // where: the condition is read as an f16 mask, the values promote to one dtype; affine: all f16.
  const Dtype value_type = op == TernaryOp::where ? promote_types(b.dtype(), c.dtype()) : Dtype::float16;
  const Array ea = expand(astype(a, Dtype::float16), shape);
  const Array eb = expand(astype(b, value_type), shape);
  const Array ec = expand(astype(c, value_type), shape);
  Array out = Array::empty(shape, value_type, a.device());
  if (out.numel() > 0) backend.ternary(op, ea, eb, ec, out);
  return out;
}

Array where(const Array& cond, const Array& a, const Array& b) { return ternary(TernaryOp::where, cond, a, b); }

Array clamp(const Array& a, std::optional<double> min, std::optional<double> max) {
  if (!min && !max) throw ArgumentError("clamp: at least one of min and max must be given");
  UnaryParams params;
  params.a = min ? static_cast<float>(*min) : -INFINITY;
  params.b = max ? static_cast<float>(*max) : INFINITY;
  return unary(UnaryOp::clamp, a, params);
}

}  // namespace tensorlogic
