// The shared host-side geometry of the Metal dispatches (metal_launch.h).
#include "metal_launch.h"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "tensorlogic/errors.h"

namespace tensorlogic::metal {

params::ElementwiseParams elementwise_params(const char* op, const Shape& shape, const Strides* operands[4],
                                             bool* contiguous) {
  params::ElementwiseParams p{};
  std::vector<int64_t> sizes;
  std::vector<std::array<int64_t, 4>> strides;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    std::array<int64_t, 4> s{};
    for (int k = 0; k < 4; ++k) s[k] = operands[k] ? (*operands[k])[d] : 0;
    bool merge = !sizes.empty();
    for (int k = 0; k < 4 && merge; ++k) merge = strides.back()[k] == s[k] * shape[d];
    if (merge) {
      sizes.back() *= shape[d];
      strides.back() = s;
    } else {
      sizes.push_back(shape[d]);
      strides.push_back(s);
    }
  }
  if (sizes.empty()) {
    sizes.push_back(1);
    strides.push_back({0, 0, 0, 0});
  }
  if (sizes.size() > TL_MAX_DIMS) {
    throw DeviceError(std::string("metal: ") + op + " on shape " + shape_str(shape) + " needs " +
                      std::to_string(sizes.size()) + " strided dims after merging; the kernels take " +
                      std::to_string(TL_MAX_DIMS) + " (make an operand contiguous first)");
  }
  p.ndim = static_cast<int>(sizes.size());
  p.numel = numel_of(shape);
  *contiguous = sizes.size() == 1;
  for (size_t d = 0; d < sizes.size(); ++d) {
    p.shape[d] = sizes[d];
    for (int k = 0; k < 4; ++k) {
      p.strides[k][d] = strides[d][k];
      if (operands[k] && sizes.size() == 1 && strides[d][k] != 1) *contiguous = false;
    }
  }
  return p;
}

uint32_t checked_groups(int64_t threads, NSUInteger per_group, const char* op) {
  const int64_t groups = (threads + static_cast<int64_t>(per_group) - 1) / static_cast<int64_t>(per_group);
  if (threads > static_cast<int64_t>(UINT32_MAX)) {
    throw DeviceError(std::string("metal: ") + op + " on " + std::to_string(threads) +
                      " elements exceeds one dispatch (2^32 threads)");
  }
  return static_cast<uint32_t>(std::max<int64_t>(groups, 1));
}

params::ElementwiseParams block_params(const char* op, const Array& view) {
  const Strides* operands[4] = {&view.strides(), nullptr, nullptr, nullptr};
  bool contiguous = false;
  return elementwise_params(op, view.shape(), operands, &contiguous);
}

NSUInteger row_threads(int64_t n) {
  const int64_t rounded = (n + 31) / 32 * 32;
  return static_cast<NSUInteger>(std::clamp<int64_t>(rounded, 32, 256));
}

}  // namespace tensorlogic::metal
