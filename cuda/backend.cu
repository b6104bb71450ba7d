// CUDA backend: host transfers (pinned staging for large ones), strided copies with dtype conversion,
// and fills (device.cpp holds the devices themselves).
#include <atomic>
#include <cstring>
#include <mutex>

#include "../cpp/kernels/convert.h"
#include "common.cuh"
#include "cuda_backend.h"

namespace tensorlogic::cuda {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw DeviceError(std::string("cuda: ") + what + " failed: " + cudaGetErrorString(status));
  }
}

void check_launch(const char* what) { check(cudaGetLastError(), what); }

namespace {

// Two pinned buffers used in turn so host memcpy and DMA overlap on large transfers.
class Staging {
 public:
  static constexpr size_t kChunk = size_t{8} << 20;

  void to_device(void* dst, const void* src, size_t nbytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    init();
    for (size_t off = 0, i = 0; off < nbytes; off += kChunk, ++i) {
      const size_t len = std::min(kChunk, nbytes - off);
      const int b = static_cast<int>(i & 1);
      check(cudaEventSynchronize(done_[b]), "cudaEventSynchronize");
      std::memcpy(buf_[b], static_cast<const char*>(src) + off, len);
      check(cudaMemcpyAsync(static_cast<char*>(dst) + off, buf_[b], len, cudaMemcpyHostToDevice, stream()),
            "cudaMemcpyAsync (host to device)");
      check(cudaEventRecord(done_[b], stream()), "cudaEventRecord");
    }
  }

  void to_host(void* dst, const void* src, size_t nbytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    init();
    const size_t chunks = (nbytes + kChunk - 1) / kChunk;
    auto issue = [&](size_t i) {
      const size_t off = i * kChunk, len = std::min(kChunk, nbytes - off);
      check(cudaMemcpyAsync(buf_[i & 1], static_cast<const char*>(src) + off, len, cudaMemcpyDeviceToHost, stream()),
            "cudaMemcpyAsync (device to host)");
      check(cudaEventRecord(done_[i & 1], stream()), "cudaEventRecord");
    };
    issue(0);
    for (size_t i = 0; i < chunks; ++i) {
      if (i + 1 < chunks) issue(i + 1);
      check(cudaEventSynchronize(done_[i & 1]), "cudaEventSynchronize");
      const size_t off = i * kChunk, len = std::min(kChunk, nbytes - off);
      std::memcpy(static_cast<char*>(dst) + off, buf_[i & 1], len);
    }
  }

 private:
  void init() {
    if (buf_[0] != nullptr) return;
    for (int b = 0; b < 2; ++b) {
      check(cudaHostAlloc(&buf_[b], kChunk, cudaHostAllocDefault), "cudaHostAlloc (staging)");
      check(cudaEventCreateWithFlags(&done_[b], cudaEventDisableTiming), "cudaEventCreate");
      check(cudaEventRecord(done_[b], stream()), "cudaEventRecord");
    }
  }
  std::mutex mutex_;
  void* buf_[2] = {nullptr, nullptr};
  cudaEvent_t done_[2] = {nullptr, nullptr};
};

// Per device: the pinned buffers' events belong to the device whose stream records them.
Staging& staging() {
  static Staging* per_device = new Staging[kMaxDevices];
  return per_device[current_device()];
}

constexpr size_t kStageAbove = size_t{1} << 20;

// The f16 type of kernels::convert_element on CUDA.
struct CudaF16 {
  using type = __half;
  static __host__ __device__ float to_f32(__half v) { return __half2float(v); }
  static __host__ __device__ __half from_f32(float v) { return __float2half_rn(v); }
};

template <typename From, typename To, typename Index>
__global__ void copy_kernel(Strided<2> layout, Index n, const From* in, To* out) {
  for (Index i = blockIdx.x * Index{blockDim.x} + threadIdx.x; i < n; i += Index{gridDim.x} * blockDim.x) {
    int64_t off[2];
    layout.offsets(i, off);
    out[off[1]] = kernels::convert_element<CudaF16, From, To>(in[off[0]]);
  }
}

// Launches copy_kernel with 32-bit index arithmetic where n allows (grid * block stays below 2^31, so the
// loop's increment cannot wrap either).
template <typename From, typename To>
void launch_copy(const Strided<2>& layout, int64_t n, const From* in, To* out) {
  if (n <= INT32_MAX) {
    copy_kernel<From, To, uint32_t>
        <<<grid_stride_blocks(n), kThreads, 0, stream()>>>(layout, static_cast<uint32_t>(n), in, out);
  } else {
    copy_kernel<From, To, int64_t><<<grid_stride_blocks(n), kThreads, 0, stream()>>>(layout, n, in, out);
  }
  check_launch("copy kernel");
}

// Bytes moved as one access by a word of that size.
template <int Bytes> struct WordOf;
template <> struct WordOf<16> { using type = uint4; };
template <> struct WordOf<8> { using type = uint2; };
template <> struct WordOf<4> { using type = uint32_t; };

// A same-dtype copy between views whose innermost merged dimension is contiguous on both sides (attention's
// head transposes [b, t, h, d] <-> [b, h, t, d], cat into a slice) moves `Bytes`-byte words instead of
// elements, when the innermost size, every other stride and both base addresses are whole words; returns
// false when they are not.
template <int Bytes>
bool copy_words(Strided<2> layout, int64_t n, int esize, const void* in, void* out) {
  if (Bytes <= esize || layout.ndim == 0) return false;
  const int last = layout.ndim - 1;
  const int64_t per = Bytes / esize;
  if (layout.stride[0][last] != 1 || layout.stride[1][last] != 1 || layout.size[last] % per != 0) return false;
  if (reinterpret_cast<uintptr_t>(in) % Bytes != 0 || reinterpret_cast<uintptr_t>(out) % Bytes != 0) return false;
  for (int d = 0; d < last; ++d) {
    for (int k = 0; k < 2; ++k) {
      if (layout.stride[k][d] % per != 0) return false;
      layout.stride[k][d] /= per;
    }
  }
  layout.size[last] /= per;
  using Word = typename WordOf<Bytes>::type;
  launch_copy<Word, Word>(layout, n / per, static_cast<const Word*>(in), static_cast<Word*>(out));
  return true;
}

template <typename T>
__global__ void fill_kernel(Strided<1> layout, int64_t n, T value, T* out) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    int64_t off[1];
    layout.offsets(i, off);
    out[off[0]] = value;
  }
}

template <typename From, typename To>
void copy_typed(const Array& src, const Array& dst) {
  bool contiguous = false;
  const Strided<2> layout = make_strided<2>(dst.shape(), {&src.strides(), &dst.strides()}, &contiguous);
  const int64_t n = dst.numel();
  if constexpr (std::is_same_v<From, To>) {
    if (contiguous) {
      check(cudaMemcpyAsync(dst.data(), src.data(), n * sizeof(To), cudaMemcpyDeviceToDevice, stream()),
            "cudaMemcpyAsync (device to device)");
      return;
    }
  }
  if constexpr (std::is_same_v<From, To>) {
    const int size = static_cast<int>(sizeof(To));
    const void* in = src.data();
    void* out = dst.data();
    if (copy_words<16>(layout, n, size, in, out) || copy_words<8>(layout, n, size, in, out) ||
        copy_words<4>(layout, n, size, in, out)) {
      return;
    }
  }
  launch_copy<From, To>(layout, n, static_cast<const From*>(src.data()), static_cast<To*>(dst.data()));
}

}  // namespace

void host_to_device(void* dst, const void* src, size_t nbytes) {
  if (capturing()) throw DeviceError("cuda: a copy from host memory while capturing a CUDA graph");
  if (nbytes >= kStageAbove) return staging().to_device(dst, src, nbytes);
  // Pageable source: the call returns once the driver has taken its own copy of the bytes.
  check(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyHostToDevice, stream()), "cudaMemcpyAsync (host to device)");
}

namespace {
std::atomic<int64_t> reads{0};
}

int64_t host_reads() { return reads.load(); }

void device_to_host(void* dst, const void* src, size_t nbytes) {
  reads.fetch_add(1);
  if (capturing()) throw DeviceError("cuda: a read of device memory by the host while capturing a CUDA graph");
  if (nbytes >= kStageAbove) return staging().to_host(dst, src, nbytes);
  check(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToHost, stream()), "cudaMemcpyAsync (device to host)");
  check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize");
}

Backend* create_backend() { return new CudaBackend(); }

void CudaBackend::copy_from_host(const void* src, const Array& dst) {
  if (dst.is_contiguous()) return host_to_device(dst.data(), src, dst.nbytes());
  Scratch tmp(dst.nbytes());
  host_to_device(tmp.as<void>(), src, dst.nbytes());
  const Array packed = Array::from_memory(tmp.as<void>(), dst.shape(), contiguous_strides(dst.shape()), dst.dtype(),
                                          dst.device(), nullptr);
  copy(packed, dst);
}

void CudaBackend::copy_to_host(const Array& src, void* dst) {
  if (src.is_contiguous()) {
    device_to_host(dst, src.data(), src.nbytes());
  } else {
    Scratch tmp(src.nbytes());
    const Array packed = Array::from_memory(tmp.as<void>(), src.shape(), contiguous_strides(src.shape()),
                                            src.dtype(), src.device(), nullptr);
    copy(src, packed);
    device_to_host(dst, tmp.as<void>(), src.nbytes());
  }
  raise_deferred_errors();  // data read back may derive from data a check kernel rejected
}

void CudaBackend::copy(const Array& src, const Array& dst) {
  visit_device_dtype(src.dtype(), [&](auto from) {
    visit_device_dtype(dst.dtype(), [&](auto to) { copy_typed<decltype(from), decltype(to)>(src, dst); });
  });
}

void CudaBackend::fill(const Array& dst, double value) {
  const Strided<1> layout = make_strided<1>(dst.shape(), {&dst.strides()});
  const int64_t n = dst.numel();
  visit_device_dtype(dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T v;
    if constexpr (std::is_same_v<T, __half>) {
      v = __ushort_as_half(f32_to_f16_bits(static_cast<float>(value)));
    } else if constexpr (std::is_same_v<T, bool>) {
      v = value != 0.0;
    } else {
      v = static_cast<T>(value);
    }
    fill_kernel<T><<<grid_stride_blocks(n), kThreads, 0, stream()>>>(layout, n, v, dst.data_as<T>());
  });
  check_launch("fill kernel");
}

}  // namespace tensorlogic::cuda
