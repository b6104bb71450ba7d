// View ops: new shape/strides/offset over the same storage, never a copy (reshape copies only when
// no view can express the result, like PyTorch).
#include <algorithm>
#include <numeric>

#include "backend.h"
#include "shape_util.h"
#include "tensorlogic/errors.h"
#include "tensorlogic/ops.h"

namespace tensorlogic {

std::vector<int> normalize_axes(const std::vector<int>& axes, int ndim, const char* op) {
  std::vector<int> out;
  if (axes.empty()) {
    out.resize(ndim);
    std::iota(out.begin(), out.end(), 0);
    return out;
  }
  for (int axis : axes) out.push_back(normalize_axis(axis, ndim, op));
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end()) {
    throw ArgumentError(std::string(op) + ": a dimension appears more than once");
  }
  return out;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) {
      throw ShapeMismatchError(std::string(op) + ": shapes " + shape_str(a) + " and " + shape_str(b) +
                               " cannot be broadcast together");
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

static Shape infer_shape(const Shape& requested, int64_t numel, const Shape& from, const char* op) {
  Shape shape = requested;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) throw ArgumentError(std::string(op) + ": only one dimension can be -1");
      infer = static_cast<int>(i);
    } else if (shape[i] < 0) {
      throw ArgumentError(std::string(op) + ": invalid size " + std::to_string(shape[i]) + " in " + shape_str(shape));
    } else if (!checked_mul(known, std::max<int64_t>(shape[i], 1), &known)) {
      throw ShapeMismatchError(std::string(op) + ": shape " + shape_str(requested) + " is invalid for input of shape " +
                               shape_str(from) + " (" + std::to_string(numel) + " elements)");
    }
  }
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) known = 0;
  if (infer >= 0) {
    if (known == 0 || numel % known != 0) {
      throw ShapeMismatchError(std::string(op) + ": shape " + shape_str(requested) + " is invalid for input of shape " +
                               shape_str(from));
    }
    shape[infer] = numel / known;
  } else if (known != numel) {
    throw ShapeMismatchError(std::string(op) + ": shape " + shape_str(requested) + " is invalid for input of shape " +
                             shape_str(from) + " (" + std::to_string(numel) + " elements)");
  }
  return shape;
}

// Strides for viewing `a` as `shape` without copying, or false when the memory layout does not allow
// it (the algorithm splits and merges runs of dimensions that are contiguous with each other).
static bool view_strides(const Array& a, const Shape& shape, Strides* out) {
  const int64_t numel = a.numel();
  out->assign(shape.size(), 0);
  if (numel == 0 || a.ndim() == 0) {
    *out = contiguous_strides(shape);
    return true;
  }
  const Shape& old_shape = a.shape();
  const Strides& old_strides = a.strides();
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base_stride = old_strides.back();
  int64_t tensor_numel = 1;
  int64_t view_numel = 1;
  for (int64_t tensor_d = a.ndim() - 1; tensor_d >= 0; --tensor_d) {
    tensor_numel *= old_shape[tensor_d];
    if (tensor_d == 0 ||
        (old_shape[tensor_d - 1] != 1 && old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        (*out)[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (tensor_d > 0) {
        chunk_base_stride = old_strides[tensor_d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

Array view(const Array& a, const Shape& requested) {
  const Shape shape = infer_shape(requested, a.numel(), a.shape(), "view");
  Strides strides;
  if (!view_strides(a, shape, &strides)) {
    throw ArgumentError("view: shape " + shape_str(shape) + " is incompatible with the strides of the input " +
                        shape_str(a.shape()) + "; use reshape (which copies) or contiguous() first");
  }
  return a.view_as(shape, strides, a.offset());
}

Array reshape(const Array& a, const Shape& requested) {
  const Shape shape = infer_shape(requested, a.numel(), a.shape(), "reshape");
  Strides strides;
  if (view_strides(a, shape, &strides)) return a.view_as(shape, strides, a.offset());
  const Array c = contiguous(a);
  return c.view_as(shape, contiguous_strides(shape), c.offset());
}

Array permute(const Array& a, const std::vector<int>& dims) {
  const int n = a.ndim();
  if (static_cast<int>(dims.size()) != n) {
    throw ArgumentError("permute: expected " + std::to_string(n) + " dimensions, got " + std::to_string(dims.size()));
  }
  Shape shape(n);
  Strides strides(n);
  std::vector<bool> seen(n, false);
  for (int i = 0; i < n; ++i) {
    const int d = normalize_axis(dims[i], n, "permute");
    if (seen[d]) throw ArgumentError("permute: dimension " + std::to_string(d) + " repeats");
    seen[d] = true;
    shape[i] = a.shape()[d];
    strides[i] = a.strides()[d];
  }
  return a.view_as(shape, strides, a.offset());
}

Array transpose(const Array& a, int dim0, int dim1) {
  const int n = a.ndim();
  if (n == 0) {
    normalize_axis(dim0, 0, "transpose");
    normalize_axis(dim1, 0, "transpose");
    return a;
  }
  std::vector<int> dims(n);
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[normalize_axis(dim0, n, "transpose")], dims[normalize_axis(dim1, n, "transpose")]);
  return permute(a, dims);
}

Array squeeze(const Array& a, std::optional<std::vector<int>> dims) {
  std::vector<bool> drop(a.ndim(), false);
  if (dims) {
    for (int d : *dims) {
      const int axis = normalize_axis(d, a.ndim(), "squeeze");
      if (a.ndim() > 0 && a.shape()[axis] == 1) drop[axis] = true;
    }
  } else {
    for (int i = 0; i < a.ndim(); ++i) drop[i] = a.shape()[i] == 1;
  }
  Shape shape;
  Strides strides;
  for (int i = 0; i < a.ndim(); ++i) {
    if (drop[i]) continue;
    shape.push_back(a.shape()[i]);
    strides.push_back(a.strides()[i]);
  }
  return a.view_as(shape, strides, a.offset());
}

Array unsqueeze(const Array& a, int dim) {
  const int axis = normalize_axis(dim, a.ndim() + 1, "unsqueeze");
  Shape shape = a.shape();
  Strides strides = a.strides();
  const int64_t stride = axis < a.ndim() ? strides[axis] * shape[axis] : 1;
  shape.insert(shape.begin() + axis, 1);
  strides.insert(strides.begin() + axis, stride);
  return a.view_as(shape, strides, a.offset());
}

Array expand(const Array& a, const Shape& requested) {
  const int n = static_cast<int>(requested.size());
  if (n < a.ndim()) {
    throw ShapeMismatchError("expand: cannot expand shape " + shape_str(a.shape()) + " to " + shape_str(requested));
  }
  Shape shape(n);
  Strides strides(n, 0);
  const int lead = n - a.ndim();
  for (int i = 0; i < n; ++i) {
    const int64_t want = requested[i];
    if (i < lead) {
      if (want < 0) throw ShapeMismatchError("expand: -1 is not allowed for a new leading dimension");
      shape[i] = want;
      continue;
    }
    const int64_t have = a.shape()[i - lead];
    if (want == -1 || want == have) {
      shape[i] = have;
      strides[i] = a.strides()[i - lead];
    } else if (have == 1 && want >= 0) {
      shape[i] = want;
    } else {
      throw ShapeMismatchError("expand: cannot expand shape " + shape_str(a.shape()) + " to " + shape_str(requested));
    }
  }
  return a.view_as(shape, strides, a.offset());
}

Array broadcast_to(const Array& a, const Shape& shape) {
  for (int64_t s : shape) {
    if (s < 0) throw ShapeMismatchError("broadcast_to: negative size in " + shape_str(shape));
  }
  broadcast_shapes(a.shape(), shape, "broadcast_to");
  return expand(a, shape);
}

Array flatten(const Array& a, int start_dim, int end_dim) {
  if (a.ndim() == 0) {
    normalize_axis(start_dim, 0, "flatten");
    normalize_axis(end_dim, 0, "flatten");
    return reshape(a, {1});
  }
  const int start = normalize_axis(start_dim, a.ndim(), "flatten");
  const int end = normalize_axis(end_dim, a.ndim(), "flatten");
  if (start > end) throw ArgumentError("flatten: start_dim must not come after end_dim");
  Shape shape(a.shape().begin(), a.shape().begin() + start);
  int64_t merged = 1;
  for (int i = start; i <= end; ++i) merged *= a.shape()[i];
  shape.push_back(merged);
  shape.insert(shape.end(), a.shape().begin() + end + 1, a.shape().end());
  return reshape(a, shape);
}

Array slice(const Array& a, int dim, int64_t start, int64_t stop, int64_t step) {
  const int axis = normalize_axis(dim, a.ndim(), "slice");
  if (a.ndim() == 0) throw IndexOutOfRange("slice: cannot slice a 0-d tensor");
  if (step <= 0) throw ArgumentError("slice: step must be positive, got " + std::to_string(step));
  const int64_t size = a.shape()[axis];
  auto clip = [size](int64_t i) {
    if (i < 0) i += size;
    return std::min(std::max<int64_t>(i, 0), size);
  };
  const int64_t lo = clip(start);
  const int64_t hi = std::max(clip(stop), lo);
  Shape shape = a.shape();
  Strides strides = a.strides();
  shape[axis] = (hi - lo) / step + ((hi - lo) % step != 0);  // ceil without overflow for any step
  const int64_t offset = a.offset() + (shape[axis] > 0 ? lo * strides[axis] : 0);
  if (shape[axis] > 1) strides[axis] *= step;  // then step < size: the product stays inside the storage
  return a.view_as(shape, strides, offset);
}

Array select(const Array& a, int dim, int64_t index) {
  const int axis = normalize_axis(dim, a.ndim(), "select");
  if (a.ndim() == 0) throw IndexOutOfRange("select: cannot index a 0-d tensor");
  const int64_t size = a.shape()[axis];
  if (index < -size || index >= size) {
    throw IndexOutOfRange("index " + std::to_string(index) + " is out of bounds for dimension " + std::to_string(axis) +
                          " with size " + std::to_string(size));
  }
  if (index < 0) index += size;
  Shape shape = a.shape();
  Strides strides = a.strides();
  const int64_t offset = a.offset() + index * strides[axis];
  shape.erase(shape.begin() + axis);
  strides.erase(strides.begin() + axis);
  return a.view_as(shape, strides, offset);
}

Array diagonal(const Array& a, int64_t offset, int dim1, int dim2) {
  const int d1 = normalize_axis(dim1, a.ndim(), "diagonal");
  const int d2 = normalize_axis(dim2, a.ndim(), "diagonal");
  if (d1 == d2) throw ArgumentError("diagonal: dim1 and dim2 must differ");
  const int64_t n1 = a.shape()[d1], n2 = a.shape()[d2];
  // Offsets beyond either size give an empty diagonal; clamping first keeps n2 - offset from overflowing.
  offset = std::max(std::min(offset, n2), -n1);
  const int64_t len = offset >= 0 ? std::max<int64_t>(0, std::min(n1, n2 - offset))
                                  : std::max<int64_t>(0, std::min(n1 + offset, n2));
  int64_t start = a.offset();
  if (len > 0) start += offset >= 0 ? offset * a.strides()[d2] : -offset * a.strides()[d1];
  Shape shape;
  Strides strides;
  for (int i = 0; i < a.ndim(); ++i) {
    if (i == d1 || i == d2) continue;
    shape.push_back(a.shape()[i]);
    strides.push_back(a.strides()[i]);
  }
  shape.push_back(len);
  strides.push_back(a.strides()[d1] + a.strides()[d2]);
  return a.view_as(shape, strides, start);
}

Array unfold(const Array& a, int dim, int64_t size, int64_t step) {
  const int axis = normalize_axis(dim, a.ndim(), "unfold");
  if (step <= 0) throw ArgumentError("unfold: step is " + std::to_string(step) + " but must be > 0");
  if (size < 0) throw ArgumentError("unfold: size is " + std::to_string(size) + " but must be >= 0");
  const int64_t length = a.ndim() == 0 ? 1 : a.shape()[axis];
  if (size > length) {
    throw ArgumentError("unfold: maximum size for tensor at dimension " + std::to_string(axis) + " is " +
                        std::to_string(length) + " but size is " + std::to_string(size));
  }
  if (a.ndim() == 0) return a.view_as(Shape{size}, Strides{1}, a.offset());  // its one window (PyTorch's shape)
  Shape shape = a.shape();
  Strides strides = a.strides();
  const int64_t stride = strides[axis];
  shape[axis] = (length - size) / step + 1;  // the windows' starts 0, step, ... with the window inside
  // PyTorch's stride * step. It overflows only for a single window (else step < length), which never steps.
  int64_t stepped;
  if (__builtin_mul_overflow(stride, step, &stepped)) stepped = stride;
  strides[axis] = stepped;
  shape.push_back(size);
  strides.push_back(stride);
  return a.view_as(shape, strides, a.offset());
}

std::vector<Array> split(const Array& a, const std::vector<int64_t>& sizes, int dim) {
  if (a.ndim() == 0) throw ArgumentError("split expects at least a 1-dimensional tensor");
  const int axis = normalize_axis(dim, a.ndim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) throw ArgumentError("split: negative section size");
    if (!checked_add(total, s, &total)) total = INT64_MAX;  // cannot match any size below
  }
  if (total != a.shape()[axis]) {
    throw ShapeMismatchError("split: sizes add up to " + std::to_string(total) + " but dimension " +
                             std::to_string(axis) + " of " + shape_str(a.shape()) + " has " +
                             std::to_string(a.shape()[axis]));
  }
  std::vector<Array> parts;
  int64_t start = 0;
  for (int64_t s : sizes) {
    parts.push_back(slice(a, axis, start, start + s, 1));
    start += s;
  }
  return parts;
}

std::optional<Array> join_adjacent(const std::vector<Array>& parts, int dim) {
  if (parts.empty() || parts[0].ndim() == 0) return std::nullopt;
  const Array& first = parts[0];
  const int axis = normalize_axis(dim, first.ndim(), "join_adjacent");
  const int64_t step = first.strides()[axis];
  if (step == 0) return std::nullopt;
  Shape shape = first.shape();
  int64_t end = first.offset() + first.shape()[axis] * step;
  for (size_t i = 1; i < parts.size(); ++i) {
    const Array& p = parts[i];
    if (p.storage() != first.storage() || p.dtype() != first.dtype() || p.ndim() != first.ndim() ||
        p.strides() != first.strides() || p.offset() != end) {
      return std::nullopt;
    }
    for (int d = 0; d < p.ndim(); ++d) {
      if (d != axis && p.shape()[d] != first.shape()[d]) return std::nullopt;
    }
    shape[axis] += p.shape()[axis];
    end += p.shape()[axis] * step;
  }
  return first.view_as(shape, first.strides(), first.offset());
}

std::vector<Array> chunk(const Array& a, int64_t chunks, int dim) {
  if (a.ndim() == 0) throw ArgumentError("chunk expects at least a 1-dimensional tensor");
  if (chunks <= 0) throw ArgumentError("chunk: chunks must be positive");
  const int axis = normalize_axis(dim, a.ndim(), "chunk");
  const int64_t size = a.shape()[axis];
  const int64_t each = std::max<int64_t>(1, size / chunks + (size % chunks != 0));
  std::vector<int64_t> sizes;
  for (int64_t start = 0; start < size; start += each) sizes.push_back(std::min(each, size - start));
  if (sizes.empty()) sizes.push_back(0);
  return split(a, sizes, axis);
}

}  // namespace tensorlogic
