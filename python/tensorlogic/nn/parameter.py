"""Parameter: a leaf Tensor that a Module registers as trainable."""
from .. import _core
from ..tensor import Tensor, _init_autograd_fields


class Parameter(Tensor):
    """Shares the data of `data` (no copy) and requires grad by default."""

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = _core.empty([0], "float16", _core.default_device())
        self._a = data._a if isinstance(data, Tensor) else Tensor(data)._a
        _init_autograd_fields(self)
        self.requires_grad = bool(requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        raise TypeError("Parameters are saved with tl.save (safetensors), not pickled")
