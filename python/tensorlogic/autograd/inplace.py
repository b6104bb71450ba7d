"""In-place ops under autograd: the op is recorded as its out-of-place form on the tensor's previous value, and the
tensor takes over the result's history. Through a view (autograd/views.py) the history rewritten is the root's, with a
CopySlices node, and every live view of the root takes its history from the root again, as in PyTorch (but the outputs
of split, chunk and unbind, which PyTorch refuses to write, or to use once written: autograd/multi_output_views.py)."""
from .. import _core
from ..promotion import check_cast
from .copy_slices import CopySlices
from .function import _Output, records, take_history
from .grad_mode import enable_grad, grad_enabled
from .multi_output_views import is_multi_output, multi_output_error
from .views import live_views, refit, refresh, with_history


def inplace(t, out_of_place, name, written=None, view_name=None):
    """An in-place op under autograd: `out_of_place(before)` computes the result from a copy of t's current value
    (which keeps t's history), the result is written into t's memory, and t takes over its history; where t is a view,
    its root takes a CopySlices node (the root's previous value with the view replaced by the result). The root's
    views that overlap `written` (the array of the elements the op changes, t's by default), t among them, replay
    their view ops on it. Nodes that saved t (or any tensor over its memory) see the version move and refuse to run
    backward. `view_name`: PyTorch's name of the view of t that the op writes, where it makes one (t[0] = v writes
    t's Select), for the messages."""
    view = getattr(t, "_view", None)
    _check_inplace(t, view, name, view_name)
    before = with_history(_core.clone(t._a), t)
    out = out_of_place(before)
    check_cast(out.dtype, t.dtype, name)
    _core.copy_(t._a, out._a)
    t._version += 1
    if view is None:
        take_history(t, out.requires_grad, out.grad_fn)
        refresh(t, written)
        return t
    root, steps = view[0], view[1]
    new = CopySlices.apply(with_history(root._a, root), steps, out)
    take_history(root, new.requires_grad, new.grad_fn)
    refresh(root, t._a if written is None else written)
    return t


def inplace_view(t, view_of, name):
    """An in-place change of t's shape or strides (t.t_(), t.unsqueeze_(0)): t becomes the view `view_of(t)` (its
    memory unchanged), and under autograd takes over that view's history. The views of t's memory keep viewing it
    (autograd/views.refit). The version moves on, so nodes that saved t refuse to run backward, as in PyTorch."""
    recorded = records(t)
    if recorded:
        _check_inplace(t, getattr(t, "_view", None), name)
    previous = t._a
    if not grad_enabled() and (getattr(t, "_view", None) is not None or live_views(t)):
        with enable_grad():  # so that the view op notes its result: t's place among the views needs its steps
            out = view_of(t)
    else:
        out = view_of(t)
    t._a = out._a
    refit(t, out, previous)
    if recorded:
        take_history(t, out.requires_grad, out.grad_fn)
    t._version += 1
    return t


def _check_inplace(t, view, name, view_name=None):
    if view is not None and is_multi_output(view[1]):
        raise multi_output_error(t, view[1], view_name=view_name)
    if t.requires_grad and t.grad_fn is None:
        raise RuntimeError(f"{name}: a leaf tensor that requires grad is being used in an in-place operation "
                           "(update parameters under `with tl.no_grad():`)")
    if view is not None:
        root = view[0]
        if root.requires_grad and root.grad_fn is None:
            raise RuntimeError(f"{name}: a view of a leaf Variable that requires grad is being used in an in-place "
                               "operation (update parameters under `with tl.no_grad():`)")
        if root.grad_fn is not None:
            _check_not_returned_input(root.grad_fn)
    if t.grad_fn is not None:
        _check_not_returned_input(t.grad_fn)


def _check_not_returned_input(node):
    """Raises where node's output is one of its inputs returned by a Function with returns_inputs (PyTorch's
    words)."""
    index = 0
    if node.fn is _Output:
        node, index = node.parent, node.index
    if node.fn.returns_inputs:
        raise RuntimeError(f"Output {index} of {node.name} is a view and is being modified inplace. This view was "
                           "created inside a custom Function (or because an input was returned as-is) and the autograd "
                           "logic to handle view+inplace would override the custom backward associated with the custom "
                           "Function, leading to incorrect gradients. This behavior is forbidden. You can fix this by "
                           "cloning the output of the custom Function.")
