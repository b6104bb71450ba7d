// Declarations shared by the binding files of tensorlogic._core (one file per area of the API).
#pragma once
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "gil.h"
#include "tensorlogic/tensorlogic.h"

namespace tensorlogic::python {

namespace py = pybind11;

void bind_array(py::module_& m);
void bind_device(py::module_& m);
void bind_elementwise(py::module_& m);
void bind_views(py::module_& m);
void bind_memory(py::module_& m);
void bind_reduce(py::module_& m);
void bind_linalg(py::module_& m);
void bind_indexing(py::module_& m);
void bind_dlpack(py::module_& m);
void bind_tensor_base(py::module_& m);
void bind_optim(py::module_& m);
void bind_logic(py::module_& m);
void bind_apple(py::module_& m);  // the ane device's hooks (Apple builds only)

// Shapes cross the boundary as Python sequences of ints.
inline Shape to_shape(const std::vector<int64_t>& dims) { return Shape(dims.begin(), dims.end()); }
inline py::tuple to_tuple(const Shape& shape) {
  py::tuple t(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) t[i] = py::int_(shape[i]);
  return t;
}
Dtype parse_dtype(const std::string& name);

}  // namespace tensorlogic::python
