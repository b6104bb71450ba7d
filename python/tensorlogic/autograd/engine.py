"""The backward engine: one topological traversal of the Node graph, the same for every op.

The traversal runs natively (_core.run_backward, python/src/bind_engine.cpp: its bookkeeping cost ~1.5 us per node
in Python); the helpers here are the paths it calls back into Python for: hooks, anomaly mode and the profiler.

What it does: nodes run in reverse DFS post-order from the roots, each once every gradient flowing into its output
has been summed (in place, as PyTorch's InputBuffer, where nothing but the engine can see the sum). A node's
backward gets its output's gradient (a multi_output node: one per output, None where none arrived; its outputs'
_Output nodes only fill its slots) and returns one gradient per input, each checked against the input's shape.
A leaf's gradient goes to its .grad (or, for autograd.grad, to the result of its position in `inputs`) as soon as
its last consumer in the order has run, so post-accumulate-grad hooks (DDP's bucketed all-reduce) start while the
rest of backward still runs; .grad gets a copy of a gradient already handed out elsewhere. Saved tensors are freed
after a node ran unless retain_graph. Grad mode is on during backward only with create_graph."""
import numpy as np

from .. import _core
from ..tensor import Tensor
from .function import _Output
from .grad_mode import mode


def run_backward(roots, grads, retain_graph, create_graph, inputs=None):
    """Propagates `grads` from `roots` (tensors). Without `inputs`, gradients accumulate into the .grad of
    leaves; with `inputs`, their gradients are returned (list aligned with inputs; None when unreached)."""
    return _core.run_backward(roots, grads, bool(retain_graph), bool(create_graph), inputs)


def _check_finite(g, what):
    if g is not None and not np.isfinite(g.numpy()).all():
        raise RuntimeError(f"detect_anomaly: {what} produced inf or NaN in backward")


def _run_hooks(hooks, g):
    """g after each hook (a node's pre-hooks or a tensor's hooks); a hook may replace it by a tensor of its shape.
    (A multi_output node's g is a list; its pre-hooks get and return that list.)"""
    for hook in hooks:
        result = hook(g)
        if result is None:
            continue
        if isinstance(g, Tensor):  # checked here: the engine adds what a hook returns into native sums
            if not isinstance(result, Tensor):
                raise TypeError(f"a tensor hook returns a Tensor or None, but hook {_hook_name(hook)} returned a "
                                f"{type(result).__name__}")
            if result._a.shape != g._a.shape or result._a.dtype != g._a.dtype:
                raise RuntimeError(f"hook {_hook_name(hook)} changed the gradient from shape {tuple(g.shape)} "
                                   f"{g.dtype} to shape {tuple(result.shape)} {result.dtype}")
        g = result
    return g


def _hook_name(hook):
    return repr(getattr(hook, "__qualname__", type(hook).__name__))


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


def run_post_accumulate_hooks(t):
    """The hooks of Tensor.register_post_accumulate_grad_hook, after a new gradient was added to t.grad.
    (The slot is set only by that method, so tensors without hooks cost one getattr here and nothing
    on the hot path of creating tensors.)"""
    for hook in getattr(t, "_post_accumulate_grad_hooks", None) or ():
        if hook(t) is not None:
            raise RuntimeError("Tensor post accumulate grad hooks should return None.")  # torch's words


_core.configure_engine(_Output, _run_hooks, _node_backward, _check_finite, run_post_accumulate_hooks)
