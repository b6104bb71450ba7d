// The caching buffer allocator shared by every backend: size buckets, reuse, a limit, statistics.
#pragma once
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "tensorlogic/device.h"

namespace tensorlogic {

struct MemoryStats {
  size_t active_bytes = 0;     // held by live arrays (bucket sizes)
  size_t cached_bytes = 0;     // freed by arrays, kept for reuse
  size_t peak_active_bytes = 0;
  size_t limit_bytes = 0;      // 0: no limit
  uint64_t allocations = 0;    // raw allocations from the device
  uint64_t reuses = 0;         // requests served from the cache
  uint64_t frees = 0;          // raw frees (cache clears, limit pressure)
};

// Backends provide the raw allocate/free; everything else (buckets, reuse, limit, stats) is shared.
// A backend whose device runs asynchronously overrides `release` to defer reuse until queued work
// that reads or writes the buffer has completed.
class BufferCache {
 public:
  explicit BufferCache(Device device);
  virtual ~BufferCache();
  BufferCache(const BufferCache&) = delete;
  BufferCache& operator=(const BufferCache&) = delete;

  // Returns a buffer of at least `nbytes` (the bucket size is reported through `bucket_bytes`).
  void* acquire(size_t nbytes, size_t* bucket_bytes);
  virtual void release(void* ptr, size_t bucket_bytes);

  MemoryStats stats();
  void clear();
  void set_limit(size_t bytes);
  void reset_peak();
  Device device() const { return device_; }

  static size_t bucket_size(size_t nbytes);

 protected:
  virtual void* raw_allocate(size_t nbytes) = 0;  // returns nullptr when the device is out of memory
  virtual void raw_free(void* ptr, size_t nbytes) = 0;
  void return_to_pool(void* ptr, size_t bucket_bytes);

 private:
  void free_cached_locked();

  Device device_;
  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  MemoryStats stats_;
};

// The cache of a device (created by its backend on first use).
BufferCache& buffer_cache(Device device);

}  // namespace tensorlogic
