// im2col / col2im and pooling for NCHW convolutions. col2im is written as a gather (each image element sums the
// columns that touch it), so it needs no atomics and rounds once.
#include "common.cuh"
#include "cuda_backend.h"

namespace tensorlogic::cuda {
namespace {

struct ConvGeometry {
  int64_t n, c, h, w, kh, kw, out_h, out_w;
  int64_t sh, sw, ph, pw, dh, dw;
};

ConvGeometry geometry(const Shape& image, const int64_t kernel[2], const Conv2dArgs& args, int64_t out_h,
                      int64_t out_w) {
  return {image[0], image[1], image[2], image[3], kernel[0], kernel[1], out_h, out_w,
          args.stride[0], args.stride[1], args.padding[0], args.padding[1], args.dilation[0], args.dilation[1]};
}

// out [N, C*kh*kw, L]: element t reads x[n, c, oy*sh - ph + i*dh, ox*sw - pw + j*dw] or zero padding.
__global__ void im2col_kernel(ConvGeometry g, int64_t total, const __half* x, __half* out) {
  const int64_t l_size = g.out_h * g.out_w;
  for (int64_t t = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; t < total; t += int64_t{gridDim.x} * blockDim.x) {
    const int64_t l = t % l_size, row = (t / l_size) % (g.c * g.kh * g.kw), n = t / (l_size * g.c * g.kh * g.kw);
    const int64_t j = row % g.kw, i = (row / g.kw) % g.kh, c = row / (g.kw * g.kh);
    const int64_t y = (l / g.out_w) * g.sh - g.ph + i * g.dh, xx = (l % g.out_w) * g.sw - g.pw + j * g.dw;
    out[t] = (y >= 0 && y < g.h && xx >= 0 && xx < g.w) ? x[((n * g.c + c) * g.h + y) * g.w + xx] : __float2half_rn(0.0f);
  }
}

__global__ void col2im_kernel(ConvGeometry g, int64_t total, const __half* cols, __half* out) {
  const int64_t l_size = g.out_h * g.out_w;
  for (int64_t t = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; t < total; t += int64_t{gridDim.x} * blockDim.x) {
    const int64_t xx = t % g.w, y = (t / g.w) % g.h, c = (t / (g.w * g.h)) % g.c, n = t / (g.w * g.h * g.c);
    float sum = 0.0f;
    for (int64_t i = 0; i < g.kh; ++i) {
      const int64_t ty = y + g.ph - i * g.dh;
      if (ty < 0 || ty % g.sh != 0 || ty / g.sh >= g.out_h) continue;
      for (int64_t j = 0; j < g.kw; ++j) {
        const int64_t tx = xx + g.pw - j * g.dw;
        if (tx < 0 || tx % g.sw != 0 || tx / g.sw >= g.out_w) continue;
        const int64_t row = (c * g.kh + i) * g.kw + j;
        sum += __half2float(cols[(n * g.c * g.kh * g.kw + row) * l_size + (ty / g.sh) * g.out_w + tx / g.sw]);
      }
    }
    out[t] = __float2half_rn(__half2float(out[t]) + sum);
  }
}

// ceil(a / b) for b > 0 and any a, without the overflow of (a + b - 1) / b near 2^62.
__device__ int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? a / b + (a % b != 0) : -((-a) / b); }

// One thread per output cell; the rules of CpuBackend::pool2d (NaN wins a max; averages ignore dilation).
__global__ void pool_kernel(ConvGeometry g, bool is_max, bool count_include_pad, int64_t total, const __half* x,
                            __half* out) {
  for (int64_t t = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; t < total; t += int64_t{gridDim.x} * blockDim.x) {
    const int64_t ox = t % g.out_w, oy = (t / g.out_w) % g.out_h, plane = t / (g.out_w * g.out_h);
    const __half* in = x + plane * g.h * g.w;
    const int64_t y0 = oy * g.sh - g.ph, x0 = ox * g.sw - g.pw;
    float result;
    if (is_max) {
      result = -INFINITY;
      // Only the taps inside the input: a kernel of 2^62 with a padding of 2^61 is a legal window.
      const int64_t i_end = min(g.kh, ceil_div(g.h - y0, g.dh)), j_end = min(g.kw, ceil_div(g.w - x0, g.dw));
      for (int64_t i = max(int64_t{0}, ceil_div(-y0, g.dh)); i < i_end && result == result; ++i) {
        const int64_t iy = y0 + i * g.dh;
        for (int64_t j = max(int64_t{0}, ceil_div(-x0, g.dw)); j < j_end; ++j) {
          const int64_t ix = x0 + j * g.dw;
          const float v = __half2float(in[iy * g.w + ix]);
          if (v > result || v != v) result = v;
          if (result != result) break;
        }
      }
    } else {
      const int64_t y1 = min(y0 + g.kh, g.h + g.ph), x1 = min(x0 + g.kw, g.w + g.pw);
      const int64_t ya = max(y0, int64_t{0}), xa = max(x0, int64_t{0}), yb = min(y1, g.h), xb = min(x1, g.w);
      float sum = 0.0f;
      for (int64_t iy = ya; iy < yb; ++iy) {
        for (int64_t ix = xa; ix < xb; ++ix) sum += __half2float(in[iy * g.w + ix]);
      }
      const int64_t divisor = count_include_pad ? (y1 - y0) * (x1 - x0) : (yb - ya) * (xb - xa);
      result = sum / static_cast<float>(divisor);
    }
    out[t] = __float2half_rn(result);
  }
}

// im2col and col2im: one thread per element of `out`, reading `in`.
void launch_unfold(void (*kernel)(ConvGeometry, int64_t, const __half*, __half*), const ConvGeometry& g,
                   const Array& in, const Array& out, const char* what) {
  const int64_t total = out.numel();
  kernel<<<grid_stride_blocks(total), kThreads, 0, stream()>>>(g, total, in.data_as<__half>(), out.data_as<__half>());
  check_launch(what);
}

}  // namespace

void CudaBackend::im2col(const Array& x, const int64_t kernel[2], const Conv2dArgs& args, int64_t out_h,
                         int64_t out_w, const Array& out) {
  launch_unfold(im2col_kernel, geometry(x.shape(), kernel, args, out_h, out_w), x, out, "im2col kernel");
}

void CudaBackend::col2im(const Array& cols, const int64_t kernel[2], const Conv2dArgs& args, int64_t out_h,
                         int64_t out_w, const Array& out) {
  launch_unfold(col2im_kernel, geometry(out.shape(), kernel, args, out_h, out_w), cols, out, "col2im kernel");
}

void CudaBackend::pool2d(bool max, const Array& x, const int64_t kernel[2], const Conv2dArgs& args,
                         bool count_include_pad, int64_t out_h, int64_t out_w, const Array& out) {
  const ConvGeometry g = geometry(x.shape(), kernel, args, out_h, out_w);
  const int64_t total = out.numel();
  pool_kernel<<<grid_stride_blocks(total), kThreads, 0, stream()>>>(g, max, count_include_pad, total,
                                                                      x.data_as<__half>(), out.data_as<__half>());
  check_launch("pool2d kernel");
}

}  // namespace tensorlogic::cuda
