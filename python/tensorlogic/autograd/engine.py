"""The backward engine: one topological traversal of the Node graph, the same for every op."""
import sys

import numpy as np

from .. import _core
from ..tensor import _wrap
from .function import Node, _Output
from .grad_mode import mode, reset_grad, set_grad

_ADD = _core.BinaryOp.add


def _topological(roots, captured):
    """Nodes reachable from `roots`, each before the nodes it feeds into (reverse DFS post-order).

    With `captured` (autograd.grad), only nodes from which a captured edge is reachable are kept."""
    order, state, needed = [], {}, {}
    for root in roots:
        if not isinstance(root, Node) or root in state:
            continue
        stack = [(root, iter(root.next))]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            for child in children:
                if isinstance(child, Node) and child not in state:
                    state[child] = 1
                    stack.append((child, iter(child.next)))
                    break
            else:
                stack.pop()
                order.append(node)
                if captured is not None:
                    needed[node] = node in captured or any(
                        needed.get(c) if isinstance(c, Node) else (c is not None and id(c) in captured) for c in node.next)
    order.reverse()
    if captured is not None:
        order = [n for n in order if needed[n]]
    return order


def _check_finite(g, what):
    if g is not None and not np.isfinite(g.numpy()).all():
        raise RuntimeError(f"detect_anomaly: {what} produced inf or NaN in backward")


def _accumulate(buffer, key, g):
    prev = buffer.get(key)
    buffer[key] = g if prev is None else prev + g


def _run_hooks(hooks, g):
    for hook in hooks:
        result = hook(g)
        if result is not None:
            g = result
    return g


def _node_backward(node, g):
    """One node's backward (g: its output's gradient, or a multi_output node's list of them), with anomaly
    mode's message when on."""
    grads = g if g.__class__ is list else (g,)
    if not mode.anomaly:
        return node.fn.backward(node, *grads)
    try:
        return node.fn.backward(node, *grads)
    except RuntimeError as e:
        if "detect_anomaly" not in str(e):
            raise
        raise RuntimeError(f"detect_anomaly: {node.name} produced inf or NaN in backward ({e})") from None


def run_backward(roots, grads, retain_graph, create_graph, inputs=None):
    """Propagates `grads` from `roots` (tensors). Without `inputs`, gradients accumulate into the .grad of
    leaves; with `inputs`, their gradients are returned (list aligned with inputs; None when unreached)."""
    # Leaves are keyed by id() (Tensor.__eq__ is elementwise, and an int hashes in C where a wrapper's
    # __hash__ would run Python per lookup); the graph's edges keep every leaf alive until backward ends.
    captured = None
    if inputs is not None:
        captured = {}
        for i, t in enumerate(inputs):
            captured.setdefault(t.grad_fn if t.grad_fn is not None else id(t), []).append(i)
    results = [None] * len(inputs) if inputs is not None else None
    handed_out = set(id(g) for g in grads)  # gradients given to a .grad once must be copied before reuse

    buffer = {}  # Node -> the sum of the gradients flowing into its output so far (multi_output: a list of them)
    leaves = {}  # id(leaf) -> [leaf, summed gradient], delivered (hooks, .grad) once its last consumer has run
    root_nodes = []
    for t, g in zip(roots, grads):
        if t.grad_fn is not None:
            _accumulate(buffer, t.grad_fn, g)
            root_nodes.append(t.grad_fn)
        else:
            _accumulate_leaf(leaves, t, g, create_graph)

    token = set_grad(create_graph)
    try:
        order = _topological(root_nodes, captured)
        due = _last_consumers(order)
        for node in order:
            g = buffer.pop(node, None)
            if g is None:
                if node in due:
                    _deliver_due(due[node], leaves, buffer, captured, results, handed_out, create_graph)
                continue
            if node.pre_hooks:
                g = _run_hooks(node.pre_hooks, g)
            if node.retained is not None:
                owner = node.retained()
                if owner is not None:
                    owner.grad = _store(g, owner.grad, handed_out, create_graph)
            if captured is not None and node in captured:
                for i in captured[node]:
                    results[i] = g if results[i] is None else results[i] + g
            fn = node.fn
            if fn is _Output:  # its parent runs later in `order` (it feeds this node), with all the slots
                slots = buffer.get(node.parent)
                if slots is None:
                    slots = buffer[node.parent] = [None] * node.parent.n_outputs
                slots[node.index] = g
                continue
            saved = node._saved
            if saved is None:
                node.saved_tensors  # raises the "backward a second time" error with the op's name
            anomaly = mode.anomaly
            if fn.backward_into is not None and not (create_graph or anomaly) and mode.profiler is None and \
                    _added_into(node, g, buffer, leaves):
                input_grads = ()
            elif mode.profiler is not None:
                input_grads = mode.profiler.backward_node(node, g, _node_backward)
            elif anomaly:
                input_grads = _node_backward(node, g)
            elif g.__class__ is list:
                input_grads = fn.backward(node, *g)
            else:
                input_grads = fn.backward(node, g)
            if input_grads.__class__ is not tuple:
                input_grads = input_grads if isinstance(input_grads, tuple) else (input_grads,)
            if len(input_grads) > len(node.next):  # fewer is fine: trailing arguments get no gradient
                raise RuntimeError(f"{node.name}.backward returned {len(input_grads)} gradients for "
                                   f"{len(node.next)} inputs")
            if anomaly:
                for each in g if g.__class__ is list else (g,):
                    _check_finite(each, "the gradient flowing into " + node.name)
            for edge, ig, shape in zip(node.next, input_grads, node.input_shapes):
                if edge is None or ig is None:
                    continue
                if ig._a.shape != shape:
                    raise RuntimeError(f"{node.name}.backward returned a gradient of shape {ig._a.shape} for an "
                                       f"input of shape {shape}")
                if anomaly:
                    _check_finite(ig, node.name)
                if edge.__class__ is Node:
                    prev = buffer.get(edge)
                    if prev is None:
                        buffer[edge] = ig
                    elif create_graph or prev.__class__ is list or not _exclusive(prev):
                        buffer[edge] = prev + ig
                    else:
                        _core.binary_(_ADD, prev._a, ig._a)
                else:
                    _accumulate_leaf(leaves, edge, ig, create_graph)
            input_grads = ig = None  # (references left here would make the buffered gradients look shared)
            if saved and not retain_graph:  # a node that saved nothing can run again (like PyTorch's)
                node._saved = None
            if node in due:
                _deliver_due(due[node], leaves, buffer, captured, results, handed_out, create_graph)
        for t, g in leaves.values():  # leaves no node feeds (backward called on a leaf)
            _deliver_leaf(t, g, captured, results, handed_out, create_graph)
    finally:
        reset_grad(token)
    return results


def _added_into(node, g, buffer, leaves):
    """Whether node's backward_into added g into the gradient its first input has so far, in place: only where
    that gradient is a contiguous tensor that nothing but the engine can see (no other reference to the Tensor
    or its array, no view of its memory), so the change is invisible."""
    edge = node.next[0]
    if edge is None:
        return False
    if edge.__class__ is Node:
        acc = buffer.get(edge)
    else:
        entry = leaves.get(id(edge))
        acc = entry[1] if entry is not None else None
    if acc is None or acc.__class__ is list:
        return False
    return _exclusive(acc) and node.fn.backward_into(node, g, acc)


def _exclusive(acc):
    """Whether a gradient summed so far can be added into in place: a contiguous tensor that nothing but the
    engine sees. Its references must be exactly the buffer (or leaf entry) holding it, the caller's variable,
    this parameter and getrefcount's argument; its array's, the Tensor's slot, `a` and the argument; and no
    other array may view its memory. (A gradient also given to another input, kept by a hook or a .grad, or
    a view of one, fails one of these.)"""
    a = acc._a
    return (sys.getrefcount(acc) == 4 and sys.getrefcount(a) == 3 and a.storage_use_count() == 1
            and a.is_contiguous() and not acc.requires_grad)


def _accumulate_leaf(leaves, t, g, create_graph):
    entry = leaves.get(id(t))
    if entry is None:
        leaves[id(t)] = [t, g]
        return
    acc = entry[1]
    if create_graph or not _exclusive(acc):
        entry[1] = acc + g
    else:  # the repeated weight of an RNN's time steps: 16 adds per step without a new tensor each
        _core.binary_(_ADD, acc._a, g._a)


def _last_consumers(order):
    """Node -> the ids of the leaves whose gradient is complete once that node has run (it is their last user
    in `order`). Delivering them there, not after the traversal, lets post-accumulate-grad hooks (DDP's
    bucketed all-reduce) start while the rest of backward still runs, as PyTorch's AccumulateGrad does."""
    last = {}
    for node in order:
        for edge in node.next:
            if edge is not None and edge.__class__ is not Node:
                last[id(edge)] = node
    due = {}
    for key, node in last.items():
        due.setdefault(node, []).append(key)
    return due


def _deliver_due(keys, leaves, buffer, captured, results, handed_out, create_graph):
    for key in keys:
        entry = leaves.pop(key, None)
        if entry is not None:
            t, g = entry
            # (x + b)'s backward gives b and x one tensor: .grad gets a copy, so a hook that changes it in place
            # can't change x's. The scan of the buffer is needed only where something besides this local holds
            # g (refcount: `g` and getrefcount's argument, once the entry is deleted).
            del entry
            if sys.getrefcount(g) > 2 and any(pending is g for pending in buffer.values()):
                handed_out.add(id(g))
            _deliver_leaf(t, g, captured, results, handed_out, create_graph)


def _deliver_leaf(t, g, captured, results, handed_out, create_graph):
    if t._hooks:
        g = _run_hooks(t._hooks, g)
    if captured is not None:
        for i in captured.get(id(t), ()):
            results[i] = g if results[i] is None else results[i] + g
        return
    t.grad = _store(g, t.grad, handed_out, create_graph)
    run_post_accumulate_hooks(t)


def run_post_accumulate_hooks(t):
    """The hooks of Tensor.register_post_accumulate_grad_hook, after a new gradient was added to t.grad.
    (The slot is set only by that method, so tensors without hooks cost one getattr here and nothing
    on the hot path of creating tensors.)"""
    for hook in getattr(t, "_post_accumulate_grad_hooks", None) or ():
        if hook(t) is not None:
            raise RuntimeError("Tensor post accumulate grad hooks should return None.")  # torch's words


def _store(g, current, handed_out, create_graph):
    """The new .grad: g itself the first time (copied if already handed out), else current + g."""
    if current is not None:
        return current + g if create_graph else _wrap(_core.binary(_core.BinaryOp.add, current._a, g._a))
    if id(g) in handed_out and not create_graph:  # (with create_graph, .grad is never changed in place)
        g = _wrap(_core.clone(g._a))
    handed_out.add(id(g))
    return g
