// Joining and indexing ops: cat, stack, pad, gather, scatter_add, index_select, embedding and advanced
// indexing. Each reduces to one rule: output element (or block) b comes from element offset offsets[b]
// of the input. The core computes those offsets on the host, after reading and range-checking every
// index (so a bad index raises before anything is written), and the backend moves the data.
#include <string>

#include "backend.h"
#include "shape_util.h"
#include "tensorlogic/errors.h"
#include "tensorlogic/ops.h"

namespace tensorlogic {
namespace {

using Offsets = std::vector<int64_t>;

// Row-major sums over the cartesian product of per-dimension offset tables.
Offsets outer_offsets(const std::vector<Offsets>& tables) {
  size_t total = 1;
  for (const Offsets& table : tables) total *= table.size();
  Offsets out(total);
  if (total == 0) return out;
  out[0] = 0;
  size_t filled = 1;  // out[0, filled) holds the product of the tables seen so far
  for (const Offsets& table : tables) {
    const size_t m = table.size();
    for (size_t k = filled; k-- > 0;) {  // backwards: entry k is read before its block overwrites it
      const int64_t base = out[k];
      int64_t* dst = out.data() + k * m;
      for (size_t j = 0; j < m; ++j) dst[j] = base + table[j];
    }
    filled *= m;
  }
  return out;
}

Offsets stride_table(int64_t size, int64_t stride) {
  Offsets table(size);
  for (int64_t j = 0; j < size; ++j) table[j] = j * stride;
  return table;
}

void check_index_dtype(const Array& index, const char* op) {
  if (!is_integer(index.dtype())) {
    throw DtypeError(std::string(op) + ": indices must be int64 or int32 integers, got a " + dtype_name(index.dtype()) +
                     " tensor");
  }
}

// The values of an int32 or int64 array (any device, any strides) on the host, in row-major order.
std::vector<int64_t> host_values(const Array& index) {
  std::vector<int64_t> out(static_cast<size_t>(index.numel()));
  if (index.dtype() == Dtype::int64) {
    to_host(index, out.data());
    return out;
  }
  std::vector<int32_t> raw(out.size());
  to_host(index, raw.data());
  std::copy(raw.begin(), raw.end(), out.begin());
  return out;
}

// The values of `index` broadcast to `shape`, each checked against `size`. Negative values count from the
// end in advanced indexing (`wrap`) and are out of range elsewhere, as in PyTorch.
Offsets host_indices(const Array& index, const Shape& shape, int64_t size, int dim, const char* op, bool wrap = false) {
  check_index_dtype(index, op);
  Offsets out = host_values(expand(index, shape));
  for (int64_t& v : out) {
    if (v < (wrap ? -size : 0) || v >= size) throw IndexOutOfRange(index_out_of_range(op, v, dim, size));
    if (v < 0) v += size;
  }
  return out;
}

// gather/scatter_add: offsets[e] = sum over d != axis of coord_d(e) * strides[d] + index[e] * strides[axis],
// over the index's elements in row-major order, checking each index against `size`.
Offsets along_axis_offsets(const Array& index, const Strides& strides, int axis, int64_t size, const char* op) {
  check_index_dtype(index, op);
  const int64_t n = index.numel();
  if (n == 0) return Offsets{};
  Offsets out = host_values(index);
  const Shape& shape = index.shape();
  const int ndim = index.ndim();
  const int64_t inner = shape[ndim - 1];
  const int64_t inner_stride = ndim - 1 == axis ? 0 : strides[ndim - 1];
  std::vector<int64_t> coord(ndim, 0);
  for (int64_t row = 0; row < n / inner; ++row) {
    int64_t base = 0;
    for (int d = 0; d < ndim - 1; ++d) base += d == axis ? 0 : coord[d] * strides[d];
    int64_t* o = out.data() + row * inner;
    for (int64_t j = 0; j < inner; ++j) {
      const int64_t v = o[j];
      if (v < 0 || v >= size) throw IndexOutOfRange(index_out_of_range(op, v, axis, size));
      o[j] = base + j * inner_stride + v * strides[axis];
    }
    for (int d = ndim - 2; d >= 0 && ++coord[d] == shape[d]; --d) coord[d] = 0;
  }
  return out;
}

// A view of `a` holding only the dimensions in `dims` (a block moved per offset), at a's own offset. An empty `a`
// has no offsets to move it to, and its storage may hold no element for the block's own: a stand-in of the block's
// shape then (every element one, inside its own storage; no array may reach past its storage).
Array block_view(const Array& a, const std::vector<int>& dims) {
  Shape shape;
  Strides strides;
  for (int d : dims) {
    shape.push_back(a.shape()[d]);
    strides.push_back(a.strides()[d]);
  }
  if (a.numel() == 0) return Array::empty({1}, a.dtype(), a.device()).view_as(shape, Strides(shape.size(), 0), 0);
  return a.view_as(shape, strides, a.offset());
}

Array gather_blocks(const Array& a, const Array& block, const Offsets& offsets, const Shape& out_shape,
                    const char* op) {
  Backend& backend = backend_of(op, {&a});
  Array out = Array::empty(out_shape, a.dtype(), a.device());
  if (out.numel() > 0) backend.index_gather(block, offsets, out);
  return out;
}

// Where advanced indexing reads or writes: per-position offsets, the moved block and the result shape.
struct IndexPlan {
  Offsets offsets;
  Array block;
  Shape shape;
};

IndexPlan plan_index(const Array& a, const std::vector<std::optional<Array>>& indices, const char* op) {
  const int ndim = a.ndim();
  if (static_cast<int>(indices.size()) > ndim) {
    throw IndexOutOfRange(std::string(op) + ": too many indices (" + std::to_string(indices.size()) +
                          ") for a tensor of dimension " + std::to_string(ndim));
  }
  std::vector<int> advanced;
  Shape broadcast;
  for (int d = 0; d < static_cast<int>(indices.size()); ++d) {
    if (!indices[d]) continue;
    check_index_dtype(*indices[d], op);
    backend_of(op, {&a, &*indices[d]});
    broadcast = advanced.empty() ? indices[d]->shape() : broadcast_shapes(broadcast, indices[d]->shape(), op);
    advanced.push_back(d);
  }
  const bool adjacent = !advanced.empty() && advanced.back() - advanced.front() + 1 == static_cast<int>(advanced.size());
  // Adjacent advanced indices keep their place (dims before them are enumerated as leading positions);
  // separated ones move to the front, like numpy and PyTorch.
  const int lead = adjacent ? advanced.front() : 0;
  Offsets combined(static_cast<size_t>(numel_of(broadcast)), 0);
  for (int d : advanced) {
    const Offsets idx = host_indices(*indices[d], broadcast, a.shape()[d], d, op, true);
    for (size_t i = 0; i < idx.size(); ++i) combined[i] += idx[i] * a.strides()[d];
  }
  std::vector<Offsets> tables;
  IndexPlan plan;
  for (int d = 0; d < lead; ++d) {
    tables.push_back(stride_table(a.shape()[d], a.strides()[d]));
    plan.shape.push_back(a.shape()[d]);
  }
  tables.push_back(std::move(combined));
  plan.shape.insert(plan.shape.end(), broadcast.begin(), broadcast.end());
  std::vector<int> rest;
  for (int d = lead; d < ndim; ++d) {
    const bool indexed = d < static_cast<int>(indices.size()) && indices[d];
    if (!indexed) {
      rest.push_back(d);
      plan.shape.push_back(a.shape()[d]);
    }
  }
  plan.offsets = outer_offsets(tables);
  plan.block = block_view(a, rest);
  return plan;
}

bool skipped_in_cat(const Array& a) { return a.ndim() == 1 && a.shape()[0] == 0; }  // PyTorch's legacy rule

// The one integer index array of an advanced index (t[idx], t[:, idx]), which a backend may apply without
// reading it on the host (take_device, put_device); nullopt for anything else (plan_index handles and
// checks every key).
struct OneIndex {
  int dim;
  Array index;  // contiguous
  Shape shape_in(const Array& a) const {  // a.shape[:dim] + index.shape + a.shape[dim + 1:]
    Shape s(a.shape().begin(), a.shape().begin() + dim);
    s.insert(s.end(), index.shape().begin(), index.shape().end());
    s.insert(s.end(), a.shape().begin() + dim + 1, a.shape().end());
    return s;
  }
};

std::optional<OneIndex> one_index(const Array& a, const std::vector<std::optional<Array>>& indices, const char* op) {
  if (static_cast<int>(indices.size()) > a.ndim()) return std::nullopt;
  std::optional<OneIndex> one;
  for (int d = 0; d < static_cast<int>(indices.size()); ++d) {
    if (!indices[d]) continue;
    if (one) return std::nullopt;
    one = OneIndex{d, *indices[d]};
  }
  if (!one || !is_integer(one->index.dtype()) || one->index.numel() == 0) return std::nullopt;
  backend_of(op, {&a, &one->index});
  one->index = contiguous(one->index);
  return one;
}

// index_put_'s values for the indexed shape: converted, broadcast, contiguous and apart from a (so that
// everything is read before anything is written).
Array put_values(const Array& a, const Array& values, const Shape& shape) {
  check_no_internal_overlap(a, "index_put_");
  Array v = expand(astype(values, a.dtype()), shape);
  return (v.is_contiguous() && !v.shares_storage(a)) ? v : clone(v);
}

void check_put_shape(const Array& values, const Shape& shape) {
  if (broadcast_shapes(values.shape(), shape, "index_put_") != shape) {
    throw ShapeMismatchError("index_put_: values of shape " + shape_str(values.shape()) +
                             " cannot be broadcast to the indexed shape " + shape_str(shape));
  }
}

}  // namespace

std::string index_out_of_range(const char* op, int64_t value, int64_t dim, int64_t size) {
  return std::string(op) + ": index " + std::to_string(value) + " is out of bounds for dimension " +
         std::to_string(dim) + " with size " + std::to_string(size);
}

Array cat(const std::vector<Array>& arrays, int dim) {
  if (arrays.empty()) throw ArgumentError("cat: expected a non-empty list of tensors");
  const Array* ref = &arrays[0];
  Dtype dtype = arrays[0].dtype();
  for (const Array& a : arrays) {
    backend_of("cat", {&arrays[0], &a});
    if (!skipped_in_cat(a) && skipped_in_cat(*ref)) ref = &a;
    dtype = promote_types(dtype, a.dtype());
  }
  if (ref->ndim() == 0) throw ArgumentError("cat: zero-dimensional tensors cannot be concatenated");
  const int axis = normalize_axis(dim, ref->ndim(), "cat");
  Shape shape = ref->shape();
  shape[axis] = 0;
  for (size_t i = 0; i < arrays.size(); ++i) {
    const Array& a = arrays[i];
    if (skipped_in_cat(a) && &a != ref) continue;
    bool match = a.ndim() == ref->ndim();
    for (int d = 0; match && d < a.ndim(); ++d) match = d == axis || a.shape()[d] == ref->shape()[d];
    if (!match) {
      throw ShapeMismatchError("cat: tensor " + std::to_string(i) + " has shape " + shape_str(a.shape()) +
                               " but tensors must match " + shape_str(ref->shape()) + " except in dimension " +
                               std::to_string(axis));
    }
    if (!checked_add(shape[axis], a.shape()[axis], &shape[axis])) {
      throw OutOfMemoryError("cat: the joined dimension " + std::to_string(axis) + " exceeds the addressable memory");
    }
  }
  Backend& backend = backend_of("cat", {ref});
  Array out = Array::empty(shape, dtype, ref->device());
  int64_t start = 0;
  for (const Array& a : arrays) {
    if ((skipped_in_cat(a) && &a != ref) || a.numel() == 0) continue;
    const int64_t len = a.shape()[axis];
    backend.copy(a, slice(out, axis, start, start + len, 1));  // converts to the promoted dtype
    start += len;
  }
  return out;
}

Array stack(const std::vector<Array>& arrays, int dim) {
  if (arrays.empty()) throw ArgumentError("stack: expected a non-empty list of tensors");
  const int axis = normalize_axis(dim, arrays[0].ndim() + 1, "stack");
  std::vector<Array> parts;
  for (size_t i = 0; i < arrays.size(); ++i) {
    if (arrays[i].shape() != arrays[0].shape()) {
      throw ShapeMismatchError("stack: expects tensors of equal shape, got " + shape_str(arrays[0].shape()) +
                               " at index 0 and " + shape_str(arrays[i].shape()) + " at index " + std::to_string(i));
    }
    parts.push_back(unsqueeze(arrays[i], axis));
  }
  return cat(parts, axis);
}

Array pad(const Array& a, const std::vector<int64_t>& pads, const std::string& mode, double value) {
  const int ndim = a.ndim();
  if (pads.size() % 2 != 0 || static_cast<int>(pads.size()) > 2 * ndim) {
    throw ArgumentError("pad: the pad list must have an even length of at most 2 * ndim (" + std::to_string(2 * ndim) +
                        "), got " + std::to_string(pads.size()));
  }
  const bool constant = mode == "constant";
  if (!constant && mode != "reflect" && mode != "replicate" && mode != "circular") {
    throw ArgumentError("pad: unknown mode '" + mode + "' (expected constant, reflect, replicate or circular)");
  }
  if (constant) check_fill_value("pad", value, a.dtype());
  // PyTorch's order: (left, right) of the last dimension first, then of the one before, ...
  std::vector<int64_t> before(ndim, 0), after(ndim, 0);
  for (size_t k = 0; k < pads.size() / 2; ++k) {
    before[ndim - 1 - k] = pads[2 * k];
    after[ndim - 1 - k] = pads[2 * k + 1];
  }
  Shape shape = a.shape();
  for (int d = 0; d < ndim; ++d) {
    const int64_t size = a.shape()[d];
    if (!checked_add(size, before[d], &shape[d]) || !checked_add(shape[d], after[d], &shape[d])) {
      throw OutOfMemoryError("pad: padding " + std::to_string(before[d]) + ", " + std::to_string(after[d]) +
                             " of dimension " + std::to_string(d) + " gives a size beyond the addressable memory");
    }
    if (shape[d] < 0) {
      throw ShapeMismatchError("pad: padding " + std::to_string(before[d]) + ", " + std::to_string(after[d]) +
                               " makes dimension " + std::to_string(d) + " of " + shape_str(a.shape()) + " negative");
    }
    const int64_t kept = size + std::min<int64_t>(0, before[d]) + std::min<int64_t>(0, after[d]);  // its negative parts were added above without overflow
    if (kept < 0) {
      throw ArgumentError("pad: negative padding " + std::to_string(before[d]) + ", " + std::to_string(after[d]) +
                          " removes more than the " + std::to_string(size) + " elements of dimension " +
                          std::to_string(d));
    }
    if (constant || (before[d] == 0 && after[d] == 0)) continue;
    const bool bad = before[d] < 0 || after[d] < 0 ||
                     (mode == "reflect" && (before[d] >= size || after[d] >= size)) ||
                     (mode == "circular" && (before[d] > size || after[d] > size)) || size == 0;
    if (bad) {
      throw ArgumentError("pad: " + mode + " padding of " + std::to_string(before[d]) + ", " + std::to_string(after[d]) +
                          " does not fit dimension " + std::to_string(d) + " of size " + std::to_string(size) +
                          (mode == "reflect" ? " (it must be smaller than the size)" : ""));
    }
  }
  if (constant) {
    Array out = full(shape, value, a.dtype(), a.device());
    Array src = a, dst = out;
    for (int d = 0; d < ndim; ++d) {
      const int64_t lo = std::max<int64_t>(0, -before[d]), hi = a.shape()[d] - std::max<int64_t>(0, -after[d]);
      src = slice(src, d, lo, std::max(lo, hi), 1);
      dst = slice(dst, d, std::max<int64_t>(0, before[d]), std::max<int64_t>(0, before[d]) + src.shape()[d], 1);
    }
    if (src.numel() > 0) backend_of("pad", {&a}).copy(src, dst);
    return out;
  }
  // Reflect, replicate, circular: the input goes into the middle, then the borders are filled one dimension
  // at a time from positions already filled; each border slice is one strided copy.
  Backend& backend = backend_of("pad", {&a});
  Array out = Array::empty(shape, a.dtype(), a.device());
  if (out.numel() == 0) return out;
  std::vector<bool> done(ndim, false);
  // The part of `out` that is final: whole along padded dims, the interior along the others.
  auto filled = [&]() {
    Array region = out;
    for (int e = 0; e < ndim; ++e) {
      if (!done[e]) region = slice(region, e, before[e], before[e] + a.shape()[e], 1);
    }
    return region;
  };
  backend.copy(a, filled());
  for (int d = ndim - 1; d >= 0; --d) {
    if (before[d] == 0 && after[d] == 0) continue;
    done[d] = true;
    const Array region = filled();
    const int64_t size = a.shape()[d];
    if (mode == "replicate") {
      // Each side is its edge slice broadcast over the side: one copy, where a copy per position made a pad of
      // 2^31 (any length is legal here) take minutes; reflect and circular pads are bounded by the size.
      const int64_t sides[2][3] = {{0, before[d], before[d]}, {before[d] + size, after[d], before[d] + size - 1}};
      for (const auto& [start, count, edge] : sides) {
        if (count == 0) continue;
        const Array side = slice(region, d, start, start + count, 1);
        backend.copy(expand(slice(region, d, edge, edge + 1, 1), side.shape()), side);
      }
      continue;
    }
    for (int64_t j = 0; j < shape[d]; ++j) {
      if (j >= before[d] && j < before[d] + size) continue;
      int64_t i = j - before[d];
      if (mode == "reflect") {
        i = i < 0 ? -i : 2 * (size - 1) - i;
      } else {
        i = ((i % size) + size) % size;
      }
      backend.copy(select(region, d, before[d] + i), select(region, d, j));
    }
  }
  return out;
}

Array gather(const Array& a, int dim, const Array& index) {
  const int axis = normalize_axis(dim, a.ndim(), "gather");
  if (index.ndim() != a.ndim()) {
    throw ShapeMismatchError("gather: index of shape " + shape_str(index.shape()) + " must have as many dimensions as " +
                             "the input of shape " + shape_str(a.shape()));
  }
  if (a.ndim() == 0) return reshape(gather(reshape(a, {1}), 0, reshape(index, {1})), {});
  for (int d = 0; d < a.ndim(); ++d) {
    if (d != axis && index.shape()[d] > a.shape()[d]) {
      throw ShapeMismatchError("gather: index of shape " + shape_str(index.shape()) + " is larger than the input of shape " +
                               shape_str(a.shape()) + " in dimension " + std::to_string(d));
    }
  }
  Backend& backend = backend_of("gather", {&a, &index});
  check_index_dtype(index, "gather");
  if (index.numel() > 0) {
    if (std::optional<Array> out = backend.gather_device(a, axis, contiguous(index), "gather")) return *out;
  }
  const Offsets offsets = along_axis_offsets(index, a.strides(), axis, a.shape()[axis], "gather");
  return gather_blocks(a, block_view(a, {}), offsets, index.shape(), "gather");
}

namespace {

// scatter_add (accumulate: repeated positions add up) and scatter (the last write wins).
Array scatter_along(const char* op, const Array& a, int dim, const Array& index, const Array& src, bool accumulate) {
  const int axis = normalize_axis(dim, a.ndim(), op);
  if (index.ndim() != a.ndim() || src.ndim() != a.ndim()) {
    throw ShapeMismatchError(std::string(op) + ": input " + shape_str(a.shape()) + ", index " + shape_str(index.shape()) +
                             " and src " + shape_str(src.shape()) + " must have the same number of dimensions");
  }
  if (src.dtype() != a.dtype()) {  // PyTorch's rule: scatter and scatter_add do not convert
    throw DtypeError(std::string(op) + ": src (" + dtype_name(src.dtype()) + ") must have the dtype of the input (" +
                     dtype_name(a.dtype()) + ")");
  }
  if (a.ndim() == 0) {
    return reshape(scatter_along(op, reshape(a, {1}), 0, reshape(index, {1}), reshape(src, {1}), accumulate), {});
  }
  Array values = astype(src, a.dtype());
  for (int d = 0; d < a.ndim(); ++d) {
    if (index.shape()[d] > src.shape()[d] || (d != axis && index.shape()[d] > a.shape()[d])) {
      throw ShapeMismatchError(std::string(op) + ": index of shape " + shape_str(index.shape()) + " is larger than src " +
                               shape_str(src.shape()) + " or the input " + shape_str(a.shape()) + " in dimension " +
                               std::to_string(d));
    }
    values = slice(values, d, 0, index.shape()[d], 1);
  }
  Backend& backend = backend_of(op, {&a, &index, &src});
  check_index_dtype(index, op);
  Array out = clone(a);  // contiguous, so the offsets below address it
  values = contiguous(values);
  if (index.numel() > 0 && backend.scatter_device(values, axis, contiguous(index), out, accumulate, op)) return out;
  const Offsets offsets = along_axis_offsets(index, contiguous_strides(a.shape()), axis, a.shape()[axis], op);
  if (!offsets.empty() && values.numel() > 0) backend.index_scatter(values, offsets, block_view(out, {}), accumulate);
  return out;
}

}  // namespace

Array scatter_add(const Array& a, int dim, const Array& index, const Array& src) {
  return scatter_along("scatter_add", a, dim, index, src, true);
}

Array scatter(const Array& a, int dim, const Array& index, const Array& src) {
  return scatter_along("scatter", a, dim, index, src, false);
}

Array index_select(const Array& a, int dim, const Array& index) {
  if (index.ndim() > 1) {
    throw ShapeMismatchError("index_select: index must be 0-d or 1-d, got shape " + shape_str(index.shape()));
  }
  if (a.ndim() == 0) return reshape(index_select(reshape(a, {1}), 0, index), index.shape());
  const int axis = normalize_axis(dim, a.ndim(), "index_select");
  Backend& backend = backend_of("index_select", {&a, &index});
  const int64_t n = index.numel();
  check_index_dtype(index, "index_select");
  if (n > 0) {
    const Array flat = contiguous(reshape(index, {n}));
    if (std::optional<Array> out = backend.take_device(a, axis, flat, false, "index_select")) return *out;
  }
  const Offsets idx = host_indices(index, index.shape(), a.shape()[axis], axis, "index_select");
  std::vector<Offsets> tables;
  std::vector<int> rest;
  Shape shape = a.shape();
  shape[axis] = n;
  for (int d = 0; d < axis; ++d) tables.push_back(stride_table(a.shape()[d], a.strides()[d]));
  Offsets table(n);
  for (int64_t j = 0; j < n; ++j) table[j] = idx[j] * a.strides()[axis];
  tables.push_back(std::move(table));
  for (int d = axis + 1; d < a.ndim(); ++d) rest.push_back(d);
  return gather_blocks(a, block_view(a, rest), outer_offsets(tables), shape, "index_select");
}

Array embedding(const Array& weight, const Array& index) {
  if (weight.ndim() != 2) {
    throw ShapeMismatchError("embedding: weight must be 2-d [num_embeddings, dim], got shape " + shape_str(weight.shape()));
  }
  Backend& backend = backend_of("embedding", {&weight, &index});
  if (weight.dtype() == Dtype::float16 && weight.is_contiguous()) {
    if (std::optional<Array> rows = backend.embedding_rows(weight, index)) return *rows;
  }
  Offsets offsets = host_indices(index, index.shape(), weight.shape()[0], 0, "embedding");
  for (int64_t& v : offsets) v *= weight.strides()[0];
  Shape shape = index.shape();
  shape.push_back(weight.shape()[1]);
  return gather_blocks(weight, block_view(weight, {1}), offsets, shape, "embedding");
}

Array embedding_backward(const Array& grad, const Array& index, int64_t num_weights) {
  const char* op = "embedding_backward";
  check_index_dtype(index, op);
  if (grad.dtype() != Dtype::float16) {
    throw DtypeError(std::string(op) + ": grad must be float16, got a " + dtype_name(grad.dtype()) + " tensor");
  }
  const Shape& gs = grad.shape();
  if (gs.empty() || Shape(gs.begin(), gs.end() - 1) != index.shape()) {
    throw ShapeMismatchError(std::string(op) + ": grad of shape " + shape_str(gs) + " must be the index's shape " +
                             shape_str(index.shape()) + " plus the embedding dimension");
  }
  if (num_weights < 0) {
    throw ArgumentError(std::string(op) + ": num_weights must be >= 0, got " + std::to_string(num_weights));
  }
  Backend& backend = backend_of(op, {&grad, &index});
  const int64_t n = index.numel(), dim = gs.back();
  const Array rows = contiguous(reshape(grad, {n, dim}));
  if (std::optional<Array> out = backend.embedding_backward(rows, contiguous(reshape(index, {n})), num_weights)) {
    return *out;
  }
  Array out = full({num_weights, dim}, 0.0, Dtype::float16, grad.device());
  Offsets offsets = host_indices(index, index.shape(), num_weights, 0, op);
  if (offsets.empty() || dim == 0) return out;
  for (int64_t& v : offsets) v *= dim;
  backend.index_scatter(rows, offsets, block_view(out, {1}), true);
  return out;
}

Array index(const Array& a, const std::vector<std::optional<Array>>& indices) {
  bool any = false;
  for (const auto& i : indices) any |= i.has_value();
  if (!any) {
    if (static_cast<int>(indices.size()) > a.ndim()) plan_index(a, indices, "index");  // raises
    return a;
  }
  if (const std::optional<OneIndex> one = one_index(a, indices, "index")) {
    Backend& backend = backend_of("index", {&a});
    if (std::optional<Array> out = backend.take_device(a, one->dim, one->index, true, "index")) return *out;
  }
  const IndexPlan plan = plan_index(a, indices, "index");
  return gather_blocks(a, plan.block, plan.offsets, plan.shape, "index");
}

void index_put_(const Array& a, const std::vector<std::optional<Array>>& indices, const Array& values,
                bool accumulate) {
  Backend& backend = backend_of("index_put_", {&a, &values});
  if (a.dtype() != Dtype::float16 && values.dtype() != a.dtype()) {  // PyTorch's rule (t[i] = v converts first)
    throw DtypeError(std::string("index_put_: values (") + dtype_name(values.dtype()) + ") must have the dtype of the " +
                     dtype_name(a.dtype()) + " tensor they are written into");
  }
  const std::optional<OneIndex> one = one_index(a, indices, "index_put_");
  if (one && numel_of(one->shape_in(a)) > 0) {  // (an empty one is left to plan_index, which checks the range)
    const Shape shape = one->shape_in(a);
    check_put_shape(values, shape);
    const Array v = put_values(a, values, shape);
    if (backend.put_device(a, one->dim, one->index, v, accumulate, "index_put_")) return;
    const IndexPlan plan = plan_index(a, indices, "index_put_");
    return backend.index_scatter(v, plan.offsets, plan.block, accumulate);
  }
  const IndexPlan plan = plan_index(a, indices, "index_put_");
  check_put_shape(values, plan.shape);
  if (numel_of(plan.shape) == 0) return;
  backend.index_scatter(put_values(a, values, plan.shape), plan.offsets, plan.block, accumulate);
}

}  // namespace tensorlogic
