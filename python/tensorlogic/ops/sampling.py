"""torch.normal: draws from normal distributions whose means and standard deviations are numbers or tensors
(broadcast), from the global Philox stream (tl.manual_seed), as float16. No gradient flows to mean or std
(PyTorch's are zero)."""
import numbers

from ..tensor import Tensor
from .random import _no_generator, randn


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    """normal(mean, std) with a tensor among them: one draw per element of their broadcast shape; normal(mean, std,
    size) with numbers: a tensor of that size."""
    _no_generator(generator, "normal")
    if out is not None:
        raise ValueError("normal: out= is not supported")
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if tensors:
        if size is not None:
            raise TypeError("normal: size is only accepted when mean and std are numbers")
        shape = tensors[0].shape if len(tensors) == 1 else (tensors[0] + tensors[1]).shape
        draw = randn(tuple(shape), device=tensors[0].device)
    else:
        if size is None:
            raise TypeError("normal: with a number mean and std, size must be given")
        draw = randn(size, device=device)
    if isinstance(std, numbers.Real) and not isinstance(std, bool) and std < 0 or (
            isinstance(std, Tensor) and bool((std < 0).any())):
        raise ValueError("normal: std must be non-negative")
    out = (draw * (std.detach() if isinstance(std, Tensor) else std)
           + (mean.detach() if isinstance(mean, Tensor) else mean))
    if dtype is not None:
        out = out.to(dtype=dtype)
    return out.requires_grad_() if requires_grad else out


__all__ = ["normal"]
