// The Philox4x32-10 stream of cpp/core/philox.h on the GPU (the header is shared with the CPU and CUDA
// backends, so every device gives the same bits): element i uses counter (offset + i / 4) and lane
// i % 4; one thread per counter writes its four elements.
#include <metal_stdlib>
using namespace metal;
#include "params.h"
#include "common.h"

#define TL_PHILOX_FN inline
#define TL_PHILOX_U64 ulong
#define TL_PHILOX_I64 long
#define TL_FMAF fma
#define TL_SQRTF precise::sqrt
#include "philox.h"

constant uint KIND [[function_constant(0)]];  // 0 uniform, 1 normal, 2 integer (RandomKind)

// out is f16 (uniform in [0, 1), standard normal) or int32 (integer in [low, high): out_int, the same buffer).
kernel void random_fill(device half* out [[buffer(0)]], device int* out_int [[buffer(1)]],
                        constant RandomParams& p [[buffer(2)]], uint gid [[thread_position_in_grid]]) {
  const long first = long(gid) * 4;
  if (first >= p.numel) return;
  const ulong offset = (ulong(p.offset_hi) << 32) | ulong(p.offset_lo);
  const ulong seed = (ulong(p.seed_hi) << 32) | ulong(p.seed_lo);
  const tensorlogic::PhiloxWords w = tensorlogic::philox4x32_10(offset + ulong(gid), seed);
  float v[4];
  if (KIND == 1) {
    const tensorlogic::PhiloxNormals n0 = tensorlogic::tl_philox_normal2(w.x[0], w.x[1]);
    const tensorlogic::PhiloxNormals n1 = tensorlogic::tl_philox_normal2(w.x[2], w.x[3]);
    v[0] = n0.first;
    v[1] = n0.second;
    v[2] = n1.first;
    v[3] = n1.second;
  }
  for (int lane = 0; lane < 4 && first + lane < p.numel; ++lane) {
    if (KIND == 2) {
      out_int[first + lane] = tensorlogic::tl_philox_integer(w.x[lane], p.low, p.high);
    } else if (KIND == 1) {
      out[first + lane] = half(v[lane]);
    } else {
      out[first + lane] = half(tensorlogic::tl_philox_uniform(w.x[lane]));
    }
  }
}
