// The convolution family on NCHW data: im2col/col2im, conv2d (the backend's whole kernel where it has one,
// as the CPU's f32 GEMMs over the batch; else im2col + GEMM with the bias fused into the epilogue), max/avg
// pooling with PyTorch's output-size, padding and ceil_mode rules, and the fused gradients of conv2d and
// pooling where the backend has them (nullopt otherwise: the caller composes them from other ops).
#include <algorithm>
#include <array>
#include <string>

#include "gemm.h"
#include "tensorlogic/errors.h"
#include "tensorlogic/ops.h"

namespace tensorlogic {
namespace {

std::string pair_str(const int64_t v[2]) { return "(" + std::to_string(v[0]) + ", " + std::to_string(v[1]) + ")"; }

void check_geometry(const char* op, const int64_t kernel[2], const Conv2dArgs& args) {
  for (int i = 0; i < 2; ++i) {
    if (kernel[i] <= 0) throw ArgumentError(std::string(op) + ": kernel size must be positive, got " + pair_str(kernel));
    if (args.stride[i] <= 0) throw ArgumentError(std::string(op) + ": stride must be positive, got " + pair_str(args.stride));
    if (args.dilation[i] <= 0) {
      throw ArgumentError(std::string(op) + ": dilation must be positive, got " + pair_str(args.dilation));
    }
    if (args.padding[i] < 0) {
      throw ArgumentError(std::string(op) + ": padding must be non-negative, got " + pair_str(args.padding));
    }
  }
}

void check_nchw(const char* op, const Array& x) {
  if (x.ndim() != 4) {
    throw ShapeMismatchError(std::string(op) + ": expected a 4-d input [N, C, H, W], got shape " + shape_str(x.shape()));
  }
  if (x.dtype() != Dtype::float16) throw DtypeError(std::string(op) + ": expected a float16 input, got int32");
}

// Output length of a sliding window along one axis (PyTorch's formula, with ceil_mode's rule that the
// last window must start inside the input or its left padding).
int64_t window_count(const char* op, int64_t size, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation,
                     bool ceil_mode, const Shape& shape) {
  // In 128 bits: a hostile kernel, dilation, stride or padding near 2^63 must not wrap into a plausible size.
  const __int128 padded = __int128{size} + 2 * __int128{pad};
  const __int128 span = padded - __int128{dilation} * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  __int128 count = (span >= 0 ? span / stride : -((-span + stride - 1) / stride)) + 1;  // floor division
  if (ceil_mode && count > 0 && (count - 1) * stride >= __int128{size} + pad) --count;
  if (count > INT64_MAX) throw ArgumentError(std::string(op) + ": padding " + std::to_string(pad) + " is too large");
  const int64_t out = static_cast<int64_t>(count);
  if (out <= 0) {
    throw ShapeMismatchError(std::string(op) + ": input of shape " + shape_str(shape) +
                             " is too small for kernel " + std::to_string(kernel) + " with dilation " +
                             std::to_string(dilation) + " and padding " + std::to_string(pad));
  }
  return out;
}

// [n, groups, og, len] with the last axis replaced by `last` (the weight's shape per group).
Shape shape_with(const Shape& shape, int64_t last) {
  return {shape[0], shape[1], shape[2], last};
}

}  // namespace

Array im2col(const Array& x, const int64_t kernel[2], const Conv2dArgs& args) {
  Backend& backend = backend_of("im2col", {&x});
  check_nchw("im2col", x);
  check_geometry("im2col", kernel, args);
  const Shape& s = x.shape();
  const int64_t oh = window_count("im2col", s[2], kernel[0], args.stride[0], args.padding[0], args.dilation[0], false, s);
  const int64_t ow = window_count("im2col", s[3], kernel[1], args.stride[1], args.padding[1], args.dilation[1], false, s);
  // The products checked: a 2^62 padding makes 2^62 windows, and oh * ow wrapped to a small buffer the backend
  // then wrote past.
  int64_t taps = 0, rows = 0, blocks = 0;
  if (!checked_mul(kernel[0], kernel[1], &taps) || !checked_mul(s[1], taps, &rows) || !checked_mul(oh, ow, &blocks)) {
    throw OutOfMemoryError("im2col: " + std::to_string(s[1]) + " channels of kernel " + pair_str(kernel) + " over " +
                           std::to_string(oh) + " x " + std::to_string(ow) + " windows exceed the addressable memory");
  }
  Array out = Array::empty({s[0], rows, blocks}, Dtype::float16, x.device());
  if (out.numel() > 0) backend.im2col(contiguous(x), kernel, args, oh, ow, out);
  return out;
}

Array col2im(const Array& cols, const int64_t output_hw[2], const int64_t kernel[2], const Conv2dArgs& args) {
  Backend& backend = backend_of("col2im", {&cols});
  check_geometry("col2im", kernel, args);
  if (cols.ndim() != 3 || cols.dtype() != Dtype::float16) {
    throw ShapeMismatchError("col2im: expected a float16 input [N, C*kh*kw, L], got shape " + shape_str(cols.shape()));
  }
  if (output_hw[0] < 0 || output_hw[1] < 0) throw ArgumentError("col2im: output size must be non-negative");
  int64_t taps = 0;
  if (!checked_mul(kernel[0], kernel[1], &taps)) throw ArgumentError("col2im: kernel size " + pair_str(kernel) + " is too large");
  const Shape image{cols.shape()[0], 1, output_hw[0], output_hw[1]};
  const int64_t oh = window_count("col2im", output_hw[0], kernel[0], args.stride[0], args.padding[0], args.dilation[0],
                                  false, image);
  const int64_t ow = window_count("col2im", output_hw[1], kernel[1], args.stride[1], args.padding[1], args.dilation[1],
                                  false, image);
  int64_t blocks = 0;
  if (!checked_mul(oh, ow, &blocks)) throw ArgumentError("col2im: output size " + pair_str(output_hw) + " is too large");
  if (cols.shape()[1] % taps != 0 || cols.shape()[2] != blocks) {
    throw ShapeMismatchError("col2im: input of shape " + shape_str(cols.shape()) + " does not match kernel " +
                             pair_str(kernel) + " and output size " + pair_str(output_hw) + " (expected dimension 1 " +
                             "divisible by " + std::to_string(taps) + " and " + std::to_string(blocks) + " blocks)");
  }
  Array out = zeros({cols.shape()[0], cols.shape()[1] / taps, output_hw[0], output_hw[1]}, Dtype::float16, cols.device());
  if (out.numel() > 0 && cols.numel() > 0) backend.col2im(contiguous(cols), kernel, args, oh, ow, out);
  return out;
}

namespace {

// Checks conv2d's input and weight and returns the output's spatial size.
std::array<int64_t, 2> conv2d_output_hw(const char* op, const Array& x, const Array& w, const Conv2dArgs& args,
                                        int64_t groups) {
  check_nchw(op, x);
  if (w.ndim() != 4 || w.dtype() != Dtype::float16) {
    throw ShapeMismatchError(std::string(op) + ": expected a float16 weight [out_channels, in_channels/groups, kh, kw], " +
                             "got shape " + shape_str(w.shape()));
  }
  if (groups <= 0) throw ArgumentError(std::string(op) + ": groups must be positive, got " + std::to_string(groups));
  const int64_t c = x.shape()[1], o = w.shape()[0];
  if (c != w.shape()[1] * groups || o % groups != 0) {
    throw ShapeMismatchError(std::string(op) + ": input " + shape_str(x.shape()) + " and weight " + shape_str(w.shape()) +
                             " do not match with groups=" + std::to_string(groups) + " (expected " +
                             std::to_string(w.shape()[1] * groups) + " input channels and out_channels divisible by groups)");
  }
  const int64_t kernel[2] = {w.shape()[2], w.shape()[3]};
  check_geometry(op, kernel, args);
  const Shape& s = x.shape();
  return {window_count(op, s[2], kernel[0], args.stride[0], args.padding[0], args.dilation[0], false, s),
          window_count(op, s[3], kernel[1], args.stride[1], args.padding[1], args.dilation[1], false, s)};
}

}  // namespace

Array conv2d(const Array& x, const Array& w, const std::optional<Array>& bias, const Conv2dArgs& args, int64_t groups) {
  Backend& backend = backend_of("conv2d", {&x, &w, bias ? &*bias : nullptr});
  const auto [oh, ow] = conv2d_output_hw("conv2d", x, w, args, groups);
  const int64_t n = x.shape()[0], c = x.shape()[1], o = w.shape()[0];
  if (bias && (bias->ndim() != 1 || bias->shape()[0] != o)) {
    throw ShapeMismatchError("conv2d: bias of shape " + shape_str(bias->shape()) + " does not match weight " +
                             shape_str(w.shape()) + " (expected [" + std::to_string(o) + "])");
  }
  const int64_t kernel[2] = {w.shape()[2], w.shape()[3]};
  Array out = Array::empty({n, o, oh, ow}, Dtype::float16, x.device());
  if (out.numel() == 0) return out;
  if (c == 0 || w.shape()[1] == 0) {
    // No input channels: the output is the bias alone.
    if (bias) copy_(out, reshape(astype(*bias, Dtype::float16), {1, o, 1, 1}));
    else fill_(out, 0.0);
    return out;
  }
  const Array xc = contiguous(x), wc = contiguous(w);
  Array b;
  if (bias) b = contiguous(astype(*bias, Dtype::float16));
  if (backend.conv2d(xc, wc, bias ? &b : nullptr, args, groups, out)) return out;
  // out[n, g] = W[g] [O/g, C/g*kh*kw] @ cols[n, g] [C/g*kh*kw, L], with the bias fused per output row.
  // Samples go in groups so that the unfolded input stays bounded (~32M elements).
  const int64_t len = oh * ow, og = o / groups, ck = w.shape()[1] * kernel[0] * kernel[1];
  const int64_t per_group = std::max<int64_t>(1, (int64_t{1} << 25) / std::max<int64_t>(c * kernel[0] * kernel[1] * len, 1));
  const Array wg = reshape(wc, {1, groups, og, ck});
  const bool pointwise = kernel[0] == 1 && kernel[1] == 1 && args.stride[0] == 1 && args.stride[1] == 1 &&
                         args.padding[0] == 0 && args.padding[1] == 0;
  for (int64_t n0 = 0; n0 < n; n0 += per_group) {
    const int64_t nn = std::min(per_group, n - n0);
    const Array part = slice(xc, 0, n0, n0 + nn);
    // A 1x1 kernel with unit stride and no padding reads the input as it is: no unfolding.
    const Array cols = pointwise ? reshape(part, {nn, c, len}) : im2col(part, kernel, args);
    const Array cg = reshape(cols, {nn, groups, ck, len});
    const Shape shape{nn, groups, og, len};
    const Array outg = out.view_as(shape, contiguous_strides(shape), out.offset() + n0 * o * len);
    GemmEpilogue ep;
    Array bias_view;
    if (bias) {
      bias_view = b.view_as(shape, {0, og, 1, 0}, b.offset());
      ep.bias = &bias_view;
    }
    gemm_into(backend, expand(wg, shape_with(shape, ck)), cg, outg, ep);
  }
  return out;
}

std::optional<std::vector<std::optional<Array>>> conv2d_backward(const Array& x, const Array& w, const Array& grad,
                                                                  const Conv2dArgs& args, int64_t groups,
                                                                  const std::array<bool, 3>& needs) {
  const char* op = "conv2d_backward";
  Backend& backend = backend_of(op, {&x, &w, &grad});
  const auto [oh, ow] = conv2d_output_hw(op, x, w, args, groups);
  const Shape out_shape{x.shape()[0], w.shape()[0], oh, ow};
  if (grad.shape() != out_shape) {
    throw ShapeMismatchError(std::string(op) + ": the gradient " + shape_str(grad.shape()) +
                             " does not have the output's shape " + shape_str(out_shape));
  }
  if (grad.dtype() != Dtype::float16) throw DtypeError(std::string(op) + ": expected a float16 gradient");
  const Device device = x.device();
  std::vector<std::optional<Array>> grads{
      needs[0] ? std::optional<Array>(Array::empty(x.shape(), Dtype::float16, device)) : std::nullopt,
      needs[1] ? std::optional<Array>(Array::empty(w.shape(), Dtype::float16, device)) : std::nullopt,
      needs[2] ? std::optional<Array>(Array::empty({w.shape()[0]}, Dtype::float16, device)) : std::nullopt};
  // Empty operands are left to the composed backward (the caller's fallback), as are devices without the kernel.
  if (x.numel() == 0 || w.numel() == 0 || grad.numel() == 0) return std::nullopt;
  const bool taken = backend.conv2d_backward(contiguous(x), contiguous(w), contiguous(grad), args, groups,
                                             grads[0] ? &*grads[0] : nullptr, grads[1] ? &*grads[1] : nullptr,
                                             grads[2] ? &*grads[2] : nullptr);
  if (!taken) return std::nullopt;
  return grads;
}

// Checks a pooling's operands and returns its output's spatial size.
static std::array<int64_t, 2> pool_output_hw(const char* op, const Array& x, const int64_t kernel[2],
                                             const Conv2dArgs& args, bool ceil_mode) {
  check_nchw(op, x);
  check_geometry(op, kernel, args);
  for (int i = 0; i < 2; ++i) {
    if (args.padding[i] > kernel[i] / 2) {  // not padding * 2, which wraps for a padding past 2^62
      throw ArgumentError(std::string(op) + ": padding " + pair_str(args.padding) +
                          " must be at most half of the kernel size " + pair_str(kernel));
    }
  }
  const Shape& s = x.shape();
  return {window_count(op, s[2], kernel[0], args.stride[0], args.padding[0], args.dilation[0], ceil_mode, s),
          window_count(op, s[3], kernel[1], args.stride[1], args.padding[1], args.dilation[1], ceil_mode, s)};
}

static Array pool(bool max, const char* op, const Array& x, const int64_t kernel[2], const Conv2dArgs& args,
                  bool ceil_mode, bool count_include_pad) {
  Backend& backend = backend_of(op, {&x});
  const auto [oh, ow] = pool_output_hw(op, x, kernel, args, ceil_mode);
  const Shape& s = x.shape();
  Array out = Array::empty({s[0], s[1], oh, ow}, Dtype::float16, x.device());
  if (out.numel() > 0) backend.pool2d(max, contiguous(x), kernel, args, count_include_pad, oh, ow, out);
  return out;
}

std::optional<Array> pool2d_backward(bool max, const Array& x, const Array& grad, const int64_t kernel[2],
                                     const Conv2dArgs& args, bool ceil_mode, bool count_include_pad) {
  const char* op = max ? "max_pool2d_backward" : "avg_pool2d_backward";
  Backend& backend = backend_of(op, {&x, &grad});
  if (!max && (args.dilation[0] != 1 || args.dilation[1] != 1)) {
    throw ArgumentError("avg_pool2d_backward: dilation is not supported");
  }
  const auto [oh, ow] = pool_output_hw(op, x, kernel, args, ceil_mode);
  const Shape out_shape{x.shape()[0], x.shape()[1], oh, ow};
  if (grad.shape() != out_shape || grad.dtype() != Dtype::float16) {
    throw ShapeMismatchError(std::string(op) + ": the gradient " + shape_str(grad.shape()) +
                             " does not have the output's shape " + shape_str(out_shape) + " (float16)");
  }
  Array dx = Array::empty(x.shape(), Dtype::float16, x.device());
  if (dx.numel() == 0 || grad.numel() == 0) return std::nullopt;  // left to the composed backward
  if (!backend.pool2d_backward(max, contiguous(x), contiguous(grad), kernel, args, count_include_pad, dx)) {
    return std::nullopt;
  }
  return dx;
}

Array max_pool2d(const Array& x, const int64_t kernel[2], const Conv2dArgs& args, bool ceil_mode) {
  return pool(true, "max_pool2d", x, kernel, args, ceil_mode, true);
}

Array avg_pool2d(const Array& x, const int64_t kernel[2], const Conv2dArgs& args, bool ceil_mode,
                 bool count_include_pad) {
  if (args.dilation[0] != 1 || args.dilation[1] != 1) throw ArgumentError("avg_pool2d: dilation is not supported");
  return pool(false, "avg_pool2d", x, kernel, args, ceil_mode, count_include_pad);
}

}  // namespace tensorlogic
