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

// Optimizer state arrays are int32-typed arrays of the parameter's shape whose 32-bit words hold float32
// values: TensorLogic has no float32 tensors, and f16 cannot hold state like squared gradients of 1e-4.
// Slot 0 is always the compensation (the f32 residual `exact - f16(param)` of the last update), so
// updates smaller than half an f16 ulp accumulate instead of being lost. The other slots, in order:
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

// Whether every element of every array is finite (integer and bool arrays always are), checked before the
// f16 arrays are multiplied in place by inv_scale (not at all when it is 1): a loss scaler's check, and
// unscale, of all gradients, with one backend call and one read back per device (PyTorch's
// _amp_foreach_non_finite_check_and_unscale_, the flag read by the host).
bool check_finite_and_unscale(const std::vector<Array>& arrays, double inv_scale = 1.0);

}  // namespace tensorlogic
