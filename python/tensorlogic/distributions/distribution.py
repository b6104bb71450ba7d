"""The base of tl.distributions: batch and event shapes, sample_shape handling, argument checks (the parameters against
arg_constraints, values against the support), expand, and the broadcasting of parameters that the parametric
distributions share."""
import math
import numbers
import operator

import numpy as np

from ..creation import tensor
from ..errors import ShapeMismatchError
from . import constraints
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


def clamp_data(x, min=None, max=None):
    """x with its values clamped but its gradient untouched (PyTorch's value.detach().clamp_(...) after a
    reparameterised draw): a draw that rounds outside the support in f16 keeps a finite log-density."""
    data = x.detach()
    return x + (data.clamp(min=min, max=max) - data)


def sum_rightmost(x, n):
    """x summed over its n rightmost dimensions (x itself where n is 0)."""
    return x.sum(tuple(range(-n, 0))) if n > 0 else x


def _sample_shape(sample_shape, name, what="sample_shape"):
    """sample_shape (an int or a sequence of ints) as a tuple; a TypeError names the distribution (or transform)
    and the argument `what` for another kind, a ValueError a negative size and a MemoryError one beyond any memory
    (as the factories' sizes)."""
    if isinstance(sample_shape, (numbers.Integral, np.integer)) and not isinstance(sample_shape, bool):
        sample_shape = (sample_shape,)
    if isinstance(sample_shape, (str, bytes, Tensor, np.ndarray)) or not hasattr(sample_shape, "__iter__"):
        raise TypeError(f"{name}: {what} must be an int or a sequence of ints, got {type(sample_shape).__name__}")
    sizes = []
    for size in sample_shape:
        try:
            size = operator.index(size)
        except TypeError:
            raise TypeError(f"{name}: {what} must hold ints, got {type(size).__name__}") from None
        if size < 0:
            raise ValueError(f"{name}: negative size {size} in {what}")
        if size >= 2**63:
            raise MemoryError(f"{name}: a size of {size} in {what} is beyond any memory")
        sizes.append(size)
    return tuple(sizes)


class MeanAndModeAtLoc:
    """For a family symmetric and unimodal about its loc (Normal, Laplace, the multivariate normals, von Mises): the
    mean and the mode are loc."""

    @property
    def mean(self):
        """loc."""
        return self.loc

    @property
    def mode(self):
        """loc."""
        return self.loc


class Distribution:
    """A batch of distributions of batch_shape, each over events of event_shape, as torch.distributions.
    Subclasses name their parameters' constraints in arg_constraints (read by validate_args and expand) and the
    values' in support."""

    has_rsample = False
    has_enumerate_support = False
    arg_constraints = {}
    support = None
    _validate_default = True  # PyTorch's default

    @staticmethod
    def set_default_validate_args(value):
        """Whether distributions made with validate_args=None check their parameters and values: True by default, as
        in PyTorch. That default check reads the values of CPU tensors only (numbers become tensors on the default
        device): reading a GPU tensor's values would make the host wait for the device at every construction and
        log_prob, so there only shapes are checked and invalid values give NaN or inf, as with validation off. A
        distribution made with validate_args=True checks the values on every device."""
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"set_default_validate_args: value must be a bool, got {type(value).__name__}")
        Distribution._validate_default = bool(value)

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape, self._event_shape = tuple(batch_shape), tuple(event_shape)
        self._validate_args = (Distribution._validate_default if validate_args is None
                               else self._flag(validate_args, "validate_args"))
        self._validate_on_device = validate_args is not None and self._validate_args  # asked for: pays the waits
        if self._validate_args:
            self._validate_parameters()

    def _validate_parameters(self):
        """A ValueError naming the first parameter that breaks its constraint: those set, and those a class reads
        through a property (a probs computed on first read from the logits given, by __getattr__, is not checked).
        Only CPU tensors' values are read unless validate_args=True was given (see set_default_validate_args)."""
        for name, constraint in self.arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue
            if name in self.__dict__:
                value = self.__dict__[name]
            elif isinstance(getattr(type(self), name, None), property):
                value = getattr(self, name)
            else:
                continue
            if self._reads(value) and not bool(constraint.check(value).all()):
                raise ValueError(f"Expected parameter {name} (Tensor of shape {tuple(value.shape)}) of distribution "
                                 f"{self!r} to satisfy the constraint {constraint!r}, but found invalid values")

    @property
    def batch_shape(self):
        """The shape over which the distributions differ."""
        return self._batch_shape

    @property
    def event_shape(self):
        """The shape of one draw of one distribution."""
        return self._event_shape

    def _check(self, like, ok, message):
        """With validate_args and `like` a tensor whose values validation reads (_reads), a ValueError naming the
        distribution unless ok() (a bool tensor) is all true; ok is not computed otherwise."""
        if self._validate_args and self._reads(like) and not bool(ok().all()):
            raise ValueError(f"{type(self).__name__}: {message}")

    def _reads(self, value):
        """Whether validation reads value's elements: a CPU tensor's, or any tensor's where validate_args=True was
        given (reading a GPU tensor makes the host wait for the device)."""
        return isinstance(value, Tensor) and (value.device.type == "cpu" or getattr(self, "_validate_on_device", False))

    def _flag(self, value, name):
        """value as a bool; a TypeError names the distribution for another kind (a tensor's truth is ambiguous)."""
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{type(self).__name__}: {name} must be a bool, got {type(value).__name__}")
        return bool(value)

    def _value(self, value, like, method):
        """The value of log_prob, cdf or icdf as a tensor: a number becomes a float16 scalar on the device of the
        tensor `like` (the default device where like is None); another kind is a TypeError naming the method. With
        validate_args, the values of log_prob and cdf are checked against the support."""
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            value = tensor(float(value), device=like.device if like is not None else None)
        elif not isinstance(value, Tensor):
            raise TypeError(f"{type(self).__name__}.{method}: value must be a tensor or a number, got "
                            f"{type(value).__name__}")
        if self._validate_args and method in ("log_prob", "cdf"):
            self._validate_sample(value)
        return value

    def _validate_sample(self, value):
        """A ShapeMismatchError where value's rightmost dimensions are not event_shape or the rest does not broadcast
        with batch_shape; a ValueError where a value lies outside the support (values read as _reads says)."""
        n = len(self._event_shape)
        if value.ndim < n or tuple(value.shape[value.ndim - n:]) != self._event_shape:
            raise ShapeMismatchError(f"{type(self).__name__}: the rightmost sizes of the value {list(value.shape)} "
                                     f"must match event_shape {list(self._event_shape)}")
        try:
            broadcast_shapes(value.shape, self._batch_shape + self._event_shape)
        except ShapeMismatchError:
            raise ShapeMismatchError(f"{type(self).__name__}: a value of shape {list(value.shape)} is not "
                                     f"broadcastable with batch_shape + event_shape "
                                     f"{list(self._batch_shape + self._event_shape)}"
                                     ) from None
        support = self.support
        if support is not None and not constraints.is_dependent(support) and self._reads(value) and \
                not bool(support.check(value).all()):
            raise ValueError(f"Expected value argument (Tensor of shape {tuple(value.shape)}) to be within the support "
                             f"({support!r}) of the distribution {self!r}, but found invalid values")

    def _extended_shape(self, sample_shape=()):
        """sample_shape + batch_shape + event_shape: the shape of sample(sample_shape)."""
        shape = _sample_shape(sample_shape, type(self).__name__) + self._batch_shape + self._event_shape
        if math.prod(shape) >= 2**62:  # (the host samplers would meet it as a numpy "iterator is too large")
            raise MemoryError(f"{type(self).__name__}: a sample of shape {list(shape)} is beyond any memory")
        return shape

    def expand(self, batch_shape, _instance=None):
        """A new distribution of the given batch_shape whose parameters are this one's expanded (views, no copies):
        each tensor named in arg_constraints keeps its constraint's event_dim rightmost dimensions."""
        batch_shape = _sample_shape(batch_shape, type(self).__name__)
        new = self._new_instance(_instance)
        new.__dict__.update(self.__dict__)
        for name, constraint in self.arg_constraints.items():
            value = self.__dict__.get(name)
            if isinstance(value, Tensor):
                keep = value.shape[value.ndim - constraint.event_dim:] if constraint.event_dim else ()
                new.__dict__[name] = _expand(value, batch_shape + tuple(keep), type(self).__name__)
        new._batch_shape, new._validate_args = batch_shape, False
        return new

    def _new_instance(self, _instance):
        """The object expand fills: _instance (a subclass's, as PyTorch's expand takes), or a new one of this class."""
        if _instance is None:
            return type(self).__new__(type(self))
        if not isinstance(_instance, type(self)):
            raise TypeError(f"{type(self).__name__}.expand: _instance must be a {type(self).__name__}, got "
                            f"{type(_instance).__name__}")
        return _instance

    def sample(self, sample_shape=()):
        """A draw of shape sample_shape + batch_shape + event_shape, without gradient."""
        raise NotImplementedError(f"{type(self).__name__} does not implement sample")

    def rsample(self, sample_shape=()):
        """A reparameterised draw, through which gradients reach the parameters."""
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sample (has_rsample is False)")

    def sample_n(self, n):
        """sample((n,)) (PyTorch's deprecated spelling)."""
        return self.sample((n,))

    def log_prob(self, value):
        """The log of the density (or mass) at value."""
        raise NotImplementedError(f"{type(self).__name__} does not implement log_prob")

    def cdf(self, value):
        """P(X <= value)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement cdf")

    def icdf(self, value):
        """The value whose cdf is the given probability."""
        raise NotImplementedError(f"{type(self).__name__} does not implement icdf")

    def entropy(self):
        """The entropy of each distribution of the batch."""
        raise NotImplementedError(f"{type(self).__name__} does not implement entropy")

    def perplexity(self):
        """exp(entropy)."""
        return self.entropy().exp()

    def enumerate_support(self, expand=True):
        """Every value of a discrete support along a new leading dimension."""
        raise NotImplementedError(f"{type(self).__name__} does not implement enumerate_support")

    @property
    def mean(self):
        """The mean of each distribution."""
        raise NotImplementedError(f"{type(self).__name__} does not implement mean")

    @property
    def mode(self):
        """The mode of each distribution."""
        raise NotImplementedError(f"{type(self).__name__} does not implement mode")

    @property
    def variance(self):
        """The variance of each distribution."""
        raise NotImplementedError(f"{type(self).__name__} does not implement variance")

    @property
    def stddev(self):
        """The standard deviation: the square root of the variance."""
        return self.variance.sqrt()

    def __repr__(self):
        names = [k for k in self.arg_constraints if k in self.__dict__]
        args = ", ".join(f"{k}: {self.__dict__[k].shape if isinstance(self.__dict__[k], Tensor) else self.__dict__[k]}"
                         for k in names)
        return f"{type(self).__name__}({args})"


def _expand(value, shape, name):
    """value expanded to shape; a ShapeMismatchError names the distribution where it cannot be."""
    try:
        return value.expand(shape)
    except (ShapeMismatchError, RuntimeError, ValueError):
        raise ShapeMismatchError(f"{name}.expand: a parameter of shape {list(value.shape)} cannot be expanded to "
                                 f"{list(shape)}") from None
