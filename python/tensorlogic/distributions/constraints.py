"""Constraints: the sets parameters and values of distributions live in, as torch.distributions.constraints.
check(value) gives a bool tensor of the value's shape less the constraint's event_dim rightmost dimensions; the
distributions read them for validate_args, expand, support, and biject_to / transform_to (constraint_registry).

The sets: real, real_vector, positive, nonnegative, unit_interval, boolean, one_hot, nonnegative_integer,
positive_integer, simplex, lower_triangular, lower_cholesky, corr_cholesky, square, symmetric, positive_definite,
positive_semidefinite, dependent; and the families made from bounds or other constraints: greater_than(lower_bound),
greater_than_eq(lower_bound), less_than(upper_bound), interval(lower_bound, upper_bound),
half_open_interval(lower_bound, upper_bound), integer_interval(lower_bound, upper_bound), multinomial(upper_bound),
independent(base_constraint, reinterpreted_batch_ndims), cat(cseq, dim, lengths), stack(cseq, dim). Equalities
(a simplex's sum, symmetry, unit rows) hold within f16's rounding. is_dependent(constraint) tells a dependent
placeholder; dependent_property makes one of a distribution's property (Uniform's support)."""
from ..dtypes import bool as _bool
from ..linalg import cholesky_ex, eigvalsh
from ..ops.shape import cat as _cat_tensors, stack as _stack_tensors

__all__ = ["Constraint", "boolean", "cat", "corr_cholesky", "dependent", "dependent_property", "greater_than",
           "greater_than_eq", "independent", "integer_interval", "interval", "half_open_interval", "is_dependent",
           "less_than", "lower_cholesky", "lower_triangular", "multinomial", "nonnegative", "nonnegative_integer",
           "one_hot", "positive", "positive_semidefinite", "positive_definite", "positive_integer", "real",
           "real_vector", "simplex", "square", "stack", "symmetric", "unit_interval"]

# The slack of the equalities that f16 values can only approach: a sum of K rounded values is within about K half
# ulps of its exact value (2^-11 each near 1); constraints on sums and symmetry allow that.
_F16_SLACK = 2.0 ** -10


class Constraint:
    """A region of values. is_discrete: whether it is countable; event_dim: how many rightmost dimensions one
    event (one checked element) spans."""

    is_discrete = False
    event_dim = 0

    def check(self, value):
        """A bool tensor: where value satisfies the constraint (over all but the event_dim rightmost dimensions)."""
        return self._check(value)

    def _check(self, value):
        raise NotImplementedError(f"{type(self).__name__}.check is not implemented")

    def __repr__(self):
        return type(self).__name__.lstrip("_") + "()"


class _Dependent(Constraint):
    """A placeholder for a constraint that depends on other parameters (it cannot be checked by itself)."""

    def __init__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        self._is_discrete, self._event_dim = is_discrete, event_dim

    @property
    def is_discrete(self):
        if self._is_discrete is NotImplemented:
            raise NotImplementedError(".is_discrete cannot be determined statically")
        return self._is_discrete

    @property
    def event_dim(self):
        if self._event_dim is NotImplemented:
            raise NotImplementedError(".event_dim cannot be determined statically")
        return self._event_dim

    def __call__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        return _Dependent(is_discrete=self._is_discrete if is_discrete is NotImplemented else is_discrete,
                          event_dim=self._event_dim if event_dim is NotImplemented else event_dim)

    def _check(self, value):
        """Raises: a dependent constraint cannot be checked by itself."""
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint):
    """Whether constraint is a dependent placeholder (dependent or a dependent_property)."""
    return isinstance(constraint, _Dependent)


class dependent_property(property, _Dependent):
    """A property of a distribution that is also a dependent constraint: on the class it is a placeholder with
    is_discrete and event_dim; on an instance, the constraint the method returns (Uniform's support)."""

    def __init__(self, fn=None, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        property.__init__(self, fn)
        _Dependent.__init__(self, is_discrete=is_discrete, event_dim=event_dim)

    def __call__(self, fn):
        return dependent_property(fn, is_discrete=self._is_discrete, event_dim=self._event_dim)


class _IndependentConstraint(Constraint):
    """base_constraint over reinterpreted_batch_ndims more rightmost dimensions, all of which must satisfy it."""

    def __init__(self, base_constraint, reinterpreted_batch_ndims):
        if not isinstance(base_constraint, Constraint):
            raise TypeError(f"independent: base_constraint must be a Constraint, got {type(base_constraint).__name__}")
        if isinstance(reinterpreted_batch_ndims, bool) or not isinstance(reinterpreted_batch_ndims, int) \
                or reinterpreted_batch_ndims < 0:
            raise ValueError(f"independent: reinterpreted_batch_ndims must be a non-negative int, got "
                             f"{reinterpreted_batch_ndims!r}")
        self.base_constraint, self.reinterpreted_batch_ndims = base_constraint, reinterpreted_batch_ndims

    @property
    def is_discrete(self):
        """Whether the set is countable."""
        return self.base_constraint.is_discrete

    @property
    def event_dim(self):
        """How many rightmost dimensions one checked element spans."""
        return self.base_constraint.event_dim + self.reinterpreted_batch_ndims

    def _check(self, value):
        """The base constraint's check, all over the reinterpreted dimensions."""
        result = self.base_constraint.check(value)
        if result.ndim < self.reinterpreted_batch_ndims:
            expected = self.base_constraint.event_dim + self.reinterpreted_batch_ndims
            raise ValueError(f"Expected value.dim() >= {expected} but got {value.ndim}")
        n = self.reinterpreted_batch_ndims
        return result.reshape(result.shape[:result.ndim - n] + (-1,)).all(-1) if n else result

    def __repr__(self):
        return f"IndependentConstraint({self.base_constraint!r}, {self.reinterpreted_batch_ndims})"


class _Boolean(Constraint):
    """The values 0 and 1."""

    is_discrete = True

    def _check(self, value):
        """value == 0 or value == 1."""
        return (value == 0) | (value == 1)


class _OneHot(Constraint):
    """One-hot vectors (last dimension)."""

    is_discrete = True
    event_dim = 1

    def _check(self, value):
        """Entries 0 or 1, one 1 per vector."""
        return ((value == 0) | (value == 1)).all(-1) & (value.sum(-1) == 1)


class _IntegerInterval(Constraint):
    """Integers in [lower_bound, upper_bound]."""

    is_discrete = True

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def _check(self, value):
        """Integers within the bounds."""
        return (value % 1 == 0) & (value >= self.lower_bound) & (value <= self.upper_bound)

    def __repr__(self):
        return f"IntegerInterval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _IntegerGreaterThan(Constraint):
    """Integers at least lower_bound."""

    is_discrete = True

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def _check(self, value):
        """Integers at least lower_bound."""
        return (value % 1 == 0) & (value >= self.lower_bound)

    def __repr__(self):
        return f"IntegerGreaterThan(lower_bound={self.lower_bound})"


class _Real(Constraint):
    """The extended reals (anything but NaN)."""

    def _check(self, value):
        """value == value (False at NaN)."""
        return value == value


class _GreaterThan(Constraint):
    """Values above lower_bound."""

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def _check(self, value):
        """lower_bound < value."""
        return self.lower_bound < value

    def __repr__(self):
        return f"GreaterThan(lower_bound={self.lower_bound})"


class _GreaterThanEq(Constraint):
    """Values at least lower_bound."""

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def _check(self, value):
        """lower_bound <= value."""
        return self.lower_bound <= value

    def __repr__(self):
        return f"GreaterThanEq(lower_bound={self.lower_bound})"


class _LessThan(Constraint):
    """Values below upper_bound."""

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def _check(self, value):
        """value < upper_bound."""
        return value < self.upper_bound

    def __repr__(self):
        return f"LessThan(upper_bound={self.upper_bound})"


class _Interval(Constraint):
    """[lower_bound, upper_bound]."""

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def _check(self, value):
        """lower_bound <= value <= upper_bound."""
        return (self.lower_bound <= value) & (value <= self.upper_bound)

    def __repr__(self):
        return f"Interval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _HalfOpenInterval(_Interval):
    """[lower_bound, upper_bound)."""

    def _check(self, value):
        """lower_bound <= value < upper_bound."""
        return (self.lower_bound <= value) & (value < self.upper_bound)

    def __repr__(self):
        return f"HalfOpenInterval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _Simplex(Constraint):
    """Non-negative vectors (last dimension) summing to 1, within f16's rounding of the sum."""

    event_dim = 1

    def _check(self, value):
        """Non-negative entries summing to 1 (within f16 slack)."""
        k = value.shape[-1] if value.ndim else 1
        return (value >= 0).all(-1) & ((value.sum(-1) - 1).abs() <= _F16_SLACK * max(k, 1))


class _Multinomial(Constraint):
    """Non-negative integer vectors whose sum is at most upper_bound."""

    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def _check(self, x):
        """Non-negative entries summing to at most upper_bound."""
        return (x >= 0).all(-1) & (x.sum(-1) <= self.upper_bound)


class _LowerTriangular(Constraint):
    """Lower-triangular matrices."""

    event_dim = 2

    def _check(self, value):
        """Zeros above the diagonal."""
        return (value.tril() == value).reshape(value.shape[:-2] + (-1,)).all(-1)


class _LowerCholesky(Constraint):
    """Lower-triangular matrices with a positive diagonal."""

    event_dim = 2

    def _check(self, value):
        """Lower triangular with a positive diagonal."""
        lower = (value.tril() == value).reshape(value.shape[:-2] + (-1,)).all(-1)
        return lower & (value.diagonal(dim1=-2, dim2=-1) > 0).all(-1)


class _CorrCholesky(Constraint):
    """Lower Cholesky factors of correlation matrices: rows of unit length (within f16's rounding)."""

    event_dim = 2

    def _check(self, value):
        """Lower Cholesky with rows of unit length."""
        n = value.shape[-1]
        unit = ((value.square().sum(-1).sqrt() - 1).abs() <= _F16_SLACK * max(n, 1)).all(-1)
        return _LowerCholesky().check(value) & unit


class _Square(Constraint):
    """Square matrices."""

    event_dim = 2

    def _check(self, value):
        """Whether the last two dimensions are equal (one bool per matrix)."""
        return value.new_full(value.shape[:-2], value.shape[-1] == value.shape[-2], dtype=_bool)


class _Symmetric(_Square):
    """Square matrices equal to their transpose within f16's rounding."""

    def _check(self, value):
        """Equal to the transpose within f16 slack."""
        square = super()._check(value)
        if not bool(square.all()):
            return square
        close = (value - value.mT).abs() <= _F16_SLACK * (1 + value.abs())
        return close.reshape(value.shape[:-2] + (-1,)).all(-1)


class _PositiveDefinite(_Symmetric):
    """Symmetric matrices whose Cholesky factorisation succeeds."""

    def _check(self, value):
        """Symmetric, and its Cholesky factorisation succeeds."""
        symmetric = super()._check(value)
        if not bool(symmetric.all()):
            return symmetric
        return cholesky_ex(value).info == 0


class _PositiveSemidefinite(_Symmetric):
    """Symmetric matrices with no eigenvalue below zero (beyond f16's rounding of the largest)."""

    def _check(self, value):
        """Symmetric with no eigenvalue below zero (beyond rounding)."""
        symmetric = super()._check(value)
        if not bool(symmetric.all()):
            return symmetric
        eigenvalues = eigvalsh(value)
        return eigenvalues.amin(-1) >= -_F16_SLACK * eigenvalues.abs().amax(-1)


class _Cat(Constraint):
    """Constraints applied to consecutive slices of dimension dim, of the given lengths (1 each by default)."""

    def __init__(self, cseq, dim=0, lengths=None):
        self.cseq, self.dim = list(cseq), dim
        self.lengths = list(lengths) if lengths is not None else [1] * len(self.cseq)
        if len(self.lengths) != len(self.cseq):
            raise ValueError(f"cat: {len(self.cseq)} constraints but {len(self.lengths)} lengths")

    @property
    def is_discrete(self):
        """Whether the set is countable."""
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self):
        """How many rightmost dimensions one checked element spans."""
        return max(c.event_dim for c in self.cseq)

    def _check(self, value):
        """Each constraint on its slice, joined along dim."""
        parts, start = [], 0
        for constraint, length in zip(self.cseq, self.lengths):
            parts.append(constraint.check(value.narrow(self.dim, start, length)))
            start += length
        return _cat_tensors(parts, self.dim)


class _Stack(Constraint):
    """Constraints applied to the slices of dimension dim, one each."""

    def __init__(self, cseq, dim=0):
        self.cseq, self.dim = list(cseq), dim

    @property
    def is_discrete(self):
        """Whether the set is countable."""
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self):
        """How many rightmost dimensions one checked element spans."""
        dim = max(c.event_dim for c in self.cseq)
        return dim + 1 if self.dim + dim < 0 else dim

    def _check(self, value):
        """Each constraint on its slice, stacked along dim."""
        return _stack_tensors([c.check(v) for c, v in zip(self.cseq, value.unbind(self.dim))], self.dim)


dependent = _Dependent()
independent = _IndependentConstraint
boolean = _Boolean()
one_hot = _OneHot()
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
integer_interval = _IntegerInterval
real = _Real()
real_vector = independent(real, 1)
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
multinomial = _Multinomial
unit_interval = _Interval(0.0, 1.0)
interval = _Interval
half_open_interval = _HalfOpenInterval
simplex = _Simplex()
lower_triangular = _LowerTriangular()
lower_cholesky = _LowerCholesky()
corr_cholesky = _CorrCholesky()
square = _Square()
symmetric = _Symmetric()
positive_semidefinite = _PositiveSemidefinite()
positive_definite = _PositiveDefinite()
cat = _Cat
stack = _Stack
