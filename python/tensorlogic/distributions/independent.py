"""Independent: reinterprets the rightmost batch dimensions of a distribution as event dimensions, as
torch.distributions.Independent (log_prob and entropy sum over them)."""
from . import constraints
from .distribution import Distribution, _sample_shape, sum_rightmost


class Independent(Distribution):
    """Independent(base_distribution, reinterpreted_batch_ndims): the last reinterpreted_batch_ndims dimensions
    of base_distribution's batch_shape become part of event_shape."""

    arg_constraints = {}

    def __init__(self, base_distribution, reinterpreted_batch_ndims, validate_args=None):
        if not isinstance(base_distribution, Distribution):
            raise TypeError(f"Independent: base_distribution must be a Distribution, got "
                            f"{type(base_distribution).__name__}")
        n = reinterpreted_batch_ndims
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"Independent: reinterpreted_batch_ndims must be a non-negative int, got {n!r}")
        shape = base_distribution.batch_shape + base_distribution.event_shape
        event_dim = n + len(base_distribution.event_shape)
        if n > len(base_distribution.batch_shape):
            raise ValueError(f"Expected reinterpreted_batch_ndims <= len(base_distribution.batch_shape), actual "
                             f"{n} vs {len(base_distribution.batch_shape)}")
        self.base_dist, self.reinterpreted_batch_ndims = base_distribution, n
        super().__init__(shape[:len(shape) - event_dim], shape[len(shape) - event_dim:], validate_args)

    def expand(self, batch_shape, _instance=None):
        """The base distribution expanded to batch_shape + the reinterpreted dimensions."""
        batch_shape = _sample_shape(batch_shape, "Independent")
        new = self._new_instance(_instance)
        n = self.reinterpreted_batch_ndims
        base_shape = self.base_dist.batch_shape
        new.base_dist = self.base_dist.expand(batch_shape + base_shape[len(base_shape) - n:])
        new.reinterpreted_batch_ndims = n
        Distribution.__init__(new, batch_shape, self._event_shape, False)
        return new

    @property
    def support(self):
        """The base distribution's support over the reinterpreted dimensions too."""
        support = self.base_dist.support
        return constraints.independent(support, self.reinterpreted_batch_ndims) if self.reinterpreted_batch_ndims \
            else support

    @property
    def has_enumerate_support(self):
        """False where dimensions are reinterpreted (their product space is not enumerated), else the base's."""
        return self.reinterpreted_batch_ndims == 0 and self.base_dist.has_enumerate_support

    def enumerate_support(self, expand=True):
        """The base distribution's, where no dimension is reinterpreted."""
        if self.reinterpreted_batch_ndims > 0:
            raise NotImplementedError("Enumeration over cartesian product is not implemented")
        return self.base_dist.enumerate_support(expand=expand)

    @property
    def has_rsample(self):
        """The base distribution's has_rsample."""
        return self.base_dist.has_rsample

    @property
    def mean(self):
        """The base distribution's mean."""
        return self.base_dist.mean

    @property
    def mode(self):
        """The base distribution's mode."""
        return self.base_dist.mode

    @property
    def variance(self):
        """The base distribution's variance."""
        return self.base_dist.variance

    def sample(self, sample_shape=()):
        """The base distribution's sample."""
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()):
        """The base distribution's rsample."""
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value):
        """The base distribution's log_prob summed over the reinterpreted dimensions."""
        return sum_rightmost(self.base_dist.log_prob(value), self.reinterpreted_batch_ndims)

    def entropy(self):
        """The base distribution's entropy summed over the reinterpreted dimensions."""
        return sum_rightmost(self.base_dist.entropy(), self.reinterpreted_batch_ndims)

    def __repr__(self):
        return f"Independent({self.base_dist!r}, {self.reinterpreted_batch_ndims})"
