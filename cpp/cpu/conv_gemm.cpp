// conv2d forward and backward on the CPU as float32 GEMMs over the whole batch: the input is widened to
// f32 once, unfolded straight into f32 columns laid out [C*kh*kw, samples * L] (so one GEMM per group
// covers every sample, with a long inner dimension OpenBLAS packs well), and each result is rounded to
// f16 once. The core's generic lowering (f16 im2col, a batched GEMM per sample that widens its operands
// again, a sum over samples, f16 col2im) costs several conversions and BLAS calls per sample.
#include <cblas.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <functional>
#include <vector>

#include "blas.h"
#include "cpu_backend.h"
#include "f16_convert.h"
#include "parallel.h"
#include "pool_window.h"
#include "tensorlogic/errors.h"

namespace tensorlogic::cpu {
namespace {

// Columns of at most this many floats (1 MiB) per chunk of samples, so that the unfolded columns are
// still in cache when the GEMM reads them (one sample always makes a chunk). Measured at MNIST's conv2
// (cpu_notes.md): 64 MiB chunks (the whole batch) 71-91 ms forward, 2 MiB 42-60, 1 MiB 33-37.
constexpr int64_t kChunkFloats = int64_t{1} << 18;
constexpr int64_t kGrainFloats = int64_t{1} << 14;  // floats of work per parallel chunk

struct Geometry {
  int64_t n, c, h, w, o, groups, kh, kw, oh, ow;
  Conv2dArgs args;
  int64_t len() const { return oh * ow; }
  int64_t taps() const { return kh * kw; }
  int64_t og() const { return o / groups; }
  int64_t ck_group() const { return c / groups * taps(); }  // rows of one group's columns
  int64_t per_chunk() const { return std::max<int64_t>(1, kChunkFloats / std::max<int64_t>(c * taps() * len(), 1)); }
};

Geometry geometry(const Array& x, const Array& w, const Conv2dArgs& args, int64_t groups, int64_t oh, int64_t ow) {
  return {x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3], w.shape()[0], groups, w.shape()[2],
          w.shape()[3], oh, ow, args};
}

void widen_all(const half* src, float* dst, int64_t count) {
  parallel_for(count, kGrainFloats * 4, [&](int64_t begin, int64_t end) { f16_to_f32(src + begin, dst + begin, end - begin); });
}

// cols [C*kh*kw, nn*L] (row (c, ki, kj), column (sample, oy, ox)) from the f32 images xs [nn, C, H, W].
void unfold(const Geometry& g, const float* xs, int64_t nn, float* cols) {
  const int64_t len = g.len(), taps = g.taps(), span = nn * len;
  const int64_t sy = g.args.stride[0], sx = g.args.stride[1];
  parallel_for(g.c * taps * nn, std::max<int64_t>(1, kGrainFloats / std::max<int64_t>(len, 1)), [&](int64_t begin, int64_t end) {
    for (int64_t unit = begin; unit < end; ++unit) {
      const int64_t s = unit % nn, row = unit / nn;
      const int64_t kj = row % g.kw, ki = (row / g.kw) % g.kh, ch = row / taps;
      const float* plane = xs + (s * g.c + ch) * g.h * g.w;
      float* out = cols + row * span + s * len;
      const int64_t x0 = kj * g.args.dilation[1] - g.args.padding[1];
      // Output columns whose input column ox * sx + x0 lies inside the image: [lo, hi).
      const int64_t lo = std::min(g.ow, x0 >= 0 ? 0 : ceil_div(-x0, sx));
      const int64_t hi = std::max(lo, std::min(g.ow, g.w - x0 > 0 ? ceil_div(g.w - x0, sx) : 0));
      for (int64_t oy = 0; oy < g.oh; ++oy, out += g.ow) {
        const int64_t iy = oy * sy - g.args.padding[0] + ki * g.args.dilation[0];
        if (iy < 0 || iy >= g.h) {
          std::fill(out, out + g.ow, 0.0f);
          continue;
        }
        const int64_t base = iy * g.w + x0;  // the input offset of output column 0 (may be negative)
        std::fill(out, out + lo, 0.0f);
        if (sx == 1) {
          std::memcpy(out + lo, plane + (base + lo), static_cast<size_t>(hi - lo) * sizeof(float));
        } else {
          for (int64_t ox = lo; ox < hi; ++ox) out[ox] = plane[base + ox * sx];
        }
        std::fill(out + hi, out + g.ow, 0.0f);
      }
    }
  });
}

// dx [nn, C, H, W] (f16) = the sum of the column gradients dcols [C*kh*kw, nn*L] over overlapping
// windows, per (sample, channel) plane in f32 and rounded once.
void fold(const Geometry& g, const float* dcols, int64_t nn, half* dx) {
  const int64_t len = g.len(), taps = g.taps(), span = nn * len, area = g.h * g.w;
  const int64_t sy = g.args.stride[0], sx = g.args.stride[1];
  parallel_for(nn * g.c, std::max<int64_t>(1, kGrainFloats / std::max<int64_t>(taps * len, 1)), [&](int64_t begin, int64_t end) {
    std::vector<float> acc(static_cast<size_t>(area));
    for (int64_t unit = begin; unit < end; ++unit) {
      const int64_t s = unit / g.c, ch = unit % g.c;
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int64_t ki = 0; ki < g.kh; ++ki) {
        for (int64_t kj = 0; kj < g.kw; ++kj) {
          const float* col = dcols + ((ch * g.kh + ki) * g.kw + kj) * span + s * len;
          const int64_t x0 = kj * g.args.dilation[1] - g.args.padding[1];
          const int64_t lo = std::min(g.ow, x0 >= 0 ? 0 : ceil_div(-x0, sx));
          const int64_t hi = std::max(lo, std::min(g.ow, g.w - x0 > 0 ? ceil_div(g.w - x0, sx) : 0));
          for (int64_t oy = 0; oy < g.oh; ++oy) {
            const int64_t iy = oy * sy - g.args.padding[0] + ki * g.args.dilation[0];
            if (iy < 0 || iy >= g.h) continue;
            float* line = acc.data() + iy * g.w;
            const float* src = col + oy * g.ow;
            if (sx == 1) {
              float* dst = line + (x0 + lo);  // inside the row: lo >= -x0
              for (int64_t ox = 0; ox < hi - lo; ++ox) dst[ox] += src[lo + ox];
            } else {
              for (int64_t ox = lo; ox < hi; ++ox) line[x0 + ox * sx] += src[ox];
            }
          }
        }
      }
      f32_to_f16(acc.data(), dx + (s * g.c + ch) * area, area);
    }
  });
}


// Runs chunk(n0, nn) for the chunks of `chunk` samples that cover [0, n): with several chunks, the chunks
// in parallel, each thread on its own scratch (Scratch is per thread), their inner loops inline. A chunk
// holds one MNIST-sized sample, whose product is too small to split well (64-column blocks and a pool
// dispatch per sample made two threads slower than one); the samples are independent.
void for_each_chunk(int64_t n, int64_t chunk, const std::function<void(int64_t, int64_t)>& body) {
  const int64_t chunks = (n + chunk - 1) / chunk;
  parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) body(c * chunk, std::min(chunk, n - c * chunk));
  });
}

}  // namespace

bool CpuBackend::conv2d(const Array& x, const Array& w, const Array* bias, const Conv2dArgs& args, int64_t groups,
                        const Array& out) {
  const Geometry g = geometry(x, w, args, groups, out.shape()[2], out.shape()[3]);
  const int64_t len = g.len(), og = g.og(), ckg = g.ck_group(), chunk = g.per_chunk();
  Scratch s_w(0);
  float* w32 = s_w.get(static_cast<size_t>(w.numel()));
  widen_all(w.data_as<half>(), w32, w.numel());
  std::vector<float> b32(static_cast<size_t>(g.o), 0.0f);
  if (bias) f16_to_f32(bias->data_as<half>(), b32.data(), g.o);
  const half* xh = x.data_as<half>();
  half* dst = out.data_as<half>();
  for_each_chunk(g.n, chunk, [&](int64_t n0, int64_t nn) {
    const int64_t span = nn * len;
    Scratch s_x(1), s_cols(2), s_out(3);
    float* xs = s_x.get(static_cast<size_t>(nn * g.c * g.h * g.w));
    widen_all(xh + n0 * g.c * g.h * g.w, xs, nn * g.c * g.h * g.w);
    float* cols = s_cols.get(static_cast<size_t>(g.c * g.taps() * span));
    unfold(g, xs, nn, cols);
    float* res = s_out.get(static_cast<size_t>(g.o * span));  // [O, nn*L]
    for (int64_t grp = 0; grp < groups; ++grp) {
      sgemm_f32(false, false, og, span, ckg, w32 + grp * og * ckg, ckg, cols + grp * ckg * span, span, 0.0f,
            res + grp * og * span, span);
    }
    // out[n0 + s, oc] = res[oc, s*L : (s+1)*L] + bias[oc], rounded once.
    parallel_for(nn * g.o, std::max<int64_t>(1, kGrainFloats / std::max<int64_t>(len, 1)), [&](int64_t begin, int64_t end) {
      for (int64_t unit = begin; unit < end; ++unit) {
        const int64_t s = unit / g.o, oc = unit % g.o;
        float* row = res + oc * span + s * len;
        if (bias) {
          for (int64_t i = 0; i < len; ++i) row[i] += b32[oc];
        }
        f32_to_f16(row, dst + ((n0 + s) * g.o + oc) * len, len);
      }
    });
  });
  return true;
}

bool CpuBackend::conv2d_backward(const Array& x, const Array& w, const Array& grad, const Conv2dArgs& args,
                                 int64_t groups, const Array* dx, const Array* dw, const Array* db) {
  const Geometry g = geometry(x, w, args, groups, grad.shape()[2], grad.shape()[3]);
  const int64_t len = g.len(), og = g.og(), ckg = g.ck_group(), chunk = g.per_chunk();
  Scratch s_w(0);
  float* w32 = nullptr;
  if (dx) {
    w32 = s_w.get(static_cast<size_t>(w.numel()));
    widen_all(w.data_as<half>(), w32, w.numel());
  }
  // The chunks of samples split into one part per thread (as for_each_chunk's forward does); each part sums its
  // own weight and bias gradients, and the parts are added in order, so a thread count gives one answer.
  const int64_t chunks = (g.n + chunk - 1) / chunk, parts = std::max<int64_t>(1, std::min<int64_t>(chunks, num_threads()));
  std::vector<std::vector<float>> dw_parts(dw ? parts : 0, std::vector<float>(static_cast<size_t>(w.numel()), 0.0f));
  std::vector<std::vector<double>> db_parts(db ? parts : 0, std::vector<double>(static_cast<size_t>(g.o), 0.0));
  const half* xh = x.data_as<half>();
  const half* gh = grad.data_as<half>();
  parallel_for(parts, 1, [&](int64_t p0, int64_t p1) {
    Scratch s_x(1), s_cols(2), s_grad(3);
    for (int64_t p = p0; p < p1; ++p) {
      for (int64_t c = p * chunks / parts; c < (p + 1) * chunks / parts; ++c) {
        const int64_t n0 = c * chunk, nn = std::min(chunk, g.n - n0), span = nn * len;
        // gz [O, nn*L]: the output gradient with the samples side by side along each channel's row.
        float* gz = s_grad.get(static_cast<size_t>(g.o * span));
        parallel_for(nn * g.o, std::max<int64_t>(1, kGrainFloats / std::max<int64_t>(len, 1)), [&](int64_t begin, int64_t end) {
          for (int64_t unit = begin; unit < end; ++unit) {
            const int64_t s = unit / g.o, oc = unit % g.o;
            f16_to_f32(gh + ((n0 + s) * g.o + oc) * len, gz + oc * span + s * len, len);
          }
        });
        if (db) {
          for (int64_t oc = 0; oc < g.o; ++oc) {
            const float* row = gz + oc * span;
            double sum = 0.0;
            for (int64_t i = 0; i < span; ++i) sum += row[i];
            db_parts[p][oc] += sum;
          }
        }
        float* cols = s_cols.get(static_cast<size_t>(g.c * g.taps() * span));
        if (dw) {
          float* xs = s_x.get(static_cast<size_t>(nn * g.c * g.h * g.w));
          widen_all(xh + n0 * g.c * g.h * g.w, xs, nn * g.c * g.h * g.w);
          unfold(g, xs, nn, cols);
          // dw[group] += gz[group] [og, span] @ cols[group]^T [span, ckg]
          for (int64_t grp = 0; grp < groups; ++grp) {
            sgemm_f32(false, true, og, ckg, span, gz + grp * og * span, span, cols + grp * ckg * span, span, 1.0f,
                      dw_parts[p].data() + grp * og * ckg, ckg);
          }
        }
        if (dx) {
          // dcols[group] = w[group]^T [ckg, og] @ gz[group] [og, span], in the columns' buffer.
          for (int64_t grp = 0; grp < groups; ++grp) {
            sgemm_f32(true, false, ckg, span, og, w32 + grp * og * ckg, ckg, gz + grp * og * span, span, 0.0f,
                      cols + grp * ckg * span, span);
          }
          fold(g, cols, nn, dx->data_as<half>() + n0 * g.c * g.h * g.w);
        }
      }
    }
  });
  if (dw) {
    for (int64_t p = 1; p < parts; ++p) {
      for (size_t i = 0; i < dw_parts[0].size(); ++i) dw_parts[0][i] += dw_parts[p][i];
    }
    f32_to_f16(dw_parts[0].data(), dw->data_as<half>(), w.numel());
  }
  if (db) {
    half* out = db->data_as<half>();
    for (int64_t oc = 0; oc < g.o; ++oc) {
      double sum = 0.0;
      for (int64_t p = 0; p < parts; ++p) sum += db_parts[p][oc];
      out[oc] = to_half(static_cast<float>(sum));
    }
  }
  return true;
}

}  // namespace tensorlogic::cpu
