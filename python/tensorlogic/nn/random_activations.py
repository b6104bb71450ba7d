"""The activations and dropouts of torch.nn.functional that draw random numbers (tl.rand): rrelu,
alpha_dropout, feature_alpha_dropout, gumbel_softmax, and the module RReLU (AlphaDropout and FeatureAlphaDropout
are in dropout.py). Each is a composition of public ops (rrelu's a piecewise-linear node: ops/piecewise_linear.py), so
the gradient is the drawn slope or mask."""
from ..ops.elementwise import log, where
from ..ops.piecewise_linear import piecewise_linear
from ..ops.random import rand, rand_like
from ..ops.rows import softmax
from .activation_functions import _check_p, leaky_relu, written
from .module import Module

_SELU_ALPHA = 1.7580993408473766  # -SELU's negative saturation (scale * alpha), the value dropped units take


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """leaky_relu with a random negative slope: uniform in [lower, upper] per element while training, their
    mean otherwise."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2.0, inplace)
    slope = rand_like(input) * (upper - lower) + lower
    return written(input, lambda x: piecewise_linear(x, lambda v: where(v >= 0, v, v * slope), _non_negative, 1.0,
                                                     slope), inplace, "rrelu_")


def _non_negative(x):
    return x >= 0


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """rrelu written into input; returns input."""
    return rrelu(input, lower, upper, training, inplace=True)


def _alpha_dropout(input, p, training, inplace, mask_shape, name):
    # PyTorch's formula: dropped units take SELU's saturation value, then an affine map a x + b restores the
    # mean and variance of self-normalising activations.
    _check_p(p, name)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return written(input, lambda x: x * 0.0, inplace, name + "_")
    keep = (rand(*mask_shape, device=input.device) >= p).to(input.dtype)
    a = 1.0 / ((_SELU_ALPHA**2 * p + 1.0) * (1.0 - p)) ** 0.5
    b = (keep - 1.0) * (_SELU_ALPHA * a) + _SELU_ALPHA * a * p
    return written(input, lambda x: x * (keep * a) + b, inplace, name + "_")


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: each element dropped with probability p (to SELU's saturation value), then an
    affine map keeps mean and variance; the identity when not training."""
    return _alpha_dropout(input, p, training, inplace, tuple(input.shape), "alpha_dropout")


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """alpha_dropout of whole channels (dim 1 of [N, C, ...])."""
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _alpha_dropout(input, p, training, inplace, shape, "feature_alpha_dropout")


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + g) / tau) along dim with g Gumbel(0, 1) noise; hard=True gives the one-hot of its argmax
    in the forward pass and the soft sample's gradient (the straight-through estimator)."""
    u = rand_like(logits)
    gumbels = -log(-log(u.clamp(min=2.0**-24)))  # rand is never 1: -log(u) > 0
    soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return soft
    index = soft.argmax(dim, keepdim=True)
    one_hot = (soft * 0.0).detach().scatter(dim, index, 1.0)
    return one_hot - soft.detach() + soft


class RReLU(Module):
    """rrelu as a module (lower 1/8, upper 1/3): random slopes in training, their mean in evaluation."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        """rrelu(input, lower, upper, self.training)."""
        return rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return f"lower={self.lower}, upper={self.upper}"


__all__ = ["rrelu", "rrelu_", "alpha_dropout", "feature_alpha_dropout", "gumbel_softmax", "RReLU"]
