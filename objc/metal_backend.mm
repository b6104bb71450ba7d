// MetalBackend: the constructor, host transfers (they wait for queued work, then copy on the CPU: buffers
// are in shared storage), copies, fills and the hooks of cpp/core/dispatch.cpp. The kernel families
// are in objc/metal_*.mm, one file per family like cpp/cpu/ and cuda/.
#include "metal_launch.h"

#include "tensorlogic/errors.h"

namespace tensorlogic::metal {
namespace {

Array alias_on_cpu(const Array& a) {
  return Array::from_memory(a.data(), a.shape(), a.strides(), a.dtype(), Device{DeviceType::cpu, 0}, nullptr);
}

}  // namespace

MetalBackend::MetalBackend(Context& context, Device device)
    : context_(context), device_(device), cache_(device, context) {}

void MetalBackend::copy_from_host(const void* src, const Array& dst) {
  context_.synchronize();  // queued kernels may still read or write dst
  const Array host = Array::from_memory(const_cast<void*>(src), dst.shape(), contiguous_strides(dst.shape()),
                                        dst.dtype(), Device{DeviceType::cpu, 0}, nullptr);
  backend_for(Device{DeviceType::cpu, 0}).copy(host, alias_on_cpu(dst));
}

void MetalBackend::copy_to_host(const Array& src, void* dst) {
  context_.synchronize();
  const Array host = Array::from_memory(dst, src.shape(), contiguous_strides(src.shape()), src.dtype(),
                                        Device{DeviceType::cpu, 0}, nullptr);
  backend_for(Device{DeviceType::cpu, 0}).copy(alias_on_cpu(src), host);
}

void MetalBackend::copy(const Array& src, const Array& dst) {
  const Strides* operands[4] = {&src.strides(), nullptr, nullptr, &dst.strides()};
  bool contiguous = false;
  const auto p = elementwise_params("copy", dst.shape(), operands, &contiguous);
  // copy_u<bits> moves raw words; copy_<from>_<to> converts (metal/copy.metal).
  const std::string name = src.dtype() == dst.dtype() ? "copy_u" + std::to_string(8 * src.itemsize())
                                                      : std::string("copy_") + dtype_short_name(src.dtype()) + "_" +
                                                            dtype_short_name(dst.dtype());
  id<MTLComputePipelineState> pipeline = context_.pipeline("copy", name, {});
  run_kernel_1d(context_, pipeline, {src, dst}, p, p.numel, "copy");
}

void MetalBackend::fill(const Array& dst, double value) {
  const Strides* operands[4] = {nullptr, nullptr, nullptr, &dst.strides()};
  bool contiguous = false;
  auto p = elementwise_params("fill", dst.shape(), operands, &contiguous);
  if (dst.dtype() == Dtype::float16) {
    p.iscalar_a = static_cast<int32_t>(to_half(static_cast<float>(value)).bits);
  } else if (dst.dtype() == Dtype::bool_) {
    p.iscalar_a = value != 0.0 ? 1 : 0;
  } else {  // an int64's high word in iscalar_b
    const uint64_t word = static_cast<uint64_t>(static_cast<int64_t>(value));
    p.iscalar_a = static_cast<int32_t>(static_cast<uint32_t>(word));
    p.iscalar_b = static_cast<int32_t>(static_cast<uint32_t>(word >> 32));
  }
  id<MTLComputePipelineState> pipeline = context_.pipeline("copy", "fill_u" + std::to_string(8 * dst.itemsize()), {});
  run_kernel_1d(context_, pipeline, {dst}, p, p.numel, "fill");
}

Array MetalBackend::upload(const void* data, size_t bytes) {
  Array a = Array::empty({static_cast<int64_t>((bytes + 3) / 4)}, Dtype::int32, device_);
  if (bytes > 0) std::memcpy(a.data(), data, bytes);
  return a;
}

bool device_present() { return Context::get() != nullptr; }

Backend* create_backend() {
  Context* context = Context::get();
  return context == nullptr ? nullptr : new MetalBackend(*context, Device{DeviceType::metal, 0});
}

}  // namespace tensorlogic::metal
