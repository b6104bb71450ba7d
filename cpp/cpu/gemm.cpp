// CPU GEMM: f16 operands widened to packed f32 panels, float32 GEMM from OpenBLAS, then the epilogue
// (bias, residual, activation) in f32 and one rounding to f16.
#include <cblas.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "../kernels/elementwise.h"
#include "blas.h"
#include "cpu_backend.h"
#include "f16_convert.h"
#include "gemm_small.h"
#include "gemv.h"
#include "parallel.h"
#include "tensorlogic/errors.h"

namespace tensorlogic::cpu {
namespace {

constexpr int kSlots = 6;
constexpr size_t kKeepFloats = size_t{16} << 20;  // 64 MiB per slot stays cached between calls
constexpr int64_t kLineGrain = 1 << 18;           // elements per parallel chunk of conversion work
// Products (multiply-adds) with more work than this are split over the pool (sgemm_f32); batches of smaller
// ones are spread over it, about kTaskWork per task.
constexpr double kParallelWork = 65536.0 * 16.0;
constexpr double kTaskWork = 65536.0 * 4.0;

struct Buffer {
  float* data = nullptr;
  size_t floats = 0;
  ~Buffer() { std::free(data); }
};
thread_local Buffer buffers[kSlots];

// parallel_for over `lines` lines of `len` elements each; small work runs inline without the pool.
template <typename F>
void for_lines(int64_t lines, int64_t len, F&& fn) {
  const int64_t grain = std::max<int64_t>(1, kLineGrain / std::max<int64_t>(len, 1));
  if (lines <= grain) {
    fn(int64_t{0}, lines);
  } else {
    parallel_for(lines, grain, fn);
  }
}

// Widens `count` f16 values spaced `stride` apart into contiguous f32.
inline void widen_line(const half* src, int64_t stride, int64_t count, float* dst) {
  if (stride == 1) {
    f16_to_f32(src, dst, count);
  } else {
    for (int64_t i = 0; i < count; ++i) dst[i] = to_float(src[i * stride]);
  }
}

inline void check_blas_range(int64_t value) {
  if (value > INT_MAX) throw ArgumentError("matmul: a dimension of " + std::to_string(value) + " exceeds the BLAS int range");
}

template <typename F>
void apply_row(float* row, int64_t n, F f) {
  for (int64_t j = 0; j < n; ++j) row[j] = f(row[j]);
}

// Adds the bias/residual row and applies the activation to one f32 output row, then rounds it.
void finish_row(float* row, int64_t n, int64_t batch, int64_t r, const GemmEpilogue& ep, const float* bias_row,
                half* dst) {
  if (bias_row) {
    for (int64_t j = 0; j < n; ++j) row[j] += bias_row[j];
  } else if (ep.bias) {
    const Array& b = *ep.bias;
    add_f16_row(row, n, b.data_as<half>() + batch * b.strides()[0] + r * b.strides()[1], b.strides()[2]);
  }
  if (ep.residual) {
    const Array& res = *ep.residual;
    add_f16_row(row, n, res.data_as<half>() + batch * res.strides()[0] + r * res.strides()[1], res.strides()[2]);
  }
  switch (ep.activation) {
    case Activation::none: break;
    case Activation::relu: apply_row(row, n, [](float x) { return kernels::activation_f32(Activation::relu, x); }); break;
    case Activation::gelu: apply_row(row, n, [](float x) { return kernels::activation_f32(Activation::gelu, x); }); break;
    case Activation::gelu_tanh:
      apply_row(row, n, [](float x) { return kernels::activation_f32(Activation::gelu_tanh, x); });
      break;
    case Activation::silu: apply_row(row, n, [](float x) { return kernels::activation_f32(Activation::silu, x); }); break;
  }
  f32_to_f16(row, dst, n);
}

}  // namespace

Scratch::~Scratch() {
  Buffer& buf = buffers[slot_];
  if (buf.floats > kKeepFloats) {
    std::free(buf.data);
    buf.data = nullptr;
    buf.floats = 0;
  }
}

float* Scratch::get(size_t floats) {
  Buffer& buf = buffers[slot_];
  if (floats > buf.floats) {
    std::free(buf.data);
    buf.floats = 0;
    const size_t bytes = (std::max<size_t>(floats, 16) * sizeof(float) + 63) / 64 * 64;
    buf.data = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!buf.data) throw OutOfMemoryError("cpu gemm: cannot allocate " + std::to_string(bytes) + " bytes of scratch");
    buf.floats = floats;
  }
  return buf.data;
}

static bool stored_transposed(const Array& m) {
  const int64_t rows = m.shape()[1], cols = m.shape()[2];
  return m.strides()[2] != 1 && cols > 1 && m.strides()[1] == 1 && rows > 1;
}

size_t panel_floats(const Array& m) {
  const int64_t batches = m.strides()[0] == 0 ? 1 : m.shape()[0];
  return static_cast<size_t>(batches * m.shape()[1] * m.shape()[2]);
}

Panel widen(const Array& m, float* dst) {
  const int64_t batches = m.strides()[0] == 0 ? 1 : m.shape()[0];
  const int64_t rows = m.shape()[1], cols = m.shape()[2];
  Panel p;
  p.data = dst;
  p.trans = stored_transposed(m);
  // A stored line runs along the unit-stride axis: rows of the matrix, or columns when transposed.
  const int64_t lines = p.trans ? cols : rows, len = p.trans ? rows : cols;
  const int64_t line_stride = p.trans ? m.strides()[2] : m.strides()[1];
  const int64_t elem_stride = p.trans ? m.strides()[1] : m.strides()[2];
  p.ld = std::max<int64_t>(len, 1);
  p.batch_stride = m.strides()[0] == 0 ? 0 : rows * cols;
  const half* src = m.data_as<half>();
  const int64_t bs = m.strides()[0];
  for_lines(batches * lines, len, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t b = i / lines, l = i % lines;
      widen_line(src + b * bs + l * line_stride, elem_stride, len, dst + i * len);
    }
  });
  return p;
}

void sgemm_f32(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
               int64_t ldb, float beta, float* c, int64_t ldc) {
  for (int64_t v : {m, n, k, lda, ldb, ldc}) check_blas_range(v);
  // rows [r0, r1) and columns [j0, j1) of C; A's rows are its stored columns when transposed, and B's columns
  // its stored rows
  auto block = [&](int64_t r0, int64_t r1, int64_t j0, int64_t j1) {
    scipy_cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                      static_cast<int>(r1 - r0), static_cast<int>(j1 - j0), static_cast<int>(k), 1.0f,
                      a + (ta ? r0 : r0 * lda), static_cast<int>(lda), b + (tb ? j0 * ldb : j0), static_cast<int>(ldb),
                      beta, c + r0 * ldc + j0, static_cast<int>(ldc));
  };
  const double work = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  if (work <= kParallelWork || num_threads() <= 1) {
    block(0, m, 0, n);
    return;
  }
  // Blocks of at least 64 rows (or columns) and kParallelWork / 4 products: each call packs its own copy of
  // the other operand, a small share of its arithmetic at these sizes.
  if (m >= n) {
    const double per_row = static_cast<double>(n) * static_cast<double>(k);
    const int64_t grain = std::max<int64_t>(64, static_cast<int64_t>(kParallelWork / 4.0 / per_row));
    parallel_for(m, grain, [&](int64_t r0, int64_t r1) { block(r0, r1, 0, n); });
  } else {
    const double per_col = static_cast<double>(m) * static_cast<double>(k);
    const int64_t grain = std::max<int64_t>(64, static_cast<int64_t>(kParallelWork / 4.0 / per_col));
    parallel_for(n, grain, [&](int64_t j0, int64_t j1) { block(0, m, j0, j1); });
  }
}

void sgemm_batched(const Panel& a, const Panel& b, int64_t batches, int64_t m, int64_t n, int64_t k, float* c) {
  if (batches == 0 || m == 0 || n == 0) return;
  if (k == 0) {
    std::memset(c, 0, static_cast<size_t>(batches * m * n) * sizeof(float));
    return;
  }
  if (small_gemm_fits(m, n, k)) {
    // A stored-transposed panel is [cols, rows]: its rows are the matrix's columns.
    const int64_t sa[3] = {a.batch_stride, a.trans ? 1 : a.ld, a.trans ? a.ld : 1};
    const int64_t sb[3] = {b.batch_stride, b.trans ? 1 : b.ld, b.trans ? b.ld : 1};
    small_sgemm(a.data, sa, b.data, sb, batches, m, n, k, c);
    return;
  }
  for (int64_t v : {m, n, k, a.ld, b.ld}) check_blas_range(v);
  auto one = [&](int64_t i) {
    sgemm_f32(a.trans, b.trans, m, n, k, a.data + i * a.batch_stride, a.ld, b.data + i * b.batch_stride, b.ld, 0.0f,
              c + i * m * n, n);
  };
  const double work = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  // Small batched products are spread over the pool, one product per task; larger ones go one by one to
  // sgemm_f32, which splits each.
  if (batches > 1 && work <= kParallelWork) {
    const int64_t grain = std::max<int64_t>(1, static_cast<int64_t>(kTaskWork / std::max(work, 1.0)));
    parallel_for(batches, grain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) one(i);
    });
    return;
  }
  for (int64_t i = 0; i < batches; ++i) one(i);
}

void finish_gemm(float* c, const Array& out, const GemmEpilogue& epilogue) {
  const int64_t batches = out.shape()[0], m = out.shape()[1], n = out.shape()[2];
  Scratch sbias(3);
  const float* bias_row = nullptr;
  if (epilogue.bias && epilogue.bias->ndim() == 1) {
    float* dst = sbias.get(static_cast<size_t>(n));
    widen_line(epilogue.bias->data_as<half>(), epilogue.bias->strides()[0], n, dst);
    bias_row = dst;
  }
  half* dst = out.data_as<half>();
  const bool plain = !epilogue.bias && !epilogue.residual && epilogue.activation == Activation::none;
  for_lines(batches * m, n, [&](int64_t begin, int64_t end) {
    if (plain) {
      f32_to_f16(c + begin * n, dst + begin * n, (end - begin) * n);
      return;
    }
    for (int64_t i = begin; i < end; ++i) finish_row(c + i * n, n, i / m, i % m, epilogue, bias_row, dst + i * n);
  });
}

// The sub-array at index i of the first axis.
static Array first_axis_at(const Array& x, int64_t i) {
  return x.view_as(Shape(x.shape().begin() + 1, x.shape().end()), Strides(x.strides().begin() + 1, x.strides().end()),
                   x.offset() + i * x.strides()[0]);
}

// [B0, B1, M, K] operands (gemm_batch_axes): small products without an epilogue take both batch axes in one
// call; anything else goes through the [B, M, K] path a B0 at a time.
void CpuBackend::gemm_two_axes(const Array& a, const Array& b, const Array& out, const GemmEpilogue& epilogue) {
  const int64_t outer = out.shape()[0], m = out.shape()[2], n = out.shape()[3], k = a.shape()[3];
  const bool plain = !epilogue.bias && !epilogue.residual && epilogue.activation == Activation::none;
  if (outer > 1 && plain && out.is_contiguous() && small_gemm_fits(m, n, k)) {
    const int64_t batches = outer * out.shape()[1];
    Scratch sc(2);
    float* c = sc.get(static_cast<size_t>(batches * m * n));
    small_gemm(a, b, c);
    finish_gemm(c, out.view_as({batches, m, n}, {m * n, n, 1}, out.offset()), epilogue);
    return;
  }
  const bool full_bias = epilogue.bias && epilogue.bias->ndim() == 4;
  for (int64_t i = 0; i < outer; ++i) {
    GemmEpilogue ep = epilogue;
    Array bias, residual;
    if (full_bias) ep.bias = &(bias = first_axis_at(*epilogue.bias, i));
    if (epilogue.residual) ep.residual = &(residual = first_axis_at(*epilogue.residual, i));
    gemm(first_axis_at(a, i), first_axis_at(b, i), first_axis_at(out, i), ep);
  }
}

// One group of batches: widen, multiply, finish. Groups keep the f32 panels of a call bounded.
static void gemm_group(const Array& a, const Array& b, const Array& out, const GemmEpilogue& epilogue) {
  const int64_t batches = out.shape()[0], m = out.shape()[1], n = out.shape()[2], k = a.shape()[2];
  Scratch sa(0), sb(1), sc(2);
  // A right operand shared by every batch folds the batches into the rows of one large GEMM (the
  // widened left panel is [batches * m, k] row-major then).
  const bool fold = batches > 1 && b.strides()[0] == 0 && a.strides()[0] != 0 && !stored_transposed(a);
  if (!fold && small_gemm_fits(m, n, k)) {
    float* c = sc.get(static_cast<size_t>(batches * m * n));
    small_gemm(a, b, c);
    finish_gemm(c, out, epilogue);
    return;
  }
  const Panel pa = widen(a, sa.get(panel_floats(a)));
  float* c = sc.get(static_cast<size_t>(batches * m * n));
  // A few rows against one matrix stored as rows of k contiguous weights (x @ W^T of linear layers):
  // the weights are read once as f16 (gemv.cpp) rather than widened to f32 first.
  const int64_t rows = fold ? batches * m : m;
  if ((batches == 1 || fold) && rows >= 1 && rows <= kGemvMaxRows && !pa.trans && b.strides()[1] == 1 && k > 0) {
    gemv_f16(pa.data, rows, k, b.data_as<half>(), b.strides()[2], n, c);
  } else {
    const Panel pb = widen(b, sb.get(panel_floats(b)));
    if (fold) {
      sgemm_batched(pa, pb, 1, batches * m, n, k, c);
    } else {
      sgemm_batched(pa, pb, batches, m, n, k, c);
    }
  }

  finish_gemm(c, out, epilogue);
}

void CpuBackend::gemm(const Array& a, const Array& b, const Array& out, const GemmEpilogue& epilogue) {
  if (out.ndim() == 4) return gemm_two_axes(a, b, out, epilogue);
  const int64_t batches = out.shape()[0], m = out.shape()[1], n = out.shape()[2], k = a.shape()[2];
  const int64_t per_batch = std::max<int64_t>(1, m * k + (b.strides()[0] == 0 ? 0 : k * n) + m * n);
  const int64_t group = std::max<int64_t>(1, static_cast<int64_t>(kKeepFloats) / per_batch);
  if (group >= batches) return gemm_group(a, b, out, epilogue);
  auto part = [](const Array& x, int64_t b0, int64_t nb) {
    Shape shape = x.shape();
    shape[0] = nb;
    return x.view_as(shape, x.strides(), x.offset() + b0 * x.strides()[0]);
  };
  for (int64_t b0 = 0; b0 < batches; b0 += group) {
    const int64_t nb = std::min(group, batches - b0);
    GemmEpilogue ep = epilogue;
    Array bias, residual;
    if (epilogue.bias && epilogue.bias->ndim() == 3) ep.bias = &(bias = part(*epilogue.bias, b0, nb));
    if (epilogue.residual) ep.residual = &(residual = part(*epilogue.residual, b0, nb));
    gemm_group(part(a, b0, nb), part(b, b0, nb), part(out, b0, nb), ep);
  }
}

}  // namespace tensorlogic::cpu
