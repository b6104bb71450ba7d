// Matrix products, einsum, triangles, the convolution family and attention. Large ones run without the
// GIL (gil.h).
#include <array>
#include <tuple>

#include "bindings.h"

namespace tensorlogic::python {
namespace {

Activation parse_activation(const std::string& name) {
  std::string known;
#define TL_ACTIVATION(op)                         \
  if (name == #op) return Activation::op;         \
  known += known.empty() ? #op : ", " #op;
#include "tensorlogic/op_table.def"
  throw ArgumentError("linear: unknown activation '" + name + "' (expected one of " + known + ")");
}

using Pair = std::array<int64_t, 2>;
using DropoutTuple = std::tuple<double, uint64_t, uint64_t>;

AttentionDropout from_tuple(const DropoutTuple& t) { return {std::get<0>(t), std::get<1>(t), std::get<2>(t)}; }

Conv2dArgs conv_args(const Pair& stride, const Pair& padding, const Pair& dilation) {
  Conv2dArgs args;
  for (int i = 0; i < 2; ++i) {
    args.stride[i] = stride[i];
    args.padding[i] = padding[i];
    args.dilation[i] = dilation[i];
  }
  return args;
}

}  // namespace

void bind_linalg(py::module_& m) {
  m.def("matmul", without_gil(&matmul));
  m.def("linear", without_gil(+[](const Array& x, const Array& w, std::optional<Array> bias, const std::string& act,
                                 std::optional<Array> residual) {
          return linear(x, w, bias, parse_activation(act), residual);
        }),
        py::arg("x"), py::arg("w"), py::arg("bias") = py::none(), py::arg("act") = "none",
        py::arg("residual") = py::none());
  m.def("linear_weight_bias_grad", without_gil(&linear_weight_bias_grad), py::arg("grad"), py::arg("x"));
  py::enum_<QuantType> quant_type(m, "QuantType");
#define TL_QUANT(type, name, block_elems, block_bytes) quant_type.value(name, QuantType::type);
#include "tensorlogic/op_table.def"
  m.def("quant_block", [](QuantType type) { return std::make_pair(quant_block_elems(type), quant_block_bytes(type)); },
        py::arg("type"));
  m.def("quantized_linear", without_gil(+[](const Array& x, const Array& blocks, QuantType type, int64_t in_features,
                                           std::optional<Array> bias, const std::string& act,
                                           std::optional<Array> residual) {
          return quantized_linear(x, blocks, type, in_features, bias, parse_activation(act), residual);
        }),
        py::arg("x"), py::arg("blocks"), py::arg("type"), py::arg("in_features"), py::arg("bias") = py::none(),
        py::arg("act") = "none", py::arg("residual") = py::none());
  m.def("dequantize", without_gil(&dequantize), py::arg("blocks"), py::arg("type"), py::arg("in_features"));
  m.def("tril", without_gil(&tril), py::arg("a"), py::arg("k") = 0);
  m.def("triu", without_gil(&triu), py::arg("a"), py::arg("k") = 0);
  m.def("einsum", without_gil(&einsum), py::arg("equation"), py::arg("operands"));

  m.def("conv2d", without_gil(+[](const Array& x, const Array& w, std::optional<Array> bias, Pair stride, Pair padding,
                                 Pair dilation, int64_t groups) {
          return conv2d(x, w, bias, conv_args(stride, padding, dilation), groups);
        }),
        py::arg("x"), py::arg("w"), py::arg("bias"), py::arg("stride"), py::arg("padding"), py::arg("dilation"),
        py::arg("groups"));
  m.def("conv2d_backward", without_gil(+[](const Array& x, const Array& w, const Array& grad, Pair stride, Pair padding,
                                          Pair dilation, int64_t groups, std::array<bool, 3> needs) {
          return conv2d_backward(x, w, grad, conv_args(stride, padding, dilation), groups, needs);
        }),
        py::arg("x"), py::arg("w"), py::arg("grad"), py::arg("stride"), py::arg("padding"), py::arg("dilation"),
        py::arg("groups"), py::arg("needs"));
  m.def("max_pool2d", without_gil(+[](const Array& x, Pair kernel, Pair stride, Pair padding, Pair dilation, bool ceil_mode) {
    return max_pool2d(x, kernel.data(), conv_args(stride, padding, dilation), ceil_mode);
  }), py::arg("x"), py::arg("kernel"), py::arg("stride"), py::arg("padding"), py::arg("dilation"), py::arg("ceil_mode"));
  m.def("avg_pool2d", without_gil(+[](const Array& x, Pair kernel, Pair stride, Pair padding, bool ceil_mode, bool count_include_pad) {
    return avg_pool2d(x, kernel.data(), conv_args(stride, padding, {1, 1}), ceil_mode, count_include_pad);
  }), py::arg("x"), py::arg("kernel"), py::arg("stride"), py::arg("padding"), py::arg("ceil_mode"),
     py::arg("count_include_pad"));
  m.def("pool2d_backward", without_gil(+[](bool max, const Array& x, const Array& grad, Pair kernel, Pair stride,
                                          Pair padding, Pair dilation, bool ceil_mode, bool count_include_pad) {
    return pool2d_backward(max, x, grad, kernel.data(), conv_args(stride, padding, dilation), ceil_mode,
                           count_include_pad);
  }), py::arg("max"), py::arg("x"), py::arg("grad"), py::arg("kernel"), py::arg("stride"), py::arg("padding"),
     py::arg("dilation"), py::arg("ceil_mode"), py::arg("count_include_pad"));
  m.def("im2col", without_gil(+[](const Array& x, Pair kernel, Pair stride, Pair padding, Pair dilation) {
    return im2col(x, kernel.data(), conv_args(stride, padding, dilation));
  }), py::arg("x"), py::arg("kernel"), py::arg("stride"), py::arg("padding"), py::arg("dilation"));
  m.def("col2im", without_gil(+[](const Array& cols, Pair output_hw, Pair kernel, Pair stride, Pair padding, Pair dilation) {
    return col2im(cols, output_hw.data(), kernel.data(), conv_args(stride, padding, dilation));
  }), py::arg("cols"), py::arg("output_hw"), py::arg("kernel"), py::arg("stride"), py::arg("padding"),
     py::arg("dilation"));
  m.def("scaled_dot_product_attention", without_gil(&scaled_dot_product_attention), py::arg("q"), py::arg("k"), py::arg("v"),
        py::arg("mask") = py::none(), py::arg("causal") = false, py::arg("scale") = py::none());
  m.def("scaled_dot_product_attention_keeping_stats", without_gil(&scaled_dot_product_attention_keeping_stats),
        py::arg("q"), py::arg("k"), py::arg("v"), py::arg("mask") = py::none(), py::arg("causal") = false,
        py::arg("scale") = py::none());
  m.def("scaled_dot_product_attention_backward", without_gil(+[](const Array& q, const Array& k, const Array& v,
                                                                  const std::optional<Array>& mask, const Array& grad,
                                                                  bool causal, std::optional<double> scale,
                                                                  const std::optional<Array>& saved_out,
                                                                  const std::optional<Array>& saved_stats,
                                                                  const std::optional<DropoutTuple>& dropout) {
    return scaled_dot_product_attention_backward(q, k, v, mask, grad, causal, scale, saved_out, saved_stats,
                                                 dropout ? std::optional<AttentionDropout>(from_tuple(*dropout))
                                                         : std::nullopt);
  }), py::arg("q"), py::arg("k"), py::arg("v"), py::arg("mask"), py::arg("grad"), py::arg("causal") = false,
     py::arg("scale") = py::none(), py::arg("saved_out") = py::none(), py::arg("saved_stats") = py::none(),
     py::arg("dropout") = py::none());
  // Attention dropout as a (p, seed, offset) tuple: drawn once per forward, handed to its backward.
  m.def("attention_dropout_draw", +[](const Array& q, const Array& k, const Array& v, const std::optional<Array>& mask,
                                      double p) {
    const AttentionDropout d = attention_dropout_draw(q, k, v, mask, p);
    return DropoutTuple{d.p, d.seed, d.offset};
  }, py::arg("q"), py::arg("k"), py::arg("v"), py::arg("mask"), py::arg("p"));
  m.def("attention_dropout_keep", without_gil(+[](const std::vector<int64_t>& shape, const DropoutTuple& dropout,
                                                  const std::string& device) {
    return attention_dropout_keep(to_shape(shape), from_tuple(dropout), parse_device(device));
  }), py::arg("shape"), py::arg("dropout"), py::arg("device"));
  m.def("scaled_dot_product_attention_dropout", without_gil(+[](const Array& q, const Array& k, const Array& v,
                                                                const std::optional<Array>& mask, bool causal,
                                                                std::optional<double> scale, const DropoutTuple& dropout) {
    return scaled_dot_product_attention_dropout(q, k, v, mask, causal, scale, from_tuple(dropout));
  }), py::arg("q"), py::arg("k"), py::arg("v"), py::arg("mask"), py::arg("causal"), py::arg("scale"),
     py::arg("dropout"));
}

}  // namespace tensorlogic::python
