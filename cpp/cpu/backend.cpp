// CPU backend: its buffer cache (64-byte aligned host memory), host transfers, copies and fills.
#include "cpu_backend.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "../core/strided.h"
#include "../kernels/convert.h"
#include "f16_convert.h"
#include "parallel.h"

namespace tensorlogic::cpu {
namespace {

class HostCache final : public BufferCache {
 public:
  HostCache() : BufferCache(Device{DeviceType::cpu, 0}) {}

 protected:
  void* raw_allocate(size_t nbytes) override { return std::aligned_alloc(64, (nbytes + 63) / 64 * 64); }
  void raw_free(void* ptr, size_t) override { std::free(ptr); }
};

constexpr int64_t kCopyGrain = 1 << 16;

// The f16 type of kernels::convert_element on the CPU.
struct CpuF16 {
  using type = half;
  static float to_f32(half v) { return to_float(v); }
  static half from_f32(float v) { return to_half(v); }
};

// A contiguous run of a conversion to or from f16, as kernels::convert_element gives, without its per-element bit
// manipulation: f16 <-> bool as bit tests, f16 <-> integers through f32 blocks and the vectorised f16
// conversion. The per-element path made a 2.4M-element mask (x > 0, then its use as f16) 3-13 ms.
template <typename From, typename To>
void convert_run(const From* in, To* out, int64_t n) {
  if constexpr (std::is_same_v<From, half> && std::is_same_v<To, bool>) {
    for (int64_t i = 0; i < n; ++i) out[i] = (in[i].bits & 0x7fffu) != 0;  // only ±0 is false; NaN is true
  } else if constexpr (std::is_same_v<From, bool> && std::is_same_v<To, half>) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(in);  // a bool's byte is 0 or 1
    for (int64_t i = 0; i < n; ++i) out[i].bits = static_cast<uint16_t>(bytes[i] * 0x3c00u);  // 0 or 1.0
  } else {
    constexpr int64_t kBlock = 512;
    float block[kBlock];
    for (int64_t b = 0; b < n; b += kBlock) {
      const int64_t m = std::min(kBlock, n - b);
      if constexpr (std::is_same_v<From, half>) {
        f16_to_f32(in + b, block, m);
        for (int64_t i = 0; i < m; ++i) out[b + i] = static_cast<To>(block[i]);
      } else {
        for (int64_t i = 0; i < m; ++i) block[i] = static_cast<float>(in[b + i]);
        f32_to_f16(block, out + b, m);
      }
    }
  }
}

template <typename From, typename To>
void copy_typed(const Array& src, const Array& dst) {
  const Layout<2> layout(dst.shape(), {&src.strides(), &dst.strides()});
  const From* in = src.data_as<From>();
  To* out = dst.data_as<To>();
  if constexpr (std::is_same_v<From, To>) {
    if (layout.contiguous(0) && layout.contiguous(1)) {
      parallel_for(layout.numel, kCopyGrain, [&](int64_t b, int64_t e) {
        std::memcpy(out + b, in + b, static_cast<size_t>(e - b) * sizeof(To));
      });
      return;
    }
  } else if constexpr (std::is_same_v<From, half> || std::is_same_v<To, half>) {
    if (layout.contiguous(0) && layout.contiguous(1)) {
      parallel_for(layout.numel, kCopyGrain, [&](int64_t b, int64_t e) { convert_run(in + b, out + b, e - b); });
      return;
    }
  }
  const int64_t ss = layout.inner_stride(0), ds = layout.inner_stride(1);
  parallel_for(layout.numel, kCopyGrain, [&](int64_t b, int64_t e) {
    layout.for_each_run(b, e, [&](const std::array<int64_t, 2>& off, int64_t count) {
      const From* s = in + off[0];
      To* d = out + off[1];
      if constexpr (std::is_same_v<From, To>) {
        // Unit-stride runs of one dtype are memcpy's (cat, stack and slices write rows of a wider array, heads
        // move between axes): the element loop copied the half struct one at a time (stack of 16 [32, 64]:
        // 24.5 us, PyTorch's 4.6 us).
        if (ss == 1 && ds == 1) {
          std::memcpy(d, s, static_cast<size_t>(count) * sizeof(To));
          return;
        }
      }
      for (int64_t i = 0; i < count; ++i) d[i * ds] = kernels::convert_element<CpuF16, From, To>(s[i * ss]);
    });
  });
}

}  // namespace

Backend* create_backend() { return new CpuBackend(); }

CpuBackend::CpuBackend() = default;

BufferCache& CpuBackend::cache() {
  static HostCache* instance = new HostCache();  // outlives every array (never destroyed)
  return *instance;
}

void CpuBackend::copy_from_host(const void* src, const Array& dst) {
  const Array host = Array::from_memory(const_cast<void*>(src), dst.shape(), contiguous_strides(dst.shape()),
                                        dst.dtype(), dst.device(), nullptr);
  copy(host, dst);
}

void CpuBackend::copy_to_host(const Array& src, void* dst) {
  const Array host = Array::from_memory(dst, src.shape(), contiguous_strides(src.shape()), src.dtype(),
                                        src.device(), nullptr);
  copy(src, host);
}

void CpuBackend::copy(const Array& src, const Array& dst) {
  visit_dtype(src.dtype(), [&](auto from) {
    visit_dtype(dst.dtype(), [&](auto to) { copy_typed<decltype(from), decltype(to)>(src, dst); });
  });
}

void CpuBackend::fill(const Array& dst, double value) {
  const Layout<1> layout(dst.shape(), {&dst.strides()});
  auto fill_typed = [&](auto* out, auto v) {
    parallel_for(layout.numel, kCopyGrain, [&](int64_t b, int64_t e) {
      layout.for_each_run(b, e, [&](const std::array<int64_t, 1>& off, int64_t count) {
        const int64_t s = layout.inner_stride(0);
        if (s == 1) {
          std::fill_n(out + off[0], count, v);
        } else {
          for (int64_t i = 0; i < count; ++i) out[off[0] + i * s] = v;
        }
      });
    });
  };
  visit_dtype(dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, half>) {
      // Through the bits: a unit-stride fill of uint16_t becomes wide stores, where one of the half struct was
      // stored an element at a time (32K f16 zeros, autograd's per-slice gradient: 9.6 -> ~2 us).
      fill_typed(reinterpret_cast<uint16_t*>(dst.data_as<half>()), to_half(static_cast<float>(value)).bits);
    } else if constexpr (std::is_same_v<T, bool>) {
      fill_typed(dst.data_as<T>(), value != 0.0);
    } else {
      fill_typed(dst.data_as<T>(), static_cast<T>(value));
    }
  });
}

}  // namespace tensorlogic::cpu
