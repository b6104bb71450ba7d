// The scalars of a training step that a loss scaler keeps on the device (PyTorch's fused and capturable
// AdamW): the step-count coefficients of the update and GradScaler's scale update, written once for the
// host (the core and the CPU backend) and CUDA device code. Not for Metal: the math is in double, as
// PyTorch's, so that a count kept on the device gives the bits of one kept on the host.
#pragma once
#include "optimizer.h"

namespace tensorlogic {
namespace kernels {

// The options the step count enters, in the double precision the host holds them in: rounding beta2 =
// 0.999 to float first would move 1 - beta2 (the first step's bias correction) by 1.3e-5 relative.
struct StepOptions {
  double lr, beta1, beta2;
};

// c's fields that depend on the 1-based step (Adam's bias corrections, SGD's first momentum step).
TL_FN void set_step(OptimizerCoeffs& c, StepOptions o, long step) {
  const double bc1 = 1.0 - pow(o.beta1, static_cast<double>(step));
  const double bc2 = 1.0 - pow(o.beta2, static_cast<double>(step));
  c.step_size = static_cast<float>(o.lr / bc1);
  c.bc2_sqrt = static_cast<float>(sqrt(bc2));
  c.first = step == 1;
}

// PyTorch's _amp_update_scale_: an inf/NaN halves the scale (times backoff) and restarts the count of clean
// steps; growth_interval clean steps in a row multiply it by growth, unless the product overflows f32.
// The products are taken in double and rounded to float, as PyTorch's kernel does.
TL_FN void update_loss_scale(float& scale, int& growth_tracker, bool found_inf, double growth, double backoff,
                             long growth_interval) {
  if (found_inf) {
    scale = static_cast<float>(scale * backoff);
    growth_tracker = 0;
    return;
  }
  const int successful = growth_tracker + 1;
  if (successful == growth_interval) {
    const float grown = static_cast<float>(scale * growth);
    if (isfinite(grown)) scale = grown;
    growth_tracker = 0;
  } else {
    growth_tracker = successful;
  }
}

// The factor that unscales gradients: 1 / scale in double rounded to float (GradScaler's
// `scale.double().reciprocal().float()`).
TL_FN float inverse_scale(float scale) { return static_cast<float>(1.0 / static_cast<double>(scale)); }

}  // namespace kernels
}  // namespace tensorlogic
