// The input gradient of max and average pooling on NCHW data, one (sample, channel) plane at a time:
// each window's gradient goes to the cells the forward (conv.cpp's pool2d) read, summed in f32 and
// rounded once. The composed backward (unfold, argmax, compare, multiply, fold) makes several passes
// over window-sized copies instead.
#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu_backend.h"
#include "f16_convert.h"
#include "parallel.h"
#include "pool_rows.h"

namespace tensorlogic::cpu {

bool CpuBackend::pool2d_backward(bool max, const Array& x, const Array& grad, const int64_t kernel[2],
                                 const Conv2dArgs& args, bool count_include_pad, const Array& dx) {
  const int64_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
  const int64_t out_h = grad.shape()[2], out_w = grad.shape()[3];
  const PoolGeometry geo(h, w, kernel, args);
  const half* src = x.data_as<half>();
  const half* gsrc = grad.data_as<half>();
  half* dst = dx.data_as<half>();
  parallel_for(n * c, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(h * w + out_h * out_w * geo.kh * geo.kw, 1)),
               [&](int64_t begin, int64_t end) {
    std::vector<float> plane(static_cast<size_t>(max ? h * w : 0)), acc(static_cast<size_t>(h * w));
    std::vector<float> g(static_cast<size_t>(out_h * out_w)), best(static_cast<size_t>(out_w));
    std::vector<int32_t> at(static_cast<size_t>(out_w));
    for (int64_t p = begin; p < end; ++p) {
      if (max) f16_to_f32(src + p * h * w, plane.data(), h * w);
      f16_to_f32(gsrc + p * out_h * out_w, g.data(), out_h * out_w);
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int64_t oy = 0; oy < out_h; ++oy) {
        const float* grow = g.data() + oy * out_w;
        if (max) {  // each window's gradient to the forward's pick
          max_pool_row(geo, plane.data(), oy, out_w, best.data(), at.data());
          for (int64_t ox = 0; ox < out_w; ++ox) {
            if (at[ox] >= 0) acc[at[ox]] += grow[ox];
          }
          continue;
        }
        for (int64_t ox = 0; ox < out_w; ++ox) {  // an equal share to each cell of the window
          const int64_t y0 = oy * geo.sy - geo.py, x0 = ox * geo.sx - geo.px;
          const int64_t y1 = std::min(y0 + geo.kh, h + geo.py), x1 = std::min(x0 + geo.kw, w + geo.px);
          const int64_t ya = std::max<int64_t>(y0, 0), xa = std::max<int64_t>(x0, 0);
          const int64_t yb = std::min(y1, h), xb = std::min(x1, w);
          const int64_t divisor = count_include_pad ? (y1 - y0) * (x1 - x0) : (yb - ya) * (xb - xa);
          const float share = grow[ox] / static_cast<float>(divisor);
          for (int64_t iy = ya; iy < yb; ++iy) {
            for (int64_t ix = xa; ix < xb; ++ix) acc[iy * w + ix] += share;
          }
        }
      }
      f32_to_f16(acc.data(), dst + p * h * w, h * w);
    }
  });
  return true;
}

}  // namespace tensorlogic::cpu
