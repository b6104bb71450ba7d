"""The creation functions that accept complex data or a complex dtype (tl.complex64, cfloat, ... all mean
complex32): tensor zeros ones empty full zeros_like ones_like empty_like full_like rand randn. Each makes a
ComplexTensor from the real function's [..., 2] result, and leaves everything else to the real function."""
import numbers

import numpy as np

from .. import creation
from ..dtypes import complex_dtype
from ..ops import random
from ..tensor import Tensor, _shape_args, _size_keyword
from .tensor import ComplexTensor

__all__ = ["tensor", "zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like", "full_like", "rand",
           "randn"]


def _parts(values):
    """Complex host data as its float16 real form [..., 2]: f16 rounding of each part (beyond +-65504 that raises
    PrecisionOverflowError in the real function, as it does for real data)."""
    values = np.asarray(values, dtype=np.complex128)
    return np.stack([values.real, values.imag], -1)


def _finish(ri, requires_grad):
    if requires_grad:
        ri.requires_grad_()
    return ComplexTensor(ri)


def tensor(data, dtype=None, device=None, requires_grad=False):
    """tl.tensor; complex data (Python complex numbers, complex numpy arrays, a complex tensor) or a complex dtype
    give a complex tensor."""
    if isinstance(data, ComplexTensor):
        ri = creation.tensor(data._ri, device=device if device is not None else data.device)
        return _finish(ri, requires_grad) if dtype is None or complex_dtype(dtype) else data.to(dtype=dtype)
    if complex_dtype(dtype) is not None:
        data = np.asarray(data.numpy() if isinstance(data, Tensor) else data)
        return _finish(creation.tensor(_parts(data), device=device), requires_grad)
    try:
        return creation.tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
    except TypeError:
        # the common path pays nothing for complex support: only data the real function refused is looked at again
        if not isinstance(data, (Tensor, str, bytes)) and np.asarray(data).dtype.kind == "c" and dtype is None:
            return _finish(creation.tensor(_parts(data), device=device), requires_grad)
        raise


def _sized(name, size, kwargs):
    return _shape_args(_size_keyword(size, kwargs, name)) + (2,)


def zeros(*size, dtype=None, device=None, requires_grad=False, **kwargs):
    """tl.zeros; complex zeros for a complex dtype."""
    if complex_dtype(dtype) is None:
        return creation.zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad, **kwargs)
    return _finish(creation.zeros(_sized("zeros", size, kwargs), device=device), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, **kwargs):
    """tl.ones; 1 + 0i for a complex dtype."""
    if complex_dtype(dtype) is None:
        return creation.ones(*size, dtype=dtype, device=device, requires_grad=requires_grad, **kwargs)
    return full(_shape_args(_size_keyword(size, kwargs, "ones")), 1 + 0j, device=device, requires_grad=requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, **kwargs):
    """tl.empty; uninitialised complex values for a complex dtype."""
    if complex_dtype(dtype) is None:
        return creation.empty(*size, dtype=dtype, device=device, requires_grad=requires_grad, **kwargs)
    return _finish(creation.empty(_sized("empty", size, kwargs), device=device), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """tl.full; a complex fill value or a complex dtype gives a complex tensor."""
    if isinstance(fill_value, ComplexTensor):
        fill_value = fill_value.item()
    if complex_dtype(dtype) is None and not (isinstance(fill_value, numbers.Complex) and
                                             not isinstance(fill_value, numbers.Real)):
        return creation.full(size, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)
    value = complex(fill_value)
    shape = _shape_args((size,))
    ri = creation.tensor(np.broadcast_to(_parts(value), shape + (2,)), device=device)
    return _finish(ri, requires_grad)


def _like(input, dtype):
    """Whether the *_like result is complex: input's dtype unless dtype is given."""
    return complex_dtype(dtype) is not None or (dtype is None and isinstance(input, ComplexTensor))


def _device(input, device):
    return device if device is not None else input.device


def zeros_like(input, dtype=None, device=None, requires_grad=False):
    """tl.zeros_like; complex zeros for a complex input (unless dtype says otherwise) or a complex dtype."""
    if not _like(input, dtype):
        return creation.zeros_like(_real_of(input), dtype=dtype, device=device, requires_grad=requires_grad)
    return zeros(input.shape, dtype="complex64", device=_device(input, device), requires_grad=requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False):
    """tl.ones_like; 1 + 0i for a complex input (unless dtype says otherwise) or a complex dtype."""
    if not _like(input, dtype):
        return creation.ones_like(_real_of(input), dtype=dtype, device=device, requires_grad=requires_grad)
    return ones(input.shape, dtype="complex64", device=_device(input, device), requires_grad=requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False):
    """tl.empty_like; uninitialised complex values for a complex input or dtype."""
    if not _like(input, dtype):
        return creation.empty_like(_real_of(input), dtype=dtype, device=device, requires_grad=requires_grad)
    return empty(input.shape, dtype="complex64", device=_device(input, device), requires_grad=requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    """tl.full_like; complex for a complex input, dtype or fill value."""
    if not _like(input, dtype) and not isinstance(fill_value, complex):
        return creation.full_like(_real_of(input), fill_value, dtype=dtype, device=device, requires_grad=requires_grad)
    return full(input.shape, complex(fill_value), device=_device(input, device), requires_grad=requires_grad)


def _real_of(input):
    """A complex input of a *_like function given a real dtype: its real parts stand for its shape and device."""
    return input.real if isinstance(input, ComplexTensor) else input


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, **kwargs):
    """tl.rand; for a complex dtype the real and imaginary parts are each uniform on [0, 1), as PyTorch's."""
    if complex_dtype(dtype) is None:
        return random.rand(*size, generator=generator, dtype=dtype, device=device, requires_grad=requires_grad,
                           **kwargs)
    ri = random.rand(_sized("rand", size, kwargs), generator=generator, device=device)
    return _finish(ri, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, **kwargs):
    """tl.randn; for a complex dtype the real and imaginary parts are each normal with variance 1/2 (so |z|^2 has
    mean 1), as PyTorch's."""
    if complex_dtype(dtype) is None:
        return random.randn(*size, generator=generator, dtype=dtype, device=device, requires_grad=requires_grad,
                            **kwargs)
    ri = random.randn(_sized("randn", size, kwargs), generator=generator, device=device) * 0.7071067811865476
    return _finish(ri, requires_grad)
