// Errors that CUDA kernels find in their data, raised without making the host wait: a check kernel records
// the first offending value in a per-device record in device memory (deferred_error.cuh), and the host reads
// that record at the next point where it waits for the device anyway (a copy to the host: .item(), .numpy();
// synchronize; the loss scaler's flag), throwing the typed error the CPU would have thrown at once, and
// clearing the record so that later work runs on. A training step thus never waits for its targets' or
// indices' range checks (issue #18), and the error still comes, at the latest, with the first value read.
#include <atomic>
#include <mutex>
#include <utility>

#include "common.cuh"
#include "cuda_backend.h"
#include "deferred_error.cuh"

namespace tensorlogic::cuda {
namespace {

struct DeviceRecord {
  std::once_flag made;
  DeferredRecord* record = nullptr;
  std::atomic<bool> armed{false};  // a check was queued since the host last read the record
};

DeviceRecord& device_record() {
  static DeviceRecord* per_device = new DeviceRecord[kMaxDevices];
  return per_device[current_device()];
}

thread_local bool checks_queued = false;  // by this thread, since take_captured_checks last asked

template <typename T>
__global__ void check_targets_kernel(const T* target, int64_t n, int64_t classes, int64_t ignore_index,
                                     unsigned long long op, DeferredRecord* record) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t v = static_cast<int64_t>(target[i]);
    if (v != ignore_index && (v < 0 || v >= classes)) record_out_of_range(record, v, classes, ignore_index, op);
  }
}

}  // namespace

DeferredRecord* deferred_record() {
  DeviceRecord& r = device_record();
  std::call_once(r.made, [&] {
    // Its zeroing is queued on the stream: inside a capture it would become part of the graph instead.
    if (capturing()) throw DeviceError("cuda: a device-side range check first used while capturing a CUDA graph");
    check(cudaMalloc(&r.record, sizeof(DeferredRecord)), "cudaMalloc (error record)");
    check(cudaMemsetAsync(r.record, 0, sizeof(DeferredRecord), stream()), "cudaMemsetAsync");
  });
  return r.record;
}

void arm_deferred_record() {
  device_record().armed.store(true);
  checks_queued = true;
}

bool take_captured_checks() { return std::exchange(checks_queued, false); }

void CudaBackend::check_class_targets(const Array& target, int64_t classes, int64_t ignore_index, const char* op) {
  DeferredRecord* record = deferred_record();
  const Array t = target.dtype() == Dtype::int32 ? target : contiguous(astype(target, Dtype::int64));
  const int64_t n = t.numel();
  if (t.dtype() == Dtype::int32) {
    check_targets_kernel<<<grid_stride_blocks(n), kThreads, 0, stream()>>>(t.data_as<int32_t>(), n, classes,
                                                                            ignore_index, op_tag(op), record);
  } else {
    check_targets_kernel<<<grid_stride_blocks(n), kThreads, 0, stream()>>>(t.data_as<int64_t>(), n, classes,
                                                                            ignore_index, op_tag(op), record);
  }
  check_launch("target check kernel");
  arm_deferred_record();
}

void raise_deferred_errors() {
  DeviceRecord& r = device_record();
  if (!r.armed.exchange(false)) return;  // (armed only after its record was made)
  DeferredRecord host{};
  // Not device_to_host: this read follows a wait, and is not one of the host reads that count.
  check(cudaMemcpyAsync(&host, r.record, sizeof(DeferredRecord), cudaMemcpyDeviceToHost, stream()),
        "cudaMemcpyAsync");
  check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize");
  if (host.raised == 0) return;
  check(cudaMemsetAsync(r.record, 0, sizeof(DeferredRecord), stream()), "cudaMemsetAsync");
  const auto* op = reinterpret_cast<const char*>(host.op);
  throw IndexOutOfRange(host.ignore_index == kNoIgnoredIndex
                            ? index_out_of_range(op, host.value, host.dim, host.classes)
                            : target_out_of_range(op, host.value, host.classes, host.ignore_index));
}

}  // namespace tensorlogic::cuda
