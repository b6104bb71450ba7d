// Reductions: axis checks, the PyTorch rules for empty extents, and the [outer, n, inner] layout the
// reduction kernel family reads (direct when the reduced axes are one block, else permute + copy).
#include <cmath>
#include <limits>
#include <string>

#include "backend.h"
#include "shape_util.h"
#include "tensorlogic/errors.h"
#include "tensorlogic/ops.h"

namespace tensorlogic {

const char* reduce_name(ReduceOp op) {
  static const char* const names[] = {
#define TL_REDUCE(op) #op,
#include "tensorlogic/op_table.def"
  };
  return checked_name(names, static_cast<unsigned>(op), "reduction");
}

namespace {

bool is_arg(ReduceOp op) { return op == ReduceOp::argmax || op == ReduceOp::argmin; }

// The value of a reduction over zero elements, where PyTorch defines one.
double empty_value(ReduceOp op, const ReduceParams& params) {
  switch (op) {
    case ReduceOp::sum: return 0.0;
    case ReduceOp::prod: return 1.0;
    case ReduceOp::logsumexp: return -INFINITY;
    case ReduceOp::norm: return params.p < 0 ? INFINITY : 0.0;
    default: return NAN;  // mean, var
  }
}

struct Plan {
  Array in;  // contiguous, read as [outer, n, inner]
  int64_t outer = 1, n = 1, inner = 1;
};

// Size-1 axes may count as reduced or kept, so they never break a block of reduced axes.
Plan plan_layout(const Array& a, const std::vector<int>& axes) {
  const int ndim = a.ndim();
  std::vector<bool> reduced(ndim, false);
  for (int axis : axes) reduced[axis] = true;
  int first = -1, last = -1;
  bool block = true;
  for (int d = 0; d < ndim; ++d) {
    if (a.shape()[d] == 1 || !reduced[d]) continue;
    if (first < 0) first = d;
    else if (last != d - 1) {
      for (int k = last + 1; k < d && block; ++k) block = a.shape()[k] == 1;
    }
    last = d;
  }
  Plan plan;
  if (first < 0) {  // only size-1 axes reduced: every output is one element
    plan.in = contiguous(a);
    plan.outer = a.numel();
    return plan;
  }
  if (block) {
    plan.in = contiguous(a);
    for (int d = 0; d < first; ++d) plan.outer *= a.shape()[d];
    for (int d = first; d <= last; ++d) plan.n *= a.shape()[d];
    for (int d = last + 1; d < ndim; ++d) plan.inner *= a.shape()[d];
    return plan;
  }
  std::vector<int> order;
  for (int d = 0; d < ndim; ++d) {
    if (!reduced[d]) order.push_back(d);
  }
  for (int d = 0; d < ndim; ++d) {
    if (reduced[d]) {
      order.push_back(d);
      plan.n *= a.shape()[d];
    }
  }
  plan.in = contiguous(permute(a, order));
  plan.outer = a.numel() / plan.n;
  return plan;
}

}  // namespace

Array reduce(ReduceOp op, const Array& a, const std::vector<int>& dims, bool keepdim, ReduceParams params) {
  const char* name = reduce_name(op);
  Backend& backend = backend_of(name, {&a});
  std::vector<int> axes = normalize_axes(dims, a.ndim(), name);
  if (a.ndim() == 0) axes.clear();  // a scalar reduces over nothing (dims 0 and -1 are accepted)
  const bool all = dims.empty() || static_cast<int>(axes.size()) == a.ndim();
  if (is_arg(op) && axes.size() > 1 && !all) {
    throw ArgumentError(std::string(name) + ": expects one dimension or none (all), got " +
                        std::to_string(axes.size()));
  }
  if (op == ReduceOp::var && !(params.correction >= 0)) {
    throw ArgumentError("var: correction must be non-negative, got " + std::to_string(params.correction));
  }

  Shape out_shape;
  int64_t n = 1;
  {
    size_t k = 0;
    for (int d = 0; d < a.ndim(); ++d) {
      if (k < axes.size() && axes[k] == d) {
        n *= a.shape()[d];
        ++k;
        if (keepdim) out_shape.push_back(1);
      } else {
        out_shape.push_back(a.shape()[d]);
      }
    }
  }
  // A norm of negative order over nothing is (sum of no |x|^p)^(1/p) = 0^(1/p): no identity, as PyTorch says.
  if (n == 0 && (op == ReduceOp::max || op == ReduceOp::min || is_arg(op) ||
                 (op == ReduceOp::norm && (std::isinf(params.p) || params.p < 0)))) {
    throw IndexOutOfRange(std::string(name) + ": cannot reduce over a dimension of size 0 (input shape " +
                          shape_str(a.shape()) + "); the operation has no identity");
  }

  // Integer and bool data reduce exactly: sum and prod to int64 (PyTorch's rule), max and min keep the
  // input's dtype, arg ops give int64 indices. Float-valued reductions (mean, var, ...) convert to f16.
  const bool exact = a.dtype() != Dtype::float16 && (op == ReduceOp::sum || op == ReduceOp::prod ||
                                                     op == ReduceOp::max || op == ReduceOp::min || is_arg(op));
  if (exact) {
    Array out = Array::empty(out_shape, Dtype::int64, a.device());
    if (out.numel() == 0 || n == 0) {
      if (out.numel() > 0) backend.fill(out, empty_value(op, params));
      return out;
    }
    const Plan plan = plan_layout(a, axes);
    backend.reduce_int(op, plan.in, plan.outer, plan.n, plan.inner, out);
    return (op == ReduceOp::max || op == ReduceOp::min) ? astype(out, a.dtype()) : out;
  }
  const Array x = astype(a, Dtype::float16);
  // The float kernels write arg indices as int32 (the one index width of every backend's kernel); they
  // are widened to PyTorch's int64 after.
  Array out = Array::empty(out_shape, is_arg(op) ? Dtype::int32 : Dtype::float16, a.device());
  if (out.numel() == 0) return is_arg(op) ? astype(out, Dtype::int64) : out;
  if (n == 0) {
    backend.fill(out, empty_value(op, params));
    return out;
  }
  const Plan plan = plan_layout(x, axes);
  backend.reduce(op, plan.in, plan.outer, plan.n, plan.inner, out, params);
  return is_arg(op) ? astype(out, Dtype::int64) : out;
}

void Backend::reduce_int(ReduceOp op, const Array& in, int64_t, int64_t, int64_t, const Array&) {
  throw DeviceError(std::string(reduce_name(op)) + " of " + dtype_name(in.dtype()) + " data has no kernel on " +
                    in.device().str() + " (move the tensor to the cpu, or convert it with .float())");
}

}  // namespace tensorlogic
