"""The engine as the language calls it: one namespace `tl` with the public ops, classes and modules
of the layers below the package (tensors, creation, ops, autograd, nn, optim), by their PyTorch
names.  The package `tensorlogic` imports the language, so the language builds this namespace from
those layers instead of importing the package (no import cycle), and finds a built-in by name in it.
"""
from __future__ import annotations

import types

from .. import autograd, creation, dtypes, nn, optim
from ..device import available_devices, device, get_default_device, set_default_device
from ..linalg import aliases as linalg_aliases
from ..ops import (add_products, arrange, composite, conv, conv_nd, counting, elementwise, index_update, indexing,
                   linalg, ordering, products, random, reduction, rows, scans, shape, special, statistics)
from ..tensor import Tensor


def public(module):
    """The names a module offers: its `__all__`, or the functions and classes it defines."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, v in vars(module).items() if not n.startswith("_") and
                 getattr(v, "__module__", None) == module.__name__ and callable(v)]
    return {n: getattr(module, n) for n in names}


tl = types.SimpleNamespace()
# The op modules whose functions the package offers at its top level (tensorlogic/__init__.py), so that
# a program can call any of them by its PyTorch name (cumsum, topk, outer, diag, atan2, median, ...).
for _module in (creation, elementwise, shape, indexing, random, reduction, rows, linalg, conv, autograd, ordering,
                composite, special, statistics, scans, counting, products, arrange, conv_nd, add_products,
                index_update, linalg_aliases):
    vars(tl).update(public(_module))
vars(tl).update(float16=dtypes.float16, int32=dtypes.int32, Tensor=Tensor, nn=nn, optim=optim,
                device=device, available_devices=available_devices,
                get_default_device=get_default_device, set_default_device=set_default_device)
