// The scalar math of the fused optimizer steps (torch.optim's single-tensor formulas in f32), shared by
// the CPU kernels and, compiled for the device, the CUDA backend.
#pragma once
#include <algorithm>
#include <cmath>

#include "tensorlogic/optim.h"

#ifndef TL_HD
#ifdef __CUDACC__
#define TL_HD __host__ __device__
#else
#define TL_HD
#endif
#endif

namespace tensorlogic::cpu {

// Host-side scalars in the form the update uses (bias corrections computed in double, like PyTorch).
struct Coeffs {
  float lr, wd, momentum, dampening, beta1, beta2, eps, alpha, step_size, bc2_sqrt, decay, scale;
  bool nesterov, maximize, amsgrad, centered, first;
};

inline Coeffs make_coeffs(OptimizerKind kind, const OptimizerParams& p) {
  Coeffs c{};
  c.lr = static_cast<float>(p.lr);
  c.wd = static_cast<float>(p.weight_decay);
  c.momentum = static_cast<float>(p.momentum);
  c.dampening = static_cast<float>(p.dampening);
  c.beta1 = static_cast<float>(p.beta1);
  c.beta2 = static_cast<float>(p.beta2);
  c.eps = static_cast<float>(p.eps);
  c.alpha = static_cast<float>(p.alpha);
  const double bc1 = 1.0 - std::pow(p.beta1, static_cast<double>(p.step));
  const double bc2 = 1.0 - std::pow(p.beta2, static_cast<double>(p.step));
  c.step_size = static_cast<float>(p.lr / bc1);
  c.bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  c.decay = static_cast<float>(1.0 - p.lr * p.weight_decay);  // decoupled decay (AdamW, Lion)
  c.scale = static_cast<float>(p.grad_scale);
  c.nesterov = p.nesterov;
  c.maximize = p.maximize;
  c.amsgrad = p.amsgrad;
  c.centered = p.centered;
  c.first = p.step == 1;
  return c;
}

// One element: x is the exact f32 parameter, g the gradient, s[k] its state slots 1.. (slot 0 is the
// compensation, handled by the caller). Formulas follow torch.optim's single-tensor implementations.
template <OptimizerKind K>
TL_HD inline float update(const Coeffs& c, float x, float g, float* const* s, int64_t i) {
  g *= c.scale;
  if (c.maximize) g = -g;
  if constexpr (K == OptimizerKind::sgd) {
    if (c.wd != 0.0f) g += c.wd * x;
    if (c.momentum != 0.0f) {
      float& buf = s[0][i];
      buf = c.first ? g : c.momentum * buf + (1.0f - c.dampening) * g;
      g = c.nesterov ? g + c.momentum * buf : buf;
    }
    return x - c.lr * g;
  } else if constexpr (K == OptimizerKind::adam || K == OptimizerKind::adamw) {
    if constexpr (K == OptimizerKind::adamw) {
      x *= c.decay;
    } else {
      if (c.wd != 0.0f) g += c.wd * x;
    }
    float& m = s[0][i];
    float& v = s[1][i];
    m += (1.0f - c.beta1) * (g - m);
    v = v * c.beta2 + (1.0f - c.beta2) * g * g;
    float second = v;
    if (c.amsgrad) {
      s[2][i] = std::max(s[2][i], v);
      second = s[2][i];
    }
    const float denom = std::sqrt(second) / c.bc2_sqrt + c.eps;
    return x - c.step_size * (m / denom);
  } else if constexpr (K == OptimizerKind::rmsprop) {
    if (c.wd != 0.0f) g += c.wd * x;
    float& sq = s[0][i];
    sq = sq * c.alpha + (1.0f - c.alpha) * g * g;
    int next = 1;
    float* buf = c.momentum > 0.0f ? &s[next++][i] : nullptr;
    float avg;
    if (c.centered) {
      float& ga = s[next][i];
      ga += (1.0f - c.alpha) * (g - ga);
      avg = std::sqrt(sq - ga * ga) + c.eps;
    } else {
      avg = std::sqrt(sq) + c.eps;
    }
    if (buf != nullptr) {
      *buf = *buf * c.momentum + g / avg;
      return x - c.lr * *buf;
    }
    return x - c.lr * (g / avg);
  } else {  // lion
    x *= c.decay;
    float& m = s[0][i];
    const float mixed = m * c.beta1 + (1.0f - c.beta1) * g;
    const float direction = mixed > 0.0f ? 1.0f : (mixed < 0.0f ? -1.0f : 0.0f);
    m = m * c.beta2 + (1.0f - c.beta2) * g;
    return x - c.lr * direction;
  }
}

}  // namespace tensorlogic::cpu
