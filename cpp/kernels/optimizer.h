// The scalar math of the fused optimizer steps (torch.optim's single-tensor formulas in f32): the one
// definition the CPU, CUDA and Metal backends compute, and the coefficient block they read it from.
#pragma once
#include "portable.h"
#include "tensorlogic/op_enums.h"

namespace tensorlogic {
namespace kernels {

// The host's scalars in the form the update uses (bias corrections computed in double, like PyTorch:
// optimizer_coeffs in cpp/core/optim.cpp). Plain int, long (64-bit on every target) and float, so this
// is also the layout of the Metal kernel's argument buffer.
struct OptimizerCoeffs {
  long numel;
  float lr, wd, momentum, dampening, beta1, beta2, eps, alpha, step_size, bc2_sqrt, decay, scale;
  int nesterov, maximize, amsgrad, centered, first;
  int slots;  // state slots after the compensation that these options use (s[0 .. slots) below)
};

// One element: x is the exact f32 parameter, g the gradient, s[0..2] the values of its state slots 1..
// (slot 0, the compensation, is the caller's), which the caller reads and writes back (c.slots of them,
// so that no memory is moved for unused ones). Slots in order:
// sgd: momentum_buffer; adam/adamw: exp_avg, exp_avg_sq, max_exp_avg_sq; rmsprop: square_avg, then
// momentum_buffer (when momentum > 0), then grad_avg (when centered); lion: exp_avg.
TL_FN float optimizer_update(OptimizerKind kind, OptimizerCoeffs c, float x, float g, TL_THREAD float* s) {
  g *= c.scale;
  if (c.maximize) g = -g;
  switch (kind) {
    case OptimizerKind::sgd: {
      if (c.wd != 0.0f) g += c.wd * x;
      if (c.momentum != 0.0f) {
        s[0] = c.first ? g : c.momentum * s[0] + (1.0f - c.dampening) * g;
        g = c.nesterov ? g + c.momentum * s[0] : s[0];
      }
      return x - c.lr * g;
    }
    case OptimizerKind::adam:
    case OptimizerKind::adamw: {
      if (kind == OptimizerKind::adamw) {
        x *= c.decay;
      } else if (c.wd != 0.0f) {
        g += c.wd * x;
      }
      s[0] += (1.0f - c.beta1) * (g - s[0]);
      s[1] = s[1] * c.beta2 + (1.0f - c.beta2) * g * g;
      float second = s[1];
      if (c.amsgrad) {
        s[2] = s[2] < s[1] ? s[1] : s[2];  // std::max: a NaN maximum stays
        second = s[2];
      }
      const float denom = sqrt(second) / c.bc2_sqrt + c.eps;
      return x - c.step_size * (s[0] / denom);
    }
    case OptimizerKind::rmsprop: {
      if (c.wd != 0.0f) g += c.wd * x;
      s[0] = s[0] * c.alpha + (1.0f - c.alpha) * g * g;
      const int buf = 1, grad_avg = c.momentum > 0.0f ? 2 : 1;
      float avg;
      if (c.centered) {
        s[grad_avg] += (1.0f - c.alpha) * (g - s[grad_avg]);
        avg = sqrt(s[0] - s[grad_avg] * s[grad_avg]) + c.eps;
      } else {
        avg = sqrt(s[0]) + c.eps;
      }
      if (c.momentum > 0.0f) {
        s[buf] = s[buf] * c.momentum + g / avg;
        return x - c.lr * s[buf];
      }
      return x - c.lr * (g / avg);
    }
    case OptimizerKind::lion: {
      x *= c.decay;
      const float mixed = s[0] * c.beta1 + (1.0f - c.beta1) * g;
      const float direction = mixed > 0.0f ? 1.0f : (mixed < 0.0f ? -1.0f : 0.0f);
      s[0] = s[0] * c.beta2 + (1.0f - c.beta2) * g;
      return x - c.lr * direction;
    }
  }
  return x;
}

}  // namespace kernels
}  // namespace tensorlogic
