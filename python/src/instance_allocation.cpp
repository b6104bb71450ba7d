// How the module's pybind11 classes allocate their Python objects. pybind11 (3.1, make_new_instance) uses
// tp_alloc's result without checking it, so memory running out exactly at an instance's allocation was a
// segfault, not a MemoryError.
#include "bindings.h"

namespace tensorlogic::python {
namespace {

// Every caller of this tp_alloc is pybind11's C++: the dispatcher turns the bad_alloc into MemoryError.
PyObject* allocate_or_throw(PyTypeObject* type, Py_ssize_t items) {
  PyObject* self = PyType_GenericAlloc(type, items);
  if (self == nullptr) {
    PyErr_Clear();
    throw std::bad_alloc();
  }
  return self;
}

// Python's calls to tp_new come from C, which a C++ exception must not unwind through (it ended the process:
// pickle's protocols 0 and 1 call the pybind11_object base with an instance, whose tp_new throws std::runtime_error
// "no pybind11-registered base types").
PyObject* new_instance(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  try {
    return py::detail::pybind11_object_new(type, args, kwargs);
  } catch (const std::bad_alloc&) {
    return PyErr_NoMemory();
  } catch (const std::exception&) {
    PyErr_Format(PyExc_TypeError, "cannot create a %s object this way (tensorlogic's native objects are not pickled "
                 "or copied; tensors, modules and optimizers are)", type->tp_name);
    return nullptr;
  }
}

PyObject* refuse_construction(PyTypeObject* type, PyObject*, PyObject*) {
  PyErr_Format(PyExc_TypeError, "%s cannot be created from Python (tl.tensor, tl.empty and the other factories make "
               "tensors)", type->tp_name);
  return nullptr;
}

}  // namespace

void refuse_python_construction(py::handle type) {
  reinterpret_cast<PyTypeObject*>(type.ptr())->tp_new = refuse_construction;
}

void check_instance_allocation(py::module_& m) {
  auto* base = reinterpret_cast<PyTypeObject*>(py::detail::get_internals().instance_base);
  if (base != nullptr && base->tp_new == py::detail::pybind11_object_new) {
    base->tp_new = new_instance;
    PyType_Modified(base);
  }
  for (const auto& [name, value] : m.attr("__dict__").cast<py::dict>()) {
    if (!PyType_Check(value.ptr())) continue;
    auto* type = reinterpret_cast<PyTypeObject*>(value.ptr());
    if (py::detail::get_type_info(type) == nullptr) continue;  // not a pybind11 class (TensorBase)
    type->tp_alloc = allocate_or_throw;
    if (type->tp_new == py::detail::pybind11_object_new) type->tp_new = new_instance;
    // cls.__new__(cls) (copy and pickle of the enums) finds the base's __new__, which refuses a type whose
    // tp_new is not the base's: each class gets its own. Setting it points tp_new at a slot that would call it
    // back, so tp_new is put back after.
    const newfunc make = type->tp_new;
    value.attr("__new__") = py::staticmethod(py::cpp_function([value, make](py::handle cls, py::args args,
                                                                            py::kwargs kwargs) {
      if (!PyType_Check(cls.ptr()) || !PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(cls.ptr()),
                                                        reinterpret_cast<PyTypeObject*>(value.ptr()))) {
        throw py::type_error(std::string(py::str(value.attr("__name__"))) + ".__new__(X): X must be a subtype of it");
      }
      PyObject* self = make(reinterpret_cast<PyTypeObject*>(cls.ptr()), args.ptr(), kwargs.ptr());
      if (self == nullptr) throw py::error_already_set();
      return py::reinterpret_steal<py::object>(self);
    }));
    type->tp_new = make;
    PyType_Modified(type);
  }
}

}  // namespace tensorlogic::python
