// Array geometry and storage ownership.
#include "tensorlogic/array.h"

#include <algorithm>
#include <cstring>
#include <sstream>

#include "backend.h"
#include "tensorlogic/errors.h"
#include "tensorlogic/memory.h"

namespace tensorlogic {

namespace {
thread_local bool inference_mode_on = false;
}  // namespace

void set_inference_mode(bool on) { inference_mode_on = on; }
bool inference_mode() { return inference_mode_on; }

Storage::Storage(void* data, size_t nbytes, size_t bucket_bytes, Device device, BufferCache* cache)
    : data_(data), nbytes_(nbytes), bucket_bytes_(bucket_bytes), device_(device), cache_(cache) {}

Storage::Storage(void* data, size_t nbytes, Device device, std::shared_ptr<void> owner)
    : data_(data), nbytes_(nbytes), bucket_bytes_(nbytes), device_(device), cache_(nullptr), owner_(std::move(owner)) {}

Storage::~Storage() {
  if (cache_ != nullptr) cache_->release(data_, bucket_bytes_);
}

void Storage::move_to(void* data, std::shared_ptr<void> owner) {
  if (device_.type != DeviceType::cpu) throw DeviceError("only host memory can move to other host memory, not " + device_.str());
  if (data == nullptr && nbytes_ > 0) throw ArgumentError("Storage::move_to: no memory given to move to");
  std::memcpy(data, data_, nbytes_);
  if (cache_ != nullptr) cache_->release(data_, bucket_bytes_);
  data_ = data;
  bucket_bytes_ = nbytes_;
  cache_ = nullptr;
  owner_ = std::move(owner);  // drops the previous owner (foreign memory), if any
}

bool checked_mul(int64_t a, int64_t b, int64_t* out) { return !__builtin_mul_overflow(a, b, out); }
bool checked_add(int64_t a, int64_t b, int64_t* out) { return !__builtin_add_overflow(a, b, out); }

bool checked_numel(const Shape& shape, int64_t* numel) {
  int64_t n = 1, span = 1;  // span: the product with zeros counted as ones (the largest contiguous stride)
  for (int64_t s : shape) {
    if (s < 0 || !checked_mul(span, std::max<int64_t>(s, 1), &span)) return false;
    n = s == 0 ? 0 : n * s;  // |n| <= span
  }
  *numel = n;
  return true;
}

int64_t numel_of(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) {
    // Arrays' shapes never overflow (checked_numel); a shape the user passed may, before it is checked.
    if (__builtin_mul_overflow(n, s, &n)) return INT64_MAX;
  }
  return n;
}

Strides contiguous_strides(const Shape& shape) {
  Strides strides(shape.size());
  int64_t step = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = step;
    step *= std::max<int64_t>(shape[i], 1);
  }
  return strides;
}

std::string shape_str(const Shape& shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << "]";
  return out.str();
}

void throw_undefined_array() {
  throw ArgumentError("an undefined (default-constructed) Array was given to an op");
}

Array::Array(std::shared_ptr<Storage> storage, Shape shape, Strides strides, int64_t offset, Dtype dtype)
    : storage_(std::move(storage)), shape_(std::move(shape)), strides_(std::move(strides)), offset_(offset),
      dtype_(dtype) {
  int64_t n = 0;
  if (!checked_numel(shape_, &n)) {
    throw ArgumentError("invalid shape " + shape_str(shape_) + ": sizes must be non-negative and their product fit in 64 bits");
  }
  if (storage_ == nullptr) throw ArgumentError("an array of shape " + shape_str(shape_) + " needs a storage");
  if (static_cast<unsigned>(dtype_) > static_cast<unsigned>(Dtype::bool_)) {
    throw DtypeError("unknown dtype " + std::to_string(static_cast<unsigned>(dtype_)));
  }
  // The farthest element, in elements from the storage's start: a view reaching past the storage's bytes would read
  // and write other memory (a C++ embedder's view_as or a hand-made Array).
  int64_t last = offset_;
  bool ok = strides_.size() == shape_.size() && offset_ >= 0;
  for (size_t i = 0; ok && i < shape_.size() && n > 0; ++i) {
    int64_t reach = 0;
    ok = strides_[i] >= 0 && checked_mul(shape_[i] - 1, strides_[i], &reach) && checked_add(last, reach, &last);
  }
  int64_t end = 0;
  ok = ok && (n == 0 || (checked_add(last, 1, &end) &&
                         checked_mul(end, static_cast<int64_t>(tensorlogic::itemsize(dtype_)), &end) &&
                         static_cast<uint64_t>(end) <= storage_->nbytes()));
  if (!ok) {
    throw ArgumentError("a view of shape " + shape_str(shape_) + ", strides " + shape_str(strides_) + " and offset " +
                        std::to_string(offset_) + " (" + dtype_name(dtype_) + ") does not lie inside its storage of " +
                        std::to_string(storage_->nbytes()) + " bytes (strides must be non-negative, one per dimension)");
  }
}

Array Array::empty(const Shape& shape, Dtype dtype, Device device) {
  for (int64_t s : shape) {
    if (s < 0) throw ArgumentError("empty: negative dimension in shape " + shape_str(shape));
  }
  int64_t numel = 0, bytes = 0;
  if (!checked_numel(shape, &numel) || !checked_mul(numel, static_cast<int64_t>(tensorlogic::itemsize(dtype)), &bytes)) {
    throw OutOfMemoryError("cannot allocate a tensor of shape " + shape_str(shape) + " (" + dtype_name(dtype) +
                           "): its size in bytes exceeds the addressable memory");
  }
  const size_t nbytes = static_cast<size_t>(bytes);
  BufferCache& cache = backend_for(device).cache();
  size_t bucket = 0;
  void* data = cache.acquire(nbytes, &bucket);
  auto storage = std::make_shared<Storage>(data, nbytes, bucket, device, &cache);
  return Array(std::move(storage), shape, contiguous_strides(shape), 0, dtype);
}

Array Array::from_memory(void* data, const Shape& shape, const Strides& strides, Dtype dtype, Device device,
                         std::shared_ptr<void> owner) {
  // The foreign allocation's size as far as we know it: what this first view reaches (views made from it stay inside).
  // Sizes, strides and dtype are checked by the Array made below; here only what the extent's arithmetic needs.
  size_t extent = 0;
  if (numel_of(shape) > 0 && strides.size() == shape.size()) {
    if (data == nullptr) throw ArgumentError("from_memory: null data for an array of shape " + shape_str(shape));
    int64_t last = 0, reach = 0;
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] < 0 || strides[i] < 0 || !checked_mul(shape[i] - 1, strides[i], &reach) ||
          !checked_add(last, reach, &last) || last >= kMaxBytes / 8) {
        throw ArgumentError("from_memory: shape " + shape_str(shape) + " with strides " + shape_str(strides) +
                            " does not describe addressable memory (strides must be non-negative)");
      }
    }
    extent = static_cast<size_t>(last + 1) * tensorlogic::itemsize(dtype);
  }
  auto storage = std::make_shared<Storage>(data, extent, device, std::move(owner));
  return Array(std::move(storage), shape, strides, 0, dtype);
}

int64_t Array::dim(int axis) const {
  const int n = ndim();
  if (axis < -n || axis >= n) {
    throw IndexOutOfRange("dimension " + std::to_string(axis) + " is out of range for a " + std::to_string(n) +
                          "-d array");
  }
  return shape_[axis < 0 ? axis + n : axis];
}

bool Array::is_contiguous() const {
  int64_t expected = 1;
  for (size_t i = shape_.size(); i-- > 0;) {
    if (shape_[i] == 1) continue;
    if (shape_[i] == 0) return true;
    if (strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

Array Array::view_as(Shape shape, Strides strides, int64_t offset) const {
  return Array(storage_, std::move(shape), std::move(strides), offset, dtype_);
}

// Sorted by stride, a layout has no overlap when each stride exceeds the farthest element reachable
// through the smaller ones (the test PyTorch uses; views of non-overlapping memory always pass it).
void check_no_internal_overlap(const Array& a, const char* op) {
  std::vector<std::pair<int64_t, int64_t>> dims;  // (stride, size) of the dimensions that step
  for (int i = 0; i < a.ndim(); ++i) {
    if (a.shape()[i] == 0) return;
    if (a.shape()[i] > 1) dims.emplace_back(a.strides()[i], a.shape()[i]);
  }
  std::sort(dims.begin(), dims.end());
  int64_t reach = 0;  // the largest offset the dimensions so far address
  for (const auto& [stride, size] : dims) {
    if (stride <= reach) {
      throw InternalOverlapError(std::string(op) +
                                 ": unsupported operation: more than one element of the written-to tensor refers to a "
                                 "single memory location. Please clone() the tensor before performing the operation.");
    }
    reach += stride * (size - 1);
  }
}

}  // namespace tensorlogic
