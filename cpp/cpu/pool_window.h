// The windows of 2-d max and average pooling over one (sample, channel) plane, as the forward (conv.cpp's
// pool2d) and the backward (pool_backward.cpp) both read them, so that a gradient goes exactly to the cells
// the forward looked at.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "tensorlogic/tensorlogic.h"

namespace tensorlogic::cpu {

// The cells of an average's window that lie in the input (rows [ya, yb), columns [xa, xb)) and the count it
// divides by.
struct AvgWindow {
  int64_t ya, yb, xa, xb, divisor;
};

struct PoolWindows {
  int64_t h, w, kh, kw, sy, sx, py, px, dy, dx;

  PoolWindows(const Array& x, const int64_t kernel[2], const Conv2dArgs& args)
      : h(x.shape()[2]), w(x.shape()[3]), kh(kernel[0]), kw(kernel[1]), sy(args.stride[0]), sx(args.stride[1]),
        py(args.padding[0]), px(args.padding[1]), dy(args.dilation[0]), dx(args.dilation[1]) {}

  // The max's pick in output cell (oy, ox) as an index into the plane: the first cell above all before it, or
  // the first NaN (PyTorch's); -1 when every tap falls in the padding.
  int64_t argmax(const float* plane, int64_t oy, int64_t ox) const {
    const int64_t y0 = oy * sy - py, x0 = ox * sx - px;
    float best = -INFINITY;
    int64_t at = -1;
    for (int64_t ki = 0; ki < kh; ++ki) {
      const int64_t iy = y0 + ki * dy;
      if (iy < 0 || iy >= h) continue;
      for (int64_t kj = 0; kj < kw; ++kj) {
        const int64_t ix = x0 + kj * dx;
        if (ix < 0 || ix >= w) continue;
        const float v = plane[iy * w + ix];
        if (at < 0 || v > best || std::isnan(v)) {
          best = v;
          at = iy * w + ix;
        }
        if (std::isnan(best)) return at;
      }
    }
    return at;
  }

  // Output cell (oy, ox)'s average window (no dilation); the padded count is the window's part inside the
  // padded input.
  AvgWindow average(int64_t oy, int64_t ox, bool count_include_pad) const {
    const int64_t y0 = oy * sy - py, x0 = ox * sx - px;
    const int64_t y1 = std::min(y0 + kh, h + py), x1 = std::min(x0 + kw, w + px);
    AvgWindow win{std::max<int64_t>(y0, 0), std::min(y1, h), std::max<int64_t>(x0, 0), std::min(x1, w), 0};
    win.divisor = count_include_pad ? (y1 - y0) * (x1 - x0) : (win.yb - win.ya) * (win.xb - win.xa);
    return win;
  }
};

}  // namespace tensorlogic::cpu
