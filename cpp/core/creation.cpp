// Creating arrays, moving them between host and devices, and copies.
#include <cmath>
#include <memory>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>

#include "backend.h"
#include "shape_util.h"
#include "tensorlogic/errors.h"
#include "tensorlogic/ops.h"

namespace tensorlogic {
namespace {

// arange and linspace build their values on the host first: a count whose buffer cannot exist raises
// MemoryError naming the op (checked before converting the count to an integer, which would overflow).
// The buffer comes from the non-throwing new: under AddressSanitizer a failed throwing new aborts the
// process instead of throwing (allocator_may_return_null only reaches the non-throwing forms).
template <typename T>
struct HostBuffer {
  std::unique_ptr<T[]> data;
  int64_t size;
};

template <typename T>
HostBuffer<T> host_buffer(double count, const char* op) {
  auto fail = [&] {
    std::ostringstream what;
    what << op << ": " << count << " elements exceed the available memory";
    return OutOfMemoryError(what.str());
  };
  if (!(count < static_cast<double>(kMaxBytes / static_cast<int64_t>(sizeof(T))))) throw fail();
  const int64_t size = count > 0 ? static_cast<int64_t>(count) : 0;
  HostBuffer<T> buffer{std::unique_ptr<T[]>(new (std::nothrow) T[size > 0 ? size : 1]), size};
  if (!buffer.data) throw fail();
  return buffer;
}

}  // namespace

Array empty(const Shape& shape, Dtype dtype, Device device) { return Array::empty(shape, dtype, device); }

Array full(const Shape& shape, double value, Dtype dtype, Device device) {
  check_fill_value("full", value, dtype);
  Array out = Array::empty(shape, dtype, device);
  if (out.numel() > 0) backend_for(device).fill(out, value);
  return out;
}

Array zeros(const Shape& shape, Dtype dtype, Device device) { return full(shape, 0.0, dtype, device); }
Array ones(const Shape& shape, Dtype dtype, Device device) { return full(shape, 1.0, dtype, device); }

Array arange(double start, double end, double step, Dtype dtype, Device device) {
  if (step == 0 || !std::isfinite(start) || !std::isfinite(end) || !std::isfinite(step)) {
    throw ArgumentError("arange: step must be non-zero and the bounds finite");
  }
  const double count = std::ceil((end - start) / step);
  if (dtype == Dtype::bool_) throw DtypeError("arange: not implemented for bool (PyTorch neither)");
  if (is_integer(dtype)) {
    const HostBuffer<int64_t> host = host_buffer<int64_t>(count, "arange");
    const int64_t n = host.size;
    const double last = start + static_cast<double>(n - 1) * step;
    const double limit = dtype == Dtype::int32 ? 2147483648.0 : 9223372036854775808.0;
    if (n > 0 && !(std::fabs(start) < limit && std::fabs(last) < limit)) {
      throw std::overflow_error(std::string("arange: values beyond the ") + dtype_name(dtype) + " range");
    }
    for (int64_t i = 0; i < n; ++i) host.data[i] = static_cast<int64_t>(start + static_cast<double>(i) * step);
    const Array out = from_host(host.data.get(), {n}, Dtype::int64, device);
    return dtype == Dtype::int64 ? out : astype(out, dtype);
  }
  const HostBuffer<float> host = host_buffer<float>(count, "arange");
  const int64_t n = host.size;
  for (int64_t i = 0; i < n; ++i) host.data[i] = static_cast<float>(start + static_cast<double>(i) * step);
  return from_host_f32(host.data.get(), {n}, device);
}

Array linspace(double start, double end, int64_t steps, Device device) {
  if (steps < 0) throw ArgumentError("linspace: number of steps must be non-negative");
  const HostBuffer<float> host = host_buffer<float>(static_cast<double>(steps), "linspace");
  const double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
  // Like PyTorch: fill the second half backwards from `end` so both ends are exact.
  for (int64_t i = 0; i < steps; ++i) {
    host.data[i] = static_cast<float>(i < steps / 2 ? start + step * static_cast<double>(i)
                                               : end - step * static_cast<double>(steps - 1 - i));
  }
  return from_host_f32(host.data.get(), {steps}, device);
}

Array eye(int64_t n, int64_t m, Device device) {
  if (n < 0 || m < 0) throw ArgumentError("eye: sizes must be non-negative");
  Array out = zeros({n, m}, Dtype::float16, device);
  if (n > 0 && m > 0) fill_(diagonal(out, 0, 0, 1), 1.0);
  return out;
}

Array from_host(const void* data, const Shape& shape, Dtype dtype, Device device) {
  Array out = Array::empty(shape, dtype, device);
  if (data == nullptr && out.numel() > 0) throw ArgumentError("from_host: null data for shape " + shape_str(shape));
  if (out.numel() > 0) backend_for(device).copy_from_host(data, out);
  return out;
}

Array from_host_f32(const float* data, const Shape& shape, Device device) {
  int64_t n = 0;
  if (!checked_numel(shape, &n)) throw ArgumentError("from_host_f32: invalid shape " + shape_str(shape));
  if (data == nullptr && n > 0) throw ArgumentError("from_host_f32: null data for shape " + shape_str(shape));
  int64_t overflow = 0, first = -1;
  std::vector<half> bits(n);
  for (int64_t i = 0; i < n; ++i) {
    if (std::isfinite(data[i]) && std::fabs(data[i]) > kHalfMax) {
      if (first < 0) first = i;
      ++overflow;
    }
    bits[i] = to_half(data[i]);
  }
  if (overflow > 0) {
    throw PrecisionOverflowError(std::to_string(overflow) + " value(s) exceed the float16 range ±65504; the first at flat index " +
                                 std::to_string(first) + " is " + std::to_string(data[first]));
  }
  return from_host(bits.data(), shape, Dtype::float16, device);
}

void to_host(const Array& a, void* out) {
  if (a.numel() > 0) backend_for(a.device()).copy_to_host(a, out);
}

Array to_device(const Array& a, Device device) {
  if (a.device() == device) return a;
  Backend& target = backend_for(device);
#if defined(TL_WITH_METAL) && defined(TL_WITH_COREML)
  // metal and ane address the same shared-storage MTLBuffers: moving between them relabels the memory
  // (no copy, SPEC §3); the new storage keeps the original alive.
  const bool metal_ane = (a.device().type == DeviceType::metal && device.type == DeviceType::ane) ||
                         (a.device().type == DeviceType::ane && device.type == DeviceType::metal);
  if (metal_ane) {
    auto relabelled = std::make_shared<Storage>(a.storage()->data(), a.storage()->nbytes(), device, a.storage());
    return Array(std::move(relabelled), a.shape(), a.strides(), a.offset(), a.dtype());
  }
#endif
  Array out = Array::empty(a.shape(), a.dtype(), device);
  if (out.numel() == 0) return out;
  if (a.device().type == DeviceType::cpu) {
    const Array src = contiguous(a);
    target.copy_from_host(src.data(), out);
  } else if (device.type == DeviceType::cpu) {
    backend_for(a.device()).copy_to_host(a, out.data());
  } else if (device.type == a.device().type) {
    const Array src = contiguous(a);  // runs on a's device; copy_peer selects both devices itself
    target.copy_peer(src, out);
  } else {
    Array staging = to_device(a, Device{DeviceType::cpu, 0});
    target.copy_from_host(staging.data(), out);
  }
  return out;
}

Array contiguous(const Array& a) { return a.is_contiguous() ? a : clone(a); }

Array clone(const Array& a) {
  Array out = Array::empty(a.shape(), a.dtype(), a.device());
  if (out.numel() > 0) backend_for(a.device()).copy(a, out);
  return out;
}

Array astype(const Array& a, Dtype dtype) {
  if (a.dtype() == dtype) return a;
  Array out = Array::empty(a.shape(), dtype, a.device());
  if (out.numel() > 0) backend_for(a.device()).copy(a, out);
  return out;
}

void copy_(const Array& dst, const Array& src) {
  Backend& backend = backend_of("copy_", {&dst, &src});
  check_no_internal_overlap(dst, "copy_");
  Array from = expand(src, dst.shape());
  if (from.shares_storage(dst) && dst.numel() > 0) from = clone(from);  // overlapping views: read first
  if (dst.numel() > 0) backend.copy(from, dst);
}

void fill_(const Array& dst, double value) {
  check_fill_value("fill_", value, dst.dtype());
  if (dst.numel() > 0) backend_for(dst.device()).fill(dst, value);
}

}  // namespace tensorlogic
