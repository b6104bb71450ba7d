// Small helpers for axis, op-enum and fill-value arguments shared by the core's op files.
#pragma once
#include <string>
#include <vector>

#include "tensorlogic/array.h"
#include "tensorlogic/errors.h"

namespace tensorlogic {

// Maps a possibly negative axis into [0, ndim); IndexOutOfRange naming the op otherwise.
inline int normalize_axis(int axis, int ndim, const char* op) {
  if (ndim == 0 ? (axis != 0 && axis != -1) : (axis < -ndim || axis >= ndim)) {
    throw IndexOutOfRange(std::string(op) + ": dimension " + std::to_string(axis) + " is out of range for a " +
                          std::to_string(ndim) + "-d tensor");
  }
  return ndim == 0 ? 0 : (axis < 0 ? axis + ndim : axis);
}

// names[value] of an op table's name list; ArgumentError for a value outside the enum (a C++ caller's cast): the
// list would be read past its end and the kernels' switches would fall through.
template <size_t N>
const char* checked_name(const char* const (&names)[N], unsigned value, const char* kind) {
  if (value >= N) throw ArgumentError(std::string("unknown ") + kind + " " + std::to_string(value));
  return names[value];
}

// ArgumentError where `value` cannot be written into an integer array of `dtype` (NaN, inf, or beyond its range:
// converting those to an integer is undefined in C++; x86 gave INT64_MIN, and 2^40 wrapped in int32). Floats and
// bools take any value; a fraction truncates toward zero, as in PyTorch.
inline void check_fill_value(const char* op, double value, Dtype dtype) {
  const bool fits = dtype == Dtype::int32 ? value > -2147483649.0 && value < 2147483648.0  // (-2^31 - 1, 2^31)
                                          : value >= -9223372036854775808.0 && value < 9223372036854775808.0;
  if (is_integer(dtype) && !fits) {
    throw ArgumentError(std::string(op) + ": " + std::to_string(value) + " cannot be written into a " +
                        dtype_name(dtype) + " tensor (it is not a number in its range)");
  }
}

// Sorted, unique, normalised axes; an empty list means every axis.
std::vector<int> normalize_axes(const std::vector<int>& axes, int ndim, const char* op);

}  // namespace tensorlogic
