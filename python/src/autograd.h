// What the native autograd (bind_autograd.cpp: Function.apply and wrap; bind_engine.cpp: backward) shares: the
// Python objects tensorlogic/autograd hands over once, and fast access to the __slots__ of Tensor and Node.
#pragma once
#include <new>

#include "bindings.h"
// After Python.h (which bindings.h includes): PyMemberDef, a slot's offset.
#include <structmember.h>

namespace tensorlogic::python {

// A __slots__ field of a Python class, read and written at its offset in the object as the slot's member
// descriptor does (without the attribute lookup: ~20 ns per access, and an op makes ~20).
struct Slot {
  Py_ssize_t offset = 0;
  PyObject* get(PyObject* obj) const { return *reinterpret_cast<PyObject**>(reinterpret_cast<char*>(obj) + offset); }
  void set(PyObject* obj, PyObject* value) const {  // steals value
    PyObject** field = reinterpret_cast<PyObject**>(reinterpret_cast<char*>(obj) + offset);
    PyObject* old = *field;
    *field = value;
    Py_XDECREF(old);
  }
};

inline Slot slot_of(PyTypeObject* type, const char* name) {
  PyObject* descr = PyDict_GetItemString(type->tp_dict, name);  // borrowed
  if (descr == nullptr || Py_TYPE(descr) != &PyMemberDescr_Type) {
    throw std::invalid_argument(std::string("configure_autograd: ") + type->tp_name + "." + name + " is not a slot");
  }
  return Slot{reinterpret_cast<PyMemberDescrObject*>(descr)->d_member->offset};
}

// What configure_autograd hands over; owned references kept for the life of the process.
struct Autograd {
  PyTypeObject* tensor = nullptr;
  PyTypeObject* node = nullptr;
  PyObject* null_ctx = nullptr;         // _NULL: the ctx of an application that records nothing
  PyObject* mode = nullptr;             // grad_mode.mode (anomaly, trace)
  PyObject* grad_var = nullptr;         // the grad-mode context variable
  PyObject* checked_forward = nullptr;  // _checked_forward(cls, ctx, args, kwargs): anomaly mode's forward
  PyObject* output_node = nullptr;      // _output_node(parent, index): a multi_output Function's output nodes
  PyObject* not_saved = nullptr;        // _NOT_SAVED: the entry of a None given to save_for_backward
  PyObject* saved_error = nullptr;      // _saved_error(node, t, current, version): saved_tensors' error message
  PyObject* nothing_saved = nullptr;    // the entries of a node that saved nothing: one empty list, never changed
  // configure_engine's: the engine's rare paths stay in Python (autograd/engine.py)
  PyObject* output_cls = nullptr;       // _Output: the node of one output of a multi_output Function
  PyObject* run_hooks = nullptr;        // _run_hooks(hooks, g): a node's pre-hooks or a leaf's hooks
  PyObject* node_backward = nullptr;    // _node_backward(node, g): anomaly mode's (and the profiler's) call
  PyObject* check_finite = nullptr;     // _check_finite(g, what): anomaly mode's check of a gradient
  PyObject* post_accumulate = nullptr;  // run_post_accumulate_hooks(t)
  Slot t_a, t_requires_grad, t_grad, t_grad_fn, t_retains_grad, t_hooks, t_post_hooks;
  Slot n_fn, n_next, n_needs, n_shapes, n_saved, n_out, n_non_differentiable;
  PyObject *s_forward, *s_native_forward, *s_multi_output, *s_anomaly, *s_trace, *s_n_outputs;
};
extern Autograd ag;

inline bool is_tensor(PyObject* obj) { return PyObject_TypeCheck(obj, ag.tensor); }

// The native array of a Tensor. Checked, as user code reaches here with anything (a hook's result, a .grad set by
// hand, Tensor.__new__ without __init__): reading the slot of another type's object would read foreign memory.
inline const Array& array_of(PyObject* tensor) {
  if (!is_tensor(tensor)) {
    throw py::type_error(std::string("expected a Tensor, got ") + Py_TYPE(tensor)->tp_name);
  }
  PyObject* a = ag.t_a.get(tensor);
  if (a == nullptr) throw py::type_error("a Tensor without data (made by Tensor.__new__ without __init__)");
  return py::handle(a).cast<const Array&>();
}

// A tensor's grad_fn: null for none, else its Node. The slot is writable from Python, so anything else raises
// (taken for a Node or a leaf, it would be read at a Node's or a Tensor's offsets).
inline PyObject* grad_fn_of(PyObject* tensor) {
  PyObject* fn = ag.t_grad_fn.get(tensor);
  if (fn == nullptr || fn == Py_None) return nullptr;
  if (Py_TYPE(fn) != ag.node) {
    throw py::type_error(std::string("a tensor's grad_fn is a Node (recorded by autograd) or None, not a ") +
                         Py_TYPE(fn)->tp_name);
  }
  return fn;
}

// Truth of a flag that is almost always a bool; anything else gets Python's truth test (-1: an error). Null (a slot
// never set: Tensor.__new__ without __init__) is false.
inline int truth(PyObject* obj) {
  return obj == Py_True ? 1 : obj == Py_False || obj == Py_None || obj == nullptr ? 0 : PyObject_IsTrue(obj);
}

inline int grad_enabled() {
  PyObject* value = nullptr;
  if (PyContextVar_Get(ag.grad_var, nullptr, &value) < 0) return -1;
  const int on = truth(value);
  Py_DECREF(value);
  return on;
}

inline int flag_of(PyObject* owner, PyObject* name) {  // truth of mode.anomaly, cls.native_forward, ...
  PyObject* value = PyObject_GetAttr(owner, name);
  if (value == nullptr) return -1;
  const int on = truth(value);
  Py_DECREF(value);
  return on;
}

inline py::object owned(PyObject* obj) {  // a new reference, or the Python error that made it null
  if (obj == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(obj);
}

inline void set_tensor_fields(PyObject* t, PyObject* array) {  // tensor.py's _init_autograd_fields and the array
  Py_INCREF(array);
  ag.t_a.set(t, array);
  for (const Slot* s : {&ag.t_requires_grad, &ag.t_retains_grad}) s->set(t, Py_NewRef(Py_False));
  for (const Slot* s : {&ag.t_grad, &ag.t_grad_fn, &ag.t_hooks}) s->set(t, Py_NewRef(Py_None));
}

inline py::object wrap_array(PyObject* array) {  // tensor.py's _wrap: a Tensor with no autograd history
  py::object t = owned(ag.tensor->tp_alloc(ag.tensor, 0));
  set_tensor_fields(t.ptr(), array);
  return t;
}

// The result of fn() (a py::object) as a new reference for a C entry point, or null with the Python error set
// from whatever fn threw.
template <typename F>
PyObject* to_python(F&& fn) {
  try {
    return fn().release().ptr();
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (py::builtin_exception& e) {
    e.set_error();
  } catch (const std::bad_alloc&) {  // memory ran out (wrapping an array when nothing is left): MemoryError
    PyErr_NoMemory();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  }
  return nullptr;
}

inline void check(int flag) {  // a C API result: negative where a Python error is set
  if (flag < 0) throw py::error_already_set();
}

// The cyclic garbage collector paused for a scope: around every set of the grad-mode context variable. CPython
// (gh-148891, open for 3.10-3.14) frees the context's mapping while ContextVar.set copies it when a collection
// during the copy runs a callback or finalizer that sets a context variable too (any op under no_grad): a segfault.
class GcPaused {
 public:
  GcPaused() : was_enabled_(PyGC_Disable()) {}
  GcPaused(const GcPaused&) = delete;
  GcPaused& operator=(const GcPaused&) = delete;
  ~GcPaused() {
    if (was_enabled_) PyGC_Enable();
  }

 private:
  int was_enabled_;
};

inline py::object context_set(PyObject* var, PyObject* value) {  // ContextVar.set, collector paused: the token
  const GcPaused paused;
  return owned(PyContextVar_Set(var, value));
}

// This thread's grad mode set for a scope (a forward that may call differentiable ops runs with it off; backward
// with it on only under create_graph), restored on every exit, an error in flight kept.
class GradMode {
 public:
  explicit GradMode(bool on) : token_(context_set(ag.grad_var, on ? Py_True : Py_False)) {}
  GradMode(const GradMode&) = delete;
  GradMode& operator=(const GradMode&) = delete;
  ~GradMode() {
    PyObject *type, *value, *trace;
    PyErr_Fetch(&type, &value, &trace);
    const GcPaused paused;
    if (PyContextVar_Reset(ag.grad_var, token_.ptr()) < 0) PyErr_Clear();
    PyErr_Restore(type, value, trace);
  }

 private:
  py::object token_;
};

}  // namespace tensorlogic::python
