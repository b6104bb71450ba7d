// CPU recurrent cell steps (RNN, LSTM, GRU): each chunk of rows widened to f32 once, the gate math of
// cpp/kernels/recurrent.h on f32 vectors (AVX-512, AVX2 or 4 portable lanes, chosen once at run time as
// in elementwise_simd.cpp), every output rounded once.
#pragma GCC diagnostic ignored "-Wpsabi"
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../kernels/recurrent.h"
#include "cpu_backend.h"
#include "f16_convert.h"
#include "parallel.h"

namespace tensorlogic::cpu {
namespace {

constexpr int64_t kVector = 16;      // floats in the widest vector: the padded stride's unit
constexpr int64_t kGrain = 1 << 14;  // gate elements per parallel chunk
constexpr int kCells = 0
#define TL_CELL(kind, name, gates) +1
#include "tensorlogic/op_table.def"
    ;

// One chunk of rows in f32: gates [rows, G, stride], states [rows, stride] (H values of each line used,
// stride = H rounded up to whole vectors); unused pointers are null.
struct CellRows {
  int64_t rows, hidden, stride;
  const float *gi, *gh, *h, *c, *dh, *dc;
  float *h_out, *c_out, *dgi, *dgh, *dh_prev, *dc_prev;
};

struct RowKernels {
  void (*forward[kCells])(const CellRows&) = {};
  void (*backward[kCells])(const CellRows&) = {};
};

namespace portable {
#define TL_VEC_LANES 4
#include "vec_math.h"
#undef TL_VEC_LANES
#include "recurrent_rows.h"
}  // namespace portable

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TL_RECURRENT_X86 1
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma,f16c")
namespace avx512 {
#define TL_VEC_LANES 16
#include "vec_math.h"
#undef TL_VEC_LANES
#include "recurrent_rows.h"
}  // namespace avx512
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
namespace avx2 {
#define TL_VEC_LANES 8
#include "vec_math.h"
#undef TL_VEC_LANES
#include "recurrent_rows.h"
}  // namespace avx2
#pragma GCC pop_options
#endif

// TL_CPU_SIMD=avx2 or =none caps the instruction set, as for the elementwise kernels.
RowKernels make_kernels() {
  RowKernels t;
  const char* cap = std::getenv("TL_CPU_SIMD");
  const std::string limit = cap ? cap : "";
#if TL_RECURRENT_X86
  if (limit != "none" && limit != "avx2" && __builtin_cpu_supports("avx512f") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
    avx512::fill(t);
    return t;
  }
  if (limit != "none" && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
      __builtin_cpu_supports("f16c")) {
    avx2::fill(t);
    return t;
  }
#endif
  portable::fill(t);
  return t;
}

const RowKernels& kernels_table() {
  static const RowKernels t = make_kernels();
  return t;
}

// f32 buffers of padded lines (CellRows) carved from one per-thread allocation, reused between calls (the
// padding's values are computed on but never stored back, so the memory is not cleared).
class Slab {
 public:
  Slab(int64_t floats, int64_t hidden, int64_t stride) : hidden_(hidden), stride_(stride) {
    thread_local std::vector<float> memory;
    if (memory.size() < static_cast<size_t>(floats)) memory.resize(static_cast<size_t>(floats));
    data_ = memory.data();
  }
  float* take(int64_t lines) {
    float* p = data_ + used_;
    used_ += lines * stride_;
    return p;
  }
  // Lines [l0, l1) of src (contiguous lines of H f16 values) widened; zeros where src is null.
  float* widen(const Array* src, int64_t l0, int64_t l1) {
    float* p = take(l1 - l0);
    if (!src) {
      std::fill(p, p + (l1 - l0) * stride_, 0.0f);
    } else if (stride_ == hidden_) {
      f16_to_f32(src->data_as<half>() + l0 * hidden_, p, (l1 - l0) * hidden_);
    } else {
      const half* s = src->data_as<half>() + l0 * hidden_;
      for (int64_t l = 0; l < l1 - l0; ++l) f16_to_f32(s + l * hidden_, p + l * stride_, hidden_);
    }
    return p;
  }
  // Lines [l0, l1) of dst from src's padded lines, each rounded once.
  void narrow(const float* src, const Array* dst, int64_t l0, int64_t l1) const {
    if (!dst) return;
    half* d = dst->data_as<half>() + l0 * hidden_;
    if (stride_ == hidden_) {
      f32_to_f16(src, d, (l1 - l0) * hidden_);
      return;
    }
    for (int64_t l = 0; l < l1 - l0; ++l) f32_to_f16(src + l * stride_, d + l * hidden_, hidden_);
  }

 private:
  float* data_;
  int64_t hidden_, stride_, used_ = 0;
};

int64_t padded(int64_t hidden) { return (hidden + kVector - 1) / kVector * kVector; }

// Runs fill_and_run(slab, r, r0, r1) over blocks [r0, r1) of the batch's rows in parallel, each block's slab
// holding `lines_per_row` padded lines a row, with what both directions read (gi, gh and h) widened into r.
template <typename F>
void over_row_blocks(CellKind kind, int64_t lines_per_row, const Array& gi, const Array& gh, const Array& h,
                     F&& fill_and_run) {
  const int64_t n = h.shape()[0], hidden = h.shape()[1], gates = cell_gates(kind), stride = padded(hidden);
  parallel_for(n, std::max<int64_t>(1, kGrain / std::max<int64_t>(gates * hidden, 1)), [&](int64_t r0, int64_t r1) {
    const int64_t rows = r1 - r0;
    Slab slab(rows * lines_per_row * stride, hidden, stride);
    CellRows r{};
    r.rows = rows;
    r.hidden = hidden;
    r.stride = stride;
    r.gi = slab.widen(&gi, r0 * gates, r1 * gates);
    r.gh = slab.widen(&gh, r0 * gates, r1 * gates);
    r.h = slab.widen(&h, r0, r1);
    fill_and_run(slab, r, r0, r1);
  });
}

}  // namespace

bool CpuBackend::recurrent_cell(CellKind kind, const Array& gi, const Array& gh, const Array& h, const Array* c,
                                const Array& h_out, const Array* c_out) {
  const auto run = kernels_table().forward[static_cast<int>(kind)];
  const int64_t gates = cell_gates(kind);
  over_row_blocks(kind, 2 * gates + 4, gi, gh, h, [&](Slab& slab, CellRows& r, int64_t r0, int64_t r1) {
    r.c = c ? slab.widen(c, r0, r1) : nullptr;
    r.h_out = slab.take(r.rows);
    r.c_out = c ? slab.take(r.rows) : nullptr;
    run(r);
    slab.narrow(r.h_out, &h_out, r0, r1);
    if (c) slab.narrow(r.c_out, c_out, r0, r1);
  });
  return true;
}

bool CpuBackend::recurrent_cell_backward(CellKind kind, const Array& gi, const Array& gh, const Array& h,
                                         const Array* c, const Array& dh, const Array* dc, const Array& dgi,
                                         const CellGradArrays& out) {
  const auto run = kernels_table().backward[static_cast<int>(kind)];
  const int64_t gates = cell_gates(kind);
  const bool lstm = kind == CellKind::lstm;
  over_row_blocks(kind, 4 * gates + 6, gi, gh, h, [&](Slab& slab, CellRows& r, int64_t r0, int64_t r1) {
    const int64_t rows = r.rows;
    r.dh = slab.widen(&dh, r0, r1);
    if (lstm) {
      r.c = slab.widen(c, r0, r1);
      r.dc = slab.widen(dc, r0, r1);
      r.dc_prev = slab.take(rows);
    }
    r.dgi = slab.take(rows * gates);
    if (out.dgh) r.dgh = slab.take(rows * gates);
    if (out.dh_prev) r.dh_prev = slab.take(rows);
    run(r);
    slab.narrow(r.dgi, &dgi, r0 * gates, r1 * gates);
    if (out.dgh) slab.narrow(r.dgh, out.dgh, r0 * gates, r1 * gates);
    if (out.dh_prev) slab.narrow(r.dh_prev, out.dh_prev, r0, r1);
    if (out.dc_prev) slab.narrow(r.dc_prev, out.dc_prev, r0, r1);
  });
  return true;
}

}  // namespace tensorlogic::cpu
