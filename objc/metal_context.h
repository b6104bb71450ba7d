// The Metal side shared by the `metal` and `ane` backends: the MTLDevice and its queue, the kernels
// compiled at run time from the sources embedded at build time, a pipeline cache keyed by kernel name
// and function-constant values, the command batching, and the buffer pools over shared-storage
// MTLBuffers (Objective-C++; built on Apple only).
#pragma once
#import <Metal/Metal.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tensorlogic/array.h"
#include "tensorlogic/memory.h"

namespace tensorlogic::metal {

// A function constant of a pipeline: MTLDataTypeUInt or MTLDataTypeBool at `index`.
struct Constant {
  uint32_t index;
  bool is_bool;
  uint32_t value;
};
inline Constant uint_constant(uint32_t index, uint32_t value) { return {index, false, value}; }
inline Constant bool_constant(uint32_t index, bool value) { return {index, true, value ? 1u : 0u}; }

class MetalCache;

// Buffers released while a command buffer that may use them is queued: they return to their pool from
// that command buffer's completion handler.
struct Batch {
  struct Release {
    MetalCache* cache;
    void* contents;
    size_t bucket_bytes;
  };
  std::mutex mutex;
  bool done = false;
  std::vector<Release> releases;
  // Marks the batch complete and returns its buffers to their pools (once, whoever calls first: the
  // completion handler or synchronize()).
  void finish();
};

class Context {
 public:
  // The process-wide context; nullptr when the system has no Metal device.
  static Context* get();

  id<MTLDevice> device() const { return device_; }

  // A pipeline of kernel `name` in metal/<file>.metal, specialised by `constants` (cached; a kernel file
  // that fails to compile raises DeviceError with the compiler's log, then again from the cache: it is
  // compiled once).
  id<MTLComputePipelineState> pipeline(const std::string& file, const std::string& name,
                                       const std::vector<Constant>& constants);

  // Runs `encode(encoder)` on the open command buffer (opening one when needed) under the encoding
  // lock; the batch is committed after kMaxDispatches dispatches or at the next synchronize().
  template <typename F>
  void encode(F&& encode_fn) {
    std::lock_guard<std::mutex> lock(encode_mutex_);
    id<MTLComputeCommandEncoder> encoder = open_encoder_locked();
    encode_fn(encoder);
    if (++dispatches_ >= kMaxDispatches) commit_locked();
  }

  // Commits the open command buffer and waits for every committed one; a command buffer that failed
  // raises DeviceError here (once), and the queue stays usable for later work.
  void synchronize();

  // The MTLBuffer whose contents is `storage_base` (the data of a Storage from one of the pools).
  id<MTLBuffer> buffer_of(const void* storage_base);
  // Called by the pools: buffers that a queued command may still use wait for it to complete.
  void release_after_work(MetalCache* cache, void* contents, size_t bucket_bytes);
  void register_buffer(void* contents, id<MTLBuffer> buffer);
  void unregister_buffer(void* contents);

 private:
  static constexpr int kMaxDispatches = 64;
  explicit Context(id<MTLDevice> device);
  id<MTLComputeCommandEncoder> open_encoder_locked();
  void commit_locked();
  id<MTLLibrary> library(const std::string& file);

  id<MTLDevice> device_;
  id<MTLCommandQueue> queue_;

  std::mutex encode_mutex_;  // held while encoding; taken before batch_mutex_
  id<MTLCommandBuffer> open_buffer_ = nil;
  id<MTLComputeCommandEncoder> open_encoder_ = nil;
  id<MTLCommandBuffer> last_committed_ = nil;
  int dispatches_ = 0;

  std::mutex batch_mutex_;  // guards the batch pointers below
  std::shared_ptr<Batch> open_batch_;
  std::shared_ptr<Batch> last_batch_;
  std::vector<std::shared_ptr<Batch>> in_flight_;  // committed, finished by synchronize() at the latest

  std::mutex error_mutex_;
  std::string error_;  // the first failure of a command buffer since the last synchronize()

  std::mutex pipeline_mutex_;
  std::unordered_map<std::string, id<MTLLibrary>> libraries_;
  std::unordered_map<std::string, std::string> library_errors_;  // file -> compiler log of a failure
  std::unordered_map<std::string, id<MTLComputePipelineState>> pipelines_;

  std::mutex buffers_mutex_;
  std::unordered_map<const void*, id<MTLBuffer>> buffers_;  // contents -> buffer (holds the reference)
};

// The buffer pool of one device (metal or ane) over shared-storage MTLBuffers: the CPU, the GPU and
// Core ML all address the same memory.
class MetalCache final : public BufferCache {
 public:
  MetalCache(Device device, Context& context) : BufferCache(device), context_(context) {}
  ~MetalCache() override { clear(); }
  void release(void* ptr, size_t bucket_bytes) override { context_.release_after_work(this, ptr, bucket_bytes); }
  void give_back(void* ptr, size_t bucket_bytes) { return_to_pool(ptr, bucket_bytes); }

 protected:
  void* raw_allocate(size_t nbytes) override;
  void raw_free(void* ptr, size_t nbytes) override;

 private:
  Context& context_;
};

}  // namespace tensorlogic::metal
