"""torch.normal, poisson and binomial: draws from distributions whose parameters are numbers or tensors (broadcast),
as float16. normal draws from the global Philox stream (tl.manual_seed) on the tensors' device; poisson and binomial
on the host (numpy's samplers, exact for any rate or count) from a stream seeded by it, or by generator=. No
gradient flows to the parameters (PyTorch's are zero)."""
import numbers

import numpy as np

from .._convert import numpy_to_array
from ..autograd.function import records
from ..creation import zeros
from ..generator import host_rng
from ..tensor import Tensor, _wrap
from .elementwise import where
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


def poisson(input, generator=None):
    """A draw from the Poisson distribution of rate input (float16, >= 0) per element, as float16 (counts past
    65504 are inf, as in PyTorch's float16). Under autograd the result requires grad and input's gradient is zero,
    as PyTorch's."""
    rates = _host_parameter(input, "poisson", "rate")
    if np.isnan(rates).any() or (rates < 0).any():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    # a rate past 10^6 draws past f16's 65504 (inf) with certainty; numpy refuses rates near 2^63
    huge = rates > 1e6
    return _sampled(np.where(huge, np.inf, host_rng(generator).poisson(np.where(huge, 0.0, rates))), (input,))


def binomial(count, prob, generator=None):
    """A draw from the binomial distribution of `count` trials (whole numbers >= 0) with success probability `prob`
    (in [0, 1]) per element of their broadcast shape, as float16 (PyTorch draws garbage for counts and probabilities
    outside those ranges; they raise RuntimeError here). Gradients of count and prob are zero, as PyTorch's."""
    counts = _host_parameter(count, "binomial", "count")
    probs = _host_parameter(prob, "binomial", "prob")
    if np.isnan(counts).any() or (counts < 0).any() or (counts != np.floor(counts)).any():
        raise RuntimeError("binomial: count must hold whole numbers >= 0")
    if np.isnan(probs).any() or (probs < 0).any() or (probs > 1).any():
        raise RuntimeError("binomial: prob must be in [0, 1]")
    counts, probs = np.broadcast_arrays(counts, probs)
    return _sampled(host_rng(generator).binomial(counts.astype(np.int64), probs), (count, prob))


def _host_parameter(t, op, name):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if not t.is_floating_point():
        raise NotImplementedError(f"{op}: the {name} must be a float16 tensor, got {t.dtype.name}")
    return t.detach().cpu().numpy().astype(np.float64)


def _sampled(values, parameters):
    """The draws as a float16 tensor on the parameters' device; under autograd one that requires grad, with zero
    gradients for the parameters (a where whose condition is all False: exact, even for inf parameters)."""
    with np.errstate(over="ignore"):
        values = np.asarray(values, dtype=np.float64).astype(np.float16)
    out = _wrap(numpy_to_array(values, "float16", parameters[0]._a.device, False))
    if not records(*parameters):
        return out
    never = zeros(out.shape, dtype="bool", device=out.device)
    for p in parameters:
        out = where(never, p, out)
    return out


__all__ = ["normal", "poisson", "binomial"]
