// Small helpers for axis arguments shared by the core's op files.
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

// Sorted, unique, normalised axes; an empty list means every axis.
std::vector<int> normalize_axes(const std::vector<int>& axes, int ndim, const char* op);

}  // namespace tensorlogic
