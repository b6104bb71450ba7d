// Small helpers for axis arguments shared by the core's op files.
#pragma once
#include <string>
#include <vector>

#include "tensorlogic/array.h"
#include "tensorlogic/errors.h"

namespace tensorlogic {

// Maps a possibly negative axis into [0, ndim); IndexOutOfRange naming the op otherwise.
inline int normalize_axis(int axis, int ndim, const char* op) {
  const int range = ndim > 0 ? ndim : 1;  // a 0-d tensor accepts dims 0 and -1, as in PyTorch
  if (axis < -range || axis >= range) {
    throw IndexOutOfRange(std::string(op) + ": dimension " + std::to_string(axis) + " is out of range for a " +
                          std::to_string(ndim) + "-d tensor");
  }
  return axis < 0 ? axis + range : axis;
}

// Sorted, unique, normalised axes; an empty list means every axis.
std::vector<int> normalize_axes(const std::vector<int>& axes, int ndim, const char* op);

}  // namespace tensorlogic
