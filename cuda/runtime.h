// Host-side services of the CUDA backend that .cpp files (compiled without nvcc) use too.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace tensorlogic {
class BufferCache;
}

namespace tensorlogic::cuda {

// Throws DeviceError naming the failed call and CUDA's reason.
void check(cudaError_t status, const char* what);
// Checks the launch that was just queued (bad configuration, missing kernel image).
void check_launch(const char* what);

constexpr int kMaxDevices = 64;  // GPUs addressed per process (cuda:0 .. cuda:63)

// The device selected on this thread (by backend_for, through CudaBackend::select) and its state.
int current_device();
void select_device(int index);  // also makes it the CUDA runtime's current device of this thread
cudaStream_t stream();  // the one stream all work of the selected device runs on (so buffer reuse is ordered)
int sm_count();
int l2_cache_bytes();  // of the selected device

// Host memory to device memory on the stream; returns once `src` may be reused.
void host_to_device(void* dst, const void* src, size_t nbytes);
// Device memory to host memory, after the work queued before it; returns when the bytes are there.
void device_to_host(void* dst, const void* src, size_t nbytes);
// How many times device_to_host ran in this process, on any device: every wait of the host for device data
// goes through it (Backend::host_reads).
int64_t host_reads();

// graph.cpp: the graph-private pool that this thread's allocations on `device` go to while a Graph routes
// them (nullptr otherwise), and whether this thread is capturing a graph (host copies are refused then: a
// captured copy would read a host buffer that is reused, and a wait for the device is not allowed).
BufferCache* routed_pool(int device);
bool capturing();

}  // namespace tensorlogic::cuda
