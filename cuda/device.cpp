// CUDA devices: the state of each GPU (its stream, multiprocessor count and buffer cache, or a graph's pool
// while one routes this thread's allocations), the device each thread has selected, device properties,
// events, and copies from one GPU to another.
#include <mutex>

#include "cuda_backend.h"
#include "runtime.h"

namespace tensorlogic::cuda {
namespace {

thread_local int selected = 0;

// Makes `index` the runtime's current device for a scope (allocation and frees may come from any thread).
class DeviceScope {
 public:
  explicit DeviceScope(int index) {
    check(cudaGetDevice(&previous_), "cudaGetDevice");
    if (previous_ != index) check(cudaSetDevice(index), "cudaSetDevice");
    index_ = index;
  }
  ~DeviceScope() {
    if (previous_ != index_) cudaSetDevice(previous_);
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = 0, index_ = 0;
};

// Device memory: plain cudaMalloc (never managed memory). Freed buffers are reused in stream order,
// which is safe because every kernel and copy of a device runs on its one stream.
class DeviceCache final : public BufferCache {
 public:
  explicit DeviceCache(int index) : BufferCache(Device{DeviceType::cuda, index}), index_(index) {}

 protected:
  void* raw_allocate(size_t nbytes) override {
    const DeviceScope scope(index_);
    void* ptr = nullptr;
    if (cudaMalloc(&ptr, nbytes) != cudaSuccess) {
      cudaGetLastError();  // an allocation failure is not sticky; clear it so later calls see success
      return nullptr;
    }
    return ptr;
  }
  void raw_free(void* ptr, size_t) override {  // cudaFree waits for queued work
    const DeviceScope scope(index_);
    cudaFree(ptr);
  }

 private:
  int index_;
};

struct DeviceState {
  cudaStream_t stream = nullptr;
  cudaEvent_t marker = nullptr;  // orders copies between GPUs against this device's stream
  int sms = 1;
  int l2_bytes = 0;
  DeviceCache cache;
  explicit DeviceState(int index) : cache(index) {
    const DeviceScope scope(index);
    check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
    check(cudaEventCreateWithFlags(&marker, cudaEventDisableTiming), "cudaEventCreate");
    check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, index), "cudaDeviceGetAttribute");
    check(cudaDeviceGetAttribute(&l2_bytes, cudaDevAttrL2CacheSize, index), "cudaDeviceGetAttribute");
  }
};

// Created on first use and kept for the life of the process (arrays may outlive main).
DeviceState& state(int index) {
  static std::once_flag once[kMaxDevices];
  static DeviceState* states[kMaxDevices] = {};
  std::call_once(once[index], [index] { states[index] = new DeviceState(index); });
  return *states[index];
}

int count_devices() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return count < kMaxDevices ? count : kMaxDevices;
}

class CudaEvent final : public DeviceEvent {
 public:
  explicit CudaEvent(bool timing) {
    check(cudaEventCreateWithFlags(&event_, timing ? cudaEventDefault : cudaEventDisableTiming), "cudaEventCreate");
  }
  ~CudaEvent() override { cudaEventDestroy(event_); }
  void record() override { check(cudaEventRecord(event_, stream()), "cudaEventRecord"); }
  void synchronize() override { check(cudaEventSynchronize(event_), "cudaEventSynchronize"); }
  bool query() override {
    const cudaError_t status = cudaEventQuery(event_);
    if (status == cudaErrorNotReady) {
      cudaGetLastError();  // "not ready" is an answer, not an error: keep it out of later checks
      return false;
    }
    check(status, "cudaEventQuery");
    return true;
  }
  double elapsed_ms(DeviceEvent& end) override {
    float ms = 0.0f;
    check(cudaEventElapsedTime(&ms, event_, static_cast<CudaEvent&>(end).event_), "cudaEventElapsedTime");
    return ms;
  }

 private:
  cudaEvent_t event_ = nullptr;
};

}  // namespace

int current_device() { return selected; }

void select_device(int index) {
  int active = -1;
  check(cudaGetDevice(&active), "cudaGetDevice");  // another library may have changed it on this thread
  if (active != index) check(cudaSetDevice(index), "cudaSetDevice");
  selected = index;
}

cudaStream_t stream() { return state(selected).stream; }

namespace {
// The selected device's cache, or the pool of the graph that routes this thread's allocations.
BufferCache& active_cache() {
  if (BufferCache* pool = routed_pool(selected)) return *pool;
  return state(selected).cache;
}
}  // namespace

int sm_count() { return state(selected).sms; }
int l2_cache_bytes() { return state(selected).l2_bytes; }

bool device_present() { return count_devices() > 0; }

int CudaBackend::device_count() const {
  static const int count = count_devices();
  return count;
}

void CudaBackend::select(int index) { select_device(index); }

BufferCache& CudaBackend::cache() { return active_cache(); }

// Device-wide, like torch.cuda.synchronize: also waits for other libraries' streams, which DLPack
// exchange relies on (our own work runs on a non-blocking stream of its own).
void CudaBackend::synchronize() {
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  raise_deferred_errors();
}

DeviceProperties CudaBackend::properties() {
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, selected), "cudaGetDeviceProperties");
  DeviceProperties p;
  p.name = prop.name;
  p.total_memory = prop.totalGlobalMem;
  p.major = prop.major;
  p.minor = prop.minor;
  p.multiprocessors = prop.multiProcessorCount;
  return p;
}

std::unique_ptr<DeviceEvent> CudaBackend::create_event(bool timing) { return std::make_unique<CudaEvent>(timing); }

uintptr_t CudaBackend::stream_handle() { return reinterpret_cast<uintptr_t>(stream()); }

int64_t CudaBackend::host_reads() const { return cuda::host_reads(); }

// The copy runs on the target's stream after the source's queued work; the source's stream then waits
// for the copy, so neither buffer is reused under it. cudaMemcpyPeerAsync takes the direct GPU-to-GPU
// path where the hardware has one and goes through host memory otherwise.
void CudaBackend::copy_peer(const Array& src, const Array& dst) {
  static std::mutex mutex;  // the two markers are shared by every copy between these devices
  const std::lock_guard<std::mutex> lock(mutex);
  const int from = src.device().index, to = dst.device().index;
  DeviceState& a = state(from);
  DeviceState& b = state(to);
  select_device(from);
  check(cudaEventRecord(a.marker, a.stream), "cudaEventRecord");
  select_device(to);
  check(cudaStreamWaitEvent(b.stream, a.marker, 0), "cudaStreamWaitEvent");
  check(cudaMemcpyPeerAsync(dst.data(), to, src.data(), from, dst.nbytes(), b.stream), "cudaMemcpyPeerAsync");
  check(cudaEventRecord(b.marker, b.stream), "cudaEventRecord");
  check(cudaStreamWaitEvent(a.stream, b.marker, 0), "cudaStreamWaitEvent");
}

Scratch::Scratch(size_t nbytes) : cache_(&active_cache()) { ptr_ = cache_->acquire(nbytes, &bucket_); }
Scratch::~Scratch() { cache_->release(ptr_, bucket_); }

}  // namespace tensorlogic::cuda
