// Convolution-family kernels on NCHW data: im2col/col2im (the GEMM lowering of conv2d) and direct
// max/average pooling. Work is split over (sample, channel) planes.
#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu_backend.h"
#include "parallel.h"
#include "pool_window.h"

namespace tensorlogic::cpu {

void CpuBackend::im2col(const Array& x, const int64_t kernel[2], const Conv2dArgs& args, int64_t out_h, int64_t out_w,
                        const Array& out) {
  const int64_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
  const int64_t kh = kernel[0], kw = kernel[1], len = out_h * out_w;
  const uint16_t* src = reinterpret_cast<const uint16_t*>(x.data_as<half>());
  uint16_t* dst = reinterpret_cast<uint16_t*>(out.data_as<half>());
  // One output row per (sample, channel, ki, kj): the input pixel each output position reads.
  parallel_for(n * c * kh * kw, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(len, 1)), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t kj = row % kw, ki = (row / kw) % kh, plane = row / (kh * kw);
      const uint16_t* in = src + plane * h * w;
      uint16_t* o = dst + row * len;
      for (int64_t oy = 0; oy < out_h; ++oy, o += out_w) {
        const int64_t iy = oy * args.stride[0] - args.padding[0] + ki * args.dilation[0];
        if (iy < 0 || iy >= h) {
          std::fill(o, o + out_w, uint16_t{0});
          continue;
        }
        const uint16_t* line = in + iy * w;
        const int64_t x0 = kj * args.dilation[1] - args.padding[1];
        for (int64_t ox = 0; ox < out_w; ++ox) {
          const int64_t ix = ox * args.stride[1] + x0;
          o[ox] = (ix >= 0 && ix < w) ? line[ix] : uint16_t{0};
        }
      }
    }
  });
}

void CpuBackend::col2im(const Array& cols, const int64_t kernel[2], const Conv2dArgs& args, int64_t out_h,
                        int64_t out_w, const Array& out) {
  const int64_t n = out.shape()[0], c = out.shape()[1], h = out.shape()[2], w = out.shape()[3];
  const int64_t kh = kernel[0], kw = kernel[1], len = out_h * out_w;
  const half* src = cols.data_as<half>();
  half* dst = out.data_as<half>();
  // Each (sample, channel) plane sums its overlapping windows in f32 and is rounded once.
  parallel_for(n * c, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> acc(static_cast<size_t>(h * w));
    for (int64_t plane = begin; plane < end; ++plane) {
      half* o = dst + plane * h * w;
      for (int64_t i = 0; i < h * w; ++i) acc[i] = to_float(o[i]);
      for (int64_t ki = 0; ki < kh; ++ki) {
        for (int64_t kj = 0; kj < kw; ++kj) {
          const half* col = src + (plane * kh * kw + ki * kw + kj) * len;
          for (int64_t oy = 0; oy < out_h; ++oy) {
            const int64_t iy = oy * args.stride[0] - args.padding[0] + ki * args.dilation[0];
            if (iy < 0 || iy >= h) continue;
            for (int64_t ox = 0; ox < out_w; ++ox) {
              const int64_t ix = ox * args.stride[1] - args.padding[1] + kj * args.dilation[1];
              if (ix >= 0 && ix < w) acc[iy * w + ix] += to_float(col[oy * out_w + ox]);
            }
          }
        }
      }
      for (int64_t i = 0; i < h * w; ++i) o[i] = to_half(acc[i]);
    }
  });
}

void CpuBackend::pool2d(bool max, const Array& x, const int64_t kernel[2], const Conv2dArgs& args,
                        bool count_include_pad, int64_t out_h, int64_t out_w, const Array& out) {
  const PoolWindows windows(x, kernel, args);
  const int64_t n = x.shape()[0], c = x.shape()[1], h = windows.h, w = windows.w;
  const half* src = x.data_as<half>();
  half* dst = out.data_as<half>();
  parallel_for(n * c, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(out_h * out_w * windows.kh * windows.kw, 1)),
               [&](int64_t begin, int64_t end) {
    std::vector<float> plane(static_cast<size_t>(h * w));
    for (int64_t p = begin; p < end; ++p) {
      const half* in = src + p * h * w;
      for (int64_t i = 0; i < h * w; ++i) plane[i] = to_float(in[i]);
      half* o = dst + p * out_h * out_w;
      for (int64_t oy = 0; oy < out_h; ++oy) {
        for (int64_t ox = 0; ox < out_w; ++ox) {
          float result;
          if (max) {
            const int64_t at = windows.argmax(plane.data(), oy, ox);
            result = at < 0 ? -INFINITY : plane[at];
          } else {
            const AvgWindow win = windows.average(oy, ox, count_include_pad);
            float sum = 0.0f;
            for (int64_t iy = win.ya; iy < win.yb; ++iy) {
              for (int64_t ix = win.xa; ix < win.xb; ++ix) sum += plane[iy * w + ix];
            }
            result = sum / static_cast<float>(win.divisor);
          }
          o[oy * out_w + ox] = to_half(result);
        }
      }
    }
  });
}

}  // namespace tensorlogic::cpu
