// The element conversion of a copy between dtypes, PyTorch's: float to integer truncates toward zero (NaN
// and +-inf, the only f16 values beyond int32's range, become the integer's lowest value, as PyTorch's on
// x86 CPUs: C++ leaves the cast undefined there, and CUDA's saturating cvt gave +inf INT_MAX and NaN 0),
// anything to bool is `!= 0` (NaN is true), integers beyond the f16 range become inf. The CPU and CUDA
// copies call it; metal/copy.metal states the same rules in MSL, which has no `if constexpr`.
#pragma once
#include <limits>
#include <type_traits>

#include "portable.h"

namespace tensorlogic {
namespace kernels {

// F16 names the backend's f16 type (F16::type: CPU's half, CUDA's __half) and its conversions
// F16::to_f32 and F16::from_f32 (round to nearest even).
template <typename F16, typename From, typename To>
TL_FN To convert_element(From v) {
  if constexpr (std::is_same_v<From, To>) {
    return v;
  } else if constexpr (std::is_same_v<From, typename F16::type>) {
    const float f = F16::to_f32(v);
    if constexpr (std::is_same_v<To, bool>) return f != 0.0f;
    // (f - f is 0 for finite f, NaN for NaN and +-inf; f16's finite values all fit int32)
    return f - f == 0.0f ? static_cast<To>(f) : std::numeric_limits<To>::lowest();
  } else if constexpr (std::is_same_v<To, typename F16::type>) {
    return F16::from_f32(static_cast<float>(v));
  } else {
    return static_cast<To>(v);
  }
}

}  // namespace kernels
}  // namespace tensorlogic
