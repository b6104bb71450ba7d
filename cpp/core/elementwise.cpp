// Elementwise ops: dtype rules, broadcasting and argument checks, then one backend kernel family call.
#include <cmath>
#include <string>

#include "backend.h"
#include "shape_util.h"
#include "tensorlogic/errors.h"
#include "tensorlogic/ops.h"

namespace tensorlogic {

const char* unary_name(UnaryOp op) {
  static const char* const names[] = {
#define TL_UNARY(op, name, ...) name,
#include "tensorlogic/op_table.def"
  };
  return checked_name(names, static_cast<unsigned>(op), "unary op");
}

const char* binary_name(BinaryOp op) {
  static const char* const names[] = {
#define TL_BINARY(op, ...) #op,
#include "tensorlogic/op_table.def"
  };
  return checked_name(names, static_cast<unsigned>(op), "binary op");
}

namespace {

// PyTorch's result type (c10's ResultTypeState) over an op's operands: tensors with dimensions outrank 0-d
// tensors, which outrank numbers; a lower rank decides the dtype only where its category (bool < integer <
// float) is higher than that of every rank above it. So int32 beside a 0-d int64 stays int32, and beside 1.0
// becomes float16.
class ResultType {
 public:
  ResultType& operator<<(const Array& a) { return add(a.ndim() > 0 ? 2 : 1, a.dtype()); }
  ResultType& operator<<(const Scalar& s) { return add(0, s.dtype()); }
  ResultType& operator<<(const std::optional<Scalar>& s) { return s ? *this << *s : *this; }
  Dtype dtype() const {
    std::optional<Dtype> result;
    for (const std::optional<Dtype>& d : by_rank_) {  // numbers first; each higher rank takes over unless outclassed
      if (d) result = !result || category(*result) <= category(*d) ? *d : *result;
    }
    return result.value_or(Dtype::float16);
  }

 private:
  static int category(Dtype d) { return d == Dtype::bool_ ? 0 : d == Dtype::float16 ? 2 : 1; }
  ResultType& add(int rank, Dtype d) {
    by_rank_[rank] = by_rank_[rank] ? promote_types(*by_rank_[rank], d) : d;
    return *this;
  }
  std::optional<Dtype> by_rank_[3];
};

// The dtype the inputs are computed in, the dtype the kernel writes (comparisons write f16 0/1), and the
// dtype of the result (bool for comparisons, logical ops and arithmetic between bools).
struct BinaryTypes {
  Dtype compute;
  Dtype kernel_out;
  Dtype result;
};

// The types of op over operands of dtypes a and b (a number's: Scalar::dtype) whose result type is p (SPEC §1):
// integers stay exact in the ops that keep them; two bools add as `or`, multiply as `and` and raise as `x or
// not y` (computed in int32, converted back to bool).
BinaryTypes binary_types(BinaryOp op, Dtype a, Dtype b, Dtype p) {
  if (op == BinaryOp::sub && (a == Dtype::bool_ || b == Dtype::bool_)) {
    throw DtypeError("sub: subtraction with a bool tensor is not supported (PyTorch neither); to invert a mask use "
                     "~ or logical_not");
  }
  const bool logical = op == BinaryOp::logical_and || op == BinaryOp::logical_or;
  if (p == Dtype::float16 || logical || !(is_comparison(op) || binary_keeps_int(op))) {
    return {Dtype::float16, Dtype::float16, logical || is_comparison(op) ? Dtype::bool_ : Dtype::float16};
  }
  const Dtype compute = p == Dtype::bool_ ? Dtype::int32 : p;
  if (is_comparison(op)) return {compute, Dtype::float16, Dtype::bool_};
  if (p == Dtype::bool_ && (op == BinaryOp::floor_divide || op == BinaryOp::remainder)) {
    throw DtypeError(std::string(binary_name(op)) + ": not supported between two bools (PyTorch neither); "
                     "use logical_xor / logical_not or convert one side with .long()");
  }
  return {compute, compute, p};
}

BinaryTypes binary_types(BinaryOp op, const Array& a, const Array& b) {
  return binary_types(op, a.dtype(), b.dtype(), (ResultType() << a << b).dtype());
}

// A number as a kernel computing in `compute` reads it: an integer converted to int32 wraps, as PyTorch converts
// it; nothing for an int64 that a double cannot hold exactly (it goes to the kernel as a 0-d array instead).
std::optional<double> kernel_value(const Scalar& s, Dtype compute) {
  if (compute == Dtype::float16 || s.kind() == Scalar::Kind::floating) return s.to_double();
  const int64_t v = s.to_int();
  if (compute == Dtype::int32) return static_cast<double>(static_cast<int32_t>(static_cast<uint32_t>(v)));
  constexpr int64_t exact = int64_t{1} << 53;
  if (v > exact || v < -exact) return std::nullopt;
  return static_cast<double>(v);
}

// A number as a 0-d array of `dtype` on `device` (integers exact; into int32 they wrap, as in kernel_value).
Array number_array(const Scalar& s, Dtype dtype, Device device) {
  if (dtype == Dtype::bool_) return full({}, s.to_double() != 0.0 ? 1.0 : 0.0, dtype, device);
  if (const std::optional<double> value = kernel_value(s, dtype)) return full({}, *value, dtype, device);
  const int64_t v = s.to_int();
  return from_host(&v, {}, Dtype::int64, device);
}

// PyTorch refuses an integer power with a negative number for exponent (its value would be a fraction).
void check_exponent(BinaryOp op, const BinaryTypes& types, const Scalar& exponent) {
  if (op == BinaryOp::pow && types.compute != Dtype::float16 && exponent.to_int() < 0) {
    throw ArgumentError("pow: integers to negative integer powers are not allowed (PyTorch neither); use a float "
                        "exponent or a float tensor");
  }
}

bool is_integral(double value) { return std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 2147483648.0; }

Array finish(const BinaryTypes& types, const Array& out) { return astype(out, types.result); }

// In place, the result is converted to the target's dtype where PyTorch's can_cast allows it.
void check_inplace(const char* op, Dtype result, const Array& out) {
  if (!can_cast(result, out.dtype())) {
    throw DtypeError(std::string(op) + "_: the result is " + dtype_name(result) + " and cannot be written in place "
                     "into a tensor of dtype " + dtype_name(out.dtype()) + " (PyTorch neither)");
  }
}

// The kernel over two arrays of types.compute, broadcast to `shape`.
Array binary_arrays(Backend& backend, BinaryOp op, const BinaryTypes& types, const Shape& shape, const Array& a,
                    const Array& b) {
  const Array ea = expand(astype(a, types.compute), shape);
  const Array eb = expand(astype(b, types.compute), shape);
  Array out = Array::empty(shape, types.kernel_out, a.device());
  if (out.numel() > 0) backend.binary(op, Operand{&ea, 0.0}, Operand{&eb, 0.0}, out);
  return finish(types, out);
}

Array binary_number(BinaryOp op, const Array& a, const Scalar& number, bool number_first);

// An integer or bool tensor against a float number, compared exactly: as integers against the number's floor or
// ceiling. (Their result type, float16, would round integers beyond 2048; PyTorch's float32 is exact below 2^24,
// where the two agree.) `op` reads x op s.
Array compare_with_float(BinaryOp op, const Array& x, double s) {
  const auto all = [&](bool value) { return full(x.shape(), value ? 1.0 : 0.0, Dtype::bool_, x.device()); };
  if (std::isnan(s)) return all(op == BinaryOp::ne);
  double bound = s;  // x op s holds exactly where x op' bound does, with op' = op for lt, le, gt, ge
  if (op == BinaryOp::lt || op == BinaryOp::ge) {
    bound = std::ceil(s);
  } else if (op == BinaryOp::le || op == BinaryOp::gt) {
    bound = std::floor(s);
  } else if (s != std::floor(s)) {
    return all(op == BinaryOp::ne);  // eq, ne with a fraction
  }
  const double limit = x.dtype() == Dtype::int32 ? 2147483648.0 : 9223372036854775808.0;  // 2^31, 2^63
  if (bound >= limit) return all(op == BinaryOp::lt || op == BinaryOp::le || op == BinaryOp::ne);
  if (bound < -limit) return all(op == BinaryOp::gt || op == BinaryOp::ge || op == BinaryOp::ne);
  return binary_number(op, x, Scalar(static_cast<int64_t>(bound)), false);
}

BinaryOp mirrored(BinaryOp op) {  // s op x is x mirrored(op) s
  switch (op) {
    case BinaryOp::lt: return BinaryOp::gt;
    case BinaryOp::le: return BinaryOp::ge;
    case BinaryOp::gt: return BinaryOp::lt;
    case BinaryOp::ge: return BinaryOp::le;
    default: return op;
  }
}

// op(a, number), or op(number, a) when number_first.
Array binary_number(BinaryOp op, const Array& a, const Scalar& number, bool number_first) {
  if (is_comparison(op) && number.kind() == Scalar::Kind::floating && a.dtype() != Dtype::float16) {
    return compare_with_float(number_first ? mirrored(op) : op, a, number.to_double());
  }
  Backend& backend = backend_of(binary_name(op), {&a});
  const Dtype p = (ResultType() << a << number).dtype();
  const BinaryTypes types = number_first ? binary_types(op, number.dtype(), a.dtype(), p)
                                         : binary_types(op, a.dtype(), number.dtype(), p);
  if (!number_first) check_exponent(op, types, number);
  const std::optional<double> value = kernel_value(number, types.compute);
  if (!value) {
    const Array n = number_array(number, types.compute, a.device());
    return number_first ? binary_arrays(backend, op, types, a.shape(), n, a)
                        : binary_arrays(backend, op, types, a.shape(), a, n);
  }
  const Array in = astype(a, types.compute);
  Array out = Array::empty(in.shape(), types.kernel_out, in.device());
  const Operand array{&in, 0.0}, scalar{nullptr, *value};
  if (out.numel() > 0) backend.binary(op, number_first ? scalar : array, number_first ? array : scalar, out);
  return finish(types, out);
}

// where: the condition is read as an f16 mask, the values are computed in value_type; affine: all f16.
Array ternary_of(TernaryOp op, const Array& a, const Array& b, const Array& c, Dtype value_type) {
  if (static_cast<unsigned>(op) >= static_cast<unsigned>(kTernaryOpCount)) {
    throw ArgumentError("unknown ternary op " + std::to_string(static_cast<unsigned>(op)));
  }
  const char* name = op == TernaryOp::where ? "where" : "affine";
  Backend& backend = backend_of(name, {&a, &b, &c});
  const Shape shape = broadcast_shapes(broadcast_shapes(a.shape(), b.shape(), name), c.shape(), name);
  const Array ea = expand(astype(a, Dtype::float16), shape);
  const Array eb = expand(astype(b, value_type), shape);
  const Array ec = expand(astype(c, value_type), shape);
  Array out = Array::empty(shape, value_type, a.device());
  if (out.numel() > 0) backend.ternary(op, ea, eb, ec, out);
  return out;
}

UnaryParams clamp_params(const std::optional<Scalar>& min, const std::optional<Scalar>& max) {
  UnaryParams params;
  params.a = min ? static_cast<float>(min->to_double()) : -INFINITY;
  params.b = max ? static_cast<float>(max->to_double()) : INFINITY;
  return params;
}

}  // namespace

Dtype result_type(const std::vector<Array>& tensors, const std::vector<Scalar>& numbers) {
  ResultType type;
  for (const Array& t : tensors) type << t;
  for (const Scalar& n : numbers) type << n;
  return type.dtype();
}

// -mask gave -1.0 where PyTorch refuses, as it refuses mask - mask (binary_types)
static void check_not_bool_neg(UnaryOp op, const Array& a) {
  if (op == UnaryOp::neg && a.dtype() == Dtype::bool_) {
    throw DtypeError("neg: negation, the `-` operator, on a bool tensor is not supported (PyTorch neither); to invert "
                     "a mask use ~ or logical_not");
  }
}

Array unary(UnaryOp op, const Array& a, UnaryParams params) {
  Backend& backend = backend_of(unary_name(op), {&a});
  check_not_bool_neg(op, a);
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
  check_not_bool_neg(op, out);
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
  return binary_arrays(backend, op, binary_types(op, a, b), shape, a, b);
}

Array binary(BinaryOp op, const Array& a, Scalar b) { return binary_number(op, a, b, false); }

Array binary(BinaryOp op, Scalar a, const Array& b) { return binary_number(op, b, a, true); }

std::optional<std::vector<Array>> activation_backward_column_sums(BinaryOp op, const Array& grad, const Array& x) {
  const char* name = binary_name(op);
  Backend& backend = backend_of(name, {&grad, &x});
  if (op != BinaryOp::gelu_backward && op != BinaryOp::gelu_tanh_backward && op != BinaryOp::silu_backward &&
      op != BinaryOp::tanh_backward) {
    throw ArgumentError(std::string("activation_backward_column_sums: ") + name + " is not an activation's backward");
  }
  if (grad.shape() != x.shape() || grad.ndim() == 0) {
    throw ShapeMismatchError(std::string(name) + ": expected a gradient and an input of one shape with at least one "
                             "dimension, got " + shape_str(grad.shape()) + " and " + shape_str(x.shape()));
  }
  if (grad.dtype() != Dtype::float16 || x.dtype() != Dtype::float16 || x.numel() == 0) return std::nullopt;
  const int64_t n = x.shape().back();
  const Array g = contiguous(grad), in = contiguous(x);
  std::vector<Array> out{Array::empty(x.shape(), Dtype::float16, x.device()),
                         Array::empty({n}, Dtype::float16, x.device())};
  if (!backend.activation_backward_columns(op, g, in, x.numel() / n, n, out[0], out[1])) return std::nullopt;
  return out;
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
  const BinaryTypes types = binary_types(op, out, b);
  check_inplace(binary_name(op), types.result, out);
  if (types.compute != out.dtype() || types.kernel_out != out.dtype()) return copy_(out, binary(op, out, b));
  Array eb = expand(astype(b, out.dtype()), shape);
  if (eb.shares_storage(out) && (eb.strides() != out.strides() || eb.offset() != out.offset())) eb = clone(eb);
  if (out.numel() > 0) backend.binary(op, Operand{&out, 0.0}, Operand{&eb, 0.0}, out);
}

void binary_(BinaryOp op, const Array& out, Scalar b) {
  Backend& backend = backend_of(binary_name(op), {&out});
  check_no_internal_overlap(out, binary_name(op));
  const BinaryTypes types = binary_types(op, out.dtype(), b.dtype(), (ResultType() << out << b).dtype());
  check_inplace(binary_name(op), types.result, out);
  check_exponent(op, types, b);
  const std::optional<double> value = kernel_value(b, types.compute);
  if (!value || types.compute != out.dtype() || types.kernel_out != out.dtype()) return copy_(out, binary(op, out, b));
  if (out.numel() > 0) backend.binary(op, Operand{&out, 0.0}, Operand{nullptr, *value}, out);
}

Array ternary(TernaryOp op, const Array& a, const Array& b, const Array& c) {
  return ternary_of(op, a, b, c, op == TernaryOp::where ? (ResultType() << b << c).dtype() : Dtype::float16);
}

Array where(const Array& cond, const Array& a, const Array& b) { return ternary(TernaryOp::where, cond, a, b); }

Array where(const Array& cond, const Array& a, Scalar b) {
  const Dtype type = (ResultType() << a << b).dtype();
  return ternary_of(TernaryOp::where, cond, a, number_array(b, type, a.device()), type);
}

Array where(const Array& cond, Scalar a, const Array& b) {
  const Dtype type = (ResultType() << a << b).dtype();
  return ternary_of(TernaryOp::where, cond, number_array(a, type, b.device()), b, type);
}

Array where(const Array& cond, Scalar a, Scalar b) {
  const Dtype type = (ResultType() << a << b).dtype();
  return ternary_of(TernaryOp::where, cond, number_array(a, type, cond.device()), number_array(b, type, cond.device()),
                    type);
}

// A float16 result is one fused kernel; an integer one is maximum then minimum (exact for any int64 bound,
// and the upper bound wins where the bounds cross, as in PyTorch).
Array clamp(const Array& a, std::optional<Scalar> min, std::optional<Scalar> max) {
  if (!min && !max) throw ArgumentError("clamp: at least one of min and max must be given");
  const Dtype type = (ResultType() << a << min << max).dtype();
  if (type == Dtype::float16) return unary(UnaryOp::clamp, astype(a, Dtype::float16), clamp_params(min, max));
  Array out = astype(a, type);
  if (min) out = binary(BinaryOp::maximum, out, *min);
  if (max) out = binary(BinaryOp::minimum, out, *max);
  return out;
}

void clamp_(const Array& out, std::optional<Scalar> min, std::optional<Scalar> max) {
  if (!min && !max) throw ArgumentError("clamp_: at least one of min and max must be given");
  const Dtype type = (ResultType() << out << min << max).dtype();
  check_inplace("clamp", type, out);
  if (type == Dtype::float16) return unary_(UnaryOp::clamp, out, clamp_params(min, max));
  check_no_internal_overlap(out, "clamp");
  copy_(out, clamp(out, min, max));
}

}  // namespace tensorlogic
