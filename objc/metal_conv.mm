// The convolution family on Metal: im2col, col2im and pooling (metal/conv.metal).
#include "metal_launch.h"

namespace tensorlogic::metal {
namespace {

params::ConvParams conv_params(const Shape& image, const int64_t kernel[2], const Conv2dArgs& args, int64_t out_h,
                               int64_t out_w) {
  params::ConvParams p{};
  p.n = image[0];
  p.c = image[1];
  p.h = image[2];
  p.w = image[3];
  p.kh = kernel[0];
  p.kw = kernel[1];
  p.out_h = out_h;
  p.out_w = out_w;
  for (int i = 0; i < 2; ++i) {
    p.stride[i] = args.stride[i];
    p.padding[i] = args.padding[i];
    p.dilation[i] = args.dilation[i];
  }
  return p;
}

}  // namespace

void MetalBackend::im2col(const Array& x, const int64_t kernel[2], const Conv2dArgs& args, int64_t out_h,
                          int64_t out_w, const Array& out) {
  const auto p = conv_params(x.shape(), kernel, args, out_h, out_w);
  id<MTLComputePipelineState> pipeline = context_.pipeline("conv", "im2col_f16", {});
  run_kernel_1d(context_, pipeline, {x, out}, p, out.numel(), "im2col");
}

void MetalBackend::col2im(const Array& cols, const int64_t kernel[2], const Conv2dArgs& args, int64_t out_h,
                          int64_t out_w, const Array& out) {
  const auto p = conv_params(out.shape(), kernel, args, out_h, out_w);
  id<MTLComputePipelineState> pipeline = context_.pipeline("conv", "col2im_f16", {});
  run_kernel_1d(context_, pipeline, {cols, out}, p, out.numel(), "col2im");
}

void MetalBackend::pool2d(bool max, const Array& x, const int64_t kernel[2], const Conv2dArgs& args,
                          bool count_include_pad, int64_t out_h, int64_t out_w, const Array& out) {
  const auto p = conv_params(x.shape(), kernel, args, out_h, out_w);
  id<MTLComputePipelineState> pipeline =
      context_.pipeline("conv", "pool2d_f16", {bool_constant(0, max), bool_constant(1, count_include_pad)});
  run_kernel_1d(context_, pipeline, {x, out}, p, out.numel(), max ? "max_pool2d" : "avg_pool2d");
}

}  // namespace tensorlogic::metal
