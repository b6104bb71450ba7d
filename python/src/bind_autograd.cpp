// _core.function_apply and _core.wrap: autograd's per-op entry (Function.apply) and the Tensor wrapper of every
// result, in C. Every public op passes through both; written in Python they cost ~1.3 us per recorded op and
// ~0.5 us per unrecorded one in interpreter frames (benchmarks/results/autograd_notes.md). The logic is that of
// tensorlogic/autograd/function.py's Function.apply, whose docstrings describe it; Python keeps the objects
// (Tensor, Node, grad mode, the tracer), handed over once by configure_autograd.
#include <array>
#include <vector>

#include "autograd.h"

namespace tensorlogic::python {
Autograd ag;

namespace {

// The call cls.forward(ctx, *args, **kwargs), args and kwargs as they came in (vectorcall form).
struct Call {
  PyObject* cls;
  PyObject* const* args;  // positional arguments, then the keyword values
  Py_ssize_t nargs;
  PyObject* kwnames;  // a tuple or null

  Py_ssize_t nkw() const { return kwnames == nullptr ? 0 : PyTuple_GET_SIZE(kwnames); }

  py::object forward(PyObject* ctx) const {
    py::object fn = owned(PyObject_GetAttr(cls, ag.s_forward));
    const Py_ssize_t total = nargs + nkw();
    std::array<PyObject*, 12> small;
    std::vector<PyObject*> large;
    PyObject** stack = small.data();
    if (total + 1 > static_cast<Py_ssize_t>(small.size())) {
      large.resize(total + 1);
      stack = large.data();
    }
    stack[0] = ctx;
    for (Py_ssize_t i = 0; i < total; ++i) stack[i + 1] = args[i];
    return owned(PyObject_Vectorcall(fn.ptr(), stack, nargs + 1, kwnames));
  }

  py::tuple args_tuple() const {
    py::tuple t(nargs);
    for (Py_ssize_t i = 0; i < nargs; ++i) t[i] = py::handle(args[i]);
    return t;
  }

  py::dict kwargs() const {
    py::dict d;
    for (Py_ssize_t i = 0; i < nkw(); ++i) d[PyTuple_GET_ITEM(kwnames, i)] = py::handle(args[nargs + i]);
    return d;
  }

  py::object checked_forward(PyObject* ctx) const {  // anomaly mode: the Python helper checks the results
    return owned(PyObject_CallFunctionObjArgs(ag.checked_forward, cls, ctx, args_tuple().ptr(), kwargs().ptr(),
                                              nullptr));
  }
};

// The recorded entry for a saved tensor: (tensor, version, False), or for the output (its array, version, True)
// and the node's weak reference to it (a Tensor would make a cycle through the node).
[[noreturn]] void not_a_tensor(Py_ssize_t i, PyObject* t) {  // PyTorch's words
  throw py::type_error(py::str("save_for_backward can only save tensors (or None), but argument {} is of type {}")
                           .format(i, Py_TYPE(t)->tp_name));
}

py::object saved_entry(PyObject* node, Py_ssize_t i, PyObject* t, PyObject* first) {
  if (t == Py_None) return py::reinterpret_borrow<py::object>(ag.not_saved);
  if (!is_tensor(t)) not_a_tensor(i, t);
  const py::int_ version(array_of(t).storage()->version());
  if (t != first) return py::make_tuple(py::handle(t), version, false);
  ag.n_out.set(node, owned(PyWeakref_NewRef(t, nullptr)).release().ptr());
  return py::make_tuple(py::handle(ag.t_a.get(t)), version, true);
}

// Whether forward gave t to ctx.mark_non_differentiable (by identity: == on tensors compares values). Such an
// output does not require grad, as in PyTorch. The slot stays null unless forward called it.
bool non_differentiable(PyObject* node, PyObject* t) {
  PyObject* marked = ag.n_non_differentiable.get(node);
  if (marked == nullptr || !PyTuple_Check(marked)) return false;
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(marked); ++i) {
    if (PyTuple_GET_ITEM(marked, i) == t) return true;
  }
  return false;
}

// An output of forward that is one of its inputs (forward returned `a` itself) becomes a new Tensor on the same
// array, as PyTorch's view of it: recording onto the input would give a leaf a grad_fn (and a history that loops).
py::object fresh_output(const Call& call, PyObject* t) {
  for (Py_ssize_t i = 0; i < call.nargs + call.nkw(); ++i) {
    if (call.args[i] == t) return wrap_array(ag.t_a.get(t));
  }
  return py::reinterpret_borrow<py::object>(t);
}

py::object record(const Call& call, bool anomaly) {
  const Py_ssize_t n = call.nargs;
  py::object node = owned(ag.node->tp_alloc(ag.node, 0));
  ag.n_fn.set(node.ptr(), Py_NewRef(call.cls));
  ag.n_saved.set(node.ptr(), PyTuple_New(0));
  py::list edges(n), shapes(n);
  py::tuple needs(n);
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* a = call.args[i];
    PyObject* edge = Py_None;
    bool need = false;
    if (is_tensor(a)) {
      shapes[i] = to_tuple(array_of(a).shape());  // of every tensor argument: cat's backward needs constants' sizes
      const int requires = truth(ag.t_requires_grad.get(a));
      check(requires);
      if (requires) {
        PyObject* grad_fn = grad_fn_of(a);
        edge = grad_fn != nullptr ? grad_fn : a;
        need = true;
      }
    } else {
      shapes[i] = py::none();
    }
    edges[i] = py::handle(edge);
    needs[i] = py::bool_(need);
  }
  ag.n_next.set(node.ptr(), edges.release().ptr());
  ag.n_needs.set(node.ptr(), needs.release().ptr());
  ag.n_shapes.set(node.ptr(), shapes.release().ptr());

  const int native = flag_of(call.cls, ag.s_native_forward);
  check(native);
  py::object out;
  if (native && !anomaly) {
    out = call.forward(node.ptr());
  } else {
    const GradMode off(false);
    out = anomaly ? call.checked_forward(node.ptr()) : call.forward(node.ptr());
  }
  py::object trace = owned(PyObject_GetAttr(ag.mode, ag.s_trace));
  if (!trace.is_none()) {  // tl.coreml's tracer: every recorded application, in order
    trace.attr("append")(py::make_tuple(node, call.args_tuple(), call.kwargs(), out));
  }
  PyObject* first = nullptr;
  const int multi = flag_of(call.cls, ag.s_multi_output);
  check(multi);
  if (multi) {
    if (!PyTuple_Check(out.ptr()) && !PyList_Check(out.ptr())) {
      throw py::type_error(py::str("a multi_output Function's forward returns a tuple of tensors, not a {}")
                               .format(Py_TYPE(out.ptr())->tp_name));
    }
    const Py_ssize_t count = PySequence_Fast_GET_SIZE(out.ptr());
    py::tuple outputs(count);
    std::vector<bool> differentiable(count);
    for (Py_ssize_t i = 0; i < count; ++i) {
      // As PyTorch's: integer tensors and non-tensors among the outputs carry no gradient (backward gets None)
      PyObject* t = PySequence_Fast_GET_ITEM(out.ptr(), i);
      const bool tensor = is_tensor(t);
      differentiable[i] = tensor && array_of(t).dtype() == Dtype::float16 && !non_differentiable(node.ptr(), t);
      outputs[i] = tensor ? fresh_output(call, t) : py::reinterpret_borrow<py::object>(t);
    }
    check(PyObject_SetAttr(node.ptr(), ag.s_n_outputs, py::int_(count).ptr()));
    out = PyList_Check(out.ptr()) ? py::object(py::list(outputs)) : py::object(outputs);
    for (Py_ssize_t i = 0; i < count; ++i) {
      if (!differentiable[i]) continue;  // backward gets None for it (no gradient reaches it)
      PyObject* t = PyTuple_GET_ITEM(outputs.ptr(), i);
      ag.t_requires_grad.set(t, Py_NewRef(Py_True));
      ag.t_grad_fn.set(t, owned(PyObject_CallFunction(ag.output_node, "On", node.ptr(), i)).release().ptr());
    }
  } else {
    const bool tuple = PyTuple_CheckExact(out.ptr());
    first = !tuple ? out.ptr() : PyTuple_GET_SIZE(out.ptr()) > 0 ? PyTuple_GET_ITEM(out.ptr(), 0) : Py_None;
    if (!is_tensor(first)) throw py::type_error("a Function's forward returns a tensor (or a tuple, tensor first)");
    if (array_of(first).dtype() != Dtype::float16) return out;  // integer results carry no gradient
    const bool differentiable = !non_differentiable(node.ptr(), first);
    py::object fresh = fresh_output(call, first);
    if (fresh.ptr() != first) {
      first = fresh.ptr();
      if (tuple) {
        const Py_ssize_t n = PyTuple_GET_SIZE(out.ptr());
        py::tuple copy(n);
        copy[0] = fresh;
        for (Py_ssize_t i = 1; i < n; ++i) copy[i] = py::handle(PyTuple_GET_ITEM(out.ptr(), i));
        out = std::move(copy);
      } else {
        out = std::move(fresh);
      }
    }
    if (!differentiable) return out;  // nothing recorded: the node goes with this scope
    ag.t_requires_grad.set(first, Py_NewRef(Py_True));
    ag.t_grad_fn.set(first, node.inc_ref().ptr());
  }
  // What forward gave save_for_backward (a tuple), resolved into a list of entries: the list is how saved_tensors
  // tells a recorded node from one whose forward still runs (and save_for_backward, a call from backward).
  PyObject* saved = ag.n_saved.get(node.ptr());
  if (saved != nullptr && PyTuple_Check(saved) && PyTuple_GET_SIZE(saved) > 0) {
    const py::object tensors = py::reinterpret_borrow<py::object>(saved);
    const Py_ssize_t count = PyTuple_GET_SIZE(saved);
    py::list entries(count);
    for (Py_ssize_t i = 0; i < count; ++i) {
      entries[i] = saved_entry(node.ptr(), i, PyTuple_GET_ITEM(tensors.ptr(), i), first);
    }
    ag.n_saved.set(node.ptr(), entries.release().ptr());
  } else {  // recorded, nothing saved: a list too, so that a save_for_backward from backward is ignored
    ag.n_saved.set(node.ptr(), Py_NewRef(ag.nothing_saved));
  }
  return out;
}

PyObject* function_apply(PyObject*, PyObject* const* args, Py_ssize_t nargsf, PyObject* kwnames) {
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  if (nargs < 1 || ag.node == nullptr) {
    PyErr_SetString(PyExc_TypeError, "function_apply(cls, *args, **kwargs) after configure_autograd");
    return nullptr;
  }
  const Call call{args[0], args + 1, nargs - 1, kwnames};
  return to_python([&] {
    // Nothing to record unless some tensor argument requires grad and grad mode is on.
    bool records = false;
    for (Py_ssize_t i = 0; i < call.nargs && !records; ++i) {
      PyObject* a = call.args[i];
      if (!is_tensor(a)) continue;
      const int requires = truth(ag.t_requires_grad.get(a));
      check(requires);
      if (requires) {
        const int on = grad_enabled();
        check(on);
        records = on;
        break;
      }
    }
    const int anomaly = flag_of(ag.mode, ag.s_anomaly);
    check(anomaly);
    return records ? record(call, anomaly) : anomaly ? call.checked_forward(ag.null_ctx) : call.forward(ag.null_ctx);
  });
}

PyObject* wrap(PyObject*, PyObject* array) {
  if (ag.tensor == nullptr) {
    PyErr_SetString(PyExc_TypeError, "wrap(array) after configure_tensor");
    return nullptr;
  }
  return to_python([&] {
    if (!py::isinstance<Array>(array)) {
      throw py::type_error(std::string("wrap(array) takes a native Array, not ") + Py_TYPE(array)->tp_name);
    }
    return wrap_array(array);
  });
}

[[noreturn]] void saved_error(PyObject* node, PyObject* t, PyObject* current, PyObject* version) {
  const py::object message = owned(PyObject_CallFunctionObjArgs(ag.saved_error, node, t, current, version, nullptr));
  PyErr_SetObject(PyExc_RuntimeError, message.ptr());
  throw py::error_already_set();
}

// Node.saved_tensors: what forward saved, each checked against the version it had then (an in-place change since
// raises), the output re-attached to the node so that create_graph sees its dependence on the inputs.
py::object saved_tensors(PyObject* node) {
  PyObject* saved = ag.n_saved.get(node);
  if (saved == nullptr || saved == Py_None) saved_error(node, Py_None, Py_None, Py_None);  // freed by a backward
  if (!PyList_Check(saved)) return py::tuple();  // in forward, not yet recorded: nothing, as PyTorch's ctx there
  const py::object entries = py::reinterpret_borrow<py::object>(saved);
  const Py_ssize_t n = PyList_GET_SIZE(saved);
  py::tuple out(n);
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* entry = PyList_GET_ITEM(entries.ptr(), i);  // (tensor or array, version, is_output), made by record
    PyObject* t = PyTuple_GET_ITEM(entry, 0);
    if (t == Py_None) {
      out[i] = py::none();
      continue;
    }
    PyObject* version = PyTuple_GET_ITEM(entry, 1);
    const bool is_output = PyTuple_GET_ITEM(entry, 2) == Py_True;
    py::object current;
    if (is_output) {  // t is the output's array (a Tensor would make a cycle through this node)
      PyObject* owner = PyWeakref_GetObject(ag.n_out.get(node));  // borrowed; None once the output is gone
      current = owner == Py_None ? py::reinterpret_borrow<py::object>(version)
                                 : py::int_(array_of(owner).storage()->version());
    } else {
      current = py::int_(array_of(t).storage()->version());
    }
    const int same = PyObject_RichCompareBool(current.ptr(), version, Py_EQ);
    check(same);
    if (!same) saved_error(node, t, current.ptr(), version);
    if (is_output) {
      py::object alias = wrap_array(t);
      ag.t_requires_grad.set(alias.ptr(), Py_NewRef(Py_True));
      ag.t_grad_fn.set(alias.ptr(), Py_NewRef(node));
      out[i] = alias;
    } else {
      out[i] = py::handle(t);
    }
  }
  return std::move(out);
}

PyObject* saved_tensors_entry(PyObject*, PyObject* node) {
  return to_python([&] {
    if (ag.node == nullptr || !PyObject_TypeCheck(node, ag.node)) {  // its slots are read at a Node's offsets
      throw py::type_error(std::string("saved_tensors(node) takes an autograd Node, not ") + Py_TYPE(node)->tp_name);
    }
    return saved_tensors(node);
  });
}

PyMethodDef saved_def = {"saved_tensors", &saved_tensors_entry, METH_O,
                         "saved_tensors(node): Node.saved_tensors (see autograd/function.py)."};

PyMethodDef apply_def = {
    "function_apply", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&function_apply)),
    METH_FASTCALL | METH_KEYWORDS,
    "function_apply(cls, *args, **kwargs): runs cls.forward and, when an input requires grad and grad mode is on, "
    "records the node of cls's backward (Function.apply)."};
PyMethodDef wrap_def = {"wrap", &wrap, METH_O, "wrap(array): a new Tensor around a native array, without history."};

void configure_tensor(py::object tensor) {
  if (!PyType_Check(tensor.ptr())) throw py::type_error("configure_tensor: Tensor must be a class");
  auto* t = reinterpret_cast<PyTypeObject*>(tensor.ptr());
  ag.t_a = slot_of(t, "_a");
  ag.t_requires_grad = slot_of(t, "requires_grad");
  ag.t_grad = slot_of(t, "grad");
  ag.t_grad_fn = slot_of(t, "grad_fn");
  ag.t_retains_grad = slot_of(t, "_retains_grad");
  ag.t_hooks = slot_of(t, "_hooks");
  ag.t_post_hooks = slot_of(t, "_post_accumulate_grad_hooks");
  ag.tensor = reinterpret_cast<PyTypeObject*>(tensor.release().ptr());  // kept for the life of the process
}

void configure_autograd(py::object node, py::object null_ctx, py::object mode, py::object grad_var,
                        py::object checked_forward, py::object output_node, py::object not_saved,
                        py::object saved_error) {
  if (ag.tensor == nullptr) throw py::type_error("configure_autograd: configure_tensor first");
  if (!PyType_Check(node.ptr())) throw py::type_error("configure_autograd: Node must be a class");
  auto* n = reinterpret_cast<PyTypeObject*>(node.ptr());
  ag.n_fn = slot_of(n, "fn");
  ag.n_next = slot_of(n, "next");
  ag.n_needs = slot_of(n, "needs_input_grad");
  ag.n_shapes = slot_of(n, "input_shapes");
  ag.n_saved = slot_of(n, "_saved");
  ag.n_out = slot_of(n, "_out");
  ag.n_non_differentiable = slot_of(n, "_non_differentiable");
  // Owned for the life of the process (a second configuration, from a reload, leaves the first's alive).
  ag.null_ctx = null_ctx.release().ptr();
  ag.mode = mode.release().ptr();
  ag.grad_var = grad_var.release().ptr();
  ag.checked_forward = checked_forward.release().ptr();
  ag.output_node = output_node.release().ptr();
  ag.not_saved = not_saved.release().ptr();
  ag.saved_error = saved_error.release().ptr();
  ag.nothing_saved = PyList_New(0);
  ag.s_forward = PyUnicode_InternFromString("forward");
  ag.s_native_forward = PyUnicode_InternFromString("native_forward");
  ag.s_multi_output = PyUnicode_InternFromString("multi_output");
  ag.s_anomaly = PyUnicode_InternFromString("anomaly");
  ag.s_trace = PyUnicode_InternFromString("trace");
  ag.s_n_outputs = PyUnicode_InternFromString("n_outputs");
  ag.node = reinterpret_cast<PyTypeObject*>(node.release().ptr());
}

}  // namespace

void bind_autograd(py::module_& m) {
  m.add_object("function_apply", owned(PyCFunction_NewEx(&apply_def, nullptr, nullptr)));
  m.add_object("wrap", owned(PyCFunction_NewEx(&wrap_def, nullptr, nullptr)));
  m.add_object("saved_tensors", owned(PyCFunction_NewEx(&saved_def, nullptr, nullptr)));
  m.def(
      "context_set", [](py::object var, py::object value) { return context_set(var.ptr(), value.ptr()); },
      py::arg("var"), py::arg("value"),
      "var.set(value) (a ContextVar) with the garbage collector paused (CPython gh-148891; GcPaused in autograd.h).");
  m.def("configure_tensor", &configure_tensor, py::arg("tensor"),
        "Hands wrap and function_apply the Tensor class (tensor.py calls it once).");
  m.def("configure_autograd", &configure_autograd, py::arg("node"), py::arg("null_ctx"), py::arg("mode"),
        py::arg("grad_var"), py::arg("checked_forward"), py::arg("output_node"), py::arg("not_saved"),
        py::arg("saved_error"),
        "Hands function_apply the objects of autograd/function.py and grad_mode.py (function.py calls it once).");
}

}  // namespace tensorlogic::python
