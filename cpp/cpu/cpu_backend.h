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
  void reduce_int(ReduceOp op, const Array& in, int64_t outer, int64_t n, int64_t inner, const Array& out) override;
  void quantized_gemm(QuantType type, const Array& x, const Array& blocks, const Array& out,
                      const GemmEpilogue& epilogue) override;
  void dequantize(QuantType type, const Array& blocks, const Array& out) override;
  bool has_ordering() const override { return true; }
  void argsort(const Array& in, int64_t rows, int64_t n, bool descending, const Array& out) override;
  void scan(ScanOp op, const Array& in, int64_t rows, int64_t n, const Array& out) override;
};

}  // namespace tensorlogic::cpu
