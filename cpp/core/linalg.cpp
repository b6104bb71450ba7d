// Matrix products (matmul with PyTorch's 1-d and batch-broadcasting rules, the fused linear family)
// and tril/triu.
#include <algorithm>
#include <string>

#include "batching.h"
#include "gemm.h"
#include "tensorlogic/errors.h"
#include "tensorlogic/ops.h"

namespace tensorlogic {

void gemm_into(Backend& backend, const Array& a, const Array& b, const Array& out, const GemmEpilogue& epilogue) {
  if (out.numel() == 0) return;
  const int batch_dims = out.ndim() - 2;
  const bool full_bias = epilogue.bias && epilogue.bias->ndim() == out.ndim();
  for_each_batch({&a, &b, &out, full_bias ? epilogue.bias : nullptr, epilogue.residual}, batch_dims,
                 backend.gemm_batch_axes(), [&](const std::vector<Array>& v) {
                   GemmEpilogue ep = epilogue;
                   if (full_bias) ep.bias = &v[3];
                   if (epilogue.residual) ep.residual = &v[4];
                   backend.gemm(v[0], v[1], v[2], ep);
                 });
}

namespace {

Array as_float(const Array& a) { return a.dtype() == Dtype::float16 ? a : astype(a, Dtype::float16); }

std::string pair_str(const Array& a, const Array& b) { return shape_str(a.shape()) + " and " + shape_str(b.shape()); }

// Batch-broadcast a [..., M, K] and b [..., K, N] views and the output shape [..., M, N].
struct Product {
  Array a, b;
  Shape out;
};

// `given_a`/`given_b` are the caller's operands, named in error messages.
Product broadcast_product(const char* op, const Array& a, const Array& b, const Array& given_a, const Array& given_b) {
  const int64_t m = a.shape()[a.ndim() - 2], k = a.shape()[a.ndim() - 1];
  const int64_t k2 = b.shape()[b.ndim() - 2], n = b.shape()[b.ndim() - 1];
  if (k != k2) {
    throw ShapeMismatchError(std::string(op) + ": shapes " + pair_str(given_a, given_b) + " cannot be multiplied (" + std::to_string(k) +
                             " != " + std::to_string(k2) + ")");
  }
  const Shape batch_a(a.shape().begin(), a.shape().end() - 2), batch_b(b.shape().begin(), b.shape().end() - 2);
  Shape batch;
  try {
    batch = broadcast_shapes(batch_a, batch_b, op);
  } catch (const ShapeMismatchError&) {
    throw ShapeMismatchError(std::string(op) + ": the batch dimensions of shapes " + pair_str(given_a, given_b) + " cannot be broadcast");
  }
  Shape sa = batch, sb = batch, out = batch;
  sa.insert(sa.end(), {m, k});
  sb.insert(sb.end(), {k, n});
  out.insert(out.end(), {m, n});
  return {expand(a, sa), expand(b, sb), out};
}

}  // namespace

LinearEpilogue::LinearEpilogue(const char* op, const Shape& w_shape, const Shape& result, Activation act,
                               const std::optional<Array>& bias_in, const std::optional<Array>& residual_in)
    : activation(act) {
  if (static_cast<unsigned>(act) >= static_cast<unsigned>(kActivationCount)) {
    throw ArgumentError(std::string(op) + ": unknown activation " + std::to_string(static_cast<unsigned>(act)));
  }
  const int64_t out_features = w_shape[0];
  if (bias_in) {
    bias = as_float(*bias_in);
    if (bias->ndim() != 1 || bias->shape()[0] != out_features) {
      throw ShapeMismatchError(std::string(op) + ": bias of shape " + shape_str(bias->shape()) + " does not match weight " +
                               shape_str(w_shape) + " (expected [" + std::to_string(out_features) + "])");
    }
  }
  if (residual_in) {
    const Array r = as_float(*residual_in);
    bool fits = r.ndim() <= static_cast<int>(result.size());
    for (int i = 1; fits && i <= r.ndim(); ++i) {
      const int64_t have = r.shape().end()[-i], want = result.end()[-i];
      fits = have == want || have == 1;
    }
    if (!fits) {
      throw ShapeMismatchError(std::string(op) + ": residual of shape " + shape_str(r.shape()) +
                               " does not broadcast to the output shape " + shape_str(result));
    }
    residual = expand(r, result);
  }
}

GemmEpilogue LinearEpilogue::get() const {
  GemmEpilogue ep;
  ep.activation = activation;
  if (bias) ep.bias = &*bias;
  if (residual) ep.residual = &*residual;
  return ep;
}

Array matmul(const Array& a_in, const Array& b_in) {
  Backend& backend = backend_of("matmul", {&a_in, &b_in});
  if (a_in.ndim() == 0 || b_in.ndim() == 0) {
    throw ShapeMismatchError("matmul: both arguments need at least one dimension, got shapes " + pair_str(a_in, b_in));
  }
  // PyTorch: a 1-d left operand is a row [1, K], a 1-d right operand a column [K, 1]; both dropped after.
  Array a = as_float(a_in), b = as_float(b_in);
  const bool a_vec = a.ndim() == 1, b_vec = b.ndim() == 1;
  if (a_vec) a = unsqueeze(a, 0);
  if (b_vec) b = unsqueeze(b, 1);
  const Product p = broadcast_product("matmul", a, b, a_in, b_in);
  Array out = Array::empty(p.out, Dtype::float16, a.device());
  gemm_into(backend, p.a, p.b, out, {});
  if (a_vec && b_vec) return reshape(out, Shape(p.out.begin(), p.out.end() - 2));
  if (a_vec) return squeeze(out, std::vector<int>{out.ndim() - 2});
  if (b_vec) return squeeze(out, std::vector<int>{out.ndim() - 1});
  return out;
}

Array linear(const Array& x_in, const Array& w_in, const std::optional<Array>& bias_in, Activation act,
             const std::optional<Array>& residual_in) {
  Backend& backend = backend_of("linear", {&x_in, &w_in, bias_in ? &*bias_in : nullptr,
                                           residual_in ? &*residual_in : nullptr});
  if (x_in.ndim() == 0 || w_in.ndim() != 2) {
    throw ShapeMismatchError("linear: expected input [..., in_features] and weight [out_features, in_features], got " +
                             pair_str(x_in, w_in));
  }
  const Array x = as_float(x_in), w = as_float(w_in);
  const int64_t in_features = w.shape()[1], out_features = w.shape()[0];
  if (x.shape().back() != in_features) {
    throw ShapeMismatchError("linear: input " + shape_str(x.shape()) + " has " + std::to_string(x.shape().back()) +
                             " features but weight " + shape_str(w.shape()) + " expects " + std::to_string(in_features));
  }
  const Array x2 = x.ndim() == 1 ? unsqueeze(x, 0) : x;
  const Product p = broadcast_product("linear", x2, transpose(w, 0, 1), x_in, w_in);
  Shape result = Shape(x.shape().begin(), x.shape().end() - 1);
  result.push_back(out_features);

  LinearEpilogue ep("linear", w.shape(), result, act, bias_in, residual_in);
  if (x.ndim() == 1 && ep.residual) ep.residual = unsqueeze(*ep.residual, 0);
  Array out = Array::empty(p.out, Dtype::float16, x.device());
  gemm_into(backend, p.a, p.b, out, ep.get());
  return x.ndim() == 1 ? reshape(out, result) : out;
}

std::vector<Array> linear_weight_bias_grad(const Array& grad_in, const Array& x_in) {
  Backend& backend = backend_of("linear_weight_bias_grad", {&grad_in, &x_in});
  const Shape& gs = grad_in.shape();
  const Shape& xs = x_in.shape();
  if (gs.empty() || xs.empty() || Shape(gs.begin(), gs.end() - 1) != Shape(xs.begin(), xs.end() - 1)) {
    throw ShapeMismatchError("linear_weight_bias_grad: expected grad [..., out_features] and input [..., "
                             "in_features] with the same leading shape, got " + pair_str(grad_in, x_in));
  }
  const int64_t n = gs.back(), k = xs.back();
  int64_t m = 1;
  for (size_t d = 0; d + 1 < gs.size(); ++d) m *= gs[d];
  const Array grad = reshape(as_float(grad_in), {m, n}), x = reshape(as_float(x_in), {m, k});
  if (m > 0 && n > 0 && k > 0) {
    Array dw = Array::empty({n, k}, Dtype::float16, x.device());
    Array db = Array::empty({n}, Dtype::float16, x.device());
    if (backend.linear_weight_bias_grad(grad, x, dw, db)) return {dw, db};
  }
  // The composed form: the ops the unfused backward runs (matmul's GEMM, then sum's column reduction).
  return {matmul(transpose(grad, 0, 1), x), reduce(ReduceOp::sum, grad, {0}, false)};
}

static Array triangle(const char* op, const Array& a, int64_t k, bool upper) {
  Backend& backend = backend_of(op, {&a});
  if (a.ndim() < 2) {
    throw ShapeMismatchError(std::string(op) + ": input must have at least 2 dimensions, got shape " + shape_str(a.shape()));
  }
  const int64_t rows = a.shape()[a.ndim() - 2], cols = a.shape()[a.ndim() - 1];
  k = std::clamp<int64_t>(k, -rows - 1, cols + 1);  // beyond this range every k gives the same result
  Array out = Array::empty(a.shape(), a.dtype(), a.device());
  if (out.numel() > 0) backend.tri(a, k, upper, out);
  return out;
}

Array tril(const Array& a, int64_t k) { return triangle("tril", a, k, false); }
Array triu(const Array& a, int64_t k) { return triangle("triu", a, k, true); }

}  // namespace tensorlogic
