// Fused optimizer steps: argument and state checks of every parameter, then one call of the backend's
// optimizer kernel family per device.
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "backend.h"
#include "tensorlogic/errors.h"
#include "tensorlogic/ops.h"
#include "tensorlogic/optim.h"

namespace tensorlogic {

const char* optimizer_name(OptimizerKind kind) {
  static const char* const names[] = {
#define TL_OPTIMIZER(kind, name) name,
#include "tensorlogic/op_table.def"
  };
  return names[static_cast<int>(kind)];
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
  c.slots = optimizer_state_slots(kind, p) - 1;
  return c;
}

void Backend::optimizer_step(OptimizerKind kind, const OptimizerParams&, const Array& param, const Array&,
                             const std::vector<Array>&) {
  throw DeviceError(std::string(optimizer_name(kind)) + ": fused optimizer steps are not implemented on " +
                    param.device().str());
}

void Backend::optimizer_steps(OptimizerKind kind, const OptimizerParams& params,
                              const std::vector<OptimizerTensors>& tensors) {
  for (const OptimizerTensors& t : tensors) optimizer_step(kind, params, t.param, t.grad, t.state);
}

bool Backend::check_finite_and_unscale(const std::vector<Array>& arrays, float inv_scale) {
  // a * 0 is 0 exactly where a is finite and NaN elsewhere, and a sum keeps a NaN (a max could drop it).
  std::vector<Array> sums;
  sums.reserve(arrays.size());
  for (const Array& a : arrays) {
    const Array zeroed = tensorlogic::binary(BinaryOp::mul, reshape(a, {a.numel()}), 0.0);
    sums.push_back(tensorlogic::reduce(ReduceOp::sum, zeroed, {0}, false));
  }
  const Array total = tensorlogic::reduce(ReduceOp::sum, stack(sums, 0), {0}, false);
  uint16_t bits = 0;
  to_host(total, &bits);
  if (inv_scale != 1.0f) {
    for (const Array& a : arrays) binary_(BinaryOp::mul, a, inv_scale);
  }
  return (bits & 0x7c00u) != 0x7c00u;  // f16 inf and NaN: every exponent bit set
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
  for (const Array& s : state) {
    if (s.dtype() != Dtype::int32 || s.shape() != param.shape() || !s.is_contiguous() || s.device() != param.device()) {
      throw ArgumentError(std::string(op) + ": each state array must be a contiguous int32-word array of shape " +
                          shape_str(param.shape()) + " on " + param.device().str() + ", got " + dtype_name(s.dtype()) +
                          " " + shape_str(s.shape()));
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
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].storage == ranges[i - 1].storage && ranges[i].begin < ranges[i - 1].end) {
      throw ArgumentError(std::string(op) + ": the parameters and state arrays of one step must not overlap "
                          "(is a parameter given twice?)");
    }
  }
}

}  // namespace

void optimizer_step(OptimizerKind kind, const OptimizerParams& p, const std::vector<Array>& parameters,
                    const std::vector<Array>& grads, const std::vector<std::vector<Array>>& states) {
  const char* op = optimizer_name(kind);
  if (grads.size() != parameters.size() || states.size() != parameters.size()) {
    throw ArgumentError(std::string(op) + ": expected one gradient and one state list per parameter, got " +
                        std::to_string(parameters.size()) + " parameters, " + std::to_string(grads.size()) +
                        " gradients and " + std::to_string(states.size()) + " state lists");
  }
  check_options(op, kind, p);
  const size_t slots = static_cast<size_t>(optimizer_state_slots(kind, p));
  // Every parameter is checked before any is updated, so bad input leaves them all unchanged.
  std::vector<OptimizerTensors> all;
  all.reserve(parameters.size());
  for (size_t i = 0; i < parameters.size(); ++i) {
    OptimizerTensors t = checked(op, slots, parameters[i], grads[i], states[i]);
    if (t.param.numel() > 0) all.push_back(std::move(t));
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
    backend_for(device).optimizer_steps(kind, p, group);
  }
}

void optimizer_step(OptimizerKind kind, const OptimizerParams& p, const Array& param, const Array& grad,
                    const std::vector<Array>& state) {
  optimizer_step(kind, p, std::vector<Array>{param}, std::vector<Array>{grad}, std::vector<std::vector<Array>>{state});
}

bool check_finite_and_unscale(const std::vector<Array>& arrays, double inv_scale) {
  // The f16 arrays with elements, grouped by device in the order the devices first appear. A strided array
  // is checked as a contiguous copy and scaled in place by a plain in-place multiply.
  std::vector<std::pair<Device, std::vector<Array>>> groups;
  std::vector<Array> strided;
  for (const Array& a : arrays) {
    if (a.dtype() != Dtype::float16 || a.numel() == 0) continue;
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == a.device(); });
    if (it == groups.end()) it = groups.insert(groups.end(), {a.device(), {}});
    if (a.is_contiguous()) {
      it->second.push_back(a);
    } else {
      it->second.push_back(contiguous(a));
      strided.push_back(a);
    }
  }
  bool finite = true;
  for (const auto& [device, group] : groups) {
    finite = backend_for(device).check_finite_and_unscale(group, static_cast<float>(inv_scale)) && finite;
  }
  if (inv_scale != 1.0) {
    for (const Array& a : strided) binary_(BinaryOp::mul, a, inv_scale);
  }
  return finite;
}

}  // namespace tensorlogic
