// Fused optimizer updates, one thread per parameter element, like cpp/cpu/optim.cpp: the f16 parameter
// plus its compensation (state slot 0, an int16 count of 2^-15 f16 ulps: kernels::compensated) is the exact
// weight; PyTorch's update (cpp/kernels/optimizer.h) runs in f32; the result is rounded to f16 once and the
// residual kept, so updates below half an f16 ulp accumulate instead of being lost. The other state slots
// are f32 words (int32 arrays on the host).
#include <metal_stdlib>
using namespace metal;
#include "params.h"
#include "common.h"
#include "kernels/optimizer.h"

constant uint KIND [[function_constant(0)]];  // an OptimizerKind

// Slots past c.slots are bound to the compensation buffer and never touched.
kernel void optimizer_step(device half* param [[buffer(0)]], device const half* grad [[buffer(1)]],
                           device short* comp [[buffer(2)]], device float* s0 [[buffer(3)]],
                           device float* s1 [[buffer(4)]], device float* s2 [[buffer(5)]],
                           constant OptimizerCoeffs& c [[buffer(6)]], uint i [[thread_position_in_grid]]) {
  if (i >= c.numel) return;
  float s[3] = {c.slots > 0 ? s0[i] : 0.0f, c.slots > 1 ? s1[i] : 0.0f, c.slots > 2 ? s2[i] : 0.0f};
  const float x = optimizer_update(OptimizerKind(KIND), c, compensated(float(param[i]), comp[i]), float(grad[i]), s);
  if (c.slots > 0) s0[i] = s[0];
  if (c.slots > 1) s1[i] = s[1];
  if (c.slots > 2) s2[i] = s[2];
  const half rounded = half(x);
  param[i] = rounded;
  comp[i] = compensation_count(x, float(rounded));
}
