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

// The dtype the inputs are computed in, and the dtype of the result.
struct BinaryTypes {
  Dtype compute;
  Dtype result;
};

BinaryTypes binary_types(BinaryOp op, bool all_int) {
  if (all_int && (binary_keeps_int(op) || is_comparison(op))) {
    return {Dtype::int32, is_comparison(op) ? Dtype::float16 : Dtype::int32};
  }
  return {Dtype::float16, Dtype::float16};
}

bool is_integral(double value) { return std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 2147483648.0; }

}  // namespace

Array unary(UnaryOp op, const Array& a, UnaryParams params) {
  Backend& backend = backend_of(unary_name(op), {&a});
  const bool keep_int = a.dtype() == Dtype::int32 && unary_keeps_int(op) &&
                        (op != UnaryOp::clamp || ((is_integral(params.a) || std::isinf(params.a)) &&
                                                  (is_integral(params.b) || std::isinf(params.b))));
  const Array in = (a.dtype() == Dtype::int32 && !keep_int) ? astype(a, Dtype::float16) : a;
  Array out = Array::empty(in.shape(), in.dtype(), in.device());
  if (out.numel() > 0) backend.unary(op, in, out, params);
  return out;
}

void unary_(UnaryOp op, const Array& out, UnaryParams params) {
  Backend& backend = backend_of(unary_name(op), {&out});
  if (out.dtype() == Dtype::int32 && !unary_keeps_int(op)) {
    throw DtypeError(std::string(unary_name(op)) + "_: the result is float16 and cannot be written in place into an int32 tensor");
  }
  check_no_internal_overlap(out, unary_name(op));
  if (out.numel() > 0) backend.unary(op, out, out, params);
}

Array binary(BinaryOp op, const Array& a, const Array& b) {
  Backend& backend = backend_of(binary_name(op), {&a, &b});
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), binary_name(op));
  const BinaryTypes types = binary_types(op, a.dtype() == Dtype::int32 && b.dtype() == Dtype::int32);
  const Array ea = expand(astype(a, types.compute), shape);
  const Array eb = expand(astype(b, types.compute), shape);
  Array out = Array::empty(shape, types.result, a.device());
  if (out.numel() > 0) backend.binary(op, Operand{&ea, 0.0}, Operand{&eb, 0.0}, out);
  return out;
}

Array binary(BinaryOp op, const Array& a, double b) {
  Backend& backend = backend_of(binary_name(op), {&a});
  const BinaryTypes types = binary_types(op, a.dtype() == Dtype::int32 && is_integral(b));
  const Array in = astype(a, types.compute);
  Array out = Array::empty(in.shape(), types.result, in.device());
  if (out.numel() > 0) backend.binary(op, Operand{&in, 0.0}, Operand{nullptr, b}, out);
  return out;
}

Array binary(BinaryOp op, double a, const Array& b) {
  Backend& backend = backend_of(binary_name(op), {&b});
  const BinaryTypes types = binary_types(op, b.dtype() == Dtype::int32 && is_integral(a));
  const Array in = astype(b, types.compute);
  Array out = Array::empty(in.shape(), types.result, in.device());
  if (out.numel() > 0) backend.binary(op, Operand{nullptr, a}, Operand{&in, 0.0}, out);
  return out;
}

static void check_inplace_result(BinaryOp op, const Array& out, bool other_is_int) {
  const BinaryTypes types = binary_types(op, out.dtype() == Dtype::int32 && other_is_int);
  if (types.result != out.dtype()) {
    throw DtypeError(std::string(binary_name(op)) + "_: the result is " + dtype_name(types.result) +
                     " and cannot be written in place into a " + dtype_name(out.dtype()) + " tensor");
  }
}

void binary_(BinaryOp op, const Array& out, const Array& b) {
  Backend& backend = backend_of(binary_name(op), {&out, &b});
  const Shape shape = broadcast_shapes(out.shape(), b.shape(), binary_name(op));
  if (shape != out.shape()) {
    throw ShapeMismatchError(std::string(binary_name(op)) + "_: the operand of shape " + shape_str(b.shape()) +
                             " would broadcast the in-place target of shape " + shape_str(out.shape()) + " to " +
                             shape_str(shape));
  }
  check_inplace_result(op, out, b.dtype() == Dtype::int32);
  check_no_internal_overlap(out, binary_name(op));
  Array eb = expand(astype(b, out.dtype()), shape);
  if (eb.shares_storage(out) && (eb.strides() != out.strides() || eb.offset() != out.offset())) eb = clone(eb);
  if (out.numel() > 0) backend.binary(op, Operand{&out, 0.0}, Operand{&eb, 0.0}, out);
}

void binary_(BinaryOp op, const Array& out, double b) {
  Backend& backend = backend_of(binary_name(op), {&out});
  check_inplace_result(op, out, is_integral(b));
  check_no_internal_overlap(out, binary_name(op));
  if (out.numel() > 0) backend.binary(op, Operand{&out, 0.0}, Operand{nullptr, b}, out);
}

Array ternary(TernaryOp op, const Array& a, const Array& b, const Array& c) {
  const char* name = op == TernaryOp::where ? "where" : "affine";
  Backend& backend = backend_of(name, {&a, &b, &c});
  const Shape shape = broadcast_shapes(broadcast_shapes(a.shape(), b.shape(), name), c.shape(), name);
  // where: the condition is read as an f16 mask, the values share one dtype; affine: all f16.
  Dtype value_type = Dtype::float16;
  if (op == TernaryOp::where && b.dtype() == Dtype::int32 && c.dtype() == Dtype::int32) value_type = Dtype::int32;
  const Array ea = expand(op == TernaryOp::where ? astype(a, Dtype::float16) : astype(a, value_type), shape);
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
