// The CPU backend: the portable reference every other backend is tested against.
#pragma once
#include "../core/backend.h"

namespace tensorlogic::cpu {

class CpuBackend final : public Backend {
 public:
  CpuBackend();
  DeviceType type() const override { return DeviceType::cpu; }
  BufferCache& cache() override;
  DeviceProperties properties() override;
  std::unique_ptr<DeviceEvent> create_event(bool timing) override;

  TL_BACKEND_KERNELS
};

}  // namespace tensorlogic::cpu
