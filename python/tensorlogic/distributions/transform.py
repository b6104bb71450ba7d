"""The base of tl.distributions.transforms: Transform (a map with its inverse, its log-Jacobian and an optional
one-entry cache), the inverse of a transform, and the combinators ComposeTransform, IndependentTransform,
ReshapeTransform, CatTransform and StackTransform, as torch.distributions.transforms."""
import functools
import math
import numbers
import operator

from ..creation import zeros_like
from ..errors import ShapeMismatchError
from ..ops.shape import cat, stack
from ..tensor import Tensor
from . import constraints
from .distribution import _sample_shape, sum_rightmost


def _tensor(value, transform, method, name):
    """A TypeError naming the transform and method where value is not a tensor (as PyTorch's transforms take)."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{type(transform).__name__}.{method}: {name} must be a tensor, got {type(value).__name__}")


class Transform:
    """An invertible (or, where bijective is False, pseudo-invertible) map with a computable log |det Jacobian|.
    With cache_size=1 the last (x, y) pair is remembered, so that inverting the output of the last call returns
    its input itself: a sample squashed by tanh to +-1 in f16 still has its log-density."""

    bijective = False
    domain = constraints.real
    codomain = constraints.real

    def __init__(self, cache_size=0):
        if not isinstance(cache_size, numbers.Integral) or isinstance(cache_size, bool) or cache_size not in (0, 1):
            raise ValueError(f"{type(self).__name__}: cache_size must be 0 or 1, got {cache_size!r}")
        self._cache_size = int(cache_size)
        self._cached_x_y = (None, None)

    @property
    def event_dim(self):
        """The event dimensions of domain and codomain, where they agree."""
        if self.domain.event_dim == self.codomain.event_dim:
            return self.domain.event_dim
        raise ValueError("Please use either .domain.event_dim or .codomain.event_dim")

    @property
    def inv(self):
        """The inverse transform (its inverse is this one)."""
        return _InverseTransform(self)

    @property
    def sign(self):
        """+1 or -1: whether the map increases or decreases (monotone elementwise maps only)."""
        raise NotImplementedError(f"{type(self).__name__} has no sign")

    def with_cache(self, cache_size=1):
        """This transform with the given cache size."""
        if self._cache_size == cache_size:
            return self
        if type(self).__init__ is Transform.__init__:
            return type(self)(cache_size=cache_size)
        raise NotImplementedError(f"{type(self)}.with_cache is not implemented")

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = object.__hash__

    def __call__(self, x):
        """y = f(x), remembered with x where cache_size is 1."""
        _tensor(x, self, "__call__", "x")
        if self._cache_size == 0:
            return self._call(x)
        x_old, y_old = self._cached_x_y
        if x is x_old:
            return y_old
        y = self._call(x)
        self._cached_x_y = (x, y)
        return y

    def _inv_call(self, y):
        """x with f(x) = y: the remembered input where y is the last output."""
        _tensor(y, self, "inverse", "y")
        if self._cache_size == 0:
            return self._inverse(y)
        x_old, y_old = self._cached_x_y
        if y is y_old:
            return x_old
        x = self._inverse(y)
        self._cached_x_y = (x, y)
        return x

    def _call(self, x):
        raise NotImplementedError(f"{type(self).__name__} does not implement its forward map")

    def _inverse(self, y):
        raise NotImplementedError(f"{type(self).__name__} is not invertible")

    def log_abs_det_jacobian(self, x, y):
        """log |dy/dx| for the pair (x, y = f(x)), per element of the batch."""
        _tensor(x, self, "log_abs_det_jacobian", "x")
        _tensor(y, self, "log_abs_det_jacobian", "y")
        return self._log_abs_det_jacobian(x, y)

    def _log_abs_det_jacobian(self, x, y):
        raise NotImplementedError(f"{type(self).__name__} does not implement log_abs_det_jacobian")

    def forward_shape(self, shape):
        """The shape of f(x) for x of the given shape."""
        return tuple(self._forward_shape(_sample_shape(shape, type(self).__name__ + ".forward_shape", "shape")))

    def inverse_shape(self, shape):
        """The shape of the inverse's output for y of the given shape."""
        return tuple(self._inverse_shape(_sample_shape(shape, type(self).__name__ + ".inverse_shape", "shape")))

    def _forward_shape(self, shape):
        return shape

    def _inverse_shape(self, shape):
        return shape

    def __repr__(self):
        return type(self).__name__ + "()"



class ParameterlessTransform(Transform):
    """A transform without parameters: equal to every other of its class (as PyTorch's are)."""

    def __eq__(self, other):
        return isinstance(other, type(self))

    __hash__ = Transform.__hash__

class _InverseTransform(Transform):
    """The inverse of a transform: it calls the other's inverse, and shares its cache."""

    def __init__(self, transform):
        super().__init__(cache_size=transform._cache_size)
        self._inv = transform

    @property
    def domain(self):
        return self._inv.codomain

    @property
    def codomain(self):
        return self._inv.domain

    @property
    def bijective(self):
        return self._inv.bijective

    @property
    def sign(self):
        return self._inv.sign

    @property
    def inv(self):
        return self._inv

    def with_cache(self, cache_size=1):
        return self._inv.with_cache(cache_size).inv

    def __eq__(self, other):
        return isinstance(other, _InverseTransform) and self._inv == other._inv

    __hash__ = Transform.__hash__

    def __repr__(self):
        return f"{type(self).__name__}({self._inv!r})"

    def __call__(self, x):
        return self._inv._inv_call(x)

    def _log_abs_det_jacobian(self, x, y):
        return -self._inv.log_abs_det_jacobian(y, x)

    def _forward_shape(self, shape):
        return self._inv.inverse_shape(shape)

    def _inverse_shape(self, shape):
        return self._inv.forward_shape(shape)


def _check_transforms(parts, name):
    if isinstance(parts, (Tensor, str, bytes)) or not hasattr(parts, "__iter__"):
        raise TypeError(f"{name}: expected a sequence of Transforms, got {type(parts).__name__}")
    parts = list(parts)
    for part in parts:
        if not isinstance(part, Transform):
            raise TypeError(f"{name}: expected Transforms, got {type(part).__name__}")
    return parts


class ComposeTransform(Transform):
    """parts applied in order (the first to x); the log-Jacobians add, each summed over the event dimensions the
    composition has where it applies. ComposeTransform([]) is the identity."""

    def __init__(self, parts, cache_size=0):
        super().__init__(cache_size=cache_size)
        self.parts = _check_transforms(parts, "ComposeTransform")
        if self._cache_size:  # (uncached, the parts keep their own caches, as in PyTorch)
            self.parts = [part.with_cache(cache_size) for part in self.parts]

    def __eq__(self, other):
        return isinstance(other, ComposeTransform) and self.parts == other.parts

    __hash__ = Transform.__hash__

    @property
    def domain(self):
        """The first part's domain, over as many event dimensions as the later parts need."""
        if not self.parts:
            return constraints.real
        domain = self.parts[0].domain
        event_dim = self.parts[-1].codomain.event_dim
        for part in reversed(self.parts):
            event_dim = max(event_dim + part.domain.event_dim - part.codomain.event_dim, part.domain.event_dim)
        return constraints.independent(domain, event_dim - domain.event_dim) if event_dim > domain.event_dim \
            else domain

    @property
    def codomain(self):
        """The last part's codomain, over as many event dimensions as the earlier parts give."""
        if not self.parts:
            return constraints.real
        codomain = self.parts[-1].codomain
        event_dim = self.parts[0].domain.event_dim
        for part in self.parts:
            event_dim = max(event_dim + part.codomain.event_dim - part.domain.event_dim, part.codomain.event_dim)
        return constraints.independent(codomain, event_dim - codomain.event_dim) \
            if event_dim > codomain.event_dim else codomain

    @property
    def bijective(self):
        """Whether every part is bijective."""
        return all(p.bijective for p in self.parts)

    @property
    def sign(self):
        """The product of the parts' signs."""
        return functools.reduce(operator.mul, (p.sign for p in self.parts), 1)

    @property
    def inv(self):
        """The inverses of the parts in reverse order (its inverse is this transform)."""
        inverse = self.__dict__.get("_inverse_of")
        if inverse is not None:
            return inverse
        inverse = ComposeTransform([p.inv for p in reversed(self.parts)])
        inverse._inverse_of = self  # so that t.inv.inv is t
        return inverse

    def with_cache(self, cache_size=1):
        """This composition with the given cache size (for every part)."""
        return self if self._cache_size == cache_size else ComposeTransform(self.parts, cache_size=cache_size)

    def __call__(self, x):
        """The parts applied in order."""
        _tensor(x, self, "__call__", "x")
        for part in self.parts:
            x = part(x)
        return x

    def _log_abs_det_jacobian(self, x, y):
        """The sum of the parts' log-Jacobians at their own inputs and outputs."""
        if not self.parts:
            return zeros_like(x)
        xs = [x]
        for part in self.parts[:-1]:
            xs.append(part(xs[-1]))  # (the parts' caches return the very tensors of the forward pass)
        xs.append(y)
        terms, event_dim = [], self.domain.event_dim
        for part, a, b in zip(self.parts, xs[:-1], xs[1:]):
            terms.append(sum_rightmost(part.log_abs_det_jacobian(a, b), event_dim - part.domain.event_dim))
            event_dim += part.codomain.event_dim - part.domain.event_dim
        return functools.reduce(operator.add, terms)

    def _forward_shape(self, shape):
        """The shape after every part."""
        for part in self.parts:
            shape = part.forward_shape(shape)
        return tuple(shape)

    def _inverse_shape(self, shape):
        """The shape before every part."""
        for part in reversed(self.parts):
            shape = part.inverse_shape(shape)
        return tuple(shape)

    def __repr__(self):
        inner = ",\n    ".join(repr(p) for p in self.parts)
        return f"{type(self).__name__}(\n    {inner}\n)"


identity_transform = ComposeTransform([])


def _non_negative_int(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{what} must be a non-negative int, got {value!r}")
    return int(value)


class IndependentTransform(Transform):
    """base_transform over reinterpreted_batch_ndims more rightmost dimensions: its log-Jacobian summed there."""

    def __init__(self, base_transform, reinterpreted_batch_ndims, cache_size=0):
        if not isinstance(base_transform, Transform):
            raise TypeError(f"IndependentTransform: base_transform must be a Transform, got "
                            f"{type(base_transform).__name__}")
        super().__init__(cache_size=cache_size)
        self.base_transform = base_transform.with_cache(cache_size)
        self.reinterpreted_batch_ndims = _non_negative_int(reinterpreted_batch_ndims, "reinterpreted_batch_ndims")

    def with_cache(self, cache_size=1):
        """This transform with the given cache size."""
        return self if self._cache_size == cache_size else \
            IndependentTransform(self.base_transform, self.reinterpreted_batch_ndims, cache_size=cache_size)

    @property
    def domain(self):
        """The base transform's domain over reinterpreted_batch_ndims more dimensions."""
        return constraints.independent(self.base_transform.domain, self.reinterpreted_batch_ndims)

    @property
    def codomain(self):
        """The base transform's codomain over reinterpreted_batch_ndims more dimensions."""
        return constraints.independent(self.base_transform.codomain, self.reinterpreted_batch_ndims)

    @property
    def bijective(self):
        """The base transform's."""
        return self.base_transform.bijective

    @property
    def sign(self):
        """The base transform's."""
        return self.base_transform.sign

    def _call(self, x):
        if x.ndim < self.domain.event_dim:
            raise ValueError("Too few dimensions on input")
        return self.base_transform(x)

    def _inverse(self, y):
        if y.ndim < self.codomain.event_dim:
            raise ValueError("Too few dimensions on input")
        return self.base_transform.inv(y)

    def _log_abs_det_jacobian(self, x, y):
        """The base transform's, summed over the reinterpreted dimensions."""
        return sum_rightmost(self.base_transform.log_abs_det_jacobian(x, y), self.reinterpreted_batch_ndims)

    def _forward_shape(self, shape):
        """The base transform's."""
        return self.base_transform.forward_shape(shape)

    def _inverse_shape(self, shape):
        """The base transform's."""
        return self.base_transform.inverse_shape(shape)

    def __repr__(self):
        return f"{type(self).__name__}({self.base_transform!r}, {self.reinterpreted_batch_ndims})"


class ReshapeTransform(Transform):
    """Reshapes the rightmost in_shape dimensions to out_shape (of as many elements); volume-preserving."""

    bijective = True

    def __init__(self, in_shape, out_shape, cache_size=0):
        self.in_shape = _sample_shape(in_shape, "ReshapeTransform", "in_shape")
        self.out_shape = _sample_shape(out_shape, "ReshapeTransform", "out_shape")
        if math.prod(self.in_shape) != math.prod(self.out_shape):
            raise ShapeMismatchError(f"ReshapeTransform: in_shape {list(self.in_shape)} and out_shape "
                                     f"{list(self.out_shape)} have different numbers of elements")
        super().__init__(cache_size=cache_size)

    @property
    def domain(self):
        """The reals over len(in_shape) dimensions."""
        return constraints.independent(constraints.real, len(self.in_shape))

    @property
    def codomain(self):
        """The reals over len(out_shape) dimensions."""
        return constraints.independent(constraints.real, len(self.out_shape))

    def with_cache(self, cache_size=1):
        """This transform with the given cache size."""
        return self if self._cache_size == cache_size else \
            ReshapeTransform(self.in_shape, self.out_shape, cache_size=cache_size)

    def _call(self, x):
        return x.reshape(x.shape[:x.ndim - len(self.in_shape)] + self.out_shape)

    def _inverse(self, y):
        return y.reshape(y.shape[:y.ndim - len(self.out_shape)] + self.in_shape)

    def _log_abs_det_jacobian(self, x, y):
        """0 (a reshape preserves volume), of x's batch shape."""
        return x.new_zeros(x.shape[:x.ndim - len(self.in_shape)])

    def _moved(self, shape, source, target, what):
        shape = tuple(shape)
        n = len(source)
        if len(shape) < n or shape[len(shape) - n:] != source:
            raise ShapeMismatchError(f"ReshapeTransform.{what}: shape {list(shape)} does not end in {list(source)}")
        return shape[:len(shape) - n] + target

    def _forward_shape(self, shape):
        """The shape with its rightmost in_shape replaced by out_shape."""
        return self._moved(shape, self.in_shape, self.out_shape, "forward_shape")

    def _inverse_shape(self, shape):
        """The shape with its rightmost out_shape replaced by in_shape."""
        return self._moved(shape, self.out_shape, self.in_shape, "inverse_shape")


def _int_dim(dim, name):
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"{name}: dim must be an int, got {type(dim).__name__}")
    return int(dim)


def _dim_in(dim, ndim, name):
    if not -ndim <= dim < ndim:
        raise ShapeMismatchError(f"{name}: dim {dim} is out of range for a tensor of {ndim} dimensions")
    return dim % ndim


class CatTransform(Transform):
    """Transforms applied to consecutive slices of dimension dim, of the given lengths (1 each by default)."""

    def __init__(self, tseq, dim=0, lengths=None, cache_size=0):
        super().__init__(cache_size=cache_size)
        self.transforms = _check_transforms(tseq, "CatTransform")
        if self._cache_size:  # (uncached, the parts keep their own caches, as in PyTorch)
            self.transforms = [t.with_cache(cache_size) for t in self.transforms]
        self.dim = _int_dim(dim, "CatTransform")
        self.lengths = (list(_sample_shape(lengths, "CatTransform", "lengths")) if lengths is not None
                        else [1] * len(self.transforms))
        if len(self.lengths) != len(self.transforms):
            raise ValueError(f"CatTransform: {len(self.transforms)} transforms but {len(self.lengths)} lengths")

    @property
    def event_dim(self):
        """The largest of the transforms' event dimensions."""
        return max(t.event_dim for t in self.transforms)

    @property
    def length(self):
        """The lengths' sum: the size of dimension dim."""
        return sum(self.lengths)

    def with_cache(self, cache_size=1):
        """This transform with the given cache size."""
        return self if self._cache_size == cache_size else \
            CatTransform(self.transforms, self.dim, self.lengths, cache_size)

    def _pieces(self, x, fn):
        dim = _dim_in(self.dim, x.ndim, "CatTransform")
        if x.shape[dim] != self.length:
            raise ShapeMismatchError(f"CatTransform: dimension {self.dim} of size {x.shape[dim]} is not the "
                                     f"lengths' sum {self.length}")
        out, start = [], 0
        for t, length in zip(self.transforms, self.lengths):
            out.append(fn(t, x.narrow(dim, start, length), start, length))
            start += length
        return out, dim

    def _call(self, x):
        parts, dim = self._pieces(x, lambda t, piece, start, length: t(piece))
        return cat(parts, dim)

    def _inverse(self, y):
        parts, dim = self._pieces(y, lambda t, piece, start, length: t.inv(piece))
        return cat(parts, dim)

    def _log_abs_det_jacobian(self, x, y):
        """The transforms' log-Jacobians, joined along dim where it is a batch dimension, added where it is an event
        dimension."""
        dim = _dim_in(self.dim, x.ndim, "CatTransform")
        terms, start = [], 0
        for t, length in zip(self.transforms, self.lengths):
            a, b = x.narrow(dim, start, length), y.narrow(dim, start, length)
            term = t.log_abs_det_jacobian(a, b)
            if t.event_dim < self.event_dim:
                term = sum_rightmost(term, self.event_dim - t.event_dim)
            terms.append(term)
            start += length
        # slices along a batch dimension are joined there; along an event dimension their sums add
        if dim < x.ndim - self.event_dim:
            return cat(terms, dim)
        return functools.reduce(operator.add, terms)

    @property
    def bijective(self):
        """Whether every transform is bijective."""
        return all(t.bijective for t in self.transforms)

    @property
    def domain(self):
        """The transforms' domains joined along dim."""
        return constraints.cat([t.domain for t in self.transforms], self.dim, self.lengths)

    @property
    def codomain(self):
        """The transforms' codomains joined along dim."""
        return constraints.cat([t.codomain for t in self.transforms], self.dim, self.lengths)


class StackTransform(Transform):
    """Transforms applied to the slices of dimension dim, one each."""

    def __init__(self, tseq, dim=0, cache_size=0):
        super().__init__(cache_size=cache_size)
        self.transforms = _check_transforms(tseq, "StackTransform")
        if self._cache_size:  # (uncached, the parts keep their own caches, as in PyTorch)
            self.transforms = [t.with_cache(cache_size) for t in self.transforms]
        self.dim = _int_dim(dim, "StackTransform")

    def with_cache(self, cache_size=1):
        """This transform with the given cache size."""
        return self if self._cache_size == cache_size else StackTransform(self.transforms, self.dim, cache_size)

    def _slices(self, x):
        dim = _dim_in(self.dim, x.ndim, "StackTransform")
        if x.shape[dim] != len(self.transforms):
            raise ShapeMismatchError(f"StackTransform: dimension {self.dim} of size {x.shape[dim]} is not the number "
                                     f"of transforms {len(self.transforms)}")
        return x.unbind(dim), dim

    def _call(self, x):
        slices, dim = self._slices(x)
        return stack([t(s) for t, s in zip(self.transforms, slices)], dim)

    def _inverse(self, y):
        slices, dim = self._slices(y)
        return stack([t.inv(s) for t, s in zip(self.transforms, slices)], dim)

    def _log_abs_det_jacobian(self, x, y):
        """The transforms' log-Jacobians, stacked along dim."""
        xs, dim = self._slices(x)
        ys, _ = self._slices(y)
        return stack([t.log_abs_det_jacobian(a, b) for t, a, b in zip(self.transforms, xs, ys)], dim)

    @property
    def bijective(self):
        """Whether every transform is bijective."""
        return all(t.bijective for t in self.transforms)

    @property
    def domain(self):
        """The transforms' domains stacked along dim."""
        return constraints.stack([t.domain for t in self.transforms], self.dim)

    @property
    def codomain(self):
        """The transforms' codomains stacked along dim."""
        return constraints.stack([t.codomain for t in self.transforms], self.dim)


def as_tensor_or_number(value, name):
    """A transform's parameter: a tensor or a real number (a TypeError names it otherwise)."""
    if isinstance(value, Tensor) or (isinstance(value, numbers.Real) and not isinstance(value, bool)):
        return value
    raise TypeError(f"{name} must be a tensor or a number, got {type(value).__name__}")
