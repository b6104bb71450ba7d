// Fused optimizer updates, one thread per parameter element, following cpp/cpu/optim.cpp step for step:
// the f16 parameter plus its f32 compensation (state slot 0) is the exact weight; PyTorch's update runs
// in f32; the result is rounded to f16 once and the residual kept, so updates below half an f16 ulp
// accumulate instead of being lost. State slots are f32 words (int32 arrays on the host).
#include <metal_stdlib>
using namespace metal;
#include "params.h"
#include "common.h"

enum : uint { OPT_SGD, OPT_ADAM, OPT_ADAMW, OPT_RMSPROP, OPT_LION };
constant uint KIND [[function_constant(0)]];

kernel void optimizer_step(device half* param [[buffer(0)]], device const half* grad [[buffer(1)]],
                           device float* comp [[buffer(2)]], device float* s0 [[buffer(3)]],
                           device float* s1 [[buffer(4)]], device float* s2 [[buffer(5)]],
                           constant OptimizerCoeffs& c [[buffer(6)]], uint i [[thread_position_in_grid]]) {
  if (i >= c.numel) return;
  float x = float(param[i]) + comp[i];
  float g = float(grad[i]) * c.scale;
  if (c.maximize) g = -g;
  if (KIND == OPT_SGD) {
    if (c.wd != 0.0f) g += c.wd * x;
    if (c.momentum != 0.0f) {
      s0[i] = c.first ? g : c.momentum * s0[i] + (1.0f - c.dampening) * g;
      g = c.nesterov ? g + c.momentum * s0[i] : s0[i];
    }
    x = x - c.lr * g;
  } else if (KIND == OPT_ADAM || KIND == OPT_ADAMW) {
    if (KIND == OPT_ADAMW) {
      x *= c.decay;
    } else if (c.wd != 0.0f) {
      g += c.wd * x;
    }
    const float m = s0[i] + (1.0f - c.beta1) * (g - s0[i]);
    const float v = s1[i] * c.beta2 + (1.0f - c.beta2) * g * g;
    s0[i] = m;
    s1[i] = v;
    float second = v;
    if (c.amsgrad) {
      s2[i] = max(s2[i], v);
      second = s2[i];
    }
    const float denom = sqrt(second) / c.bc2_sqrt + c.eps;
    x = x - c.step_size * (m / denom);
  } else if (KIND == OPT_RMSPROP) {
    if (c.wd != 0.0f) g += c.wd * x;
    const float sq = s0[i] * c.alpha + (1.0f - c.alpha) * g * g;
    s0[i] = sq;
    // Slots after square_avg: momentum_buffer (when momentum > 0), then grad_avg (when centered).
    device float* buf = c.momentum > 0.0f ? s1 : s0;
    device float* grad_avg = c.momentum > 0.0f ? s2 : s1;
    float avg;
    if (c.centered) {
      const float ga = grad_avg[i] + (1.0f - c.alpha) * (g - grad_avg[i]);
      grad_avg[i] = ga;
      avg = sqrt(sq - ga * ga) + c.eps;
    } else {
      avg = sqrt(sq) + c.eps;
    }
    if (c.momentum > 0.0f) {
      buf[i] = buf[i] * c.momentum + g / avg;
      x = x - c.lr * buf[i];
    } else {
      x = x - c.lr * (g / avg);
    }
  } else {  // lion
    x *= c.decay;
    const float mixed = s0[i] * c.beta1 + (1.0f - c.beta1) * g;
    const float direction = mixed > 0.0f ? 1.0f : (mixed < 0.0f ? -1.0f : 0.0f);
    s0[i] = s0[i] * c.beta2 + (1.0f - c.beta2) * g;
    x = x - c.lr * direction;
  }
  const half rounded = half(x);
  param[i] = rounded;
  const float residual = x - float(rounded);
  comp[i] = isfinite(residual) ? residual : 0.0f;  // an overflowed weight keeps no residual
}
