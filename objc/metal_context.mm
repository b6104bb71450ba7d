// Context: device, queue, run-time compiled kernel libraries, pipeline cache, command batching with
// deferred buffer reuse, and the shared-storage buffer pools.
#include "metal_context.h"

#include <algorithm>

#include "embedded_kernels.h"
#include "tensorlogic/errors.h"

namespace tensorlogic::metal {

Context* Context::get() {
  static Context* context = [] () -> Context* {
    @autoreleasepool {
      id<MTLDevice> device = MTLCreateSystemDefaultDevice();
      return device == nil ? nullptr : new Context(device);  // lives as long as the process
    }
  }();
  return context;
}

Context::Context(id<MTLDevice> device) : device_(device), queue_([device newCommandQueue]) {}

id<MTLLibrary> Context::library(const std::string& file) {
  auto it = libraries_.find(file);
  if (it != libraries_.end()) return it->second;
  auto failed = library_errors_.find(file);
  if (failed != library_errors_.end()) throw DeviceError(failed->second);  // reported, not compiled again
  const char* source = embedded_kernel_source(file.c_str());
  if (source == nullptr) throw DeviceError("metal: no kernel file metal/" + file + ".metal in this build");
  MTLCompileOptions* options = [MTLCompileOptions new];
  options.languageVersion = MTLLanguageVersion3_0;
  // IEEE-conforming math so that results match the CPU backend within f16 rounding.
  options.fastMathEnabled = NO;
  NSError* error = nil;
  id<MTLLibrary> lib = [device_ newLibraryWithSource:[NSString stringWithUTF8String:source] options:options error:&error];
  if (lib == nil) {
    const std::string message = "metal: compiling metal/" + file + ".metal failed: " +
                                std::string(error ? error.localizedDescription.UTF8String : "unknown error");
    library_errors_[file] = message;
    throw DeviceError(message);
  }
  libraries_[file] = lib;
  return lib;
}

id<MTLComputePipelineState> Context::pipeline(const std::string& file, const std::string& name,
                                              const std::vector<Constant>& constants) {
  std::string key = file + ":" + name;
  for (const Constant& c : constants) key += "|" + std::to_string(c.index) + "=" + std::to_string(c.value);
  std::lock_guard<std::mutex> lock(pipeline_mutex_);
  auto it = pipelines_.find(key);
  if (it != pipelines_.end()) return it->second;
  @autoreleasepool {
    id<MTLLibrary> lib = library(file);
    MTLFunctionConstantValues* values = [MTLFunctionConstantValues new];
    for (const Constant& c : constants) {
      if (c.is_bool) {
        const bool v = c.value != 0;
        [values setConstantValue:&v type:MTLDataTypeBool atIndex:c.index];
      } else {
        [values setConstantValue:&c.value type:MTLDataTypeUInt atIndex:c.index];
      }
    }
    NSError* error = nil;
    id<MTLFunction> function = [lib newFunctionWithName:[NSString stringWithUTF8String:name.c_str()]
                                         constantValues:values
                                                  error:&error];
    id<MTLComputePipelineState> state =
        function == nil ? nil : [device_ newComputePipelineStateWithFunction:function error:&error];
    if (state == nil) {
      throw DeviceError("metal: kernel " + key + " cannot be built: " +
                        std::string(error ? error.localizedDescription.UTF8String : "no such function"));
    }
    pipelines_[key] = state;
    return state;
  }
}

void Batch::finish() {
  std::vector<Release> done_releases;
  {
    std::lock_guard<std::mutex> lock(mutex);
    done = true;
    done_releases.swap(releases);
  }
  for (const Release& r : done_releases) r.cache->give_back(r.contents, r.bucket_bytes);
}

id<MTLComputeCommandEncoder> Context::open_encoder_locked() {
  if (open_encoder_ != nil) return open_encoder_;
  open_buffer_ = [queue_ commandBuffer];
  auto batch = std::make_shared<Batch>();
  {
    std::lock_guard<std::mutex> lock(batch_mutex_);
    open_batch_ = batch;
  }
  [open_buffer_ addCompletedHandler:^(id<MTLCommandBuffer> done) {
    if (done.status == MTLCommandBufferStatusError) {
      std::lock_guard<std::mutex> lock(error_mutex_);
      if (error_.empty()) {
        error_ = done.error ? std::string(done.error.localizedDescription.UTF8String) : "command buffer failed";
      }
    }
    batch->finish();
  }];
  open_encoder_ = [open_buffer_ computeCommandEncoder];
  dispatches_ = 0;
  return open_encoder_;
}

void Context::commit_locked() {
  if (open_buffer_ == nil) return;
  [open_encoder_ endEncoding];
  [open_buffer_ commit];
  last_committed_ = open_buffer_;
  open_buffer_ = nil;
  open_encoder_ = nil;
  dispatches_ = 0;
  std::lock_guard<std::mutex> lock(batch_mutex_);
  last_batch_ = std::move(open_batch_);
  open_batch_.reset();
  // Batches whose completion handler already ran need no finishing by synchronize().
  in_flight_.erase(std::remove_if(in_flight_.begin(), in_flight_.end(),
                                  [](const std::shared_ptr<Batch>& b) {
                                    std::lock_guard<std::mutex> batch_lock(b->mutex);
                                    return b->done;
                                  }),
                   in_flight_.end());
  in_flight_.push_back(last_batch_);
}

void Context::synchronize() {
  // Holding the encoding lock throughout: no batch can be committed between the wait and the finish.
  std::lock_guard<std::mutex> encode_lock(encode_mutex_);
  commit_locked();
  id<MTLCommandBuffer> last = last_committed_;
  if (last != nil) [last waitUntilCompleted];  // a queue completes its command buffers in order
  // Completion handlers may still be on their way: finish every committed batch here, so that the pool
  // statistics are exact once synchronize() returns.
  std::vector<std::shared_ptr<Batch>> finished;
  {
    std::lock_guard<std::mutex> lock(batch_mutex_);
    finished.swap(in_flight_);
  }
  for (auto& batch : finished) batch->finish();
  std::string error;
  {
    std::lock_guard<std::mutex> lock(error_mutex_);
    error.swap(error_);
  }
  if (error.empty() && last != nil && last.status == MTLCommandBufferStatusError) {
    error = last.error ? std::string(last.error.localizedDescription.UTF8String) : "command buffer failed";
  }
  last_committed_ = nil;  // its error, if any, is reported now and not again
  if (!error.empty()) throw DeviceError("metal: a queued command failed: " + error);
}

id<MTLBuffer> Context::buffer_of(const void* storage_base) {
  std::lock_guard<std::mutex> lock(buffers_mutex_);
  auto it = buffers_.find(storage_base);
  if (it == buffers_.end()) {
    throw DeviceError("metal: this array's memory was not allocated by the metal/ane buffer pool "
                      "(foreign memory cannot be bound to a kernel; copy it to the device first)");
  }
  return it->second;
}

void Context::register_buffer(void* contents, id<MTLBuffer> buffer) {
  std::lock_guard<std::mutex> lock(buffers_mutex_);
  buffers_[contents] = buffer;
}

void Context::unregister_buffer(void* contents) {
  std::lock_guard<std::mutex> lock(buffers_mutex_);
  buffers_.erase(contents);
}

void Context::release_after_work(MetalCache* cache, void* contents, size_t bucket_bytes) {
  std::shared_ptr<Batch> batch;
  {
    std::lock_guard<std::mutex> lock(batch_mutex_);
    batch = open_batch_ ? open_batch_ : last_batch_;
  }
  if (batch) {
    std::lock_guard<std::mutex> lock(batch->mutex);
    if (!batch->done) {
      batch->releases.push_back({cache, contents, bucket_bytes});
      return;
    }
  }
  cache->give_back(contents, bucket_bytes);
}

void* MetalCache::raw_allocate(size_t nbytes) {
  @autoreleasepool {
    id<MTLBuffer> buffer = [context_.device() newBufferWithLength:nbytes options:MTLResourceStorageModeShared];
    if (buffer == nil) return nullptr;  // BufferCache frees its cache and retries, then raises MemoryError
    void* contents = buffer.contents;
    context_.register_buffer(contents, buffer);
    return contents;
  }
}

void MetalCache::raw_free(void* ptr, size_t) { context_.unregister_buffer(ptr); }  // drops the last reference

}  // namespace tensorlogic::metal
