"""The engine as the language calls it: one namespace `tl` with the public ops, classes and modules
of the layers below the package (tensors, creation, ops, autograd, nn, optim), by their PyTorch
names.  The package `tensorlogic` imports the language, so the language builds this namespace from
those layers instead of importing the package (no import cycle), and finds a built-in by name in it.
"""
from __future__ import annotations

import types

from .. import autograd, creation, dtypes, nn, optim
from ..device import available_devices, device, get_default_device, set_default_device
from ..ops import conv, elementwise, indexing, linalg, random, reduction, rows, shape
from ..tensor import Tensor


def _public(module):
    """The names a module offers: its `__all__`, or the functions and classes it defines."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, v in vars(module).items() if not n.startswith("_") and
                 getattr(v, "__module__", None) == module.__name__ and callable(v)]
    return {n: getattr(module, n) for n in names}


tl = types.SimpleNamespace()
for _module in (creation, elementwise, shape, indexing, random, reduction, rows, linalg, conv, autograd):
    vars(tl).update(_public(_module))
vars(tl).update(float16=dtypes.float16, int32=dtypes.int32, Tensor=Tensor, nn=nn, optim=optim,
                device=device, available_devices=available_devices,
                get_default_device=get_default_device, set_default_device=set_default_device)
