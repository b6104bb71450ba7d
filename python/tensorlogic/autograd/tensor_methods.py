"""The autograd methods of tl.Tensor (attached with tensor_method; the fields live in tensor.py)."""
import weakref

import numpy as np

from ..tensor import Tensor, _wrap, tensor_method
from .api import backward as _backward


@tensor_method()
def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulates the gradient of this tensor into the .grad of the leaves of its graph."""
    _backward(self, gradient, retain_graph, create_graph, inputs)


@tensor_method()
def detach(self):
    """A new tensor sharing this data, outside the graph (in-place changes to either are seen by both)."""
    t = _wrap(self._a)
    return t


@tensor_method()
def detach_(self):
    """Detaches this tensor from the graph in place (no grad_fn, requires_grad False) and returns it. A view (made
    while grad mode was on) refuses, as in PyTorch: its history comes from its root's (autograd/views.py)."""
    if getattr(self, "_view", None) is not None:
        raise RuntimeError("Can't detach views in-place. Use detach() instead.")
    if self._a.dtype != "float16" and self.requires_grad:
        raise RuntimeError("detach_: only float tensors can require grad")
    self.grad_fn = None
    self.requires_grad = False
    return self


@tensor_method()
def requires_grad_(self, requires_grad=True):
    """Sets requires_grad in place and returns self. Only float16 tensors can require grad, and a non-leaf cannot be
    switched off (detach() it instead)."""
    if not isinstance(requires_grad, (bool, np.bool_)):
        raise TypeError(f"requires_grad_(): argument 'requires_grad' must be bool, not {type(requires_grad).__name__}")
    if self.grad_fn is not None and not requires_grad:
        raise RuntimeError("requires_grad_(False): this tensor is not a leaf (it has a grad_fn); use detach() instead")
    if requires_grad and self._a.dtype != "float16":
        raise RuntimeError(f"requires_grad_: only float16 tensors can require grad (this one is {self._a.dtype})")
    self.requires_grad = bool(requires_grad)
    return self


@tensor_method()
def retain_grad(self):
    """Makes backward() fill .grad of this non-leaf tensor too."""
    if not self.requires_grad:
        raise RuntimeError("retain_grad: this tensor does not require grad")
    if self.grad_fn is None or self._retains_grad:
        return  # leaves keep their grad anyway
    self._retains_grad = True
    self.grad_fn.retained = weakref.ref(self)


class RemovableHandle:
    """What register_hook returns: remove() unregisters the hook (as torch.utils.hooks.RemovableHandle)."""
    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        """Unregisters the hook; a second call does nothing."""
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


@tensor_method()
def register_hook(self, hook):
    """hook(grad) runs when this tensor's gradient is computed; a non-None result replaces the gradient."""
    if not callable(hook):
        raise TypeError(f"register_hook: hook must be callable, got {type(hook).__name__}")
    if not self.requires_grad:
        raise RuntimeError("register_hook: cannot register a hook on a tensor that does not require grad")
    if self._hooks is None:
        self._hooks = []
    if self.grad_fn is not None and self.grad_fn.pre_hooks is not self._hooks:
        if self.grad_fn.pre_hooks is None:
            self.grad_fn.pre_hooks = self._hooks
        else:
            self._hooks = self.grad_fn.pre_hooks
    self._hooks.append(hook)
    return RemovableHandle(self._hooks, hook)


@tensor_method()
def register_post_accumulate_grad_hook(self, hook):
    """hook(tensor) runs on this leaf each time backward has added a gradient to its .grad (the hook reads
    tensor.grad; it must return None). It runs as soon as that gradient is complete, before the rest of the
    graph's backward, which is what DistributedDataParallel needs to overlap communication with backward."""
    if not self.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    hooks = getattr(self, "_post_accumulate_grad_hooks", None)
    if hooks is None:
        hooks = self._post_accumulate_grad_hooks = []
    hooks.append(hook)
    return RemovableHandle(hooks, hook)


@tensor_method()
def is_inference(self):
    """True for a tensor whose memory was allocated under tl.inference_mode (a view shares its memory's answer), as
    PyTorch's. Such tensors may still be used by autograd and changed in place later, which PyTorch refuses."""
    return self._a.is_inference


Tensor.retains_grad = property(lambda self: self._retains_grad,
                                doc="True for a non-leaf tensor whose .grad backward fills (after retain_grad())")
Tensor.is_leaf = property(lambda self: self.grad_fn is None, doc="True for tensors not produced by a recorded op")
