// The elementwise kernel family on Metal: unary, binary and ternary ops over broadcast, strided operands
// (metal/elementwise.metal), each op a specialised pipeline.
#include "metal_launch.h"

#include <string>
#include <vector>
#include "tensorlogic/errors.h"

namespace tensorlogic::metal {

void MetalBackend::unary(UnaryOp op, const Array& in, const Array& out, const UnaryParams& params) {
  const Strides* operands[4] = {&in.strides(), nullptr, nullptr, &out.strides()};
  bool contiguous = false;
  auto p = elementwise_params(unary_name(op), out.shape(), operands, &contiguous);
  p.pa = params.a;
  p.pb = params.b;
  id<MTLComputePipelineState> pipeline = context_.pipeline(
      "elementwise", std::string("unary_") + dtype_short_name(in.dtype()),
      {uint_constant(0, static_cast<uint32_t>(op)), bool_constant(1, contiguous), bool_constant(2, false),
       bool_constant(3, false)});
  run_kernel_1d(context_, pipeline, {in, out}, p, p.numel, unary_name(op));
}

void MetalBackend::binary(BinaryOp op, const Operand& a, const Operand& b, const Array& out) {
  const Strides* operands[4] = {a.array ? &a.array->strides() : nullptr, b.array ? &b.array->strides() : nullptr,
                                nullptr, &out.strides()};
  bool contiguous = false;
  auto p = elementwise_params(binary_name(op), out.shape(), operands, &contiguous);
  p.scalar_a = static_cast<float>(a.scalar);
  p.scalar_b = static_cast<float>(b.scalar);
  // The compute dtype: f16, int32 or int64 (the core converts bools); comparisons write f16 masks.
  const Dtype dtype = (a.array ? a.array->dtype() : b.array->dtype());
  const bool ints = dtype != Dtype::float16;
  if (dtype == Dtype::int64) {  // the one scalar operand as a 64-bit word: low half in a, high half in b
    const uint64_t word = static_cast<uint64_t>(static_cast<int64_t>(a.array ? b.scalar : a.scalar));
    p.iscalar_a = static_cast<int32_t>(static_cast<uint32_t>(word));
    p.iscalar_b = static_cast<int32_t>(static_cast<uint32_t>(word >> 32));
  } else {
    p.iscalar_a = static_cast<int32_t>(a.scalar);
    p.iscalar_b = static_cast<int32_t>(b.scalar);
  }
  const std::vector<Constant> constants = {uint_constant(0, static_cast<uint32_t>(op)), bool_constant(1, contiguous),
                                           bool_constant(2, a.array == nullptr), bool_constant(3, b.array == nullptr)};
  id<MTLComputePipelineState> pipeline =
      context_.pipeline("elementwise", std::string("binary_") + dtype_short_name(dtype), constants);
  const bool can_divide_by_zero = ints && (op == BinaryOp::floor_divide || op == BinaryOp::remainder);
  Array flags;
  if (can_divide_by_zero) {
    flags = Array::empty({1}, Dtype::int32, device_);
    fill(flags, 0.0);
  }
  context_.encode([&](id<MTLComputeCommandEncoder> encoder) {
    Launch launch{context_, encoder};
    launch.bind(a.array ? *a.array : out, 0);  // a scalar operand's slot is bound but never read
    launch.bind(b.array ? *b.array : out, 1);
    launch.bind(out, 2);
    if (ints) {
      launch.bind(out, 3);
      launch.bind(can_divide_by_zero ? flags : out, 4);
      set_params(encoder, p, 5);
    } else {
      set_params(encoder, p, 3);
    }
    launch.run_1d(pipeline, p.numel, binary_name(op));
  });
  if (can_divide_by_zero) {
    int32_t flag = 0;
    copy_to_host(flags, &flag);  // waits: the CPU backend raises for the same input
    if (flag != 0) throw ArgumentError(std::string(binary_name(op)) + ": integer division by zero");
  }
}

void MetalBackend::ternary(TernaryOp op, const Array& a, const Array& b, const Array& c, const Array& out) {
  const Strides* operands[4] = {&a.strides(), &b.strides(), &c.strides(), &out.strides()};
  bool contiguous = false;
  const auto p = elementwise_params(op == TernaryOp::where ? "where" : "affine", out.shape(), operands, &contiguous);
  // where moves the values' words (int32, int64 or bool); affine and where of f16 compute in f32.
  const std::string name =
      out.dtype() == Dtype::float16 ? "ternary_f16" : std::string("where_") + dtype_short_name(out.dtype());
  id<MTLComputePipelineState> pipeline = context_.pipeline(
      "elementwise", name,
      {uint_constant(0, static_cast<uint32_t>(op)), bool_constant(1, contiguous), bool_constant(2, false),
       bool_constant(3, false)});
  run_kernel_1d(context_, pipeline, {a, b, c, out}, p, p.numel, "ternary");
}

}  // namespace tensorlogic::metal
