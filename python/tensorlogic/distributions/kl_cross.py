"""The closed forms of KL(p || q) for p and q of two families, registered with register_kl (a subset of PyTorch's
pairs: the finite ones priors and posteriors meet, and the infinite ones where q's support misses part of p's)."""
import math

from ..creation import full
from ..ops.elementwise import erf
from ..ops.shape import broadcast_shapes
from ..ops.special import lgamma, xlogy
from ..tensor import Tensor
from .cauchy import Cauchy
from .dirichlet import Beta
from .exponential import Exponential
from .gamma import Gamma
from .kl import register_kl
from .laplace import Laplace
from .normal import Normal
from .transformed_families import Gumbel, Pareto
from .uniform import Uniform

_EULER = 0.57721566490153286061
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _normal_cross_entropy(q, second_moment_about_loc):
    """-E_p[log q(x)] for q Normal: log(s sqrt(2 pi)) + E[(x - mu_q)^2] / (2 s^2)."""
    return q.scale.log() + _HALF_LOG_2PI + second_moment_about_loc / (2 * q.scale.square())


@register_kl(Exponential, Normal)
def _kl_exponential_normal(p, q):
    mean = p.rate.reciprocal()
    return -p.entropy() + _normal_cross_entropy(q, mean.square() + (mean - q.loc).square())


@register_kl(Gamma, Normal)
def _kl_gamma_normal(p, q):
    mean = p.concentration / p.rate
    return -p.entropy() + _normal_cross_entropy(q, p.concentration / p.rate.square() + (mean - q.loc).square())


@register_kl(Laplace, Normal)
def _kl_laplace_normal(p, q):
    return -p.entropy() + _normal_cross_entropy(q, 2 * p.scale.square() + (p.loc - q.loc).square())


@register_kl(Uniform, Normal)
def _kl_uniform_normal(p, q):
    # E[(x - mu)^2] over [l, h] = ((h - mu)^3 - (l - mu)^3) / (3 (h - l)) = (a^2 + a b + b^2) / 3 with a = h - mu,
    # b = l - mu
    a, b = p.high - q.loc, p.low - q.loc
    return -p.entropy() + _normal_cross_entropy(q, (a.square() + a * b + b.square()) / 3)


@register_kl(Normal, Laplace)
def _kl_normal_laplace(p, q):
    # -H(p) + log(2 b) + E|x - mu_q| / b, E|x - mu_q| the folded normal's mean:
    # s sqrt(2 / pi) exp(-d^2 / (2 s^2)) + d erf(d / (s sqrt 2)), d = mu_p - mu_q
    d = p.loc - q.loc
    ratio = d / p.scale
    folded = p.scale * math.sqrt(2 / math.pi) * (-0.5 * ratio.square()).exp() + d * erf(ratio / math.sqrt(2))
    return -p.entropy() + (2 * q.scale).log() + folded / q.scale


def _gamma_cross_entropy(q, mean, mean_log):
    """-E_p[log q(x)] for q Gamma(a, b): lgamma(a) - a log b - (a - 1) E[log x] + b E[x]."""
    a, b = q.concentration, q.rate
    return lgamma(a) - a * b.log() - (a - 1) * mean_log + b * mean


@register_kl(Exponential, Gamma)
def _kl_exponential_gamma(p, q):
    # E[log x] under Exponential(r) = -gamma - log r
    return -p.entropy() + _gamma_cross_entropy(q, p.rate.reciprocal(), -_EULER - p.rate.log())


@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.concentration / p.rate


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p, q):
    result = -p.entropy() + (q.high - q.low).log()
    return result.masked_fill((q.low > 0) | (q.high < 1), math.inf)


def _uniform_mean_log(low, high):
    """E[log x] for x uniform on [low, high] (low >= 0): (h log h - h - l log l + l) / (h - l)."""
    return (xlogy(high, high) - high - xlogy(low, low) + low) / (high - low)


@register_kl(Uniform, Exponential)
def _kl_uniform_exponential(p, q):
    result = -p.entropy() - q.rate.log() + q.rate * (p.low + p.high) / 2
    return result.masked_fill(p.low < 0, math.inf)


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p, q):
    result = -p.entropy() + _gamma_cross_entropy(q, (p.low + p.high) / 2, _uniform_mean_log(p.low, p.high))
    return result.masked_fill(p.low < 0, math.inf)


@register_kl(Uniform, Beta)
def _kl_uniform_beta(p, q):
    # E[log x] and E[log(1 - x)] over [l, h], 1 - x uniform on [1 - h, 1 - l]
    a, b = q.concentration1, q.concentration0
    cross = (q._log_normalizer() - (a - 1) * _uniform_mean_log(p.low, p.high)
             - (b - 1) * _uniform_mean_log(1 - p.high, 1 - p.low))
    return (-p.entropy() + cross).masked_fill((p.low < 0) | (p.high > 1), math.inf)


def _infinite(p, q):
    """inf of the pair's broadcast batch shape: q gives no density to part of p's support."""
    like = next(v for v in p.__dict__.values() if isinstance(v, Tensor))
    return full(tuple(broadcast_shapes(p.batch_shape, q.batch_shape)), math.inf, device=like.device)


# p's support reaches where q's does not: below 0 for q on [0, inf), below q's scale for a Pareto, beyond [0, 1] or
# [low, high) for q bounded
for _p in (Normal, Laplace, Gumbel, Cauchy):
    for _q in (Exponential, Gamma, Beta, Pareto, Uniform):
        register_kl(_p, _q)(_infinite)
for _p, _q in ((Exponential, Beta), (Exponential, Uniform), (Exponential, Pareto), (Gamma, Beta), (Gamma, Uniform),
               (Gamma, Pareto), (Pareto, Beta), (Pareto, Uniform)):
    register_kl(_p, _q)(_infinite)
