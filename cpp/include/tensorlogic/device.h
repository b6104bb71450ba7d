// Device names and the registry that says which backends this build and machine have.
#pragma once
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

const char* device_type_name(DeviceType type);
Device parse_device(const std::string& name);  // "cpu", "cuda", "cuda:1", ...; DeviceError if unknown
bool is_available(DeviceType type);
std::vector<std::string> available_devices();
Device default_device();
void set_default_device(Device device);

}  // namespace tensorlogic
