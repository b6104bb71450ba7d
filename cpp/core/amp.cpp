// GradScaler's device side (tensorlogic/optim.h): the inf/NaN check of gradients into a device flag and the
// scale update, checked once here; and the backends' defaults, which read the values back (free on the CPU).
#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "backend.h"
#include "tensorlogic/errors.h"
#include "tensorlogic/ops.h"
#include "tensorlogic/optim.h"

namespace tensorlogic {
namespace {

int32_t float_bits(float value) {
  int32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

float bits_float(int32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

}  // namespace

void check_word(const char* op, const char* name, const Array& a) {
  if (a.defined() && (a.dtype() != Dtype::int32 || a.numel() != 1 || !a.is_contiguous())) {
    throw ArgumentError(std::string(op) + ": " + name + " must be a one-element int32 array, got " +
                        dtype_name(a.dtype()) + " " + shape_str(a.shape()));
  }
}

Array on_device(const Array& a, Device device) {
  return !a.defined() || a.device() == device ? a : to_device(a, device);
}

// The arrays of a LossScale, checked as amp_update_scale and set_loss_scale need them: one word each (a larger
// array given to set_loss_scale was filled from a one-word host buffer, read past its end).
namespace {
void check_loss_scale(const char* op, const LossScale& s) {
  for (const auto& [name, a] : {std::pair<const char*, const Array*>{"scale", &s.scale}, {"inv_scale", &s.inv_scale}}) {
    if (!a->defined()) throw ArgumentError(std::string(op) + ": " + name + " is required");
    check_word(op, name, *a);
  }
  if (!s.scale_f16.defined() || s.scale_f16.dtype() != Dtype::float16 || s.scale_f16.numel() != 1) {
    throw ArgumentError(std::string(op) + ": scale_f16 must be a one-element float16 array");
  }
}
}  // namespace

void set_loss_scale(const LossScale& s, double scale) {
  const float value = static_cast<float>(scale);
  check_loss_scale("set_loss_scale", s);
  Backend& backend = backend_of("set_loss_scale", {&s.scale, &s.inv_scale, &s.scale_f16});
  const int32_t words[2] = {float_bits(value), float_bits(kernels::inverse_scale(value))};
  backend.copy_from_host(&words[0], s.scale);
  backend.copy_from_host(&words[1], s.inv_scale);
  // A scale of 2^16 rounds to inf here: the scaled loss then reads inf, as it would if the scale were a host
  // number multiplied in, and the next update backs off.
  backend.fill(s.scale_f16, value);
}

LossScale make_loss_scale(double scale, int64_t growth_tracker, Device device) {
  const LossScale s{Array::empty({}, Dtype::int32, device), Array::empty({}, Dtype::int32, device),
                    Array::empty({}, Dtype::float16, device),
                    full({}, static_cast<double>(growth_tracker), Dtype::int32, device)};
  set_loss_scale(s, scale);
  return s;
}

void amp_non_finite_check_and_unscale(const std::vector<Array>& arrays, const Array& found_inf,
                                      const Array& inv_scale) {
  const char* op = "amp_non_finite_check_and_unscale";
  if (!found_inf.defined()) throw ArgumentError(std::string(op) + ": found_inf is required");
  check_word(op, "found_inf", found_inf);
  check_word(op, "inv_scale", inv_scale);
  // Strided arrays are checked (and scaled) as contiguous copies, which are then copied back.
  std::vector<Array> group;
  std::vector<std::pair<Array, Array>> strided;
  for (const Array& a : arrays) {
    if (a.dtype() != Dtype::float16 || a.numel() == 0) continue;
    backend_of(op, {&found_inf, &a});
    if (a.is_contiguous()) {
      group.push_back(a);
    } else {
      group.push_back(contiguous(a));
      strided.emplace_back(a, group.back());
    }
  }
  if (group.empty()) return;
  const Array inv = on_device(inv_scale, found_inf.device());
  backend_for(found_inf.device()).non_finite_check_and_unscale(group, found_inf, inv.defined() ? &inv : nullptr);
  if (inv.defined()) {
    for (const auto& [original, packed] : strided) copy_(original, packed);
  }
}

bool check_finite_and_unscale(const std::vector<Array>& arrays, double inv_scale) {
  std::vector<std::pair<Device, std::vector<Array>>> groups;  // devices in the order they first appear
  for (const Array& a : arrays) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == a.device(); });
    if (it == groups.end()) it = groups.insert(groups.end(), {a.device(), {}});
    it->second.push_back(a);
  }
  const int32_t inv_bits = float_bits(static_cast<float>(inv_scale));
  bool finite = true;
  for (const auto& [device, group] : groups) {
    const Array found = full({}, 0.0, Dtype::int32, device);
    const Array inv = inv_scale != 1.0 ? from_host(&inv_bits, {}, Dtype::int32, device) : Array();
    amp_non_finite_check_and_unscale(group, found, inv);
    int32_t value = 0;
    to_host(found, &value);
    finite = finite && value == 0;
  }
  return finite;
}

void amp_update_scale(const LossScale& s, const Array& found_inf, double growth_factor, double backoff_factor,
                      int64_t growth_interval) {
  const char* op = "amp_update_scale";
  check_loss_scale(op, s);
  for (const auto& [name, a] : {std::pair<const char*, const Array*>{"growth_tracker", &s.growth_tracker},
                                {"found_inf", &found_inf}}) {
    if (!a->defined()) throw ArgumentError(std::string(op) + ": " + name + " is required");
    check_word(op, name, *a);
  }
  Backend& backend = backend_of(op, {&s.scale, &s.inv_scale, &s.scale_f16, &s.growth_tracker});
  backend.update_loss_scale(s, on_device(found_inf, s.scale.device()), growth_factor, backoff_factor,
                            growth_interval);
}

void Backend::non_finite_check_and_unscale(const std::vector<Array>& arrays, const Array& found_inf,
                                           const Array* inv_scale) {
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
  if ((bits & 0x7c00u) == 0x7c00u) fill(found_inf, 1.0);  // f16 inf and NaN: every exponent bit set
  if (inv_scale != nullptr) {
    int32_t inv = 0;
    to_host(*inv_scale, &inv);
    for (const Array& a : arrays) binary_(BinaryOp::mul, a, bits_float(inv));
  }
}

void Backend::update_loss_scale(const LossScale& s, const Array& found_inf, double growth, double backoff,
                                int64_t growth_interval) {
  int32_t values[3];  // scale, growth tracker, found_inf: read in one copy
  to_host(cat({reshape(s.scale, {1}), reshape(s.growth_tracker, {1}), reshape(found_inf, {1})}, 0), values);
  float scale = bits_float(values[0]);
  int tracker = values[1];
  kernels::update_loss_scale(scale, tracker, values[2] != 0, growth, backoff, static_cast<long>(growth_interval));
  set_loss_scale(s, scale);
  fill(s.growth_tracker, tracker);
}

}  // namespace tensorlogic
