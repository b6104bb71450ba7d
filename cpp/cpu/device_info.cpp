// The CPU as a device: its properties, and events on the host clock (CPU work is done when its call returns).
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "cpu_backend.h"

namespace tensorlogic::cpu {
namespace {

class HostEvent final : public DeviceEvent {
 public:
  void record() override { at_ = std::chrono::steady_clock::now(); }
  void synchronize() override {}
  bool query() override { return true; }
  double elapsed_ms(DeviceEvent& end) override {
    return std::chrono::duration<double, std::milli>(static_cast<HostEvent&>(end).at_ - at_).count();
  }

 private:
  std::chrono::steady_clock::time_point at_;
};

std::string processor_name() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos && colon + 2 <= line.size()) return line.substr(colon + 2);
    }
  }
  return "cpu";
}

}  // namespace

DeviceProperties CpuBackend::properties() {
  DeviceProperties p;
  p.name = processor_name();
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  p.total_memory = pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) : 0;
  p.multiprocessors = static_cast<int>(std::thread::hardware_concurrency());
  return p;
}

std::unique_ptr<DeviceEvent> CpuBackend::create_event(bool) { return std::make_unique<HostEvent>(); }

}  // namespace tensorlogic::cpu
