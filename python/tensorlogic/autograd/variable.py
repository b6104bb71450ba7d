"""torch.autograd.Variable, PyTorch's legacy wrapper: Variable(t) is a tensor, and every tensor is a Variable."""
import warnings

from .. import _core
from ..device import device_name
from ..tensor import Tensor, _wrap


class _VariableMeta(type):
    def __instancecheck__(cls, other):
        return isinstance(other, Tensor)

    def __call__(cls, data=None, requires_grad=False, volatile=False):
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with tl.no_grad():` instead.",
                          UserWarning, stacklevel=2)
        if data is None:
            out = _wrap(_core.empty([0], "float16", device_name(None)))
        elif isinstance(data, Tensor):
            out = data.detach()
        else:
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return out.requires_grad_(bool(requires_grad)) if requires_grad else out


class Variable(metaclass=_VariableMeta):
    """Variable(data=None, requires_grad=False, volatile=False), as in PyTorch since 0.4: a tensor sharing data's
    memory, detached from its graph, with requires_grad set (only float16 tensors can require grad); no data gives an
    empty float16 tensor. Variables and tensors are one thing: isinstance(t, Variable) is True for every tensor.
    volatile has no effect (a warning says so; use tl.no_grad())."""
