// Batches of small products (attention's per-head scores and weighted sums: 128 products of 16x16x16 per
// layer in the makemore transformer). Through OpenBLAS each product paid a call (argument checks, a buffer
// taken under a mutex, packing) and each 16-element line a widening call of its own, several times the
// arithmetic. Here each product's operands are gathered from their strides (f16 operands of gemm, f32
// panels of the fused attention) into f32 on the stack (rows padded to whole vectors), multiplied in register
// blocks (an element of A broadcast against vectors of a row of B, fused multiply-adds, as a BLAS
// micro-kernel), and the f32 result goes to the caller's epilogue. AVX-512 or AVX2+FMA+F16C (gemv_isa);
// elsewhere every product goes to OpenBLAS.
#pragma GCC diagnostic ignored "-Wpsabi"
#include "gemm_small.h"

#include <algorithm>
#include <cstring>

#include "gemv.h"
#include "parallel.h"
#include "simd_isa.h"

namespace tensorlogic::cpu {
namespace {

constexpr double kTaskWork = 65536.0 * 4.0;  // multiply-adds per parallel task, as gemm.cpp's batches

template <class T>
using Product = void (*)(const T* a, int64_t ar, int64_t ac, const T* b, int64_t br, int64_t bc, int64_t m, int64_t n,
                         int64_t k, float* c);

#if TL_SIMD_X86
// One vector of f16 or f32 values at p.
template <class Isa>
inline void load_vec(typename Isa::V& v, const half* p) {
  Isa::load_f16(v, p);
}
template <class Isa>
inline void load_vec(typename Isa::V& v, const float* p) {
  Isa::load(v, p);
}

// Up to kWidth values at src, `stride` apart, as one vector (zero past count): a partial or strided line is
// gathered first, so that each f16 widening is one instruction.
template <class Isa, class T>
inline void load_line(typename Isa::V& v, const T* src, int64_t stride, int64_t count) {
  if (stride == 1 && count == Isa::kWidth) {
    load_vec<Isa>(v, src);
    return;
  }
  T line[Isa::kWidth] = {};
  for (int64_t t = 0; t < count; ++t) line[t] = src[t * stride];
  load_vec<Isa>(v, line);
}

// The [rows, cols] matrix at src (strides rs, cs) as f32 rows of ld floats (ld: whole vectors), zero past
// cols. A matrix stored by columns (rs == 1: a transposed view) is read a column per vector and transposed in
// registers a tile at a time; any other layout a row per vector.
template <class Isa, class T>
inline void pack(const T* src, int64_t rs, int64_t cs, int64_t rows, int64_t cols, float* dst, int64_t ld) {
  constexpr int W = Isa::kWidth;
  if (rs == 1 && cs != 1) {
    typename Isa::V tile[W];
    for (int64_t i0 = 0; i0 < rows; i0 += W) {
      const int64_t height = std::min<int64_t>(W, rows - i0);
      for (int64_t j0 = 0; j0 < cols; j0 += W) {
        const int64_t width = std::min<int64_t>(W, cols - j0);
        for (int64_t t = 0; t < W; ++t) {
          if (t < width) {
            load_line<Isa>(tile[t], src + i0 + (j0 + t) * cs, 1, height);
          } else {
            Isa::zero(tile[t]);
          }
        }
        Isa::transpose(tile);
        for (int64_t t = 0; t < height; ++t) Isa::store(dst + (i0 + t) * ld + j0, tile[t]);
      }
    }
    return;
  }
  const int64_t whole = cs == 1 ? cols / W * W : 0;  // unit-stride whole vectors, read directly
  typename Isa::V v;
  for (int64_t i = 0; i < rows; ++i, src += rs, dst += ld) {
    for (int64_t j = 0; j < whole; j += W) {
      load_vec<Isa>(v, src + j);
      Isa::store(dst + j, v);
    }
    for (int64_t j0 = whole; j0 < cols; j0 += W) {
      load_line<Isa>(v, src + j0 * cs, cs, std::min<int64_t>(W, cols - j0));
      Isa::store(dst + j0, v);
    }
  }
}

// c's R rows (ldc apart), JV vectors wide = R rows of a (lda apart) @ b (k rows, ldb apart, JV vectors wide;
// packed f32, or the operand itself when its rows are unit-stride whole vectors).
template <class Isa, int R, int JV, class B>
inline void block(const float* a, int64_t lda, const B* b, int64_t ldb, int64_t k, float* c, int64_t ldc) {
  constexpr int W = Isa::kWidth;
  typename Isa::V acc[R][JV], bv[JV], av;
  for (int r = 0; r < R; ++r) {
    for (int v = 0; v < JV; ++v) Isa::zero(acc[r][v]);
  }
  for (int64_t p = 0; p < k; ++p) {
    for (int v = 0; v < JV; ++v) load_vec<Isa>(bv[v], b + p * ldb + v * W);
    for (int r = 0; r < R; ++r) {
      Isa::set1(av, a[r * lda + p]);
      for (int v = 0; v < JV; ++v) Isa::fma(acc[r][v], av, bv[v]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int v = 0; v < JV; ++v) Isa::store(c + r * ldc + v * W, acc[r][v]);
  }
}

// block<Isa, rows, vectors> for the rows and vectors left at an edge (rows <= R, vectors <= JV).
template <class Isa, int R, int JV, class B>
inline void edge_block(int rows, int vectors, const float* a, int64_t lda, const B* b, int64_t ldb, int64_t k,
                       float* c, int64_t ldc) {
  if constexpr (R > 1) {
    if (rows < R) return edge_block<Isa, R - 1, JV>(rows, vectors, a, lda, b, ldb, k, c, ldc);
  }
  if constexpr (JV > 1) {
    if (vectors < JV) return edge_block<Isa, R, JV - 1>(rows, vectors, a, lda, b, ldb, k, c, ldc);
  }
  block<Isa, R, JV>(a, lda, b, ldb, k, c, ldc);
}

// c (rows of ldc floats) = the packed a (m rows of lda) @ b (k rows of ldb, `vectors` vectors wide).
// Accumulators: 24 of AVX-512's 32 registers, 12 of AVX2's 16; at least 8 independent sums hide the fused
// multiply-add's latency at one vector per row (n <= W: attention's 16-wide products).
template <class Isa, class B>
inline void multiply(const float* a, int64_t lda, const B* b, int64_t ldb, int64_t m, int64_t vectors, int64_t k,
                     float* c, int64_t ldc) {
  constexpr int W = Isa::kWidth, R = W == 16 ? 8 : 6, JV = W == 16 ? 3 : 2;
  for (int64_t i0 = 0; i0 < m; i0 += R) {
    for (int64_t v0 = 0; v0 < vectors; v0 += JV) {
      edge_block<Isa, R, JV>(static_cast<int>(std::min<int64_t>(R, m - i0)),
                             static_cast<int>(std::min<int64_t>(JV, vectors - v0)), a + i0 * lda, lda, b + v0 * W, ldb,
                             k, c + i0 * ldc + v0 * W, ldc);
    }
  }
}

template <class Isa, class T>
inline void product(const T* a, int64_t ar, int64_t ac, const T* b, int64_t br, int64_t bc, int64_t m, int64_t n,
                    int64_t k, float* c) {
  constexpr int W = Isa::kWidth;
  constexpr int64_t kLine = (kSmallGemmMax + W - 1) / W * W;
  alignas(64) float pa[kSmallGemmMax * kLine], pb[kSmallGemmMax * kLine], pc[kSmallGemmMax * kLine];
  const int64_t lda = (k + W - 1) / W * W, vectors = (n + W - 1) / W, ldb = vectors * W;
  pack<Isa>(a, ar, ac, m, k, pa, lda);
  if (bc == 1 && ldb == n) {  // rows of whole vectors: B is read in place, and C written straight to c
    multiply<Isa>(pa, lda, b, br, m, vectors, k, c, n);
    return;
  }
  pack<Isa>(b, br, bc, k, n, pb, ldb);
  float* out = ldb == n ? c : pc;
  multiply<Isa>(pa, lda, pb, ldb, m, vectors, k, out, ldb);
  if (out == pc) {
    for (int64_t i = 0; i < m; ++i) std::memcpy(c + i * n, pc + i * ldb, static_cast<size_t>(n) * sizeof(float));
  }
}

template <class T>
__attribute__((target(TL_AVX512_TARGET), flatten)) void product_avx512(const T* a, int64_t ar, int64_t ac, const T* b,
                                                                       int64_t br, int64_t bc, int64_t m, int64_t n,
                                                                       int64_t k, float* c) {
  product<simd::Avx512>(a, ar, ac, b, br, bc, m, n, k, c);
}

template <class T>
__attribute__((target(TL_AVX2_TARGET), flatten)) void product_avx2(const T* a, int64_t ar, int64_t ac, const T* b,
                                                                   int64_t br, int64_t bc, int64_t m, int64_t n,
                                                                   int64_t k, float* c) {
  product<simd::Avx2>(a, ar, ac, b, br, bc, m, n, k, c);
}
#endif

template <class T>
Product<T> product_kernel() {
  static const Product<T> kernel = [] {
    const GemvIsa isa = gemv_isa();
#if TL_SIMD_X86
    if (isa == GemvIsa::avx512) return &product_avx512<T>;
    if (isa == GemvIsa::avx2) return &product_avx2<T>;
#endif
    (void)isa;
    return static_cast<Product<T>>(nullptr);
  }();
  return kernel;
}

// One operand of a batch of products: matrix i starts at (i / inner) * outer + (i % inner) * step (one or two
// batch axes); rs, cs: its row and column strides.
template <class T>
struct Operand {
  const T* data;
  int64_t rs, cs, outer, step, inner;
  const T* at(int64_t i) const { return data + (i / inner) * outer + (i % inner) * step; }
};

// c[i] = a[i] @ b[i] for i < batches, parallel over batches (about kTaskWork multiply-adds per task).
template <class T>
void batched(const Operand<T>& a, const Operand<T>& b, int64_t batches, int64_t m, int64_t n, int64_t k, float* c) {
  const Product<T> fn = product_kernel<T>();
  const double work = std::max(1.0, static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k));
  const int64_t grain = std::max<int64_t>(1, static_cast<int64_t>(kTaskWork / work));
  parallel_for(batches, grain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) fn(a.at(i), a.rs, a.cs, b.at(i), b.rs, b.cs, m, n, k, c + i * m * n);
  });
}

Operand<half> operand(const Array& x) {
  const int nd = x.ndim();
  const Strides& s = x.strides();
  return {x.data_as<half>(), s[nd - 2], s[nd - 1], s[0], nd == 4 ? s[1] : 0, nd == 4 ? x.shape()[1] : 1};
}

}  // namespace

bool small_gemm_fits(int64_t m, int64_t n, int64_t k) {
  return product_kernel<half>() != nullptr && m <= kSmallGemmMax && n <= kSmallGemmMax && k <= kSmallGemmMax;
}

void small_gemm(const Array& a, const Array& b, float* c) {
  const int nd = a.ndim();
  const int64_t batches = a.shape()[0] * (nd == 4 ? a.shape()[1] : 1);
  batched(operand(a), operand(b), batches, a.shape()[nd - 2], b.shape()[nd - 1], a.shape()[nd - 1], c);
}

void small_sgemm(const float* a, const int64_t sa[3], const float* b, const int64_t sb[3], int64_t batches, int64_t m,
                 int64_t n, int64_t k, float* c) {
  batched(Operand<float>{a, sa[1], sa[2], sa[0], 0, 1}, Operand<float>{b, sb[1], sb[2], sb[0], 0, 1}, batches, m, n, k,
          c);
}

}  // namespace tensorlogic::cpu
