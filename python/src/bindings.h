// Declarations shared by the binding files of tensorlogic._core (one file per area of the API).
#pragma once
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "gil.h"
#include "tensorlogic/tensorlogic.h"

namespace tensorlogic::python {

namespace py = pybind11;

// The areas of the API, one binding file each (bind_<area>.cpp), in the order module.cpp binds them: one list
// serves the declarations here and the calls there. apple binds the ane device's hooks (Apple builds only).
#define TL_BINDING_AREAS(X) \
  X(array) X(device) X(views) X(elementwise) X(memory) X(reduce) X(linalg) X(indexing) X(dlpack) X(tensor_base) \
  X(optim) X(logic) X(autograd) X(engine) X(guard) X(apple)

#define TL_DECLARE_BINDING(area) void bind_##area(py::module_& m);
TL_BINDING_AREAS(TL_DECLARE_BINDING)
#undef TL_DECLARE_BINDING

// Shapes cross the boundary as Python sequences of ints.
inline Shape to_shape(const std::vector<int64_t>& dims) { return Shape(dims.begin(), dims.end()); }
inline py::tuple to_tuple(const Shape& shape) {
  py::tuple t(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) t[i] = py::int_(shape[i]);
  return t;
}
Dtype parse_dtype(const std::string& name);

}  // namespace tensorlogic::python
