// Device names, the default device, and routing of each op to the backend of its inputs.
#include <atomic>
#include <mutex>
#include <string>

#include "backend.h"
#include "tensorlogic/device.h"
#include "tensorlogic/errors.h"

namespace tensorlogic {

namespace cpu {
Backend* create_backend();
}
#ifdef TL_WITH_CUDA
namespace cuda {
Backend* create_backend();
bool device_present();
}
#endif
#ifdef TL_WITH_METAL
namespace metal {
Backend* create_backend();
bool device_present();
}
#endif
#ifdef TL_WITH_COREML
namespace ane {
Backend* create_backend();
bool device_present();
}
#endif

namespace {

// Why a device is missing, for DeviceError messages.
const char* missing_reason(DeviceType type) {
  switch (type) {
    case DeviceType::cuda:
#ifdef TL_WITH_CUDA
      return "no NVIDIA GPU is visible to the CUDA driver";
#else
      return "this build has no CUDA backend (CMake found no CUDA toolkit with cuBLAS: TL_CUDA=OFF)";
#endif
    case DeviceType::metal:
#ifdef TL_WITH_METAL
      return "this Mac has no Metal GPU (MTLCreateSystemDefaultDevice returned nil)";
#else
      return "this build has no Metal backend (it is built on macOS only: TL_METAL=OFF)";
#endif
    case DeviceType::ane:
#ifdef TL_WITH_COREML
      return "this Mac has no Neural Engine (or no Metal GPU, whose buffers the ane device shares)";
#else
      return "this build has no Neural Engine backend (it is built on macOS only: TL_COREML=OFF)";
#endif
    default:
      return "";
  }
}

Backend* make_backend(DeviceType type) {
  switch (type) {
    case DeviceType::cpu:
      return cpu::create_backend();
#ifdef TL_WITH_CUDA
    case DeviceType::cuda:
      return cuda::device_present() ? cuda::create_backend() : nullptr;
#endif
#ifdef TL_WITH_METAL
    case DeviceType::metal:
      return metal::device_present() ? metal::create_backend() : nullptr;
#endif
#ifdef TL_WITH_COREML
    case DeviceType::ane:
      return ane::device_present() ? ane::create_backend() : nullptr;
#endif
    default:
      return nullptr;
  }
}

struct Slot {
  std::once_flag once;
  Backend* backend = nullptr;
};
Slot slots[4];

std::atomic<int> default_packed{-1};

}  // namespace

const char* device_type_name(DeviceType type) {
  switch (type) {
    case DeviceType::cpu: return "cpu";
    case DeviceType::cuda: return "cuda";
    case DeviceType::metal: return "metal";
    case DeviceType::ane: return "ane";
  }
  return "?";
}

std::string Device::str() const {
  std::string name = device_type_name(type);
  return (type == DeviceType::cpu || index == 0) ? name : name + ":" + std::to_string(index);
}

bool is_available(DeviceType type) {
  Slot& slot = slots[static_cast<int>(type)];
  std::call_once(slot.once, [&] { slot.backend = make_backend(type); });
  return slot.backend != nullptr;
}

std::vector<std::string> available_devices() {
  std::vector<std::string> names;
  for (DeviceType type : {DeviceType::metal, DeviceType::ane, DeviceType::cuda, DeviceType::cpu}) {
    if (is_available(type)) names.push_back(device_type_name(type));
  }
  return names;
}

static std::string available_list() {
  std::string list;
  for (const std::string& name : available_devices()) list += (list.empty() ? "" : ", ") + name;
  return list;
}

Device parse_device(const std::string& name) {
  const size_t colon = name.find(':');
  const std::string kind = name.substr(0, colon);
  int index = 0;
  if (colon != std::string::npos) {
    const std::string digits = name.substr(colon + 1);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 4) {
      throw DeviceError("bad device name '" + name + "'; available: " + available_list());
    }
    index = std::stoi(digits);
  }
  for (DeviceType type : {DeviceType::cpu, DeviceType::cuda, DeviceType::metal, DeviceType::ane}) {
    if (kind == device_type_name(type)) {
      if (type == DeviceType::cpu && index != 0) break;
      return Device{type, index};
    }
  }
  throw DeviceError("unknown device '" + name + "'; available: " + available_list());
}

Backend& backend_for(Device device) {
  if (!is_available(device.type)) {
    throw DeviceError(std::string("device '") + device_type_name(device.type) + "' is not available: " +
                      missing_reason(device.type) + "; available: " + available_list());
  }
  Backend& backend = *slots[static_cast<int>(device.type)].backend;
  if (device.index != 0) {
    const int count = backend.device_count();
    if (device.index < 0 || device.index >= count) {
      throw DeviceError("device " + device.str() + " does not exist: this machine has " + std::to_string(count) +
                        " " + device_type_name(device.type) + " device" + (count == 1 ? "" : "s") +
                        "; available: " + available_list());
    }
  }
  backend.select(device.index);
  return backend;
}

int device_count(DeviceType type) {
  return is_available(type) ? slots[static_cast<int>(type)].backend->device_count() : 0;
}

DeviceProperties device_properties(Device device) { return backend_for(device).properties(); }

int64_t host_reads(DeviceType type) {
  return is_available(type) ? slots[static_cast<int>(type)].backend->host_reads() : 0;
}

Backend& backend_of(const char* op, std::initializer_list<const Array*> arrays) {
  const Array* first = nullptr;
  for (const Array* a : arrays) {
    if (a == nullptr) continue;
    if (first == nullptr) {
      first = a;
    } else if (a->device() != first->device()) {
      throw DeviceError(std::string(op) + ": expected all tensors on one device, got " + first->device().str() +
                        " and " + a->device().str() + " (move them with .to(device))");
    }
  }
  return backend_for(first != nullptr ? first->device() : default_device());
}

// The default device packed as type * 65536 + index in one atomic (-1: not chosen yet).
Device default_device() {
  int packed = default_packed.load(std::memory_order_relaxed);
  if (packed < 0) {
    packed = static_cast<int>(DeviceType::cpu) << 16;
    for (DeviceType best : {DeviceType::metal, DeviceType::cuda}) {
      if (is_available(best)) {
        packed = static_cast<int>(best) << 16;
        break;
      }
    }
    default_packed.store(packed);
  }
  return Device{static_cast<DeviceType>(packed >> 16), packed & 0xffff};
}

void set_default_device(Device device) {
  backend_for(device);  // raises DeviceError when it is not available
  default_packed.store((static_cast<int>(device.type) << 16) | device.index);
}

void synchronize(Device device) { backend_for(device).synchronize(); }
uintptr_t stream_handle(Device device) { return backend_for(device).stream_handle(); }

BufferCache& buffer_cache(Device device) { return backend_for(device).cache(); }

}  // namespace tensorlogic
