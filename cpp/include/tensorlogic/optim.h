// Fused optimizer steps: one native call updates parameters (one, or a list), their optimizer state and
// their Kahan compensation, with all math in f32 registers (SPEC §5).
#pragma once
#include <cstdint>
#include <vector>

#include "tensorlogic/array.h"
#include "tensorlogic/op_enums.h"  // OptimizerKind

namespace tensorlogic {

// PyTorch's hyperparameters (torch.optim names); each kind reads the fields it uses.
struct OptimizerParams {
  double lr = 1e-3;
  double weight_decay = 0.0;
  double momentum = 0.0;    // sgd, rmsprop
  double dampening = 0.0;   // sgd
  bool nesterov = false;    // sgd
  bool maximize = false;
  double beta1 = 0.9;       // adam, adamw, lion
  double beta2 = 0.999;     // adam, adamw, lion
  double eps = 1e-8;        // adam, adamw, rmsprop
  bool amsgrad = false;     // adam, adamw
  double alpha = 0.99;      // rmsprop
  bool centered = false;    // rmsprop
  int64_t step = 1;         // this update's 1-based count (bias correction; sgd's first momentum step)
  double grad_scale = 1.0;  // the gradient is multiplied by this first, in f32 (GradScaler's unscaling)
};

// Optimizer state arrays are arrays of the parameter's shape holding words of another type: TensorLogic has
// no float32 or int16 tensors. Slot 0 is always the compensation, the residual `exact - f16(param)` of the
// last update, so that updates smaller than half an f16 ulp accumulate instead of being lost: a float16-typed
// array whose 16-bit words are int16 counts of 2^-15 of the parameter's f16 ulp (kernels::compensated in
// cpp/kernels/optimizer.h: the same f32 weight as an f32 residual, in half the bytes). The other slots are
// int32-typed arrays whose 32-bit words hold float32 values (f16 cannot hold state like squared gradients of
// 1e-4), in order:
//   sgd: momentum_buffer (when momentum != 0)
//   adam, adamw: exp_avg, exp_avg_sq, max_exp_avg_sq (when amsgrad)
//   rmsprop: square_avg, momentum_buffer (when momentum > 0), grad_avg (when centered)
//   lion: exp_avg
// New state must be zero-filled.
int optimizer_state_slots(OptimizerKind kind, const OptimizerParams& params);
const char* optimizer_name(OptimizerKind kind);

// Updates `param` (contiguous float16) in place from `grad` (float16, same shape) and `state`.
void optimizer_step(OptimizerKind kind, const OptimizerParams& params, const Array& param, const Array& grad,
                    const std::vector<Array>& state);
// Updates parameters[i] from grads[i] and states[i] for every i, with the same options and step count: the
// same results as one call per parameter, in one backend call per device (a few kernel launches on CUDA
// for all of them). Every parameter is checked before any is updated; the parameters and state arrays
// must not overlap.
void optimizer_step(OptimizerKind kind, const OptimizerParams& params, const std::vector<Array>& parameters,
                    const std::vector<Array>& grads, const std::vector<std::vector<Array>>& states);

// A loss scaler's scalars on the device for one step (PyTorch's fused AdamW's found_inf and grad_scale), each
// undefined when absent. found_inf (int32, one element) skips the whole update, step counts included, where
// it is nonzero; inv_scale (one float32 word in an int32 array) multiplies every gradient, after
// OptimizerParams::grad_scale. Read by the kernels, so the host never waits for them; copied to each
// parameter's device where they live elsewhere.
struct ScalerFlags {
  Array found_inf, inv_scale;
};

// The multi-parameter step with each parameter's step count on its device (steps[i]: int32, one element, the
// number of updates done so far, advanced by the kernels unless found_inf is set; params.step is not used),
// or, with `steps` empty, the counts of params.step. Checked as the overload above.
void optimizer_step(OptimizerKind kind, const OptimizerParams& params, const std::vector<Array>& parameters,
                    const std::vector<Array>& grads, const std::vector<std::vector<Array>>& states,
                    const std::vector<Array>& steps, const ScalerFlags& flags);

// Whether every element of every array is finite (integer and bool arrays always are), checked before the
// f16 arrays are multiplied in place by inv_scale (not at all when it is 1): a loss scaler's check, and
// unscale, of all gradients, with one backend call and one read back per device (PyTorch's
// _amp_foreach_non_finite_check_and_unscale_, the flag read by the host).
bool check_finite_and_unscale(const std::vector<Array>& arrays, double inv_scale = 1.0);

// GradScaler's state on one device, kept there so that a training step never waits for it. scale and
// inv_scale (1 / scale, what the optimizer kernels multiply gradients by) are float32 words in int32 arrays of
// one element: f16 cannot hold a scale of 2^16; scale_f16 is the scale rounded to f16, what the loss is
// multiplied by; growth_tracker (int32) counts the clean steps since the scale last changed.
struct LossScale {
  Array scale, inv_scale, scale_f16, growth_tracker;
};
LossScale make_loss_scale(double scale, int64_t growth_tracker, Device device);
// Writes `scale` (rounded to float) and its inverse and f16 copy from the host, without a read.
void set_loss_scale(const LossScale& s, double scale);

// PyTorch's _amp_foreach_non_finite_check_and_unscale_ without a read: sets found_inf (int32, one element, on
// the arrays' device) to 1 if any element of the f16 arrays is inf or NaN and leaves it otherwise, then
// multiplies each in place by inv_scale's float32 word where inv_scale is defined. Integer arrays are skipped.
void amp_non_finite_check_and_unscale(const std::vector<Array>& arrays, const Array& found_inf,
                                      const Array& inv_scale);
// PyTorch's _amp_update_scale_ on the device (kernels::update_loss_scale): the new scale, its inverse and f16
// copy, and the growth tracker, from found_inf (int32, nonzero when the step found inf/NaN).
void amp_update_scale(const LossScale& s, const Array& found_inf, double growth_factor, double backoff_factor,
                      int64_t growth_interval);

}  // namespace tensorlogic
