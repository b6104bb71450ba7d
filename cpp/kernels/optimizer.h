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
// (slot 0, the compensation, is the caller's: compensated and compensation_count below), which the caller reads and writes back (c.slots of them,
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

// Slot 0, the compensation, in 16 bits. The residual exact - f16(param) of a round to nearest is at most half
// an f16 ulp of the parameter, and since the exact weight is an f32, it is a whole multiple of 2^-14 of that
// ulp wherever the weight's magnitude is at least 2^-15 (f32's ulp there is 2^-38, f16's smallest spacing
// 2^-24). So it is kept as an int16 count of units of 2^-15 ulp (|count| <= 2^14), and param + count * unit
// gives back the f32 weight bit for bit: what a 4-byte f32 compensation keeps, in 2 bytes. Below 2^-15 the
// unit is 2^-39 (the f16 subnormals' spacing 2^-24 over 2^15), so a weight there is kept to 2^-39, not to
// its f32 ulp. The unit depends on the f16 parameter's binade only; powers of two are built from their bits
// (no libm call, so the CPU loops stay branch-free). `param` is the f16 parameter's value as an f32.
TL_FN float f32_from_bits(unsigned int bits) {
#if TL_MSL
  return as_type<float>(bits);
#else
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
#endif
}
TL_FN unsigned int f32_exponent_field(float x) {  // the biased exponent of an f32
#if TL_MSL
  return (as_type<unsigned int>(x) >> 23) & 0xffu;
#else
  unsigned int bits;
  memcpy(&bits, &x, sizeof bits);
  return (bits >> 23) & 0xffu;
#endif
}
// An f16 normal's f32 exponent field is 113 (2^-14) to 142; subnormals and zero use 113's spacing. So the
// unit is 2^(field - 112 - 15 - 25) = 2^(field - 152), f32 field (field - 25); infinities and NaNs (field 255)
// give a finite unit, and their count is always 0.
TL_FN float compensation_unit(float param) {
  const unsigned int e = f32_exponent_field(param);
  return f32_from_bits(((e > 113u ? e : 113u) - 25u) << 23);
}
TL_FN float compensation_inverse_unit(float param) {  // 1 / compensation_unit(param), exactly
  const unsigned int e = f32_exponent_field(param);
  return f32_from_bits((279u - (e > 113u ? e : 113u)) << 23);
}
// The exact weight from the f16 parameter (as f32) and its count.
TL_FN float compensated(float param, short count) { return param + static_cast<float>(count) * compensation_unit(param); }
// The count that keeps `exact` beside its rounding `rounded` (the new parameter, as f32); an overflowed weight
// keeps none. rint rounds half to even on every backend.
TL_FN short compensation_count(float exact, float rounded) {
  const float residual = exact - rounded;
  return isfinite(residual) ? static_cast<short>(rint(residual * compensation_inverse_unit(rounded))) : short(0);
}

}  // namespace kernels
}  // namespace tensorlogic
