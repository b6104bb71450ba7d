"""The base of tl.distributions: batch and event shapes, sample_shape handling, argument checks, and the
broadcasting of parameters that the parametric distributions share."""
import math
import numbers
import operator

import numpy as np

from ..creation import tensor
from ..errors import ShapeMismatchError
from ..ops.shape import broadcast_shapes
from ..tensor import Tensor
from ..type_info import finfo


def clamp_probs(probs):
    """probs clamped to [eps, 1 - eps] of their dtype (f16: 2^-10), as torch.distributions.utils.clamp_probs, so
    that the logits of 0 and 1 stay finite and equal PyTorch's."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def broadcast_all(name, **params):
    """The parameters (tensors or numbers) as tensors of one broadcast shape, in the order given; numbers become
    float16 scalars on the first given tensor's device (the default device when none is a tensor), as
    torch.distributions.utils.broadcast_all, but never of an integer tensor's dtype (which truncated a rate of 0.5
    to 0). A TypeError names the distribution and parameter of another type, a ShapeMismatchError the shapes that
    do not broadcast."""
    for key, value in params.items():
        if not isinstance(value, (Tensor, numbers.Real)) or isinstance(value, bool):
            raise TypeError(f"{name}: {key} must be a tensor or a number, got {type(value).__name__}")
    like = next((v for v in params.values() if isinstance(v, Tensor)), None)
    device = like.device if like is not None else None
    values = [v if isinstance(v, Tensor) else tensor(float(v), device=device) for v in params.values()]
    try:
        shape = tuple(broadcast_shapes(*(v.shape for v in values)))
    except ShapeMismatchError:
        shapes = ", ".join(f"{key} {list(v.shape)}" for key, v in zip(params, values))
        raise ShapeMismatchError(f"{name}: the parameters' shapes do not broadcast together ({shapes})") from None
    return [v if v.shape == shape else v.broadcast_to(shape) for v in values]


def _sample_shape(sample_shape, name):
    """sample_shape (an int or a sequence of ints) as a tuple; a TypeError names the distribution for another kind,
    a ValueError a negative size and a MemoryError one beyond any memory (as the factories' sizes)."""
    if isinstance(sample_shape, (numbers.Integral, np.integer)) and not isinstance(sample_shape, bool):
        sample_shape = (sample_shape,)
    if isinstance(sample_shape, (str, bytes, Tensor)) or not hasattr(sample_shape, "__iter__"):
        raise TypeError(f"{name}: sample_shape must be an int or a sequence of ints, got {type(sample_shape).__name__}")
    sizes = []
    for size in sample_shape:
        try:
            size = operator.index(size)
        except TypeError:
            raise TypeError(f"{name}: sample_shape must hold ints, got {type(size).__name__}") from None
        if size < 0:
            raise ValueError(f"{name}: negative size {size} in sample_shape")
        if size >= 2**63:
            raise MemoryError(f"{name}: a sample size of {size} is beyond any memory")
        sizes.append(size)
    return tuple(sizes)


class Distribution:
    """A batch of distributions of batch_shape, each over events of event_shape, as torch.distributions."""

    has_rsample = False

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape, self._event_shape = tuple(batch_shape), tuple(event_shape)
        self._validate_args = validate_args is not None and self._flag(validate_args, "validate_args")

    @property
    def batch_shape(self):
        """The shape over which the distributions differ."""
        return self._batch_shape

    @property
    def event_shape(self):
        """The shape of one draw of one distribution."""
        return self._event_shape

    def _check(self, ok, message):
        """With validate_args, a ValueError naming the distribution unless the bool tensor ok is all true."""
        if self._validate_args and not bool(ok.all()):
            raise ValueError(f"{type(self).__name__}: {message}")

    def _flag(self, value, name):
        """value as a bool; a TypeError names the distribution for another kind (a tensor's truth is ambiguous)."""
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{type(self).__name__}: {name} must be a bool, got {type(value).__name__}")
        return bool(value)

    def _value(self, value, like, method):
        """The value of log_prob, cdf or icdf as a tensor: a number becomes a float16 scalar on the device of the
        tensor `like`; another kind is a TypeError naming the method."""
        if isinstance(value, Tensor):
            return value
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            return tensor(float(value), device=like.device)
        raise TypeError(f"{type(self).__name__}.{method}: value must be a tensor or a number, got "
                        f"{type(value).__name__}")

    def _extended_shape(self, sample_shape=()):
        """sample_shape + batch_shape + event_shape: the shape of sample(sample_shape)."""
        shape = _sample_shape(sample_shape, type(self).__name__) + self._batch_shape + self._event_shape
        if math.prod(shape) >= 2**62:  # (the host samplers would meet it as a numpy "iterator is too large")
            raise MemoryError(f"{type(self).__name__}: a sample of shape {list(shape)} is beyond any memory")
        return shape

    def sample(self, sample_shape=()):
        """A draw of shape sample_shape + batch_shape + event_shape, without gradient."""
        raise NotImplementedError(f"{type(self).__name__} does not implement sample")

    def rsample(self, sample_shape=()):
        """A reparameterised draw, through which gradients reach the parameters."""
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sample (has_rsample is False)")

    @property
    def stddev(self):
        """The standard deviation: the square root of the variance."""
        return self.variance.sqrt()

    def __repr__(self):
        names = [k for k in self.arg_constraints_names if k in self.__dict__ or hasattr(type(self), k)]
        args = ", ".join(f"{k}: {getattr(self, k).shape if isinstance(getattr(self, k), Tensor) else getattr(self, k)}"
                         for k in names)
        return f"{type(self).__name__}({args})"

    arg_constraints_names = ()
