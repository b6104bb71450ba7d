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

const char* device_type_name(DeviceType type);
int device_count(DeviceType type);  // 0 where the type is not available
DeviceProperties device_properties(Device device);
Device parse_device(const std::string& name);  // "cpu", "cuda", "cuda:1", ...; DeviceError if unknown
bool is_available(DeviceType type);
std::vector<std::string> available_devices();
Device default_device();
void set_default_device(Device device);

// Threads of the CPU backend's worker pool (the calling thread included); at least 1.
int cpu_num_threads();
void set_cpu_num_threads(int threads);

}  // namespace tensorlogic
