// Array geometry and storage ownership.
#include "tensorlogic/array.h"

#include <sstream>

#include "backend.h"
#include "tensorlogic/errors.h"
#include "tensorlogic/memory.h"

namespace tensorlogic {

Storage::Storage(void* data, size_t nbytes, Device device, BufferCache* cache)
    : data_(data), nbytes_(nbytes), device_(device), cache_(cache) {}

Storage::Storage(void* data, size_t nbytes, Device device, std::shared_ptr<void> owner)
    : data_(data), nbytes_(nbytes), device_(device), cache_(nullptr), owner_(std::move(owner)) {}

Storage::~Storage() {
  if (cache_ != nullptr) cache_->release(data_, nbytes_);
}

int64_t numel_of(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
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

Array::Array(std::shared_ptr<Storage> storage, Shape shape, Strides strides, int64_t offset, Dtype dtype)
    : storage_(std::move(storage)), shape_(std::move(shape)), strides_(std::move(strides)), offset_(offset),
      dtype_(dtype) {}

Array Array::empty(const Shape& shape, Dtype dtype, Device device) {
  for (int64_t s : shape) {
    if (s < 0) throw ArgumentError("empty: negative dimension in shape " + shape_str(shape));
  }
  const size_t nbytes = static_cast<size_t>(numel_of(shape)) * tensorlogic::itemsize(dtype);
  BufferCache& cache = backend_for(device).cache();
  size_t bucket = 0;
  void* data = cache.acquire(nbytes, &bucket);
  auto storage = std::make_shared<Storage>(data, bucket, device, &cache);
  return Array(std::move(storage), shape, contiguous_strides(shape), 0, dtype);
}

Array Array::from_memory(void* data, const Shape& shape, const Strides& strides, Dtype dtype, Device device,
                         std::shared_ptr<void> owner) {
  auto storage = std::make_shared<Storage>(data, 0, device, std::move(owner));
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

}  // namespace tensorlogic
