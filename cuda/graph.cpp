// CUDA graphs (tensorlogic::Graph on CUDA): stream capture of the device's one stream, instantiation and
// launch, and the graph-private memory pool that allocations are routed to while a graph is warmed up and
// captured. No cuBLASLt here: the workspace is made by the warm-up run before capture (gemm.cpp).
#include <string>
#include <vector>

#include "cuda_backend.h"
#include "runtime.h"
#include "tensorlogic/errors.h"

namespace tensorlogic::cuda {
namespace {

// Buffers that only its graphs' work uses (one graph's, or several through share_pool). During capture
// cudaMalloc runs in relaxed capture mode (it is not a stream operation, and the buffer stays the pool's, so
// every launch finds it where the capture did: torch's allocator does the same). A buffer is never given
// back to the device while a graph of the pool lives, even when the cache is cleared to make room: a
// captured graph may read or write a cached buffer (a temporary of its work) at every launch; such buffers
// are retained and freed with the pool. Orphaned when its last graph is destroyed: what is cached or
// retained is freed at once, each buffer still held by an array when it comes back, and the pool itself with
// the last one.
class GraphPool final : public BufferCache {
 public:
  explicit GraphPool(int index) : BufferCache(Device{DeviceType::cuda, index}), index_(index) {}

  void set_capturing(bool capturing) { capturing_ = capturing; }

  void release(void* ptr, size_t bucket_bytes) override {
    return_to_pool(ptr, bucket_bytes);
    if (orphaned_) free_if_unused();
  }

  void adopt() { ++owners_; }

  void orphan() {
    if (--owners_ > 0) return;
    orphaned_ = true;
    for (void* ptr : retained_) raw_free(ptr, 0);
    retained_.clear();
    free_if_unused();
  }

 protected:
  void* raw_allocate(size_t nbytes) override {
    const Selected scope(index_);
    // During capture, thread-local mode would count cudaMalloc as unsafe and invalidate the capture.
    cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
    if (capturing_) cudaThreadExchangeStreamCaptureMode(&mode);
    void* ptr = nullptr;
    const cudaError_t made = cudaMalloc(&ptr, nbytes);
    if (capturing_) cudaThreadExchangeStreamCaptureMode(&mode);
    if (made != cudaSuccess) {
      cudaGetLastError();  // not sticky: later calls must not see it
      return nullptr;
    }
    return ptr;
  }
  void raw_free(void* ptr, size_t) override {
    if (!orphaned_) {
      retained_.push_back(ptr);
      return;
    }
    const Selected scope(index_);
    cudaFree(ptr);  // waits for a launch still using it
  }

 private:
  // The runtime's current device for a free or allocation from any thread (an array may die anywhere).
  class Selected {
   public:
    explicit Selected(int index) {
      cudaGetDevice(&previous_);
      if (previous_ != index) cudaSetDevice(index);
      index_ = index;
    }
    ~Selected() {
      if (previous_ != index_) cudaSetDevice(previous_);
    }

   private:
    int previous_ = 0, index_ = 0;
  };

  void free_if_unused() {
    clear();
    if (stats().active_bytes == 0) delete this;
  }

  int index_;
  int owners_ = 1;  // graphs using the pool
  bool capturing_ = false, orphaned_ = false;
  std::vector<void*> retained_;  // given back by the cache while graphs of the pool live: freed with the pool
};

thread_local GraphPool* routed = nullptr;  // the pool this thread's allocations go to, on device routed_device
thread_local int routed_device = -1;
thread_local bool capturing_now = false;

void route(GraphPool* pool, int device) {
  routed = pool;
  routed_device = pool != nullptr ? device : -1;
}

class CudaGraph final : public DeviceGraph {
 public:
  explicit CudaGraph(int index) : index_(index), pool_(new GraphPool(index)) {}
  ~CudaGraph() override {
    // Only its own routing: a graph sharing the pool may be capturing on this thread (a collected graph dies anywhere).
    if (routing_) route(nullptr, index_);
    if (exec_ != nullptr) cudaGraphExecDestroy(exec_);
    if (graph_ != nullptr) cudaGraphDestroy(graph_);
    pool_->orphan();
  }
  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;

  void pool_begin() override {
    if (capturing_now) throw DeviceError("CUDAGraph: pool_begin during a capture");
    used_pool_ = routing_ = true;
    route(pool_, index_);
  }
  void pool_end() override {
    if (capturing_now) throw DeviceError("CUDAGraph: pool_end during a capture (use capture_end)");
    routing_ = false;
    route(nullptr, index_);
  }

  void capture_begin() override {
    if (exec_ != nullptr) throw DeviceError("CUDAGraph: already captured");
    if (capturing_now) throw DeviceError("CUDAGraph: this thread is capturing another graph");
    // Thread-local mode: this thread's unsafe calls (a wait for the device) fail the capture instead of
    // running; other threads keep working (their work on this device would be recorded: see device.h).
    check(cudaStreamBeginCapture(stream(), cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
    take_captured_checks();  // counts from here
    used_pool_ = routing_ = true;
    pool_->set_capturing(true);
    route(pool_, index_);
    capturing_now = true;
  }

  std::string capture_end() override {
    if (!capturing_now) throw DeviceError("CUDAGraph: capture_end without capture_begin");
    capturing_now = false;
    arms_checks_ = take_captured_checks();
    routing_ = false;
    route(nullptr, index_);
    cudaGraph_t graph = nullptr;
    const cudaError_t ended = cudaStreamEndCapture(stream(), &graph);
    pool_->set_capturing(false);
    if (ended != cudaSuccess || graph == nullptr) {
      cudaGetLastError();  // an invalidated capture is not sticky: clear it for the work that falls back
      return std::string("stream capture failed: ") + cudaGetErrorString(ended);
    }
    const cudaError_t made = cudaGraphInstantiateWithFlags(&exec_, graph, 0);
    if (made != cudaSuccess) {
      cudaGetLastError();
      cudaGraphDestroy(graph);
      exec_ = nullptr;
      return std::string("cudaGraphInstantiate failed: ") + cudaGetErrorString(made);
    }
    graph_ = graph;
    return "";
  }

  void launch() override {
    if (exec_ == nullptr) throw DeviceError("CUDAGraph.replay: no graph was captured");
    check(cudaGraphLaunch(exec_, stream()), "cudaGraphLaunch");
    if (arms_checks_) arm_deferred_record();  // its check kernels ran again: their record is read at the next wait
  }

  void share_pool(DeviceGraph& owner) override {
    // Graph::share_pool checked that owner is on this device, hence of this backend.
    GraphPool* other = static_cast<CudaGraph&>(owner).pool_;
    if (other == pool_) return;
    if (used_pool_) throw DeviceError("CUDAGraph: pool= must be given before the graph first uses its own pool");
    other->adopt();
    pool_->orphan();
    pool_ = other;
  }

 private:
  int index_;
  GraphPool* pool_;  // deletes itself once orphaned and unused (arrays from it may outlive the graph)
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
  bool arms_checks_ = false;  // the capture queued device-side range checks (deferred_error.cu)
  bool used_pool_ = false;  // pool_begin or capture_begin ran: the pool can no longer be swapped
  bool routing_ = false;    // this graph routed this thread's allocations to its pool (until pool_end/capture_end)
};

}  // namespace

BufferCache* routed_pool(int device) { return routed_device == device ? routed : nullptr; }

bool capturing() { return capturing_now; }

std::unique_ptr<DeviceGraph> CudaBackend::create_graph() { return std::make_unique<CudaGraph>(current_device()); }

}  // namespace tensorlogic::cuda
