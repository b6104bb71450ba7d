// The windows of 2-d max and average pooling over one (sample, channel) plane, as the forward (conv.cpp's
// pool2d) and the backward (pool_backward.cpp) both read them, so that a gradient goes exactly to the cells
// the forward looked at. A row of output cells is scanned window offset by window offset, each over the
// range of output columns whose input column lies inside the plane, so the inner loop has no bounds tests
// and vectorises; a per-output-cell scan with a bounds test per tap did not (the MNIST CNN's max_pool2d took
// longer than its convolution's forward).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "tensorlogic/tensorlogic.h"

namespace tensorlogic::cpu {

// ceil(a / b) for b > 0 and any a, without the overflow of (a + b - 1) / b when a and b are both near 2^62 (a
// padding and a stride that large are legal; conv_gemm.cpp's unfold uses it too).
inline int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? a / b + (a % b != 0) : -((-a) / b); }

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

  // Output cell (oy, ox)'s average window (no dilation); the padded count is the window's part inside the
  // padded input.
  AvgWindow average(int64_t oy, int64_t ox, bool count_include_pad) const {
    const int64_t y0 = oy * sy - py, x0 = ox * sx - px;
    const int64_t y1 = std::min(y0 + kh, h + py), x1 = std::min(x0 + kw, w + px);
    AvgWindow win{std::max<int64_t>(y0, 0), std::min(y1, h), std::max<int64_t>(x0, 0), std::min(x1, w), 0};
    win.divisor = count_include_pad ? (y1 - y0) * (x1 - x0) : (win.yb - win.ya) * (win.xb - win.xa);
    return win;
  }

  // Output columns [lo, hi) of a row of `out_w` whose input column for window column `kj` is inside [0, w).
  void columns(int64_t kj, int64_t out_w, int64_t* lo, int64_t* hi) const {
    const int64_t first = px - kj * dx, end = w + px - kj * dx;  // ox * sx must lie in [first, end)
    *lo = std::clamp<int64_t>(first <= 0 ? 0 : ceil_div(first, sx), 0, out_w);
    *hi = std::clamp<int64_t>(end <= 0 ? 0 : ceil_div(end, sx), *lo, out_w);
  }

  // Window rows [first, end) of output row `oy` that lie inside [0, h): a kernel far longer than the input
  // (a 2^62 kernel with 2^61 padding is a legal window) costs only the input's rows.
  void rows(int64_t oy, int64_t* first, int64_t* end) const {
    const int64_t y0 = oy * sy - py;  // ki * dy must lie in [-y0, h - y0)
    *first = std::max<int64_t>(0, ceil_div(-y0, dy));
    *end = std::max(*first, std::min(kh, ceil_div(h - y0, dy)));
  }

  // Calls visit(kj) for each window column that some output column of a row of `out_w` reads inside [0, w),
  // in increasing order, so the taps visited are bounded by the input however long the kernel. Output column
  // ox reads the kj with kj * dx in [px - ox * sx, px - ox * sx + w), a range that moves left as ox grows.
  template <typename Visit>
  void for_each_column_tap(int64_t out_w, Visit visit) const {
    if (sx <= w) {  // neighbouring output columns' ranges touch: one range, two divisions per call
      const int64_t end = std::min(kw, ceil_div(px + w, dx));
      for (int64_t kj = std::max<int64_t>(0, ceil_div(px - (out_w - 1) * sx, dx)); kj < end; ++kj) visit(kj);
      return;
    }
    int64_t next = 0;
    for (int64_t ox = out_w - 1; ox >= 0; --ox) {
      const int64_t a = px - ox * sx;
      const int64_t end = std::min(kw, ceil_div(a + w, dx));
      for (int64_t kj = std::max(next, ceil_div(a, dx)); kj < end; ++kj) visit(kj);
      next = std::max(next, end);
    }
  }
};

// The max of each window of output row `oy` into best[0, out_w), and where it is (an index into the plane,
// -1 for a window with no cell inside) into at[] unless at is null. PyTorch's pick: the first cell above all
// before it, or the first NaN.
inline void max_pool_row(const PoolWindows& g, const float* plane, int64_t oy, int64_t out_w, float* best,
                         int32_t* at) {
  std::fill(best, best + out_w, -INFINITY);
  if (at) std::fill(at, at + out_w, int32_t{-1});
  int64_t ki_first, ki_end;
  g.rows(oy, &ki_first, &ki_end);
  for (int64_t ki = ki_first; ki < ki_end; ++ki) {
    const int64_t iy = oy * g.sy - g.py + ki * g.dy;
    g.for_each_column_tap(out_w, [&](int64_t kj) {
      int64_t lo, hi;
      g.columns(kj, out_w, &lo, &hi);
      const int64_t base = iy * g.w - g.px + kj * g.dx;  // plane[base + ox * sx] is the cell of column ox
      if (at) {
        for (int64_t ox = lo; ox < hi; ++ox) {
          const float v = plane[base + ox * g.sx], b = best[ox];
          // Selects rather than branches: on data the pick is unpredictable, and a branch mispredicted half
          // the time cost more than the whole forward.
          const bool take = (at[ox] < 0) | (v > b) | ((v != v) & (b == b));
          best[ox] = take ? v : b;
          at[ox] = take ? static_cast<int32_t>(base + ox * g.sx) : at[ox];
        }
      } else {
        for (int64_t ox = lo; ox < hi; ++ox) {
          const float v = plane[base + ox * g.sx], b = best[ox];
          best[ox] = (v > b || (v != v && b == b)) ? v : b;
        }
      }
    });
  }
}

// The mean of each window of output row `oy` into mean[0, out_w): padding cells count in the divisor when
// count_include_pad, cells beyond the padding (ceil_mode's last window) never do.
inline void avg_pool_row(const PoolWindows& g, const float* plane, int64_t oy, int64_t out_w, bool count_include_pad,
                         float* mean) {
  std::fill(mean, mean + out_w, 0.0f);
  const AvgWindow rows = g.average(oy, 0, count_include_pad);  // the window's rows are the row's
  for (int64_t iy = rows.ya; iy < rows.yb; ++iy) {
    g.for_each_column_tap(out_w, [&](int64_t kj) {
      int64_t lo, hi;
      g.columns(kj, out_w, &lo, &hi);
      const int64_t base = iy * g.w - g.px + kj * g.dx;
      for (int64_t ox = lo; ox < hi; ++ox) mean[ox] += plane[base + ox * g.sx];
    });
  }
  for (int64_t ox = 0; ox < out_w; ++ox) mean[ox] /= static_cast<float>(g.average(oy, ox, count_include_pad).divisor);
}

}  // namespace tensorlogic::cpu
