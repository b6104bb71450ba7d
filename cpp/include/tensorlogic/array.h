// Array: an n-dimensional view (shape, strides, offset) over shared storage on one device.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "tensorlogic/device.h"
#include "tensorlogic/dtype.h"

namespace tensorlogic {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;  // in elements, may be 0 (broadcast) or negative-free

class BufferCache;

// Inference mode of the calling thread (Python's tl.inference_mode sets it): storage allocated while it is on is an
// inference tensor's, as PyTorch marks the tensors made in inference mode (views share their storage's mark, so a view
// of an inference tensor is one and a view of a normal tensor is not, as in PyTorch).
void set_inference_mode(bool on);
bool inference_mode();

// One allocation. Memory from a BufferCache goes back to it when the last view dies; foreign memory
// (numpy, DLPack) is kept alive by `owner` and released by dropping it. nbytes() is the storage's logical size (what
// was asked for, as PyTorch's storage size): views must lie inside it, not merely inside the cache's larger bucket.
class Storage {
 public:
  Storage(void* data, size_t nbytes, size_t bucket_bytes, Device device, BufferCache* cache);
  Storage(void* data, size_t nbytes, Device device, std::shared_ptr<void> owner);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  bool is_foreign() const { return cache_ == nullptr; }
  // Autograd's in-place version counter: it lives with the memory, so every view of it shares one.
  uint64_t version() const { return version_; }
  void set_version(uint64_t version) { version_ = version; }
  // Allocated (or adopted from foreign memory) in inference mode.
  bool inference() const { return inference_; }
  // Copies the bytes to `data` (host memory of at least nbytes(), kept alive by `owner`) and reads and writes there
  // from now on, so that every view follows (Tensor.share_memory_: memory that other processes map). Host only.
  void move_to(void* data, std::shared_ptr<void> owner);

 private:
  void* data_;
  size_t nbytes_;
  size_t bucket_bytes_;  // what the cache handed out (nbytes_ rounded up) and takes back
  Device device_;
  BufferCache* cache_;
  std::shared_ptr<void> owner_;
  uint64_t version_ = 0;
  bool inference_ = inference_mode();
};

int64_t numel_of(const Shape& shape);  // saturates at INT64_MAX (arrays' own shapes never reach it)
// Overflow-checked size arithmetic: every shape an Array is built with passes through checked_numel, so
// element counts, strides (products of sizes) and byte sizes computed from an Array never wrap.
// False when a size is negative or the product of the sizes (zeros counted as ones) exceeds int64.
bool checked_numel(const Shape& shape, int64_t* numel);
bool checked_mul(int64_t a, int64_t b, int64_t* out);  // false on overflow
bool checked_add(int64_t a, int64_t b, int64_t* out);
// The largest allocation any device is asked for: byte offsets are signed 64-bit.
constexpr int64_t kMaxBytes = INT64_MAX;
// ArgumentError for an op given a default-constructed (undefined) Array: every op reads its inputs' device first.
[[noreturn]] void throw_undefined_array();
Strides contiguous_strides(const Shape& shape);
std::string shape_str(const Shape& shape);

class Array {
 public:
  Array() = default;
  // A view of `storage`: ArgumentError unless the storage exists, the dtype is one of Dtype's, there is one
  // non-negative stride per dimension, the offset is non-negative and every element lies inside the storage's
  // bytes (so no view, however made, reads or writes outside its memory).
  Array(std::shared_ptr<Storage> storage, Shape shape, Strides strides, int64_t offset, Dtype dtype);

  // Fresh, uninitialised, contiguous array from the device's buffer cache. A negative size raises
  // ArgumentError; a request beyond addressable memory OutOfMemoryError naming it.
  static Array empty(const Shape& shape, Dtype dtype, Device device);
  // Wraps foreign memory without copying; `owner` keeps it alive. Null data is refused unless the shape is empty.
  static Array from_memory(void* data, const Shape& shape, const Strides& strides, Dtype dtype, Device device,
                           std::shared_ptr<void> owner);

  const Shape& shape() const { return shape_; }
  const Strides& strides() const { return strides_; }
  int64_t offset() const { return offset_; }
  Dtype dtype() const { return dtype_; }
  Device device() const {
    if (storage_ == nullptr) throw_undefined_array();
    return storage_->device();
  }
  int ndim() const { return static_cast<int>(shape_.size()); }
  int64_t numel() const { return numel_of(shape_); }
  int64_t dim(int axis) const;  // negative axes count from the end
  size_t itemsize() const { return tensorlogic::itemsize(dtype_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * itemsize(); }
  bool is_contiguous() const;
  bool defined() const { return storage_ != nullptr; }

  // Address of element [0, ..., 0] (storage base plus offset).
  void* data() const {
    if (storage_ == nullptr) throw_undefined_array();
    return static_cast<char*>(storage_->data()) + offset_ * static_cast<int64_t>(itemsize());
  }
  template <typename T>
  T* data_as() const { return static_cast<T*>(data()); }
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  bool shares_storage(const Array& other) const { return storage_ == other.storage_; }

  // Same storage, new geometry: the building block of every view op.
  Array view_as(Shape shape, Strides strides, int64_t offset) const;

 private:
  std::shared_ptr<Storage> storage_;
  Shape shape_;
  Strides strides_;
  int64_t offset_ = 0;
  Dtype dtype_ = Dtype::float16;
};

// Raises InternalOverlapError when two elements of `a` share one memory location (a stride-0 or
// otherwise self-overlapping view): an in-place write into it would race with itself.
void check_no_internal_overlap(const Array& a, const char* op);

}  // namespace tensorlogic
