"""TransformedDistribution: a base distribution pushed through a sequence of transforms, as
torch.distributions.TransformedDistribution (sample, rsample, log_prob by the change of variables, cdf and icdf
through monotone transforms); normalizing flows and tanh-squashed policies are built on it."""
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution, _expand, _sample_shape, sum_rightmost
from .independent import Independent
from .transform import ComposeTransform, Transform


class TransformedDistribution(Distribution):
    """TransformedDistribution(base_distribution, transforms): the distribution of t_n(...t_1(x)) for x drawn from
    base_distribution (transforms: one Transform or a list). Where the transforms act on more event dimensions than
    the base has, the base's rightmost batch dimensions become event dimensions (Independent)."""

    arg_constraints = {}

    def __init__(self, base_distribution, transforms, validate_args=None):
        if isinstance(transforms, Transform):
            transforms = [transforms]
        elif isinstance(transforms, (list, tuple)) and all(isinstance(t, Transform) for t in transforms):
            transforms = list(transforms)
        else:
            raise ValueError(f"transforms must be a Transform or a list of Transforms, but was {transforms}")
        if not isinstance(base_distribution, Distribution):
            raise TypeError(f"TransformedDistribution: base_distribution must be a Distribution, got "
                            f"{type(base_distribution).__name__}")
        self.transforms = transforms
        base_shape = base_distribution.batch_shape + base_distribution.event_shape
        base_event_dim = len(base_distribution.event_shape)
        transform = ComposeTransform(transforms)
        if len(base_shape) < transform.domain.event_dim:
            raise ValueError(f"base_distribution needs to have shape with size at least {transform.domain.event_dim}, "
                             f"but got {base_shape}.")
        forward_shape = transform.forward_shape(base_shape)
        expanded_base_shape = transform.inverse_shape(forward_shape)
        if base_shape != expanded_base_shape:  # parameters of the transforms broadcast the base's batch
            base_distribution = base_distribution.expand(
                expanded_base_shape[:len(expanded_base_shape) - base_event_dim])
        if transform.domain.event_dim > base_event_dim:
            base_distribution = Independent(base_distribution, transform.domain.event_dim - base_event_dim)
        self.base_dist = base_distribution
        event_dim = max(transform.codomain.event_dim,
                        base_event_dim + transform.codomain.event_dim - transform.domain.event_dim)
        cut = len(forward_shape) - event_dim
        super().__init__(forward_shape[:cut], forward_shape[cut:], validate_args)

    def _expand_args(self):
        """The constructor's arguments of a named family (one with arg_constraints), which expand rebuilds it from:
        its transforms hold its parameters too."""
        return {name: getattr(self, name) for name in self.arg_constraints}

    def expand(self, batch_shape, _instance=None):
        """The base distribution expanded to the batch_shape the transforms lead back to (a named family: rebuilt
        from its parameters expanded)."""
        batch_shape = _sample_shape(batch_shape, type(self).__name__)
        if self.arg_constraints:
            args = self._expand_args()
            for name, constraint in self.arg_constraints.items():
                value = args.get(name)
                if isinstance(value, Tensor):
                    keep = tuple(value.shape[value.ndim - constraint.event_dim:]) if constraint.event_dim else ()
                    args[name] = _expand(value, batch_shape + keep, type(self).__name__)
            return type(self)(**args, validate_args=False)
        new = self._new_instance(_instance)
        new.__dict__.update(self.__dict__)
        shape = batch_shape + self._event_shape
        for t in reversed(self.transforms):
            shape = t.inverse_shape(shape)
        base_event = self.base_dist.event_shape
        new.base_dist = self.base_dist.expand(shape[:len(shape) - len(base_event)])
        Distribution.__init__(new, batch_shape, self._event_shape, False)
        return new

    @property
    def support(self):
        """The last transform's codomain (over the event dimensions), the base's support without transforms."""
        if not self.transforms:
            return self.base_dist.support
        support = self.transforms[-1].codomain
        if len(self._event_shape) > support.event_dim:
            support = constraints.independent(support, len(self._event_shape) - support.event_dim)
        return support

    @property
    def has_rsample(self):
        """The base distribution's has_rsample."""
        return self.base_dist.has_rsample

    def sample(self, sample_shape=()):
        """The base's draw through the transforms, without gradient (each transform's cache keeps the pair)."""
        with no_grad():
            x = self.base_dist.sample(sample_shape)
            for t in self.transforms:
                x = t(x)
            return x

    def rsample(self, sample_shape=()):
        """The base's reparameterised draw through the transforms: gradients reach the base's parameters and the
        transforms'."""
        x = self.base_dist.rsample(sample_shape)
        for t in self.transforms:
            x = t(x)
        return x

    def log_prob(self, value):
        """The base's log_prob at the inverse image, less each transform's log |det Jacobian| (each summed over
        the event dimensions it does not itself span)."""
        value = self._value(value, None, "log_prob")
        event_dim = len(self._event_shape)
        log_prob, y = 0.0, value
        for t in reversed(self.transforms):
            x = t.inv(y)
            event_dim += t.domain.event_dim - t.codomain.event_dim
            log_prob = log_prob - sum_rightmost(t.log_abs_det_jacobian(x, y), event_dim - t.domain.event_dim)
            y = x
        return log_prob + sum_rightmost(self.base_dist.log_prob(y), event_dim - len(self.base_dist.event_shape))

    def _monotonize_cdf(self, value):
        """value where the transforms increase overall, 1 - value where they decrease (sign: a number or, from
        tensor parameters, a tensor of +-1)."""
        sign = 1
        for t in self.transforms:
            sign = sign * t.sign
        if isinstance(sign, Tensor):
            return value.where(sign > 0, 1 - value)
        return value if sign > 0 else 1 - value

    def cdf(self, value):
        """The base's cdf at the inverse image (monotone transforms; decreasing ones flip it)."""
        value = self._value(value, None, "cdf")
        for t in reversed(self.transforms):
            value = t.inv(value)
        return self._monotonize_cdf(self.base_dist.cdf(value))

    def icdf(self, value):
        """The transforms applied to the base's icdf (monotone transforms)."""
        value = self._value(value, None, "icdf")
        value = self.base_dist.icdf(self._monotonize_cdf(value))
        for t in self.transforms:
            value = t(value)
        return value

    def __repr__(self):
        return f"{type(self).__name__}({self.base_dist!r}, {self.transforms!r})"

