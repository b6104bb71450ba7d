// BufferCache: size buckets, reuse of freed buffers, a byte limit and statistics, for every device.
#include "tensorlogic/memory.h"

#include <new>
#include <string>

#include "tensorlogic/array.h"
#include "tensorlogic/errors.h"

namespace tensorlogic {

BufferCache::BufferCache(Device device) : device_(device) {}

BufferCache::~BufferCache() = default;  // derived classes free what is cached (raw_free is theirs)

// Powers of two up to 1 MiB, then steps of an eighth of the enclosing power of two (waste <= 12.5%).
size_t BufferCache::bucket_size(size_t nbytes) {
  constexpr size_t kMin = 64;
  constexpr size_t kSmall = size_t{1} << 20;
  if (nbytes <= kMin) return kMin;
  if (nbytes > static_cast<size_t>(kMaxBytes)) {  // the doubling below would wrap to 0 and never end
    throw OutOfMemoryError("a buffer of " + std::to_string(nbytes) + " bytes is beyond the addressable memory");
  }
  size_t power = kMin;
  while (power < nbytes) power <<= 1;
  if (power <= kSmall) return power;
  const size_t step = power / 16;
  return (nbytes + step - 1) / step * step;
}

void* BufferCache::acquire(size_t nbytes, size_t* bucket_bytes) {
  if (nbytes > static_cast<size_t>(kMaxBytes)) {  // bucket_size would overflow: refuse at once
    throw OutOfMemoryError("out of memory on " + device_.str() + ": requested " + std::to_string(nbytes) +
                           " bytes, beyond the addressable memory");
  }
  const size_t bucket = bucket_size(nbytes);
  *bucket_bytes = bucket;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = free_.find(bucket);
  if (it != free_.end() && !it->second.empty()) {
    void* ptr = it->second.back();
    it->second.pop_back();
    stats_.cached_bytes -= bucket;
    stats_.active_bytes += bucket;
    stats_.reuses += 1;
    if (stats_.active_bytes > stats_.peak_active_bytes) stats_.peak_active_bytes = stats_.active_bytes;
    return ptr;
  }
  const bool over_limit = stats_.limit_bytes != 0 && stats_.active_bytes + bucket > stats_.limit_bytes;
  if (!over_limit && stats_.limit_bytes != 0 && stats_.active_bytes + stats_.cached_bytes + bucket > stats_.limit_bytes) {
    free_cached_locked();
  }
  void* ptr = over_limit ? nullptr : raw_allocate(bucket);
  if (ptr == nullptr && !over_limit) {  // the device is full: give back what we cache and try once more
    free_cached_locked();
    ptr = raw_allocate(bucket);
  }
  if (ptr == nullptr) {
    throw OutOfMemoryError("out of memory on " + device_.str() + ": requested " + std::to_string(nbytes) +
                           " bytes with " + std::to_string(stats_.active_bytes) + " bytes in use" +
                           (stats_.limit_bytes ? " (limit " + std::to_string(stats_.limit_bytes) + " bytes)" : ""));
  }
  stats_.allocations += 1;
  stats_.active_bytes += bucket;
  if (stats_.active_bytes > stats_.peak_active_bytes) stats_.peak_active_bytes = stats_.active_bytes;
  return ptr;
}

void BufferCache::release(void* ptr, size_t bucket_bytes) { return_to_pool(ptr, bucket_bytes); }

void BufferCache::return_to_pool(void* ptr, size_t bucket_bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.active_bytes -= bucket_bytes;
  try {
    free_[bucket_bytes].push_back(ptr);
  } catch (const std::bad_alloc&) {
    // Storage's destructor (noexcept) calls here: when the host cannot grow a free list, the buffer goes back to
    // the device instead of the cache. (The bad_alloc terminated the process when memory had run out and the
    // tensors that filled it were freed.)
    raw_free(ptr, bucket_bytes);
    stats_.frees += 1;
    return;
  }
  stats_.cached_bytes += bucket_bytes;
}

void BufferCache::free_cached_locked() {
  for (auto& [bucket, ptrs] : free_) {
    for (void* ptr : ptrs) {
      raw_free(ptr, bucket);
      stats_.frees += 1;
    }
    stats_.cached_bytes -= bucket * ptrs.size();
    ptrs.clear();
  }
}

MemoryStats BufferCache::stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void BufferCache::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  free_cached_locked();
}

void BufferCache::set_limit(size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.limit_bytes = bytes;
}

void BufferCache::reset_peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peak_active_bytes = stats_.active_bytes;
}

}  // namespace tensorlogic
