// _core.run_backward: autograd's backward engine in C, one topological traversal of the Node graph, the same for
// every op (tensorlogic/autograd/engine.py documents it and keeps its rare paths: hooks, anomaly mode, the
// profiler). In Python its bookkeeping cost ~1.5 us per node, about as much as the nodes' own backward formulas
// on small tensors (benchmarks/results/autograd_notes.md).
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "autograd.h"

namespace tensorlogic::python {
namespace {

struct Names {  // interned attribute names
  PyObject *pre_hooks, *retained, *parent, *index, *n_outputs, *backward, *backward_into, *profiler, *backward_node,
      *saved_tensors, *name, *anomaly, *strict_gradient_count;
} names;

bool is_node(PyObject* obj) { return Py_TYPE(obj) == ag.node; }  // (record and _output_node make exact Nodes)

py::object attr(PyObject* obj, PyObject* name) { return owned(PyObject_GetAttr(obj, name)); }

py::object borrow(PyObject* obj) { return py::reinterpret_borrow<py::object>(obj); }

py::object add(PyObject* a, PyObject* b) { return owned(PyNumber_Add(a, b)); }  // Tensor + Tensor, recorded or not

// A node's edges (its `next` list); read afresh at each use, as the Python engine did.
py::object edges_of(PyObject* node) {
  PyObject* next = ag.n_next.get(node);
  if (next == nullptr) throw py::attribute_error("a Node without edges");
  return owned(PySequence_Fast(next, "Node.next must be a sequence"));
}

// Whether a gradient summed so far may be added into in place: a contiguous tensor that nothing but the engine
// sees. The engine's own reference (buffer or leaf entry) is its only one, the Tensor's slot its array's only
// one, and no other array views its memory. (A gradient also given to another input, kept by a hook, a .grad or
// a node's output tuple still held here, or a view of one, fails one of these.)
bool exclusive(PyObject* acc) {
  if (Py_REFCNT(acc) != 1 || !is_tensor(acc) || ag.t_requires_grad.get(acc) != Py_False) return false;
  PyObject* a = ag.t_a.get(acc);
  if (a == nullptr || Py_REFCNT(a) != 1) return false;
  const Array& array = array_of(acc);
  return array.storage().use_count() == 1 && array.is_contiguous();
}

[[noreturn]] void fail(const py::str& message) {  // the engine's errors are RuntimeErrors, as in PyTorch
  PyErr_SetObject(PyExc_RuntimeError, message.ptr());
  throw py::error_already_set();
}

// The engine's own native work: summing gradients and copying one. Large work runs without the GIL, as through the
// bindings (gil.h); the arrays are copied (handles) first, so nothing the GIL protects is read meanwhile.
// g after the hooks (a node's pre-hooks, a leaf's hooks; null or empty: none), each may replace it.
py::object hooked(PyObject* hooks, py::object g) {
  if (hooks == nullptr) return g;
  const int any = truth(hooks);
  check(any);
  return any ? owned(PyObject_CallFunctionObjArgs(ag.run_hooks, hooks, g.ptr(), nullptr)) : g;
}

// The in-place sums move the sum's version, as any in-place op does: what was derived from its value before
// (the column sums an activation's backward keeps with its gradient, ops/elementwise.py) is then seen as stale.
void bump_version(const Array& a) { a.storage()->set_version(a.storage()->version() + 1); }

void add_in_place(PyObject* acc, PyObject* g) {
  const Array a = array_of(acc), b = array_of(g);
  release_gil_if(a.numel() >= kReleaseGilElements, [&] { binary_(BinaryOp::add, a, b); });
  bump_version(a);
}

py::object sum_of(PyObject* x, PyObject* y) {
  const Array a = array_of(x), b = array_of(y);
  Array sum = release_gil_if(a.numel() >= kReleaseGilElements, [&] { return binary(BinaryOp::add, a, b); });
  return wrap_array(py::cast(std::move(sum)).ptr());
}

py::object copy_of(PyObject* x) {
  const Array a = array_of(x);
  Array copy = release_gil_if(a.numel() >= kReleaseGilElements, [&] { return clone(a); });
  return wrap_array(py::cast(std::move(copy)).ptr());
}

class Engine {
 public:
  Engine(bool retain_graph, bool create_graph, PyObject* inputs)
      : retain_graph_(retain_graph), create_graph_(create_graph) {
    if (inputs == Py_None) return;
    py::object seq = owned(PySequence_Fast(inputs, "inputs must be a sequence of tensors"));
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.ptr());
    results_ = owned(PyList_New(n));
    for (Py_ssize_t i = 0; i < n; ++i) {
      PyObject* t = PySequence_Fast_GET_ITEM(seq.ptr(), i);
      if (!is_tensor(t)) throw py::type_error("autograd.grad: inputs must be tensors");
      PyList_SET_ITEM(results_.ptr(), i, Py_NewRef(Py_None));
      PyObject* grad_fn = grad_fn_of(t);
      captured_[grad_fn != nullptr ? grad_fn : t].push_back(i);
      keep_.push_back(borrow(t));
    }
    capturing_ = true;
  }

  py::object run(PyObject* roots, PyObject* grads) {
    py::object root_seq = owned(PySequence_Fast(roots, "roots must be a sequence of tensors"));
    py::object grad_seq = owned(PySequence_Fast(grads, "grads must be a sequence of tensors"));
    const Py_ssize_t n = std::min(PySequence_Fast_GET_SIZE(root_seq.ptr()), PySequence_Fast_GET_SIZE(grad_seq.ptr()));
    for (Py_ssize_t i = 0; i < n; ++i) handed_out_.insert(PySequence_Fast_GET_ITEM(grad_seq.ptr(), i));
    std::vector<PyObject*> root_nodes;
    for (Py_ssize_t i = 0; i < n; ++i) {
      PyObject* t = PySequence_Fast_GET_ITEM(root_seq.ptr(), i);
      PyObject* g = PySequence_Fast_GET_ITEM(grad_seq.ptr(), i);
      if (!is_tensor(t)) throw py::type_error("backward: roots must be tensors");
      PyObject* grad_fn = grad_fn_of(t);
      if (grad_fn != nullptr) {
        auto found = buffer_.find(grad_fn);
        if (found == buffer_.end()) {
          buffer_.emplace(grad_fn, borrow(g));
        } else {
          found->second = add(found->second.ptr(), g);
        }
        root_nodes.push_back(grad_fn);
      } else {
        accumulate_leaf(t, borrow(g));
      }
    }
    const GradMode mode(create_graph_);
    topological(root_nodes);
    last_consumers();
    for (const py::object& node : order_) step(node.ptr());
    for (Leaf& leaf : leaves_) {  // leaves no node feeds (backward called on a leaf), in the order first reached
      if (leaf.live) {
        leaf.live = false;
        deliver_leaf(leaf.t.ptr(), std::move(leaf.g));
      }
    }
    return results_ ? results_ : py::none();
  }

 private:
  struct Leaf {
    py::object t, g;  // the leaf and its gradient summed so far
    bool live;
  };

  // Nodes reachable from the roots, each before the nodes it feeds into (reverse DFS post-order); while
  // capturing (autograd.grad), only nodes from which a captured edge is reachable.
  void topological(const std::vector<PyObject*>& roots) {
    std::unordered_set<PyObject*> seen;
    std::unordered_map<PyObject*, bool> needed;
    std::vector<std::pair<py::object, Py_ssize_t>> stack;  // (node, its next edge to visit)
    std::vector<py::object> post;
    for (PyObject* root : roots) {
      if (!is_node(root) || !seen.insert(root).second) continue;
      stack.emplace_back(borrow(root), 0);
      while (!stack.empty()) {
        PyObject* node = stack.back().first.ptr();
        py::object edges = edges_of(node);
        const Py_ssize_t count = PySequence_Fast_GET_SIZE(edges.ptr());
        PyObject* descend = nullptr;
        for (Py_ssize_t& i = stack.back().second; i < count;) {
          PyObject* child = PySequence_Fast_GET_ITEM(edges.ptr(), i++);
          if (is_node(child) && seen.insert(child).second) {
            descend = child;
            break;
          }
        }
        if (descend != nullptr) {
          stack.emplace_back(borrow(descend), 0);
          continue;
        }
        if (capturing_) {
          bool below = false;  // a captured edge is reachable through this node's backward
          for (Py_ssize_t i = 0; i < count && !below; ++i) {
            PyObject* c = PySequence_Fast_GET_ITEM(edges.ptr(), i);
            below = is_node(c) ? needed[c] : c != Py_None && captured_.count(c) > 0;
          }
          const bool captured = captured_.count(node) > 0;
          needed[node] = below || captured;
          // A non-leaf input's node only gives its gradient: its backward would free saved tensors that a later
          // backward through that input still needs (PyTorch does not run it either).
          if (captured && !below) capture_only_.insert(node);
        }
        post.push_back(std::move(stack.back().first));
        stack.pop_back();
      }
    }
    for (auto it = post.rbegin(); it != post.rend(); ++it) {
      if (!capturing_ || needed[it->ptr()]) order_.push_back(std::move(*it));
    }
  }

  // Node -> the leaves whose gradient is complete once that node has run (their last user in the order).
  // Delivering them there, not after the traversal, lets post-accumulate-grad hooks (DDP's bucketed all-reduce)
  // start while the rest of backward still runs, as PyTorch's AccumulateGrad does.
  void last_consumers() {
    std::unordered_map<PyObject*, PyObject*> last;
    std::vector<PyObject*> first_seen;  // the leaves in the order first reached: their delivery order
    for (const py::object& node : order_) {
      py::object edges = edges_of(node.ptr());
      for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(edges.ptr()); ++i) {
        PyObject* edge = PySequence_Fast_GET_ITEM(edges.ptr(), i);
        if (edge == Py_None || is_node(edge)) continue;
        if (last.emplace(edge, node.ptr()).second) {
          first_seen.push_back(edge);
        } else {
          last[edge] = node.ptr();
        }
      }
    }
    for (PyObject* leaf : first_seen) due_[last[leaf]].push_back(leaf);
  }

  void step(PyObject* node) {
    auto pending = buffer_.find(node);
    if (pending == buffer_.end()) {
      deliver_due(node);
      return;
    }
    py::object g = std::move(pending->second);
    buffer_.erase(pending);
    py::object pre_hooks = attr(node, names.pre_hooks);
    g = hooked(pre_hooks.ptr(), std::move(g));
    py::object retained = attr(node, names.retained);
    if (!retained.is_none()) {
      py::object owner = owned(PyObject_CallNoArgs(retained.ptr()));
      if (!owner.is_none()) {
        accumulate_grad(owner.ptr(), g);
      }
    }
    if (capturing_) {
      capture(node, g);
      if (capture_only_.count(node) > 0) {
        deliver_due(node);
        return;
      }
    }
    PyObject* fn = ag.n_fn.get(node);
    if (fn == ag.output_cls) {  // its parent runs later in the order (it feeds this node), with all the slots
      py::object parent = attr(node, names.parent);
      const Py_ssize_t index = py::cast<Py_ssize_t>(attr(node, names.index));
      auto slots = buffer_.find(parent.ptr());
      if (slots == buffer_.end()) {
        const Py_ssize_t n = py::cast<Py_ssize_t>(attr(parent.ptr(), names.n_outputs));
        py::list fresh(n);
        for (Py_ssize_t i = 0; i < n; ++i) fresh[i] = py::none();
        slots = buffer_.emplace(parent.ptr(), std::move(fresh)).first;
      }
      check(PySequence_SetItem(slots->second.ptr(), index, g.ptr()));
      return;
    }
    PyObject* saved = ag.n_saved.get(node);
    if (saved == nullptr || saved == Py_None) attr(node, names.saved_tensors);  // raises "a second time", named
    const py::object saved_ref = borrow(saved);
    const int anomaly = flag_of(ag.mode, names.anomaly);
    check(anomaly);
    py::object profiler = attr(ag.mode, names.profiler);
    py::object input_grads = !create_graph_ && !anomaly && profiler.is_none() ? added_into(node, fn, g) : py::object();
    const bool added = static_cast<bool>(input_grads);
    if (!input_grads && !profiler.is_none()) {
      input_grads = owned(PyObject_CallMethodObjArgs(profiler.ptr(), names.backward_node, node, g.ptr(),
                                                     ag.node_backward, nullptr));
    } else if (!input_grads && anomaly) {
      input_grads = owned(PyObject_CallFunctionObjArgs(ag.node_backward, node, g.ptr(), nullptr));
    } else if (!input_grads) {
      input_grads = call_backward(node, fn, g);
    }
    if (!PyTuple_Check(input_grads.ptr())) input_grads = py::make_tuple(input_grads);
    py::object edges = edges_of(node);
    const Py_ssize_t n_edges = PySequence_Fast_GET_SIZE(edges.ptr());
    const Py_ssize_t n_grads = PyTuple_GET_SIZE(input_grads.ptr());
    // One gradient per input, where the extra ones are None, as PyTorch checks. Fewer are a user Function's error
    // too; the library's own formulas (strict_gradient_count False, function.py) leave out trailing arguments that
    // take no gradient, and backward_into's True (an empty tuple) gave its one gradient already.
    bool extra_none = true;
    for (Py_ssize_t i = n_edges; i < n_grads && extra_none; ++i) {
      extra_none = PyTuple_GET_ITEM(input_grads.ptr(), i) == Py_None;
    }
    bool too_few = n_grads < n_edges && !added;
    if (too_few) {
      const int strict = flag_of(fn, names.strict_gradient_count);
      check(strict);
      too_few = strict;
    }
    if (!extra_none || too_few) {
      fail(py::str("function {}Backward returned an incorrect number of gradients (expected {}, got {})")
               .format(attr(node, names.name), n_edges, n_grads));
    }
    if (anomaly) {
      const py::str what = py::str("the gradient flowing into {}").format(attr(node, names.name));
      if (PyList_Check(g.ptr())) {
        for (py::handle each : g) finite(each.ptr(), what.ptr());
      } else {
        finite(g.ptr(), what.ptr());
      }
    }
    PyObject* recorded = ag.n_shapes.get(node);
    py::object shapes = owned(PySequence_Fast(recorded ? recorded : Py_None, "Node.input_shapes must be a sequence"));
    const Py_ssize_t n = std::min(n_grads, PySequence_Fast_GET_SIZE(shapes.ptr()));  // (zip's length)
    for (Py_ssize_t i = 0; i < n; ++i) {
      PyObject* edge = PySequence_Fast_GET_ITEM(edges.ptr(), i);
      PyObject* ig = PyTuple_GET_ITEM(input_grads.ptr(), i);
      if (edge == Py_None || ig == Py_None) continue;
      check_shape(node, ig, PySequence_Fast_GET_ITEM(shapes.ptr(), i));
      if (anomaly) finite(ig, attr(node, names.name).ptr());
      if (is_node(edge)) {
        auto prev = buffer_.find(edge);
        if (prev == buffer_.end()) {
          buffer_.emplace(edge, borrow(ig));
        } else if (create_graph_ || PyList_Check(prev->second.ptr()) || !exclusive(prev->second.ptr())) {
          prev->second = add(prev->second.ptr(), ig);
        } else {
          add_in_place(prev->second.ptr(), ig);
        }
      } else {
        accumulate_leaf(edge, borrow(ig));
      }
    }
    input_grads = py::object();  // (references left here would make the buffered gradients look shared)
    g = py::object();
    const int any_saved = truth(saved);
    check(any_saved);
    if (any_saved && !retain_graph_) ag.n_saved.set(node, Py_NewRef(Py_None));  // nothing saved: may rerun
    deliver_due(node);
  }

  py::object call_backward(PyObject* node, PyObject* fn, const py::object& g) {
    py::object backward = attr(fn, names.backward);
    if (!PyList_Check(g.ptr())) {
      PyObject* args[] = {node, g.ptr()};
      return owned(PyObject_Vectorcall(backward.ptr(), args, 2, nullptr));
    }
    std::vector<PyObject*> args{node};  // a multi_output node: one gradient (or None) per output
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(g.ptr()); ++i) args.push_back(PyList_GET_ITEM(g.ptr(), i));
    return owned(PyObject_Vectorcall(backward.ptr(), args.data(), args.size(), nullptr));
  }

  // Where node's backward_into added its first input's gradient into the gradient that input has so far, in place
  // (only where that sum is a contiguous tensor that nothing but the engine can see, so the change is invisible):
  // the node's input gradients, None first (an empty tuple where backward_into returned True). Else null.
  py::object added_into(PyObject* node, PyObject* fn, const py::object& g) {
    py::object into = attr(fn, names.backward_into);
    if (into.is_none()) return {};
    py::object edges = edges_of(node);
    if (PySequence_Fast_GET_SIZE(edges.ptr()) == 0) return {};
    PyObject* edge = PySequence_Fast_GET_ITEM(edges.ptr(), 0);
    PyObject* acc = nullptr;
    if (edge == Py_None) return {};
    if (is_node(edge)) {
      auto found = buffer_.find(edge);
      if (found != buffer_.end()) acc = found->second.ptr();
    } else {
      auto found = leaf_index_.find(edge);
      if (found != leaf_index_.end()) acc = leaves_[found->second].g.ptr();
    }
    if (acc == nullptr || PyList_Check(acc) || !exclusive(acc)) return {};
    py::object done = owned(PyObject_CallFunctionObjArgs(into.ptr(), node, g.ptr(), acc, nullptr));
    if (done.ptr() != Py_False) bump_version(array_of(acc));
    if (PyTuple_Check(done.ptr())) {
      if (PyTuple_GET_SIZE(done.ptr()) == 0 || PyTuple_GET_ITEM(done.ptr(), 0) != Py_None) {
        fail(py::str("{}.backward_into returned gradients whose first is not None").format(attr(node, names.name)));
      }
      return done;
    }
    const int yes = truth(done.ptr());
    check(yes);
    return yes ? py::tuple() : py::object();
  }

  void check_shape(PyObject* node, PyObject* ig, PyObject* shape) {
    if (!is_tensor(ig)) {
      fail(py::str("{}.backward returned a {} as a gradient").format(attr(node, names.name), Py_TYPE(ig)->tp_name));
    }
    if (array_of(ig).dtype() != Dtype::float16) {  // (a float16 input's gradient; added into float16 sums)
      fail(py::str("{}.backward returned a gradient of dtype {} for a float16 input")
               .format(attr(node, names.name), dtype_name(array_of(ig).dtype())));
    }
    const Shape& have = array_of(ig).shape();
    const Py_ssize_t ndim = static_cast<Py_ssize_t>(have.size());
    bool same = shape != Py_None && PyTuple_Check(shape) && PyTuple_GET_SIZE(shape) == ndim;
    for (size_t d = 0; same && d < have.size(); ++d) {
      PyObject* size = PyTuple_GET_ITEM(shape, d);
      same = PyLong_Check(size) && PyLong_AsLongLong(size) == have[d];
    }
    if (!same) {
      fail(py::str("{}.backward returned a gradient of shape {} for an input of shape {}")
               .format(attr(node, names.name), to_tuple(have), borrow(shape)));
    }
  }

  void finite(PyObject* g, PyObject* what) {
    owned(PyObject_CallFunctionObjArgs(ag.check_finite, g, what, nullptr));
  }

  void capture(PyObject* key, const py::object& g) {
    auto found = captured_.find(key);
    if (found == captured_.end()) return;
    for (Py_ssize_t i : found->second) {
      PyObject* prev = PyList_GET_ITEM(results_.ptr(), i);
      py::object value = prev == Py_None ? g : add(prev, g.ptr());
      PyList_SetItem(results_.ptr(), i, value.release().ptr());
    }
  }

  void accumulate_leaf(PyObject* t, py::object g) {
    if (!is_tensor(t)) {
      fail(py::str("backward: a graph edge is a {}, not a Node or a Tensor").format(Py_TYPE(t)->tp_name));
    }
    auto found = leaf_index_.find(t);
    if (found == leaf_index_.end()) {
      leaf_index_.emplace(t, leaves_.size());
      leaves_.push_back(Leaf{borrow(t), std::move(g), true});
      return;
    }
    py::object& acc = leaves_[found->second].g;
    if (create_graph_ || !exclusive(acc.ptr())) {
      acc = add(acc.ptr(), g.ptr());
    } else {  // the repeated weight of an RNN's time steps: 16 adds per step without a new tensor each
      add_in_place(acc.ptr(), g.ptr());
    }
  }

  void deliver_due(PyObject* node) {
    auto due = due_.find(node);
    if (due == due_.end()) return;
    for (PyObject* key : due->second) {
      auto found = leaf_index_.find(key);
      if (found == leaf_index_.end()) continue;
      Leaf& leaf = leaves_[found->second];
      leaf_index_.erase(found);
      leaf.live = false;
      py::object t = std::move(leaf.t), g = std::move(leaf.g);
      // (x + b)'s backward gives b and x one tensor: .grad gets a copy, so a hook that changes it in place can't
      // change x's. The buffer is scanned only where something besides this reference holds g.
      if (Py_REFCNT(g.ptr()) > 1) {
        for (const auto& pending : buffer_) {
          if (pending.second.ptr() == g.ptr()) {
            handed_out_.insert(g.ptr());
            break;
          }
        }
      }
      deliver_leaf(t.ptr(), std::move(g));
    }
  }

  void deliver_leaf(PyObject* t, py::object g) {
    g = hooked(ag.t_hooks.get(t), std::move(g));
    if (capturing_) {
      capture(t, g);
      return;
    }
    accumulate_grad(t, g);
    PyObject* post = ag.t_post_hooks.get(t);  // set only by register_post_accumulate_grad_hook
    const int any = post == nullptr ? 0 : truth(post);
    check(any);
    if (any) owned(PyObject_CallOneArg(ag.post_accumulate, t));
  }

  // owner.grad = store(g, owner.grad). The sum runs without the GIL (large arrays) or through Python (create_graph),
  // so another thread's backward may store into the same .grad meanwhile: then the sum is made again from the new
  // .grad (compare-and-swap: `current` is still held, so its address is not reused). Without this, concurrent
  // backward calls lost gradients. The slot is written directly: what the engine stores has the leaf's shape, dtype
  // and device already, so the check that an assignment to .grad runs (tensor.py) would only cost time.
  void accumulate_grad(PyObject* owner, const py::object& g) {
    for (;;) {
      const py::object current = grad_of(owner);
      py::object stored = store(g, current);
      if (grad_of(owner).ptr() == current.ptr()) {
        ag.t_grad.set(owner, stored.release().ptr());
        return;
      }
    }
  }

  static py::object grad_of(PyObject* owner) {
    PyObject* grad = ag.t_grad.get(owner);
    return py::reinterpret_borrow<py::object>(grad != nullptr ? grad : Py_None);
  }

  // The new .grad: g itself the first time (copied if already handed out), else current + g.
  py::object store(py::object g, const py::object& current) {
    if (!current.is_none()) {
      // .grad is a plain slot, so anything may have been assigned to it: checked before the sum reads it.
      if (!is_tensor(current.ptr())) {
        throw py::type_error(py::str("backward: .grad must be a Tensor or None to accumulate into, not a {}")
                                 .format(Py_TYPE(current.ptr())->tp_name));
      }
      const Array& have = array_of(current.ptr());
      if (have.shape() != array_of(g.ptr()).shape() || have.dtype() != Dtype::float16) {
        fail(py::str("backward: .grad has shape {} and dtype {}; its gradient has shape {} and dtype float16")
                 .format(to_tuple(have.shape()), dtype_name(have.dtype()), to_tuple(array_of(g.ptr()).shape())));
      }
      if (create_graph_) return add(current.ptr(), g.ptr());
      return sum_of(current.ptr(), g.ptr());
    }
    if (!create_graph_ && handed_out_.count(g.ptr())) {  // (with create_graph, .grad is never changed in place)
      g = copy_of(g.ptr());
    }
    handed_out_.insert(g.ptr());
    return g;
  }

  const bool retain_graph_, create_graph_;
  bool capturing_ = false;
  std::unordered_map<PyObject*, std::vector<Py_ssize_t>> captured_;  // a node or a leaf -> positions in inputs
  std::unordered_set<PyObject*> capture_only_;  // captured nodes whose backward leads to nothing captured
  std::vector<py::object> keep_;                                     // the inputs, alive as captured's keys
  py::object results_;
  std::unordered_set<PyObject*> handed_out_;  // gradients given to a .grad once: copied before reuse
  std::unordered_map<PyObject*, py::object> buffer_;  // node -> its output's gradient so far (multi_output: a list)
  std::vector<Leaf> leaves_;                          // leaves in the order first reached
  std::unordered_map<PyObject*, size_t> leaf_index_;  // a live leaf -> its entry
  std::vector<py::object> order_;
  std::unordered_map<PyObject*, std::vector<PyObject*>> due_;
};

void configure_engine(py::object output_cls, py::object run_hooks, py::object node_backward, py::object check_finite,
                      py::object post_accumulate) {
  if (ag.node == nullptr) throw py::type_error("configure_engine: configure_autograd first");
  ag.output_cls = output_cls.release().ptr();  // owned for the life of the process
  ag.run_hooks = run_hooks.release().ptr();
  ag.node_backward = node_backward.release().ptr();
  ag.check_finite = check_finite.release().ptr();
  ag.post_accumulate = post_accumulate.release().ptr();
  names = Names{PyUnicode_InternFromString("pre_hooks"),     PyUnicode_InternFromString("retained"),
                PyUnicode_InternFromString("parent"),        PyUnicode_InternFromString("index"),
                PyUnicode_InternFromString("n_outputs"),     PyUnicode_InternFromString("backward"),
                PyUnicode_InternFromString("backward_into"), PyUnicode_InternFromString("profiler"),
                PyUnicode_InternFromString("backward_node"), PyUnicode_InternFromString("saved_tensors"),
                PyUnicode_InternFromString("name"),          PyUnicode_InternFromString("anomaly"),
                PyUnicode_InternFromString("strict_gradient_count")};
}

}  // namespace

void bind_engine(py::module_& m) {
  m.def(
      "run_backward",
      [](py::object roots, py::object grads, bool retain_graph, bool create_graph, py::object inputs) {
        if (ag.output_cls == nullptr) throw py::type_error("run_backward before configure_engine");
        return Engine(retain_graph, create_graph, inputs.ptr()).run(roots.ptr(), grads.ptr());
      },
      py::arg("roots"), py::arg("grads"), py::arg("retain_graph"), py::arg("create_graph"), py::arg("inputs"),
      "autograd/engine.py's run_backward (see there).");
  m.def("configure_engine", &configure_engine, py::arg("output_cls"), py::arg("run_hooks"), py::arg("node_backward"),
        py::arg("check_finite"), py::arg("post_accumulate"),
        "Hands run_backward the engine's Python helpers (autograd/engine.py calls it once).");
}

}  // namespace tensorlogic::python
