// Ordering and scans: argsort (stable, either direction; sort and topk are its values gathered by the
// caller), cumsum and cumprod. The core moves the axis to the innermost place, so each backend sorts or
// scans contiguous lines; a backend without these families (Metal) runs them on the CPU backend (shared
// memory there: no copy on Apple silicon).
#include <string>

#include "backend.h"
#include "shape_util.h"
#include "tensorlogic/errors.h"
#include "tensorlogic/ops.h"

namespace tensorlogic {
namespace {

// a with `axis` moved last, contiguous: [rows, n].
Array lines_last(const Array& a, int axis) {
  std::vector<int> order;
  for (int d = 0; d < a.ndim(); ++d) {
    if (d != axis) order.push_back(d);
  }
  order.push_back(axis);
  return contiguous(permute(a, order));
}

// The inverse of lines_last for an array of a's shape with the axis last.
Array axis_back(const Array& lines, int axis, int ndim) {
  std::vector<int> order(ndim);
  for (int d = 0, k = 0; d < ndim; ++d) order[d] = d == axis ? ndim - 1 : k++;
  return permute(lines, order);
}

Array on_cpu_if_missing(Backend& backend, const Array& a) {
  return backend.has_ordering() ? a : to_device(a, Device{DeviceType::cpu, 0});
}

}  // namespace

void Backend::argsort(const Array&, int64_t, int64_t, bool, const Array&) {
  throw DeviceError("argsort: no kernel on this backend");  // never reached: the core checks has_ordering
}

void Backend::scan(ScanOp, const Array&, int64_t, int64_t, const Array&) {
  throw DeviceError("cumsum: no kernel on this backend");  // never reached: the core checks has_ordering
}

Array argsort(const Array& a, int dim, bool descending) {
  Backend& backend = backend_of("argsort", {&a});
  const int axis = a.ndim() == 0 ? 0 : normalize_axis(dim, a.ndim(), "argsort");
  if (a.ndim() == 0) return zeros({}, Dtype::int64, a.device());
  // bool sorts as its 0/1 value; the kernels hold f16, int32 and int64 keys.
  const Array keys = on_cpu_if_missing(backend, lines_last(a.dtype() == Dtype::bool_ ? astype(a, Dtype::int32) : a, axis));
  const int64_t n = a.shape()[axis], rows = n == 0 ? 0 : a.numel() / n;
  Array out = Array::empty(keys.shape(), Dtype::int64, keys.device());
  if (out.numel() > 0) backend_for(keys.device()).argsort(keys, rows, n, descending, out);
  return to_device(contiguous(axis_back(out, axis, a.ndim())), a.device());
}

Array scan(ScanOp op, const Array& a, int dim) {
  const char* name = op == ScanOp::cumsum ? "cumsum" : "cumprod";
  Backend& backend = backend_of(name, {&a});
  const Array x = a.ndim() == 0 ? reshape(a, {1}) : a;
  const int axis = normalize_axis(dim, x.ndim(), name);
  // PyTorch's rule: integer and bool scans accumulate in int64; floats in f32, each output rounded once.
  const Array lines = on_cpu_if_missing(backend, lines_last(x.dtype() == Dtype::float16 ? x : astype(x, Dtype::int64), axis));
  const int64_t n = x.shape()[axis], rows = n == 0 ? 0 : x.numel() / n;
  Array out = Array::empty(lines.shape(), lines.dtype(), lines.device());
  if (out.numel() > 0) backend_for(lines.device()).scan(op, lines, rows, n, out);
  const Array back = to_device(contiguous(axis_back(out, axis, x.ndim())), a.device());
  return a.ndim() == 0 ? reshape(back, {}) : back;
}

}  // namespace tensorlogic
