// Row ops: softmax / log_softmax over any dimension, layer_norm / rms_norm over trailing dimensions and
// the softmax cross-entropy loss per row. Each runs as one pass per row in f32 and rounds once.
#include <string>
#include <vector>

#include "backend.h"
#include "shape_util.h"
#include "tensorlogic/errors.h"
#include "tensorlogic/ops.h"

namespace tensorlogic {
namespace {

Array as_float(const Array& a) { return a.dtype() == Dtype::float16 ? a : astype(a, Dtype::float16); }

Array row_op(RowOp op, const Array& a, int dim) {
  const char* name = op == RowOp::softmax ? "softmax" : "log_softmax";
  Backend& backend = backend_of(name, {&a});
  const int axis = normalize_axis(dim, a.ndim(), name);
  const Array x = contiguous(as_float(a));
  Array out = Array::empty(x.shape(), Dtype::float16, x.device());
  if (out.numel() == 0) return out;
  int64_t outer = 1, n = 1, inner = 1;
  for (int d = 0; d < a.ndim(); ++d) {
    if (d < axis) outer *= a.shape()[d];
    else if (d == axis) n = a.shape()[d];
    else inner *= a.shape()[d];
  }
  backend.rows(op, x, outer, n, inner, out);
  return out;
}

// Checks normalized_shape against the input's trailing dims and the affine parameters' shapes.
int64_t check_normalized(const char* name, const Array& a, const Shape& normalized_shape,
                         std::initializer_list<const std::optional<Array>*> params) {
  const size_t k = normalized_shape.size();
  bool ok = k <= static_cast<size_t>(a.ndim());
  for (size_t i = 0; ok && i < k; ++i) ok = a.shape()[a.ndim() - k + i] == normalized_shape[i];
  if (!ok || k == 0) {
    throw ShapeMismatchError(std::string(name) + ": normalized_shape " + shape_str(normalized_shape) +
                             " must be the non-empty trailing dimensions of the input shape " + shape_str(a.shape()));
  }
  for (const std::optional<Array>* p : params) {
    if (*p && (*p)->shape() != normalized_shape) {
      throw ShapeMismatchError(std::string(name) + ": weight/bias of shape " + shape_str((*p)->shape()) +
                               " must have the normalized_shape " + shape_str(normalized_shape));
    }
  }
  return numel_of(normalized_shape);
}

Array norm_op(bool rms, const Array& a, const Shape& normalized_shape, const std::optional<Array>& weight,
              const std::optional<Array>& bias, double eps) {
  const char* name = rms ? "rms_norm" : "layer_norm";
  Backend& backend = backend_of(name, {&a, weight ? &*weight : nullptr, bias ? &*bias : nullptr});
  const int64_t n = check_normalized(name, a, normalized_shape, {&weight, &bias});
  if (!(eps >= 0)) throw ArgumentError(std::string(name) + ": eps must be non-negative, got " + std::to_string(eps));
  const Array x = contiguous(as_float(a));
  Array out = Array::empty(x.shape(), Dtype::float16, x.device());
  if (out.numel() == 0) return out;
  std::optional<Array> w, b;
  if (weight) w = contiguous(as_float(*weight));
  if (bias) b = contiguous(as_float(*bias));
  backend.norm(rms, x, x.numel() / n, n, w ? &*w : nullptr, b ? &*b : nullptr, eps, out);
  return out;
}

}  // namespace

Array softmax(const Array& a, int dim) { return row_op(RowOp::softmax, a, dim); }

Array log_softmax(const Array& a, int dim) { return row_op(RowOp::log_softmax, a, dim); }

Array layer_norm(const Array& a, const Shape& normalized_shape, const std::optional<Array>& weight,
                 const std::optional<Array>& bias, double eps) {
  return norm_op(false, a, normalized_shape, weight, bias, eps);
}

// eps defaults to the machine epsilon of float16 (2^-10), as torch.finfo(input.dtype).eps in PyTorch.
Array rms_norm(const Array& a, const Shape& normalized_shape, const std::optional<Array>& weight,
               std::optional<double> eps) {
  return norm_op(true, a, normalized_shape, weight, std::nullopt, eps ? *eps : 0.0009765625);
}

bool Backend::cross_entropy(const Array& logits, const Array&, int64_t, int64_t, int64_t, float, const Array&,
                            const Array*) {
  throw DeviceError("softmax_cross_entropy: the fused cross-entropy kernel is not implemented on " +
                    logits.device().str());
}

std::string target_out_of_range(const char* op, int64_t value, int64_t classes, int64_t ignore_index) {
  if (ignore_index == kNoIgnoredIndex) return index_out_of_range(op, value, 0, classes);
  return std::string(op) + ": target " + std::to_string(value) + " is out of bounds for " + std::to_string(classes) +
         " classes (ignore_index " + std::to_string(ignore_index) + ")";
}

void Backend::check_class_targets(const Array& target, int64_t classes, int64_t ignore_index, const char* op) {
  std::vector<int64_t> host(static_cast<size_t>(target.numel()));
  to_host(contiguous(astype(target, Dtype::int64)), host.data());
  for (const int64_t v : host) {
    if (v != ignore_index && (v < 0 || v >= classes)) {
      throw IndexOutOfRange(target_out_of_range(op, v, classes, ignore_index));
    }
  }
}

namespace {

// The loss per row and, when `keep_stats`, each row's log-sum-exp where the backend keeps it (for the backward).
std::pair<Array, std::optional<Array>> cross_entropy_rows(const Array& logits, const Array& target,
                                                          int64_t ignore_index, double label_smoothing,
                                                          bool keep_stats) {
  const char* name = "softmax_cross_entropy";
  Backend& backend = backend_of(name, {&logits, &target});
  if (!is_integer(target.dtype())) {
    throw DtypeError(std::string(name) + ": target must hold int64 or int32 class indices, got a " +
                     dtype_name(target.dtype()) + " tensor");
  }
  if (logits.dtype() != Dtype::float16) {
    throw DtypeError(std::string(name) + ": logits must be float16, got a " + dtype_name(logits.dtype()) + " tensor");
  }
  const Shape& ls = logits.shape();
  if (ls.empty() || target.shape() != Shape(ls.begin(), ls.end() - 1)) {
    throw ShapeMismatchError(std::string(name) + ": logits of shape " + shape_str(ls) +
                             " (classes last) need a target of their leading shape, got " + shape_str(target.shape()));
  }
  if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0)) {
    throw ArgumentError(std::string(name) + ": label_smoothing must be in [0, 1], got " +
                        std::to_string(label_smoothing));
  }
  const int64_t classes = ls.back(), rows = target.numel();
  Array out = Array::empty(target.shape(), Dtype::float16, logits.device());
  if (rows == 0) return {out, std::nullopt};
  // On the targets as given (before the kernels' int32), so that no value wraps into range. Immediate on
  // the CPU; CUDA reports at the next synchronising point instead of waiting for the device here.
  backend.check_class_targets(contiguous(target), classes, ignore_index, name);
  // The kernels read int32 targets: every valid value fits. (An invalid one that CUDA reports later may
  // wrap; its kernel never reads outside a row.)
  std::optional<Array> stats;
  if (keep_stats) stats = Array::empty({rows}, Dtype::int32, logits.device());
  const bool kept = backend.cross_entropy(contiguous(logits), contiguous(astype(target, Dtype::int32)), rows, classes,
                                          ignore_index, static_cast<float>(label_smoothing), out,
                                          stats ? &*stats : nullptr);
  return {out, kept ? stats : std::nullopt};
}

}  // namespace

Array softmax_cross_entropy(const Array& logits, const Array& target, int64_t ignore_index, double label_smoothing) {
  return cross_entropy_rows(logits, target, ignore_index, label_smoothing, false).first;
}

std::pair<Array, std::optional<Array>> softmax_cross_entropy_keeping_stats(const Array& logits, const Array& target,
                                                                           int64_t ignore_index,
                                                                           double label_smoothing) {
  return cross_entropy_rows(logits, target, ignore_index, label_smoothing, true);
}

std::optional<Array> softmax_cross_entropy_backward(const Array& logits, const Array& target, const Array& grad,
                                                    int64_t ignore_index, double label_smoothing,
                                                    const std::optional<Array>& saved_stats) {
  const char* name = "softmax_cross_entropy_backward";
  Backend& backend = backend_of(name, {&logits, &target, &grad, saved_stats ? &*saved_stats : nullptr});
  const Shape& ls = logits.shape();
  if (ls.empty() || target.shape() != Shape(ls.begin(), ls.end() - 1) || grad.shape() != target.shape()) {
    throw ShapeMismatchError(std::string(name) + ": logits " + shape_str(ls) + " (classes last) need a target and a " +
                             "gradient of their leading shape, got " + shape_str(target.shape()) + " and " +
                             shape_str(grad.shape()));
  }
  if (saved_stats && (saved_stats->dtype() != Dtype::int32 || saved_stats->shape() != Shape{target.numel()})) {
    throw ShapeMismatchError(std::string(name) + ": the saved statistics must be softmax_cross_entropy_keeping_stats'"
                             " (int32 [" + std::to_string(target.numel()) + "]), got " +
                             dtype_name(saved_stats->dtype()) + " " + shape_str(saved_stats->shape()));
  }
  if (logits.dtype() != Dtype::float16 || !is_integer(target.dtype())) {
    throw DtypeError(std::string(name) + ": needs float16 logits and integer targets, got " +
                     dtype_name(logits.dtype()) + " and " + dtype_name(target.dtype()));
  }
  Array out = Array::empty(ls, Dtype::float16, logits.device());
  const int64_t rows = target.numel(), classes = ls.back();
  if (out.numel() == 0) return out;
  // A target outside [0, classes) only ever fails to match a class: the kernels never index with it.
  const std::optional<Array> stats = saved_stats ? std::optional<Array>(contiguous(*saved_stats)) : std::nullopt;
  const bool taken = backend.cross_entropy_backward(contiguous(logits), contiguous(astype(target, Dtype::int32)),
                                                    contiguous(as_float(grad)), stats ? &*stats : nullptr, rows,
                                                    classes, ignore_index, static_cast<float>(label_smoothing), out);
  if (!taken) return std::nullopt;
  return out;
}

std::optional<std::vector<Array>> norm_backward(bool rms, const Array& x_in, const Array& grad_in,
                                                const Shape& normalized_shape, const std::optional<Array>& weight,
                                                double eps, bool weight_grad, bool bias_grad,
                                                const std::optional<Array>& accumulate_into) {
  const char* name = rms ? "rms_norm_backward" : "layer_norm_backward";
  Backend& backend = backend_of(name, {&x_in, &grad_in, weight ? &*weight : nullptr,
                                       accumulate_into ? &*accumulate_into : nullptr});
  const int64_t n = check_normalized(name, x_in, normalized_shape, {&weight});
  if (grad_in.shape() != x_in.shape()) {
    throw ShapeMismatchError(std::string(name) + ": the gradient " + shape_str(grad_in.shape()) +
                             " does not have the input's shape " + shape_str(x_in.shape()));
  }
  if (!(eps >= 0)) throw ArgumentError(std::string(name) + ": eps must be non-negative, got " + std::to_string(eps));
  const Array x = contiguous(as_float(x_in)), grad = contiguous(as_float(grad_in));
  std::optional<Array> w;
  if (weight) w = contiguous(as_float(*weight));
  if (accumulate_into && (accumulate_into->shape() != x_in.shape() || accumulate_into->dtype() != Dtype::float16 ||
                          !accumulate_into->is_contiguous())) {
    throw ArgumentError(std::string(name) + ": the array to accumulate into must be a contiguous float16 array of the "
                        "input's shape " + shape_str(x_in.shape()) + ", got " + shape_str(accumulate_into->shape()) +
                        " " + dtype_name(accumulate_into->dtype()));
  }
  std::vector<Array> grads{accumulate_into ? *accumulate_into : Array::empty(x.shape(), Dtype::float16, x.device()),
                           Array(), Array()};
  if (weight_grad) grads[1] = Array::empty(normalized_shape, Dtype::float16, x.device());
  if (bias_grad) grads[2] = Array::empty(normalized_shape, Dtype::float16, x.device());
  if (x.numel() == 0) return std::nullopt;  // the composed form gives the zero column sums
  const bool taken = backend.norm_backward(rms, x, grad, w ? &*w : nullptr, x.numel() / n, n, eps, grads[0],
                                           accumulate_into.has_value(), weight_grad ? &grads[1] : nullptr, bias_grad ? &grads[2] : nullptr);
  if (!taken) return std::nullopt;
  return grads;
}

}  // namespace tensorlogic
