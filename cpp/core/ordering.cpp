// Ordering and scans: argsort (stable, either direction; sort and topk are its values gathered by the
// caller), cumsum and cumprod, and the sorted-array kernels of the language's tuple engine. The core moves
// the axis to the innermost place, so each backend sorts or scans contiguous lines.
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

}  // namespace

Array argsort(const Array& a, int dim, bool descending) {
  Backend& backend = backend_of("argsort", {&a});
  const int axis = a.ndim() == 0 ? 0 : normalize_axis(dim, a.ndim(), "argsort");
  if (a.ndim() == 0) return zeros({}, Dtype::int64, a.device());
  // bool sorts as its 0/1 value; the kernels hold f16, int32 and int64 keys.
  const Array keys = lines_last(a.dtype() == Dtype::bool_ ? astype(a, Dtype::int32) : a, axis);
  const int64_t n = a.shape()[axis], rows = n == 0 ? 0 : a.numel() / n;
  Array out = Array::empty(keys.shape(), Dtype::int64, keys.device());
  if (out.numel() > 0) backend.argsort(keys, rows, n, descending, out);
  return contiguous(axis_back(out, axis, a.ndim()));
}

Array scan(ScanOp op, const Array& a, int dim) {
  if (op != ScanOp::cumsum && op != ScanOp::cumprod) {
    throw ArgumentError("unknown scan op " + std::to_string(static_cast<unsigned>(op)));
  }
  const char* name = op == ScanOp::cumsum ? "cumsum" : "cumprod";
  Backend& backend = backend_of(name, {&a});
  const Array x = a.ndim() == 0 ? reshape(a, {1}) : a;
  const int axis = normalize_axis(dim, x.ndim(), name);
  // PyTorch's rule: integer and bool scans accumulate in int64; floats in f32, each output rounded once.
  const Array lines = lines_last(x.dtype() == Dtype::float16 ? x : astype(x, Dtype::int64), axis);
  const int64_t n = x.shape()[axis], rows = n == 0 ? 0 : x.numel() / n;
  Array out = Array::empty(lines.shape(), lines.dtype(), lines.device());
  if (out.numel() > 0) backend.scan(op, lines, rows, n, out);
  const Array back = contiguous(axis_back(out, axis, x.ndim()));
  return a.ndim() == 0 ? reshape(back, {}) : back;
}

namespace {

void require(bool ok, const std::string& what) {
  if (!ok) throw DtypeError(what);
}

void same_device(const Array& a, const Array& b, const char* op) {
  if (a.device() != b.device()) throw DeviceError(std::string(op) + ": the two tensors are on different devices");
}

// One int64 reduction of `a` read back to the host (min or max of an index tensor, to check its range).
int64_t host_extreme(ReduceOp op, const Array& a) {
  int64_t v = 0;
  to_host(reduce(op, a, {}, false), &v);
  return v;
}

}  // namespace

Array searchsorted(const Array& sorted, const Array& values, bool right) {
  Backend& backend = backend_of("searchsorted", {&sorted, &values});
  require(sorted.dtype() == Dtype::int64 && values.dtype() == Dtype::int64,
          "searchsorted: the sorted sequence and the values are int64 tensors");
  if (sorted.ndim() != 1) throw ArgumentError("searchsorted: the sorted sequence is 1-d");
  same_device(sorted, values, "searchsorted");
  const Array keys = contiguous(sorted);
  const Array probe = contiguous(values);
  Array out = Array::empty(probe.shape(), Dtype::int64, probe.device());
  if (out.numel() > 0) backend.searchsorted(keys, probe, right, out);
  return out;
}

Array take_rows(const Array& src, const Array& index) {
  Backend& backend = backend_of("take_rows", {&src, &index});
  require(index.dtype() == Dtype::int64, "take_rows: indices must be an int64 tensor");
  if (index.ndim() != 1 || src.ndim() == 0) throw ArgumentError("take_rows: a 1-d index into the rows of a tensor");
  same_device(src, index, "take_rows");
  const int64_t n = src.shape()[0];
  if (index.numel() > 0) {
    const int64_t lo = host_extreme(ReduceOp::min, index), hi = host_extreme(ReduceOp::max, index);
    if (lo < 0 || hi >= n) {
      throw IndexOutOfRange("take_rows: index " + std::to_string(lo < 0 ? lo : hi) +
                            " is out of bounds for dimension 0 with size " + std::to_string(n));
    }
  }
  const Array table = contiguous(src);
  const Array rows = contiguous(index);
  Shape shape = src.shape();
  shape[0] = index.numel();
  Array out = Array::empty(shape, src.dtype(), table.device());
  if (out.numel() > 0) backend.take_rows(table, rows, out);
  return out;
}

Array flatnonzero(const Array& mask) {
  Backend& backend = backend_of("flatnonzero", {&mask});
  require(mask.dtype() == Dtype::bool_, "flatnonzero: the mask is a bool tensor");
  if (mask.ndim() != 1) throw ArgumentError("flatnonzero: the mask is 1-d");
  const Array flags = contiguous(mask);
  Array out = Array::empty(flags.shape(), Dtype::int64, flags.device());
  const int64_t count = out.numel() > 0 ? backend.flatnonzero(flags, out) : 0;
  return slice(out, 0, 0, count, 1);
}

}  // namespace tensorlogic
