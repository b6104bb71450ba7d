// Fused optimizer steps: argument and state checks of every parameter, then one call of the backend's
// optimizer kernel family per device.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "backend.h"
#include "shape_util.h"
#include "tensorlogic/errors.h"
#include "tensorlogic/ops.h"
#include "tensorlogic/optim.h"

namespace tensorlogic {

const char* optimizer_name(OptimizerKind kind) {
  static const char* const names[] = {
#define TL_OPTIMIZER(kind, name) name,
#include "tensorlogic/op_table.def"
  };
  return checked_name(names, static_cast<unsigned>(kind), "optimizer kind");
}

int optimizer_state_slots(OptimizerKind kind, const OptimizerParams& p) {
  switch (kind) {
    case OptimizerKind::sgd: return 1 + (p.momentum != 0.0);
    case OptimizerKind::adam:
    case OptimizerKind::adamw: return 3 + p.amsgrad;
    case OptimizerKind::rmsprop: return 2 + (p.momentum > 0.0) + p.centered;
    case OptimizerKind::lion: return 2;
  }
  return 0;
}

kernels::OptimizerCoeffs optimizer_coeffs(OptimizerKind kind, const OptimizerParams& p, int64_t numel) {
  kernels::OptimizerCoeffs c{};
  c.numel = numel;
  c.lr = static_cast<float>(p.lr);
  c.wd = static_cast<float>(p.weight_decay);
  c.momentum = static_cast<float>(p.momentum);
  c.dampening = static_cast<float>(p.dampening);
  c.beta1 = static_cast<float>(p.beta1);
  c.beta2 = static_cast<float>(p.beta2);
  c.eps = static_cast<float>(p.eps);
  c.alpha = static_cast<float>(p.alpha);
  kernels::set_step(c, step_options(p), static_cast<long>(p.step));
  c.decay = static_cast<float>(1.0 - p.lr * p.weight_decay);  // decoupled decay (AdamW, Lion)
  c.scale = static_cast<float>(p.grad_scale);
  c.nesterov = p.nesterov;
  c.maximize = p.maximize;
  c.amsgrad = p.amsgrad;
  c.centered = p.centered;
  c.slots = optimizer_state_slots(kind, p) - 1;
  return c;
}

void Backend::optimizer_step(OptimizerKind kind, const OptimizerParams&, const Array& param, const Array&,
                             const std::vector<Array>&) {
  throw DeviceError(std::string(optimizer_name(kind)) + ": fused optimizer steps are not implemented on " +
                    param.device().str());
}

kernels::StepOptions step_options(const OptimizerParams& p) { return {p.lr, p.beta1, p.beta2}; }

void Backend::optimizer_steps(OptimizerKind kind, const OptimizerParams& params,
                              const std::vector<OptimizerTensors>& tensors, const ScalerFlags& flags) {
  // The flags and device step counts, all int32 words, read back in one copy.
  std::vector<Array> words;
  for (const Array* a : {&flags.found_inf, &flags.inv_scale}) {
    if (a->defined()) words.push_back(reshape(*a, {1}));
  }
  for (const OptimizerTensors& t : tensors) {
    if (t.step.defined()) words.push_back(reshape(t.step, {1}));
  }
  std::vector<int32_t> values(words.size());
  if (!words.empty()) to_host(cat(words, 0), values.data());
  size_t next = 0;
  if (flags.found_inf.defined() && values[next++] != 0) return;  // a skipped step changes nothing
  OptimizerParams p = params;
  if (flags.inv_scale.defined()) {
    float inv_scale;
    std::memcpy(&inv_scale, &values[next++], sizeof inv_scale);
    p.grad_scale = static_cast<float>(params.grad_scale) * inv_scale;  // CUDA's float product
  }
  for (const OptimizerTensors& t : tensors) {
    if (t.step.defined()) p.step = values[next++] + int64_t{1};
    optimizer_step(kind, p, t.param, t.grad, t.state);
    if (t.step.defined()) fill(t.step, static_cast<double>(p.step));
  }
}

namespace {

void check_value(const char* op, const char* name, double value, bool ok) {
  if (!ok || std::isnan(value)) {
    throw ArgumentError(std::string(op) + ": invalid " + name + " value " + std::to_string(value));
  }
}

void check_options(const char* op, OptimizerKind kind, const OptimizerParams& p) {
  check_value(op, "lr", p.lr, p.lr >= 0.0);
  check_value(op, "weight_decay", p.weight_decay, p.weight_decay >= 0.0);
  check_value(op, "momentum", p.momentum, p.momentum >= 0.0);
  check_value(op, "eps", p.eps, p.eps >= 0.0);
  check_value(op, "beta1", p.beta1, p.beta1 >= 0.0 && p.beta1 < 1.0);
  check_value(op, "beta2", p.beta2, p.beta2 >= 0.0 && p.beta2 < 1.0);
  check_value(op, "alpha", p.alpha, p.alpha >= 0.0);
  check_value(op, "grad_scale", p.grad_scale, std::isfinite(p.grad_scale));
  if (p.step < 1) throw ArgumentError(std::string(op) + ": step must be >= 1, got " + std::to_string(p.step));
  if (kind == OptimizerKind::sgd && p.nesterov && (p.momentum <= 0.0 || p.dampening != 0.0)) {
    throw ArgumentError("SGD: nesterov momentum requires a momentum and zero dampening");
  }
}

// One parameter's arrays after the checks, with a contiguous gradient.
OptimizerTensors checked(const char* op, size_t slots, const Array& param, const Array& grad,
                         const std::vector<Array>& state) {
  backend_of(op, {&param, &grad});
  if (param.dtype() != Dtype::float16 || grad.dtype() != Dtype::float16) {
    throw DtypeError(std::string(op) + ": parameters and gradients must be float16, got " +
                     dtype_name(param.dtype()) + " and " + dtype_name(grad.dtype()));
  }
  if (!param.is_contiguous()) {
    throw ArgumentError(std::string(op) + ": the parameter of shape " + shape_str(param.shape()) +
                        " must be contiguous (it is updated in place)");
  }
  if (grad.shape() != param.shape()) {
    throw ShapeMismatchError(std::string(op) + ": gradient of shape " + shape_str(grad.shape()) +
                             " for a parameter of shape " + shape_str(param.shape()));
  }
  if (state.size() != slots) {
    throw ArgumentError(std::string(op) + ": expected " + std::to_string(slots) + " state arrays for these options, got " +
                        std::to_string(state.size()));
  }
  for (size_t k = 0; k < state.size(); ++k) {
    const Array& s = state[k];
    const Dtype words = k == 0 ? Dtype::float16 : Dtype::int32;  // the compensation's 16-bit words, f32 words
    if (s.dtype() != words || s.shape() != param.shape() || !s.is_contiguous() || s.device() != param.device()) {
      throw ArgumentError(std::string(op) + ": state array " + std::to_string(k) + " must be a contiguous " +
                          dtype_name(words) + "-word array of shape " + shape_str(param.shape()) + " on " +
                          param.device().str() + ", got " + dtype_name(s.dtype()) + " " + shape_str(s.shape()));
    }
    if (s.shares_storage(param) || s.shares_storage(grad)) {
      throw ArgumentError(std::string(op) + ": state arrays must not share memory with the parameter or gradient");
    }
  }
  return {param, grad.is_contiguous() ? grad : contiguous(grad), state};
}

// The arrays an update writes (parameters and state) must not overlap one another: on CUDA all of them are
// written at once, so an overlap (a parameter given twice) would race. Byte ranges, sorted per storage.
void check_disjoint(const char* op, const std::vector<OptimizerTensors>& tensors) {
  struct Range {
    const Storage* storage;
    const char *begin, *end;
    bool operator<(const Range& o) const { return storage != o.storage ? storage < o.storage : begin < o.begin; }
  };
  std::vector<Range> ranges;
  auto add = [&](const Array& a) {
    const char* begin = static_cast<const char*>(a.data());
    ranges.push_back({a.storage().get(), begin, begin + a.nbytes()});
  };
  for (const OptimizerTensors& t : tensors) {
    add(t.param);
    for (const Array& s : t.state) add(s);
    if (t.step.defined()) add(t.step);
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].storage == ranges[i - 1].storage && ranges[i].begin < ranges[i - 1].end) {
      throw ArgumentError(std::string(op) + ": the parameters, state arrays and step counts of one step must not "
                          "overlap (is a parameter given twice?)");
    }
  }
}

}  // namespace

void optimizer_step(OptimizerKind kind, const OptimizerParams& p, const std::vector<Array>& parameters,
                    const std::vector<Array>& grads, const std::vector<std::vector<Array>>& states,
                    const std::vector<Array>& steps, const ScalerFlags& flags) {
  const char* op = optimizer_name(kind);
  if (grads.size() != parameters.size() || states.size() != parameters.size() ||
      (!steps.empty() && steps.size() != parameters.size())) {
    throw ArgumentError(std::string(op) + ": expected one gradient and one state list per parameter (and one step "
                        "count, if any), got " + std::to_string(parameters.size()) + " parameters, " +
                        std::to_string(grads.size()) + " gradients, " + std::to_string(states.size()) +
                        " state lists and " + std::to_string(steps.size()) + " step counts");
  }
  check_options(op, kind, p);
  check_word(op, "found_inf", flags.found_inf);
  check_word(op, "inv_scale", flags.inv_scale);
  const size_t slots = static_cast<size_t>(optimizer_state_slots(kind, p));
  // Every parameter is checked before any is updated, so bad input leaves them all unchanged.
  std::vector<OptimizerTensors> all;
  all.reserve(parameters.size());
  for (size_t i = 0; i < parameters.size(); ++i) {
    OptimizerTensors t = checked(op, slots, parameters[i], grads[i], states[i]);
    if (!steps.empty()) {
      check_word(op, "each step count", steps[i]);
      if (!steps[i].defined() || steps[i].device() != t.param.device()) {
        throw ArgumentError(std::string(op) + ": each step count must be on its parameter's device " +
                            t.param.device().str());
      }
      t.step = steps[i];
    }
    // An empty parameter has nothing to update, but its device count still counts the step (as its host one).
    if (t.param.numel() > 0 || t.step.defined()) all.push_back(std::move(t));
  }
  check_disjoint(op, all);
  // One backend call per device, in the order the devices first appear.
  std::vector<Device> devices;
  for (const OptimizerTensors& t : all) {
    if (std::find(devices.begin(), devices.end(), t.param.device()) == devices.end()) {
      devices.push_back(t.param.device());
    }
  }
  for (const Device& device : devices) {
    std::vector<OptimizerTensors> group;
    for (const OptimizerTensors& t : all) {
      if (t.param.device() == device) group.push_back(t);
    }
    const ScalerFlags here{on_device(flags.found_inf, device), on_device(flags.inv_scale, device)};
    backend_for(device).optimizer_steps(kind, p, group, here);
  }
}

void optimizer_step(OptimizerKind kind, const OptimizerParams& p, const std::vector<Array>& parameters,
                    const std::vector<Array>& grads, const std::vector<std::vector<Array>>& states) {
  optimizer_step(kind, p, parameters, grads, states, {}, {});
}

void optimizer_step(OptimizerKind kind, const OptimizerParams& p, const Array& param, const Array& grad,
                    const std::vector<Array>& state) {
  optimizer_step(kind, p, std::vector<Array>{param}, std::vector<Array>{grad}, std::vector<std::vector<Array>>{state});
}

}  // namespace tensorlogic
