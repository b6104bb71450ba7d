// The float32 GEMM under CPU matmul, conv and attention: OpenBLAS (scipy-openblas32) on packed f32
// panels, and the f16 -> f32 widening that feeds it. Only OpenBLAS threads the GEMMs themselves.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../core/backend.h"
#include "tensorlogic/array.h"

namespace tensorlogic::cpu {

// Packed f32 copies of `batches` [rows, cols] matrices. A transposed f16 view (unit row stride) is
// widened in memory order and stored as [cols, rows] with `trans` set, so it is never copied as f16.
struct Panel {
  const float* data = nullptr;
  bool trans = false;
  int64_t ld = 0;            // leading dimension of the stored (possibly transposed) matrix
  int64_t batch_stride = 0;  // floats between matrices; 0 when one matrix serves every batch
};

// Per-thread scratch memory for panels, one buffer per slot, reused between calls. A buffer larger
// than a limit is freed when the Scratch goes out of scope, so huge products do not pin memory.
class Scratch {
 public:
  explicit Scratch(int slot) : slot_(slot) {}
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  float* get(size_t floats);

 private:
  int slot_;
};

// Number of floats `widen` writes for `m` ([batches, rows, cols]).
size_t panel_floats(const Array& m);
// Widens the f16 view `m` ([batches, rows, cols], any strides) into `dst`; parallel over lines.
Panel widen(const Array& m, float* dst);

// out (contiguous f16 [batches, m, n]) = the packed f32 products c [batches, m, n] with gemm's epilogue (bias,
// residual, activation) applied in place, each rounded once. Parallel over rows; uses Scratch slot 3.
void finish_gemm(float* c, const Array& out, const GemmEpilogue& epilogue);

// C = op(A) @ op(B) + beta C, row-major f32 (OpenBLAS's sgemm). OpenBLAS is held to one thread (parallel.cpp):
// its threads split every product above 262144 multiply-adds statically, so each such product waited for
// the slowest of them, and on a loaded machine a thread waits milliseconds to be scheduled (a GRU training
// step at 2 threads took 28 ms against 3.2 ms on one, cpu_notes.md). Larger products are split here into
// row (or column) blocks over our pool, whose chunks are claimed dynamically: the caller takes over the
// blocks of a worker that starts late.
void sgemm_f32(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
               int64_t ldb, float beta, float* c, int64_t ldc);

// C[i] = op(A[i]) @ op(B[i]) for i < batches into packed C [batches, m, n].
void sgemm_batched(const Panel& a, const Panel& b, int64_t batches, int64_t m, int64_t n, int64_t k, float* c);

}  // namespace tensorlogic::cpu
