// The input gradient of max and average pooling on NCHW data, one (sample, channel) plane at a time:
// each window's gradient goes to the cells the forward (conv.cpp's pool2d) read, summed in f32 and
// rounded once. The composed backward (unfold, argmax, compare, multiply, fold) makes several passes
// over window-sized copies instead.
#include <algorithm>
#include <vector>

#include "cpu_backend.h"
#include "f16_convert.h"
#include "parallel.h"
#include "pool_window.h"

namespace tensorlogic::cpu {

bool CpuBackend::pool2d_backward(bool max, const Array& x, const Array& grad, const int64_t kernel[2],
                                 const Conv2dArgs& args, bool count_include_pad, const Array& dx) {
  const PoolWindows windows(x, kernel, args);
  const int64_t n = x.shape()[0], c = x.shape()[1], h = windows.h, w = windows.w;
  const int64_t out_h = grad.shape()[2], out_w = grad.shape()[3];
  const half* src = x.data_as<half>();
  const half* gsrc = grad.data_as<half>();
  half* dst = dx.data_as<half>();
  parallel_for(n * c,
               std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(h * w + out_h * out_w * windows.kh * windows.kw, 1)),
               [&](int64_t begin, int64_t end) {
    std::vector<float> plane(static_cast<size_t>(max ? h * w : 0)), acc(static_cast<size_t>(h * w));
    std::vector<float> g(static_cast<size_t>(out_h * out_w));
    for (int64_t p = begin; p < end; ++p) {
      if (max) f16_to_f32(src + p * h * w, plane.data(), h * w);
      f16_to_f32(gsrc + p * out_h * out_w, g.data(), out_h * out_w);
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int64_t oy = 0; oy < out_h; ++oy) {
        for (int64_t ox = 0; ox < out_w; ++ox) {
          const float gv = g[oy * out_w + ox];
          if (max) {
            const int64_t at = windows.argmax(plane.data(), oy, ox);
            if (at >= 0) acc[at] += gv;
          } else {
            const AvgWindow win = windows.average(oy, ox, count_include_pad);
            const float share = gv / static_cast<float>(win.divisor);
            for (int64_t iy = win.ya; iy < win.yb; ++iy) {
              for (int64_t ix = win.xa; ix < win.xb; ++ix) acc[iy * w + ix] += share;
            }
          }
        }
      }
      f32_to_f16(acc.data(), dst + p * h * w, h * w);
    }
  });
  return true;
}

}  // namespace tensorlogic::cpu
