// Declarations shared by the binding files of tensorlogic._core (one file per area of the API).
#pragma once
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <stdexcept>

#include "gil.h"
#include "tensorlogic/tensorlogic.h"

namespace tensorlogic::python {

namespace py = pybind11;

// The areas of the API, one binding file each (bind_<area>.cpp), in the order module.cpp binds them: one list
// serves the declarations here and the calls there. apple binds the ane device's hooks (Apple builds only).
#define TL_BINDING_AREAS(X) \
  X(array) X(device) X(views) X(elementwise) X(memory) X(reduce) X(linalg) X(indexing) X(dlpack) X(tensor_base) \
  X(optim) X(logic) X(autograd) X(engine) X(guard) X(apple) X(build)

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

// pybind11 binds a member function with `Class*` as its self, and a pointer argument takes None as null, so
// `Array.numel(None)` called numel on a null pointer (a segfault). Bound through these, self is a reference and None
// a TypeError.
template <typename C, typename R, typename... A>
auto by_reference(R (C::*f)(A...) const) {
  return [f](const C& self, A... a) -> R { return (self.*f)(std::forward<A>(a)...); };
}
template <typename C, typename R, typename... A>
auto by_reference(R (C::*f)(A...)) {
  return [f](C& self, A... a) -> R { return (self.*f)(std::forward<A>(a)...); };
}

// Memory running out at a pybind11 instance's allocation is a MemoryError (instance_allocation.cpp): applied
// to every pybind11 class of the module once all are bound.
void check_instance_allocation(py::module_& m);
// A class with no constructor: its __new__ made an instance with nothing inside, whose methods read garbage.
void refuse_python_construction(py::handle type);

}  // namespace tensorlogic::python

namespace pybind11::detail {

// Python numbers cross as tensorlogic::Scalar with their kind, which type promotion reads (SPEC §1): bool
// (numpy's too), int (numpy's integers too, through __index__; beyond int64 an OverflowError, though like
// PyTorch up to 2^64 - 1, wrapped) and float (numpy's floats too). A complex number is a dtype error.
template <>
struct type_caster<tensorlogic::Scalar> {
  PYBIND11_TYPE_CASTER(tensorlogic::Scalar, const_name("number"));

  bool load(handle src, bool) {
    PyObject* o = src.ptr();
    if (PyBool_Check(o)) {
      value = tensorlogic::Scalar(o == Py_True);
    } else if (PyFloat_Check(o)) {
      value = tensorlogic::Scalar(PyFloat_AS_DOUBLE(o));
    } else if (is_numpy_bool(o)) {
      value = tensorlogic::Scalar(PyObject_IsTrue(o) == 1);
    } else if (PyLong_Check(o) || PyIndex_Check(o)) {
      const object index = reinterpret_steal<object>(PyNumber_Index(o));
      if (!index) throw error_already_set();
      value = tensorlogic::Scalar(to_int64(index.ptr()));
    } else if (PyComplex_Check(o)) {
      throw tensorlogic::DtypeError("complex numbers are not supported: TensorLogic has float16, int32, int64 and "
                                    "bool");
    } else if (is_numpy_float(o)) {
      const double v = PyFloat_AsDouble(o);
      if (v == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return false;
      }
      value = tensorlogic::Scalar(v);
    } else {
      return false;
    }
    return true;
  }

  static handle cast(const tensorlogic::Scalar& s, return_value_policy, handle) {
    switch (s.kind()) {
      case tensorlogic::Scalar::Kind::boolean: return pybind11::bool_(s.to_int() != 0).release();
      case tensorlogic::Scalar::Kind::integer: return pybind11::int_(s.to_int()).release();
      case tensorlogic::Scalar::Kind::floating: break;
    }
    return pybind11::float_(s.to_double()).release();
  }

 private:
  static bool is_numpy_bool(PyObject* o) {
    const char* name = Py_TYPE(o)->tp_name;
    return std::strcmp(name, "numpy.bool") == 0 || std::strcmp(name, "numpy.bool_") == 0;
  }
  static bool is_numpy_float(PyObject* o) {  // float16, float32, longdouble (numpy's float64 is a float)
    const char* name = Py_TYPE(o)->tp_name;
    return std::strncmp(name, "numpy.float", 11) == 0 || std::strcmp(name, "numpy.longdouble") == 0;
  }
  static int64_t to_int64(PyObject* index) {
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(index, &overflow);
    if (overflow == 0) return v;
    if (overflow > 0) {
      const unsigned long long u = PyLong_AsUnsignedLongLong(index);
      if (!(u == static_cast<unsigned long long>(-1) && PyErr_Occurred())) return static_cast<int64_t>(u);
      PyErr_Clear();
    }
    throw std::overflow_error("int too big to convert: TensorLogic's integers are int64");
  }
};

}  // namespace pybind11::detail
