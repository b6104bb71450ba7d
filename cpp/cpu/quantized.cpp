// The CPU's quantized_gemm and dequantize families (GGUF block formats, see backend.h). Up to kDirectRows
// rows of x (decoding, short prompts) multiply the blocks directly, kGemvMaxRows rows per pass over the
// weights (quantized_dot.cpp); more rows (a prefill) dequantise bands of weight rows into f32 for OpenBLAS,
// where the decoding cost is spread over the rows. Bands are large: each switch between our pool (the
// dequantisation) and OpenBLAS's threads costs more than the work on a machine with few cores.
#include <cblas.h>

#include <algorithm>
#include <climits>
#include <string>
#include <vector>

#include "blas.h"
#include "cpu_backend.h"
#include "f16_convert.h"
#include "gemv.h"
#include "parallel.h"
#include "quantized_dot.h"
#include "tensorlogic/errors.h"

namespace tensorlogic::cpu {
namespace {

constexpr int64_t kDirectRows = 64;
constexpr int64_t kBandFloats = int64_t{1} << 24;  // 64 MiB of dequantised weights per OpenBLAS call
constexpr int64_t kDecodeGrain = int64_t{1} << 15;  // weights per parallel chunk of dequantisation

const uint8_t* block_bytes(const Array& blocks) { return static_cast<const uint8_t*>(blocks.data()); }
int64_t row_bytes(const Array& blocks) { return blocks.strides()[0] * 4; }

void parallel_rows(int64_t rows, int64_t k, const std::function<void(int64_t, int64_t)>& fn) {
  parallel_for(rows, std::max<int64_t>(1, kDecodeGrain / std::max<int64_t>(k, 1)), fn);
}

}  // namespace

void CpuBackend::quantized_gemm(QuantType type, const Array& x, const Array& blocks, const Array& out,
                                const GemmEpilogue& epilogue) {
  const int64_t m = out.shape()[1], n = out.shape()[2], k = x.shape()[2];
  const uint8_t* w = block_bytes(blocks);
  const int64_t stride = row_bytes(blocks);
  Scratch sx(0), sw(1), sc(2);
  const Panel px = widen(x, sx.get(panel_floats(x)));  // x is contiguous: px is row-major [m, k]
  float* c = sc.get(static_cast<size_t>(m * n));
  if (m <= kDirectRows) {
    for (int64_t r0 = 0; r0 < m; r0 += kGemvMaxRows) {
      const int64_t rows = std::min(kGemvMaxRows, m - r0);
      quantized_gemv(type, px.data + r0 * k, rows, k, w, stride, n, c + r0 * n);
    }
  } else {
    for (int64_t v : {m, n, k}) {
      if (v > INT_MAX) throw ArgumentError("quantized_linear: a dimension of " + std::to_string(v) + " exceeds the BLAS int range");
    }
    const int64_t band = std::min<int64_t>(n, std::max<int64_t>(64, kBandFloats / k));
    float* dequantised = sw.get(static_cast<size_t>(band * k));
    for (int64_t j0 = 0; j0 < n; j0 += band) {
      const int64_t rows = std::min(band, n - j0);
      parallel_rows(rows, k, [&](int64_t r0, int64_t r1) {
        dequantize_rows(type, w + (j0 + r0) * stride, stride, k, r1 - r0, dequantised + r0 * k);
      });
      sgemm_f32(false, true, m, rows, k, px.data, k, dequantised, k, 0.0f, c + j0, n);
    }
  }
  finish_gemm(c, out, epilogue);
}

void CpuBackend::dequantize(QuantType type, const Array& blocks, const Array& out) {
  const int64_t n = out.shape()[0], k = out.shape()[1];
  const uint8_t* w = block_bytes(blocks);
  const int64_t stride = row_bytes(blocks);
  half* dst = out.data_as<half>();
  parallel_rows(n, k, [&](int64_t r0, int64_t r1) {
    std::vector<float> line(static_cast<size_t>(k));
    for (int64_t r = r0; r < r1; ++r) {
      dequantize_rows(type, w + r * stride, stride, k, 1, line.data());
      f32_to_f16(line.data(), dst + r * k, k);
    }
  });
}

}  // namespace tensorlogic::cpu
