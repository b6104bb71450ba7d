// im2col / col2im for NCHW convolution with zero padding: columns are [n, c*kh*kw, out_h*out_w].
#include <metal_stdlib>
using namespace metal;
#include "params.h"
#include "common.h"

// One thread per column element.
kernel void im2col_f16(device const half* x [[buffer(0)]], device half* cols [[buffer(1)]],
                       constant ConvParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  const long l_size = p.out_h * p.out_w, rows = p.c * p.kh * p.kw;
  if (gid >= p.n * rows * l_size) return;
  const long l = long(gid) % l_size, row = (long(gid) / l_size) % rows, n = long(gid) / (l_size * rows);
  const long c = row / (p.kh * p.kw), ki = (row / p.kw) % p.kh, kj = row % p.kw;
  const long y = (l / p.out_w) * p.stride[0] - p.padding[0] + ki * p.dilation[0];
  const long xx = (l % p.out_w) * p.stride[1] - p.padding[1] + kj * p.dilation[1];
  const bool inside = y >= 0 && y < p.h && xx >= 0 && xx < p.w;
  cols[gid] = inside ? x[((n * p.c + c) * p.h + y) * p.w + xx] : half(0.0f);
}

// out (zeroed or holding a sum to add to) += the columns that read each pixel: one thread per pixel
// gathers its kh*kw contributions in f32 (no atomics, deterministic) and rounds once.
kernel void col2im_f16(device const half* cols [[buffer(0)]], device half* out [[buffer(1)]],
                       constant ConvParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  if (gid >= p.n * p.c * p.h * p.w) return;
  const long xx = long(gid) % p.w, y = (long(gid) / p.w) % p.h, c = (long(gid) / (p.w * p.h)) % p.c;
  const long n = long(gid) / (p.w * p.h * p.c);
  const long l_size = p.out_h * p.out_w, rows = p.c * p.kh * p.kw;
  float acc = float(out[gid]);
  for (long ki = 0; ki < p.kh; ++ki) {
    const long ty = y + p.padding[0] - ki * p.dilation[0];
    if (ty < 0 || ty % p.stride[0] != 0 || ty / p.stride[0] >= p.out_h) continue;
    for (long kj = 0; kj < p.kw; ++kj) {
      const long tx = xx + p.padding[1] - kj * p.dilation[1];
      if (tx < 0 || tx % p.stride[1] != 0 || tx / p.stride[1] >= p.out_w) continue;
      const long row = (c * p.kh + ki) * p.kw + kj, l = (ty / p.stride[0]) * p.out_w + tx / p.stride[1];
      acc += float(cols[(n * rows + row) * l_size + l]);
    }
  }
  out[gid] = half(acc);
}

// max / average pooling of contiguous x [n, c, h, w] into out [n, c, out_h, out_w], one thread per output,
// with PyTorch's rules (those of the CPU backend): padded cells never win a max and NaN wins; an average
// divides by the window clipped to the padded input (COUNT_PAD) or by the number of real cells.
constant bool MAX_POOL [[function_constant(0)]];
constant bool COUNT_PAD [[function_constant(1)]];

kernel void pool2d_f16(device const half* x [[buffer(0)]], device half* out [[buffer(1)]],
                       constant ConvParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  if (gid >= p.n * p.c * p.out_h * p.out_w) return;
  const long ox = long(gid) % p.out_w, oy = (long(gid) / p.out_w) % p.out_h, plane = long(gid) / (p.out_w * p.out_h);
  device const half* in = x + plane * p.h * p.w;
  const long y0 = oy * p.stride[0] - p.padding[0], x0 = ox * p.stride[1] - p.padding[1];
  float result;
  if (MAX_POOL) {
    result = -INFINITY;
    // Only the taps inside the input: a kernel of 2^62 with a padding of 2^61 is a legal window.
    const long ki_end = min_long(p.kh, ceil_div(p.h - y0, p.dilation[0]));
    const long kj_end = min_long(p.kw, ceil_div(p.w - x0, p.dilation[1]));
    for (long ki = max_long(0, ceil_div(-y0, p.dilation[0])); ki < ki_end && !isnan(result); ++ki) {
      const long iy = y0 + ki * p.dilation[0];
      for (long kj = max_long(0, ceil_div(-x0, p.dilation[1])); kj < kj_end; ++kj) {
        const long ix = x0 + kj * p.dilation[1];
        const float v = float(in[iy * p.w + ix]);
        if (v > result || isnan(v)) result = v;
        if (isnan(result)) break;
      }
    }
  } else {
    const long y1 = min_long(y0 + p.kh, p.h + p.padding[0]), x1 = min_long(x0 + p.kw, p.w + p.padding[1]);
    const long padded = (y1 - y0) * (x1 - x0);
    const long ya = y0 > 0 ? y0 : 0, xa = x0 > 0 ? x0 : 0;
    const long yb = min_long(y1, p.h), xb = min_long(x1, p.w);
    float sum = 0.0f;
    for (long iy = ya; iy < yb; ++iy)
      for (long ix = xa; ix < xb; ++ix) sum += float(in[iy * p.w + ix]);
    result = sum / float(COUNT_PAD ? padded : (yb - ya) * (xb - xa));
  }
  out[gid] = half(result);
}
