// The C side of tl.Tensor's type. _core.TensorBase, its base, exists because a Python class cannot export the
// buffer protocol before Python 3.12 (PEP 688): memoryview(t) and np.asarray(t) reach the tensor's memory through
// it, forwarding the request to the native array in `t._a`. _core.check_slot_writes makes a slot of the class
// checked where it is set (grad, requires_grad) while it is still read as fast as a plain slot.
#include "autograd.h"
#include "bindings.h"

#include <structmember.h>

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

// Tensor.__new__(Tensor) without __init__ (copyreg, a fuzzer, a subclass that forgets super().__init__) is an empty
// float16 tensor on the default device, as PyTorch's, not an object whose every method fails on a missing slot.
PyObject* new_tensor(PyTypeObject* type, PyObject*, PyObject*) {
  return to_python([&] {
    py::object self = owned(type->tp_alloc(type, 0));
    if (ag.tensor != nullptr && PyType_IsSubtype(type, ag.tensor)) {
      const py::object empty_array = py::cast(empty({0}, Dtype::float16, default_device()));
      set_tensor_fields(self.ptr(), empty_array.ptr());
    }
    return self;
  });
}

PyTypeObject tensor_base_type = [] {
  PyTypeObject t{PyVarObject_HEAD_INIT(nullptr, 0)};
  t.tp_name = "tensorlogic._core.TensorBase";
  t.tp_basicsize = sizeof(PyObject);
  t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE;
  t.tp_doc = "Base of tl.Tensor that forwards the buffer protocol to the native array";
  t.tp_as_buffer = &tensor_buffer_procs;
  t.tp_new = new_tensor;
  return t;
}();

// A slot read as a member descriptor reads it (the hot paths read grad and requires_grad on every op) and checked
// when set: `check(tensor, value)` raises or returns what to store. None skips the check where `none_skips`, so
// clearing gradients stays as cheap as before; deleting stores None, as `del t.grad` does in PyTorch.
struct CheckedSlot {
  PyObject_HEAD
  PyTypeObject* owner;
  Py_ssize_t offset;
  PyObject* name;
  PyObject* check;
  int none_skips;
};

PyObject** field_of(const CheckedSlot* slot, PyObject* obj) {
  return reinterpret_cast<PyObject**>(reinterpret_cast<char*>(obj) + slot->offset);
}

bool owned_by(const CheckedSlot* slot, PyObject* obj) {
  if (PyObject_TypeCheck(obj, slot->owner)) return true;
  PyErr_Format(PyExc_TypeError, "descriptor '%U' for '%s' objects doesn't apply to a '%s' object", slot->name,
               slot->owner->tp_name, Py_TYPE(obj)->tp_name);
  return false;
}

PyObject* checked_slot_get(PyObject* self, PyObject* obj, PyObject*) {
  auto* slot = reinterpret_cast<CheckedSlot*>(self);
  if (obj == nullptr || obj == Py_None) return Py_NewRef(self);
  if (!owned_by(slot, obj)) return nullptr;
  PyObject* value = *field_of(slot, obj);
  if (value == nullptr) {
    PyErr_Format(PyExc_AttributeError, "'%s' object has no attribute '%U'", Py_TYPE(obj)->tp_name, slot->name);
    return nullptr;
  }
  return Py_NewRef(value);
}

int checked_slot_set(PyObject* self, PyObject* obj, PyObject* value) {
  auto* slot = reinterpret_cast<CheckedSlot*>(self);
  if (!owned_by(slot, obj)) return -1;
  if (value == nullptr) value = Py_None;
  PyObject* stored = value == Py_None && slot->none_skips
                         ? Py_NewRef(Py_None)
                         : PyObject_CallFunctionObjArgs(slot->check, obj, value, nullptr);
  if (stored == nullptr) return -1;
  PyObject** field = field_of(slot, obj);
  PyObject* old = *field;
  *field = stored;
  Py_XDECREF(old);
  return 0;
}

void checked_slot_dealloc(PyObject* self) {
  auto* slot = reinterpret_cast<CheckedSlot*>(self);
  Py_XDECREF(slot->name);
  Py_XDECREF(slot->check);
  Py_XDECREF(reinterpret_cast<PyObject*>(slot->owner));
  Py_TYPE(self)->tp_free(self);
}

PyTypeObject checked_slot_type = [] {
  PyTypeObject t{PyVarObject_HEAD_INIT(nullptr, 0)};
  t.tp_name = "tensorlogic._core.CheckedSlot";
  t.tp_basicsize = sizeof(CheckedSlot);
  t.tp_flags = Py_TPFLAGS_DEFAULT;
  t.tp_doc = "A slot read directly and checked when set";
  t.tp_dealloc = checked_slot_dealloc;
  t.tp_descr_get = checked_slot_get;
  t.tp_descr_set = checked_slot_set;
  return t;
}();

void check_slot_writes(py::type cls, const std::string& name, py::function check, bool none_skips) {
  auto* type = reinterpret_cast<PyTypeObject*>(cls.ptr());
  PyObject* descr = PyDict_GetItemString(type->tp_dict, name.c_str());  // borrowed
  if (descr == nullptr || Py_TYPE(descr) != &PyMemberDescr_Type) {
    throw py::type_error("check_slot_writes: " + std::string(type->tp_name) + "." + name + " is not a slot");
  }
  auto* slot = PyObject_New(CheckedSlot, &checked_slot_type);
  if (slot == nullptr) throw py::error_already_set();
  slot->owner = reinterpret_cast<PyTypeObject*>(Py_NewRef(cls.ptr()));
  slot->offset = reinterpret_cast<PyMemberDescrObject*>(descr)->d_member->offset;
  slot->name = PyUnicode_FromString(name.c_str());
  slot->check = Py_NewRef(check.ptr());
  slot->none_skips = none_skips;
  const auto owned = py::reinterpret_steal<py::object>(reinterpret_cast<PyObject*>(slot));
  if (slot->name == nullptr || PyObject_SetAttrString(cls.ptr(), name.c_str(), owned.ptr()) < 0) {
    throw py::error_already_set();
  }
}

}  // namespace

void bind_tensor_base(py::module_& m) {
  if (PyType_Ready(&checked_slot_type) < 0) throw py::error_already_set();
  m.def("check_slot_writes", &check_slot_writes, py::arg("cls"), py::arg("name"), py::arg("check"),
        py::arg("none_skips"));
  if (PyType_Ready(&tensor_base_type) < 0) throw py::error_already_set();
  Py_INCREF(&tensor_base_type);
  m.attr("TensorBase") = py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject*>(&tensor_base_type));
}

}  // namespace tensorlogic::python
