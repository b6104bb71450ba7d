"""backward() and grad(): the entry points into the engine."""
from .. import _core
from ..creation import tensor
from ..tensor import Tensor, _wrap
from .engine import run_backward, run_post_accumulate_hooks


def _ones_like(t):
    return _wrap(_core.full(list(t._a.shape), 1.0, "float16", t._a.device))


def _as_list(x):
    if x is None:
        return []
    return [x] if isinstance(x, Tensor) else list(x)


def _root_grads(outputs, grad_outputs, who):
    """One gradient per output: grad_outputs' (one each, where given), or ones for a one-element output."""
    given = _as_list(grad_outputs)
    if grad_outputs is not None and len(given) != len(outputs):
        raise RuntimeError(f"{who}: got {len(outputs)} outputs and {len(given)} gradients")  # as PyTorch
    grads = []
    for i, t in enumerate(outputs):
        if not t.requires_grad:
            raise RuntimeError(f"{who}: output {i} does not require grad and has no grad_fn (was it computed under "
                               "no_grad, or from tensors that do not require grad?)")
        g = given[i] if given else None
        if g is None:
            if t._a.numel() != 1:
                raise RuntimeError(f"{who}: grad can be implicitly created only for outputs with one element; output "
                                   f"{i} has shape {tuple(t.shape)}, pass a gradient of that shape")
            g = _ones_like(t)
        elif not isinstance(g, Tensor):
            g = tensor(g)
        if g._a.shape != t._a.shape:
            raise RuntimeError(f"{who}: gradient of shape {tuple(g.shape)} given for output {i} of shape {tuple(t.shape)}")
        grads.append(g)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulates d(tensors)/d(leaf) into the .grad of every leaf that requires grad."""
    outputs = _as_list(tensors)
    grads = _root_grads(outputs, grad_tensors, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = _as_list(inputs)
        for t, g in zip(inputs, run_backward(outputs, grads, retain_graph, create_graph, inputs)):
            if g is not None:
                t.grad = g if t.grad is None else t.grad + g
                run_post_accumulate_hooks(t)
        return
    run_backward(outputs, grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False,
         materialize_grads=False):
    """The gradients of `outputs` with respect to `inputs` (a tuple), without touching any .grad."""
    outputs = _as_list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = _as_list(inputs)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {tuple(t.shape)}) does not require grad")
    grads = _root_grads(outputs, grad_outputs, "grad")
    if retain_graph is None:
        retain_graph = create_graph
    results = run_backward(outputs, grads, retain_graph, create_graph, inputs)
    for i, g in enumerate(results):
        if g is None:
            if materialize_grads:
                results[i] = _wrap(_core.full(list(inputs[i]._a.shape), 0.0, "float16", inputs[i]._a.device))
            elif not allow_unused:
                raise RuntimeError(f"grad: input {i} (shape {tuple(inputs[i].shape)}) was not used in the graph of the "
                                   "outputs; pass allow_unused=True to get None for it")
    return tuple(results)
