// Errors that CUDA kernels find in their data, raised without making the host wait: a check kernel records
// the first offending value in a per-device record in device memory, and the host reads that record at the
// next point where it waits for the device anyway (a copy to the host: .item(), .numpy(); synchronize),
// throwing the typed error the CPU would have thrown at once. A training step thus never waits for its
// targets' range check (issue #18), and the error still comes, at the latest, with the first value read.
#include <atomic>
#include <mutex>

#include "common.cuh"
#include "cuda_backend.h"

namespace tensorlogic::cuda {
namespace {

// The first failure since the record was last read (`raised` taken with atomicCAS); its other fields are
// written by the one thread that took it, and are complete once the kernel has finished.
struct Record {
  int raised;
  long long value, classes, ignore_index;
  unsigned long long op;  // the host's `const char*` literal naming the op
};

struct DeviceRecord {
  std::once_flag made;
  Record* record = nullptr;
  std::atomic<bool> armed{false};  // a check was queued since the host last read the record
};

DeviceRecord& device_record() {
  static DeviceRecord* per_device = new DeviceRecord[kMaxDevices];
  return per_device[current_device()];
}

Record* made(DeviceRecord& r) {
  std::call_once(r.made, [&] {
    check(cudaMalloc(&r.record, sizeof(Record)), "cudaMalloc (error record)");
    check(cudaMemsetAsync(r.record, 0, sizeof(Record), stream()), "cudaMemsetAsync");
  });
  return r.record;
}

template <typename T>
__global__ void check_targets_kernel(const T* target, int64_t n, int64_t classes, int64_t ignore_index,
                                     unsigned long long op, Record* record) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t v = static_cast<int64_t>(target[i]);
    if (v != ignore_index && (v < 0 || v >= classes) && atomicCAS(&record->raised, 0, 1) == 0) {
      record->value = v;
      record->classes = classes;
      record->ignore_index = ignore_index;
      record->op = op;
    }
  }
}

}  // namespace

void CudaBackend::check_class_targets(const Array& target, int64_t classes, int64_t ignore_index, const char* op) {
  DeviceRecord& r = device_record();
  Record* record = made(r);
  const Array t = target.dtype() == Dtype::int32 ? target : contiguous(astype(target, Dtype::int64));
  const int64_t n = t.numel();
  const auto tag = reinterpret_cast<unsigned long long>(op);
  if (t.dtype() == Dtype::int32) {
    check_targets_kernel<<<grid_stride_blocks(n), kThreads, 0, stream()>>>(t.data_as<int32_t>(), n, classes,
                                                                            ignore_index, tag, record);
  } else {
    check_targets_kernel<<<grid_stride_blocks(n), kThreads, 0, stream()>>>(t.data_as<int64_t>(), n, classes,
                                                                            ignore_index, tag, record);
  }
  check_launch("target check kernel");
  r.armed.store(true);  // after the launch: a reader that disarms first still finds this kernel's record
}

void raise_deferred_errors() {
  DeviceRecord& r = device_record();
  if (!r.armed.exchange(false)) return;  // (armed only after its record was made)
  Record host{};
  check(cudaMemcpyAsync(&host, r.record, sizeof(Record), cudaMemcpyDeviceToHost, stream()), "cudaMemcpyAsync");
  check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize");
  if (host.raised == 0) return;
  check(cudaMemsetAsync(r.record, 0, sizeof(Record), stream()), "cudaMemsetAsync");
  throw IndexOutOfRange(target_out_of_range(reinterpret_cast<const char*>(host.op), host.value, host.classes,
                                            host.ignore_index));
}

}  // namespace tensorlogic::cuda
