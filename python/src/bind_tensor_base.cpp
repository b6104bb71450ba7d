// _core.TensorBase: the C base type of tl.Tensor. It exists for one reason: a Python class cannot
// export the buffer protocol before Python 3.12 (PEP 688), so memoryview(t) and np.asarray(t) reach the
// tensor's memory through this type, which forwards the request to the native array in `t._a`.
#include "bindings.h"

namespace tensorlogic::python {
namespace {

int tensor_getbuffer(PyObject* self, Py_buffer* view, int flags) {
  PyObject* array = PyObject_GetAttrString(self, "_a");
  if (array == nullptr) return -1;
  const int result = PyObject_GetBuffer(array, view, flags);  // view->obj keeps the array alive
  Py_DECREF(array);
  return result;
}

PyBufferProcs tensor_buffer_procs = {tensor_getbuffer, nullptr};

PyTypeObject tensor_base_type = [] {
  PyTypeObject t{PyVarObject_HEAD_INIT(nullptr, 0)};
  t.tp_name = "tensorlogic._core.TensorBase";
  t.tp_basicsize = sizeof(PyObject);
  t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE;
  t.tp_doc = "Base of tl.Tensor that forwards the buffer protocol to the native array";
  t.tp_as_buffer = &tensor_buffer_procs;
  t.tp_new = PyType_GenericNew;
  return t;
}();

}  // namespace

void bind_tensor_base(py::module_& m) {
  if (PyType_Ready(&tensor_base_type) < 0) throw py::error_already_set();
  Py_INCREF(&tensor_base_type);
  m.attr("TensorBase") = py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject*>(&tensor_base_type));
}

}  // namespace tensorlogic::python
