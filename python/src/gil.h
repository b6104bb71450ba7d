// Releasing the GIL around native work, so that other Python threads run meanwhile (a data-loading
// thread while a matmul computes). Only work that can take long releases it: giving the GIL up and
// taking it back costs ~80 ns, a tenth of a small op's whole latency from Python.
#pragma once
#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include <pybind11/pybind11.h>

#include "tensorlogic/array.h"

namespace tensorlogic::python {

// Work estimates at or above this many elements release the GIL (~5 us of elementwise work or more).
constexpr int64_t kReleaseGilElements = int64_t{1} << 14;

// An op's size from its arguments: the larger of the summed element counts and the broadcast of the
// shapes aligned from the right. The broadcast catches ops whose output outgrows their inputs: an outer
// sum a[n, 1] + b[1, n], a matmul [m, 1] @ [1, n]. A shape argument (creation ops) counts as the
// elements it describes. An estimate, not a cost model: it only decides whether to release the GIL, and
// it is kept to a few instructions for the small ops that keep the GIL.
class WorkEstimate {
 public:
  void add(const Array& a) { add_shape(a.shape()); }
  void add(const std::optional<Array>& a) {
    if (a) add(*a);
  }
  template <typename T>
  void add(const std::vector<T>& items) {
    for (const T& item : items) add(item);
  }
  void add(const std::vector<int64_t>& shape) { add_shape(shape); }
  template <typename T>
  void add(const T&) {}  // scalars, names, enums: no elements

  bool at_least(int64_t elements) const {
    // Sizes are a user's, not yet checked (numel_of saturates): compare before adding, never overflow.
    int64_t total = extra_;
    if (total >= elements) return true;
    size_t ndim = 0;
    for (int s = 0; s < count_; ++s) {
      const int64_t n = numel_of(*shapes_[s]);
      if (n >= elements - total) return true;
      total += n;
      ndim = std::max(ndim, shapes_[s]->size());
    }
    int64_t broadcast = 1;
    for (size_t i = 1; i <= ndim; ++i) {
      int64_t d = 1;
      for (int s = 0; s < count_; ++s) {
        const std::vector<int64_t>& shape = *shapes_[s];
        if (shape.size() >= i) d = std::max(d, shape[shape.size() - i]);
      }
      if (d > (elements - 1) / broadcast) return true;  // broadcast * d >= elements, without the product
      broadcast *= d;  // below `elements`: cannot overflow
    }
    return false;
  }

 private:
  static constexpr int kShapes = 4;  // shapes beyond these count by their elements only

  void add_shape(const std::vector<int64_t>& shape) {
    if (count_ < kShapes) {
      shapes_[count_++] = &shape;
    } else {
      const int64_t n = numel_of(shape);
      extra_ = n > INT64_MAX - extra_ ? INT64_MAX : extra_ + n;
    }
  }

  const std::vector<int64_t>* shapes_[kShapes];
  int count_ = 0;
  int64_t extra_ = 0;
};

// Runs fn() without the GIL when `release` is true. (Two plain branches: a std::optional guard costs
// ~20 ns on every small op.)
template <typename F>
auto release_gil_if(bool release, F&& fn) {
  if (release) {
    const pybind11::gil_scoped_release gil;
    return fn();
  }
  return fn();
}

// Wraps a function (or a captureless lambda: pass `+[](...) {...}`) of native work so that it runs
// without the GIL when its arguments describe enough work. Arguments are converted from Python before
// and the result converted back after, both under the GIL.
template <typename R, typename... Args>
auto without_gil(R (*fn)(Args...)) {
  return [fn](Args... args) -> R {
    WorkEstimate work;
    (work.add(args), ...);
    return release_gil_if(work.at_least(kReleaseGilElements), [&] { return fn(std::forward<Args>(args)...); });
  };
}

// Always releases: waits on a device, whose time does not follow from argument sizes.
template <typename R, typename... Args>
auto always_without_gil(R (*fn)(Args...)) {
  return [fn](Args... args) -> R {
    const pybind11::gil_scoped_release gil;
    return fn(std::forward<Args>(args)...);
  };
}

}  // namespace tensorlogic::python
