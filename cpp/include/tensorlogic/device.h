// Device names and the registry that says which backends this build and machine have.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tensorlogic {

enum class DeviceType : uint8_t { cpu, cuda, metal, ane };

struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;
  bool operator==(const Device& other) const { return type == other.type && index == other.index; }
  bool operator!=(const Device& other) const { return !(*this == other); }
  std::string str() const;
};

struct DeviceProperties {
  std::string name;
  size_t total_memory = 0;     // bytes
  int major = 0, minor = 0;    // compute capability (cuda); 0 elsewhere
  int multiprocessors = 0;     // streaming multiprocessors (cuda), GPU cores reported by the driver elsewhere
};

// What a backend implements for Event (tensorlogic::Event below is the public handle).
class DeviceEvent {
 public:
  virtual ~DeviceEvent() = default;
  virtual void record() = 0;        // marks the end of the work queued so far on the device
  virtual void synchronize() = 0;   // waits until that work is done
  virtual bool query() = 0;         // whether it is done, without waiting
  virtual double elapsed_ms(DeviceEvent& end) = 0;  // both recorded with timing and complete
};

// A marker in a device's queue of work, like torch.cuda.Event: record() after queuing work, then
// synchronize() waits for it and elapsed_ms(end) times the work between two events on the GPU's clock.
// On the CPU, work is done when its call returns: events record the host clock.
class Event {
 public:
  Event(Device device, bool timing);
  void record();
  void synchronize();
  bool query();
  double elapsed_ms(Event& end);  // DeviceError unless both were recorded, with timing, on one device
  Device device() const { return device_; }
  bool timing() const { return timing_; }

 private:
  Device device_;
  bool timing_;
  bool recorded_ = false;
  std::unique_ptr<DeviceEvent> impl_;
};

// What a backend implements for Graph.
class DeviceGraph {
 public:
  virtual ~DeviceGraph() = default;
  virtual void pool_begin() = 0;
  virtual void pool_end() = 0;
  virtual void capture_begin() = 0;
  virtual std::string capture_end() = 0;  // "" once instantiated, else why capture failed
  virtual void launch() = 0;
  virtual void share_pool(DeviceGraph& owner) = 0;  // owner: a graph of the same backend and device
};

// A graph of a device's queued work, captured once and launched many times (torch.cuda.CUDAGraph), with a
// memory pool of its own. Between pool_begin() and pool_end(), and between capture_begin() and capture_end(),
// the calling thread's allocations on the device come from the pool, whose buffers nobody else gets while
// the graph lives (so the memory its kernels use stays theirs between launches). capture_begin() starts
// recording the device's queue; the pool may grow then (as torch's private pools do), but the thread may
// not copy between host and device nor wait for the device, so lazy setups that would (cuBLASLt's
// workspace) must have run before: run the same work once first (under pool_begin() to keep its memory
// apart). share_pool(owner), before this graph first uses its pool, makes it use owner's pool instead
// (torch's pool=): the graphs may then reuse each other's freed buffers, safe when they are launched in
// the order they were captured.
// capture_end() always stops capture and routing, and returns "" once the graph can launch, else the
// reason capture failed (no throw: the caller falls back to running the work itself). Work of other
// threads on the device during capture would be recorded too. CUDA only; DeviceError elsewhere.
class Graph {
 public:
  explicit Graph(Device device);
  void pool_begin();
  void pool_end();
  void capture_begin();
  std::string capture_end();
  void launch();
  void share_pool(Graph& owner);
  Device device() const { return device_; }

 private:
  Device device_;
  std::unique_ptr<DeviceGraph> impl_;
};

const char* device_type_name(DeviceType type);
int device_count(DeviceType type);  // 0 where the type is not available
DeviceProperties device_properties(Device device);
// How many times the host has waited to read data of that device type (copies to the host, flags read back),
// in this process: 0 for the CPU and for a type not available.
int64_t host_reads(DeviceType type);
Device parse_device(const std::string& name);  // "cpu", "cuda", "cuda:1", ...; DeviceError if unknown
bool is_available(DeviceType type);
std::vector<std::string> available_devices();
Device default_device();
void set_default_device(Device device);

// Threads of the CPU backend's worker pool (the calling thread included); at least 1.
int cpu_num_threads();
void set_cpu_num_threads(int threads);

}  // namespace tensorlogic
