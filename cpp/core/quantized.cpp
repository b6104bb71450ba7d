// Linear layers with weights kept in GGUF's quantised block formats: the argument checks and shapes of
// quantized_linear and dequantize (the kernels are the backends' quantized_gemm and dequantize families).
#include <string>

#include "gemm.h"
#include "tensorlogic/errors.h"
#include "tensorlogic/ops.h"

namespace tensorlogic {

const char* quant_name(QuantType type) {
  switch (type) {
#define TL_QUANT(type, name, block_elems, block_bytes) \
  case QuantType::type:                                \
    return name;
#include "tensorlogic/op_table.def"
  }
  throw ArgumentError("unknown quantisation type " + std::to_string(static_cast<unsigned>(type)));
}

namespace {

// Checks `blocks` as the quantised weight [rows, in_features] of `type` (see ops.h).
void check_blocks(const char* op, const Array& blocks, QuantType type, int64_t in_features) {
  const std::string what = std::string(op) + ": " + quant_name(type) + " weight blocks ";
  if (blocks.dtype() != Dtype::int32 || blocks.ndim() != 2 || (blocks.shape()[1] > 1 && blocks.strides()[1] != 1)) {
    throw ArgumentError(what + "must be an int32 [out_features, words] array with contiguous rows, got " +
                        dtype_name(blocks.dtype()) + " " + shape_str(blocks.shape()));
  }
  const int64_t elems = quant_block_elems(type);
  if (in_features <= 0 || in_features % elems != 0) {
    throw ShapeMismatchError(what + "hold rows of whole " + std::to_string(elems) + "-weight blocks; in_features " +
                             std::to_string(in_features) + " is not a positive multiple of " + std::to_string(elems));
  }
  const int64_t row_bytes = in_features / elems * quant_block_bytes(type);
  if (blocks.shape()[1] * 4 < row_bytes) {
    throw ShapeMismatchError(what + shape_str(blocks.shape()) + " are too short: a row of " +
                             std::to_string(in_features) + " weights takes " + std::to_string(row_bytes) + " bytes");
  }
}

}  // namespace

Array quantized_linear(const Array& x_in, const Array& blocks, QuantType type, int64_t in_features,
                       const std::optional<Array>& bias, Activation act, const std::optional<Array>& residual) {
  Backend& backend = backend_of("quantized_linear", {&x_in, &blocks, bias ? &*bias : nullptr,
                                                     residual ? &*residual : nullptr});
  check_blocks("quantized_linear", blocks, type, in_features);
  const Shape w_shape{blocks.shape()[0], in_features};
  if (x_in.ndim() == 0 || x_in.shape().back() != in_features) {
    throw ShapeMismatchError("quantized_linear: input " + shape_str(x_in.shape()) + " does not end in the weight's " +
                             std::to_string(in_features) + " in_features");
  }
  const Array x = x_in.dtype() == Dtype::float16 ? x_in : astype(x_in, Dtype::float16);
  Shape result(x.shape().begin(), x.shape().end() - 1);
  result.push_back(w_shape[0]);
  const int64_t rows = x.numel() / in_features;
  LinearEpilogue ep("quantized_linear", w_shape, result, act, bias, residual);
  // The kernels see [1, rows, .]: batch dimensions fold into the rows of one product with the shared weight.
  if (ep.residual) ep.residual = reshape(*ep.residual, {1, rows, w_shape[0]});
  Array out = Array::empty({1, rows, w_shape[0]}, Dtype::float16, x.device());
  if (out.numel() > 0) backend.quantized_gemm(type, contiguous(reshape(x, {1, rows, in_features})), blocks, out, ep.get());
  return reshape(out, result);
}

Array dequantize(const Array& blocks, QuantType type, int64_t in_features) {
  Backend& backend = backend_of("dequantize", {&blocks});
  check_blocks("dequantize", blocks, type, in_features);
  Array out = Array::empty({blocks.shape()[0], in_features}, Dtype::float16, blocks.device());
  if (out.numel() > 0) backend.dequantize(type, blocks, out);
  return out;
}

void Backend::quantized_gemm(QuantType type, const Array& x, const Array&, const Array&, const GemmEpilogue&) {
  throw DeviceError(std::string("quantized_linear: ") + quant_name(type) + " weights have no kernel on " +
                    x.device().str() + " (keep them on the cpu, or dequantize them on load)");
}

void Backend::dequantize(QuantType type, const Array& blocks, const Array&) {
  throw DeviceError(std::string("dequantize: ") + quant_name(type) + " weights have no kernel on " +
                    blocks.device().str() + " (dequantize them on the cpu and move the result)");
}

}  // namespace tensorlogic
