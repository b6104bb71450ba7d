"""Index-based updates and lookups with PyTorch's names, composed of scatter/scatter_add/gather/nonzero (so
they have those ops' gradients): index_add index_copy index_fill (and their in-place forms), take argwhere
isin."""
import numbers

from ..creation import full
from ..errors import ShapeMismatchError
from ..tensor import Tensor, tensor_method
from .elementwise import _written_back, copy_
from .indexing import nonzero, scatter, scatter_add


def _spread(input, dim, index, source, name):
    """index [n] broadcast to source's shape along dim (the index scatter takes), after PyTorch's checks."""
    dim = dim % max(input.ndim, 1)
    if not isinstance(index, Tensor) or index.ndim > 1 or index.is_floating_point():
        raise TypeError(f"{name}: index must be a 0-d or 1-d integer tensor")
    index = index.reshape(-1).long()
    if source.ndim != input.ndim or source.shape[dim] != index.shape[0] or any(
            source.shape[d] != input.shape[d] for d in range(input.ndim) if d != dim):
        raise ShapeMismatchError(f"{name}: source {list(source.shape)} must match input {list(input.shape)} except "
                                 f"along dim {dim}, where it has one slice per index ({index.shape[0]})")
    shape = [1] * input.ndim
    shape[dim] = index.shape[0]
    return dim, index.reshape(shape).expand(source.shape)


@tensor_method()
def index_add(input, dim, index, source, *, alpha=1):
    """A copy of input with alpha * source's slices added at the positions index names along dim (repeats add)."""
    dim, spread = _spread(input, dim, index, source, "index_add")
    return scatter_add(input, dim, spread, source if alpha == 1 else source * alpha)


@tensor_method()
def index_copy(input, dim, index, source):
    """A copy of input with source's slices written at the positions index names along dim."""
    dim, spread = _spread(input, dim, index, source, "index_copy")
    return scatter(input, dim, spread, source)


@tensor_method()
def index_fill(input, dim, index, value):
    """A copy of input with the slices index names along dim set to value (a number or a 0-d tensor)."""
    if isinstance(value, Tensor):
        value = value.item()
    if not isinstance(value, numbers.Number):
        raise TypeError(f"index_fill: value must be a number, got {type(value).__name__}")
    if not isinstance(index, Tensor):
        raise TypeError("index_fill: index must be a 0-d or 1-d integer tensor")
    shape = list(input.shape)
    shape[dim] = index.numel()
    source = full(shape, value, dtype=input.dtype, device=input.device)
    dim, spread = _spread(input, dim, index, source, "index_fill")
    return scatter(input, dim, spread, source)


for _fn in (index_add, index_copy, index_fill):
    _written_back(_fn, _fn.__name__ + "_")


@tensor_method()
def take(input, index):
    """input's elements at the flat (row-major) positions index holds, in index's shape."""
    return input.reshape(-1)[index.long()] if index.ndim else input.reshape(-1)[index.long().reshape(1)].reshape(())


@tensor_method()
def argwhere(input):
    """[n, ndim] int64: the index of every non-zero element, in row-major order (nonzero's result)."""
    return nonzero(input)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """A bool tensor of elements' shape: whether each element occurs among test_elements (a tensor or a number)."""
    if not isinstance(elements, Tensor):
        raise TypeError(f"isin: elements must be a Tensor, got {type(elements).__name__}")
    tests = test_elements.reshape(-1) if isinstance(test_elements, Tensor) else \
        Tensor([test_elements] if isinstance(test_elements, numbers.Number) else list(test_elements),
               device=elements.device)
    found = (elements.unsqueeze(-1) == tests).any(-1)  # any() of nothing is False: an empty test set finds none
    return ~found if invert else found


__all__ = ["index_add", "index_copy", "index_fill", "take", "argwhere", "isin"]
