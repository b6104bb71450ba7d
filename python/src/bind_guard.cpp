// _core.Guard: the wrapper _argcheck.guard puts around every public op (see that module). A call that succeeds
// pays a type test of its integer arguments and one C call (the Python wrapper's frame cost 0.2-0.3 us per op);
// a tensor passed for an integer, or an error from the op, goes to the Python side, which explains it (or, where
// the call used NumPy's names for arguments, as PyTorch's native functions allow, makes it again with ours).
#include "autograd.h"

namespace tensorlogic::python {
namespace {

struct Guard {
  PyObject_HEAD
  PyObject* fn;         // the op
  PyObject* int_slots;  // tuple of the positions of integer parameters (a tensor there is refused)
  PyObject* int_names;  // frozenset of the names of integer parameters
  PyObject* check;      // check(args, kwargs): raises the bad-argument error where a tensor sits in an int slot
  PyObject* explain;    // explain(error, args, kwargs): None (re-raise error), the error to raise instead, or a
                        // 1-tuple holding the result of the call made again (with PyTorch's argument aliases)
  PyObject* dict;       // __name__, __doc__, __wrapped__, ... (functools.update_wrapper's attributes)
  vectorcallfunc vectorcall;
};

PyObject* args_tuple(PyObject* const* args, Py_ssize_t nargs) {
  PyObject* tuple = PyTuple_New(nargs);
  for (Py_ssize_t i = 0; tuple != nullptr && i < nargs; ++i) PyTuple_SET_ITEM(tuple, i, Py_NewRef(args[i]));
  return tuple;
}

PyObject* kwargs_dict(PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  PyObject* kwargs = PyDict_New();
  if (kwargs == nullptr || kwnames == nullptr) return kwargs;
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwnames); ++i) {
    if (PyDict_SetItem(kwargs, PyTuple_GET_ITEM(kwnames, i), args[nargs + i]) < 0) {
      Py_DECREF(kwargs);
      return nullptr;
    }
  }
  return kwargs;
}

// Calls fn(*args, **kwargs) of the Python side with the call's arguments as a tuple and a dict.
PyObject* call_with_arguments(PyObject* fn, PyObject* first, PyObject* const* args, Py_ssize_t nargs,
                              PyObject* kwnames) {
  PyObject* tuple = args_tuple(args, nargs);
  PyObject* kwargs = tuple == nullptr ? nullptr : kwargs_dict(args, nargs, kwnames);
  PyObject* result = nullptr;
  if (kwargs != nullptr) {
    result = first == nullptr ? PyObject_CallFunctionObjArgs(fn, tuple, kwargs, nullptr)
                              : PyObject_CallFunctionObjArgs(fn, first, tuple, kwargs, nullptr);
  }
  Py_XDECREF(tuple);
  Py_XDECREF(kwargs);
  return result;
}

bool tensor_in_int_slot(const Guard* g, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(g->int_slots); ++i) {
    const Py_ssize_t position = PyLong_AsSsize_t(PyTuple_GET_ITEM(g->int_slots, i));
    if (position < nargs && is_tensor(args[position])) return true;
  }
  if (kwnames == nullptr) return false;
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwnames); ++i) {
    if (is_tensor(args[nargs + i]) && PySet_Contains(g->int_names, PyTuple_GET_ITEM(kwnames, i)) == 1) return true;
  }
  return false;
}

PyObject* guard_call(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  auto* g = reinterpret_cast<Guard*>(self);
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  if (tensor_in_int_slot(g, args, nargs, kwnames)) {
    PyObject* checked = call_with_arguments(g->check, nullptr, args, nargs, kwnames);
    if (checked == nullptr) return nullptr;
    Py_DECREF(checked);
  }
  PyObject* result = PyObject_Vectorcall(g->fn, args, nargsf, kwnames);
  if (result != nullptr) return result;
  PyObject *type, *value, *trace;
  PyErr_Fetch(&type, &value, &trace);
  PyErr_NormalizeException(&type, &value, &trace);
  if (trace != nullptr) PyException_SetTraceback(value, trace);
  PyObject* instead = call_with_arguments(g->explain, value, args, nargs, kwnames);
  if (instead != nullptr && PyTuple_Check(instead) && PyTuple_GET_SIZE(instead) == 1) {  // (the result of a retry,)
    PyObject* result = Py_NewRef(PyTuple_GET_ITEM(instead, 0));
    Py_DECREF(instead);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(trace);
    return result;
  }
  if (instead == nullptr || instead == Py_None) {  // explain failed (its error stands) or keeps the op's error
    if (instead == nullptr) {
      Py_XDECREF(type);
      Py_XDECREF(value);
      Py_XDECREF(trace);
      return nullptr;
    }
    Py_DECREF(instead);
    PyErr_Restore(type, value, trace);
    return nullptr;
  }
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(trace);
  PyException_SetCause(instead, nullptr);  // `raise instead from None`
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(instead)), instead);
  Py_DECREF(instead);
  return nullptr;
}

PyObject* guard_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  PyObject *fn, *int_slots, *int_names, *check, *explain;
  static const char* keywords[] = {"fn", "int_slots", "int_names", "check", "explain", nullptr};
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO!O!OO:Guard", const_cast<char**>(keywords), &fn, &PyTuple_Type,
                                   &int_slots, &PyFrozenSet_Type, &int_names, &check, &explain)) {
    return nullptr;
  }
  auto* g = reinterpret_cast<Guard*>(type->tp_alloc(type, 0));
  if (g == nullptr) return nullptr;
  g->fn = Py_NewRef(fn);
  g->int_slots = Py_NewRef(int_slots);
  g->int_names = Py_NewRef(int_names);
  g->check = Py_NewRef(check);
  g->explain = Py_NewRef(explain);
  g->vectorcall = guard_call;
  return reinterpret_cast<PyObject*>(g);
}

int guard_traverse(PyObject* self, visitproc visit, void* arg) {
  auto* g = reinterpret_cast<Guard*>(self);
  Py_VISIT(g->fn);
  Py_VISIT(g->int_slots);
  Py_VISIT(g->int_names);
  Py_VISIT(g->check);
  Py_VISIT(g->explain);
  Py_VISIT(g->dict);
  return 0;
}

int guard_clear(PyObject* self) {
  auto* g = reinterpret_cast<Guard*>(self);
  Py_CLEAR(g->fn);
  Py_CLEAR(g->int_slots);
  Py_CLEAR(g->int_names);
  Py_CLEAR(g->check);
  Py_CLEAR(g->explain);
  Py_CLEAR(g->dict);
  return 0;
}

void guard_dealloc(PyObject* self) {
  PyObject_GC_UnTrack(self);
  guard_clear(self);
  Py_TYPE(self)->tp_free(self);
}

// As a class attribute (Tensor's methods) it binds like a function: t.view is a method of t.
PyObject* guard_get(PyObject* self, PyObject* obj, PyObject*) {
  if (obj == nullptr || obj == Py_None) return Py_NewRef(self);
  return PyMethod_New(self, obj);
}

PyObject* guard_repr(PyObject* self) {  // as the function it wraps: <function softmax at 0x...>
  return PyObject_Repr(reinterpret_cast<Guard*>(self)->fn);
}

PyGetSetDef guard_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, nullptr, nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyTypeObject guard_type = [] {
  PyTypeObject t{PyVarObject_HEAD_INIT(nullptr, 0)};
  t.tp_name = "tensorlogic._core.Guard";
  t.tp_basicsize = sizeof(Guard);
  t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR;
  t.tp_doc = "Guard(fn, int_slots, int_names, check, explain): a public op with its argument errors explained "
             "(tensorlogic._argcheck.guard)";
  t.tp_new = guard_new;
  t.tp_dealloc = guard_dealloc;
  t.tp_traverse = guard_traverse;
  t.tp_clear = guard_clear;
  t.tp_call = PyVectorcall_Call;
  t.tp_vectorcall_offset = offsetof(Guard, vectorcall);
  t.tp_descr_get = guard_get;
  t.tp_dictoffset = offsetof(Guard, dict);
  t.tp_getset = guard_getset;
  t.tp_repr = guard_repr;
  return t;
}();

}  // namespace

void bind_guard(py::module_& m) {
  if (PyType_Ready(&guard_type) < 0) throw py::error_already_set();
  Py_INCREF(&guard_type);
  m.attr("Guard") = py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject*>(&guard_type));
}

}  // namespace tensorlogic::python
