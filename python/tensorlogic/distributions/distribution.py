"""The base of tl.distributions: batch and event shapes, sample_shape handling, argument checks, and the
broadcasting of parameters that the parametric distributions share."""
import numbers

from ..creation import tensor
from ..ops.shape import broadcast_shapes
from ..tensor import Tensor


def broadcast_all(name, **params):
    """The parameters (tensors or numbers) as tensors of one broadcast shape, in the order given; numbers become
    tensors on the first given tensor's device (float16 scalars on the default device when none is a tensor), as
    torch.distributions.utils.broadcast_all. A TypeError names the distribution and parameter of another type."""
    for key, value in params.items():
        if not isinstance(value, (Tensor, numbers.Real)) or isinstance(value, bool):
            raise TypeError(f"{name}: {key} must be a tensor or a number, got {type(value).__name__}")
    like = next((v for v in params.values() if isinstance(v, Tensor)), None)
    values = [v if isinstance(v, Tensor) else
              (like.new_full((), float(v)) if like is not None else tensor(float(v))) for v in params.values()]
    shape = tuple(broadcast_shapes(*(v.shape for v in values)))
    return [v if v.shape == shape else v.broadcast_to(shape) for v in values]


class Distribution:
    """A batch of distributions of batch_shape, each over events of event_shape, as torch.distributions."""

    has_rsample = False

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape, self._event_shape = tuple(batch_shape), tuple(event_shape)
        self._validate_args = bool(validate_args)

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

    def _extended_shape(self, sample_shape=()):
        """sample_shape + batch_shape + event_shape: the shape of sample(sample_shape)."""
        if isinstance(sample_shape, int):
            sample_shape = (sample_shape,)
        return tuple(sample_shape) + self._batch_shape + self._event_shape

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
