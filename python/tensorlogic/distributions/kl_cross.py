"""The closed forms of KL(p || q) for p and q of two families, registered with register_kl (PyTorch's pairs): most
are -H(p) plus p's expectation of -log q, from p's moments; the rest infinite, where q's support misses part of
p's."""
import math

from ..creation import full
from ..ops.elementwise import erf
from ..ops.shape import broadcast_shapes
from ..nn.activation_functions import logsigmoid
from ..ops.special import digamma, lgamma, xlogy
from ..tensor import Tensor
from .bernoulli import Bernoulli
from .binomial import Binomial
from .continuous_bernoulli import ContinuousBernoulli
from .dirichlet import Beta
from .exponential import Exponential
from .gamma import Gamma
from .kl import register_kl
from .laplace import Laplace
from .normal import Normal
from .poisson import Poisson
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


def _moments_normal(q, mean, variance):
    """-E_p[log q(x)] for q Normal from p's mean and variance."""
    return _normal_cross_entropy(q, variance + (mean - q.loc).square())


@register_kl(Beta, Normal)
def _kl_beta_normal(p, q):
    return -p.entropy() + _moments_normal(q, p.mean, p.variance)


@register_kl(Gumbel, Normal)
def _kl_gumbel_normal(p, q):
    return -p.entropy() + _moments_normal(q, p.mean, p.variance)


@register_kl(ContinuousBernoulli, Normal)
def _kl_continuous_bernoulli_normal(p, q):
    return -p.entropy() + _moments_normal(q, p.mean, p.variance)


def _pareto_moments(p, above):
    """Pareto's mean and variance with alpha moved above `above` where it is not (those results are masked to inf
    after; the moved alpha keeps their gradient finite, where inf times the mask's 0 would give NaN)."""
    a = p.alpha.masked_fill(p.alpha <= above, above + 1.0)
    return a * p.scale / (a - 1), p.scale.square() * a / ((a - 1).square() * (a - 2))


@register_kl(Pareto, Normal)
def _kl_pareto_normal(p, q):
    # the second moment exists for alpha > 2 only
    mean, variance = _pareto_moments(p, 2.0)
    return (-p.entropy() + _moments_normal(q, mean, variance)).masked_fill(p.alpha <= 2, math.inf)


@register_kl(Beta, Exponential)
def _kl_beta_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(ContinuousBernoulli, Exponential)
def _kl_continuous_bernoulli_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(Pareto, Exponential)
def _kl_pareto_exponential(p, q):
    mean, _ = _pareto_moments(p, 1.0)
    return (-p.entropy() - q.rate.log() + q.rate * mean).masked_fill(p.alpha <= 1, math.inf)


@register_kl(Beta, Gamma)
def _kl_beta_gamma(p, q):
    # E[log x] under Beta(a, b) = digamma(a) - digamma(a + b)
    a, b = p.concentration1, p.concentration0
    return -p.entropy() + _gamma_cross_entropy(q, p.mean, digamma(a) - digamma(a + b))


@register_kl(Pareto, Gamma)
def _kl_pareto_gamma(p, q):
    # E[log x] under Pareto(s, a) = log s + 1 / a; the mean is finite for a > 1
    mean, _ = _pareto_moments(p, 1.0)
    result = -p.entropy() + _gamma_cross_entropy(q, mean, p.scale.log() + p.alpha.reciprocal())
    return result.masked_fill(p.alpha <= 1, math.inf)


def _gumbel_cross_entropy(q, mean, mean_exp):
    """-E_p[log q(x)] for q Gumbel(m, b): log b + E[z] + E[exp(-z)], z = (x - m) / b; mean_exp = E[exp(-x / b)]."""
    return q.scale.log() + (mean - q.loc) / q.scale + (q.loc / q.scale).exp() * mean_exp


@register_kl(Normal, Gumbel)
def _kl_normal_gumbel(p, q):
    # E[exp(-x / b)] under Normal(m, s) = exp(-m / b + s^2 / (2 b^2)); the two exponents are joined before exp
    shift = (q.loc - p.loc) / q.scale + (p.scale / q.scale).square() / 2
    return -p.entropy() + q.scale.log() + (p.loc - q.loc) / q.scale + shift.exp()


@register_kl(Exponential, Gumbel)
def _kl_exponential_gumbel(p, q):
    # E[exp(-x / b)] under Exponential(r) = r / (r + 1 / b)
    return -p.entropy() + _gumbel_cross_entropy(q, p.mean, p.rate / (p.rate + q.scale.reciprocal()))


@register_kl(Gamma, Gumbel)
def _kl_gamma_gumbel(p, q):
    # E[exp(-x / b)] under Gamma(a, r) = (r / (r + 1 / b))^a
    ratio = p.rate / (p.rate + q.scale.reciprocal())
    return -p.entropy() + _gumbel_cross_entropy(q, p.mean, ratio.pow(p.concentration))


@register_kl(Uniform, Gumbel)
def _kl_uniform_gumbel(p, q):
    # E[exp(-(x - m) / b)] over [l, h] = b (exp(-(l - m) / b) - exp(-(h - m) / b)) / (h - l)
    width = p.high - p.low
    spread = q.scale * ((q.loc - p.low) / q.scale).exp() * (-(-width / q.scale).expm1()) / width
    return -p.entropy() + q.scale.log() + ((p.low + p.high) / 2 - q.loc) / q.scale + spread


@register_kl(Uniform, Pareto)
def _kl_uniform_pareto(p, q):
    # -E[log q(x)] = -log a - a log s + (a + 1) E[log x]; infinite where p reaches below q's scale
    cross = -q.alpha.log() - q.alpha * q.scale.log() + (q.alpha + 1) * _uniform_mean_log(p.low, p.high)
    return (-p.entropy() + cross).masked_fill(p.low < q.scale, math.inf)


def _continuous_bernoulli_cross_entropy(q, mean):
    """-E_p[log q(x)] for q ContinuousBernoulli from p's mean: -(E[x] logits + log(1 - probs) + log C)."""
    return -(mean * q.logits + logsigmoid(-q.logits) + q._log_normalizer())


@register_kl(Beta, ContinuousBernoulli)
def _kl_beta_continuous_bernoulli(p, q):
    return -p.entropy() + _continuous_bernoulli_cross_entropy(q, p.mean)


@register_kl(Uniform, ContinuousBernoulli)
def _kl_uniform_continuous_bernoulli(p, q):
    result = -p.entropy() + _continuous_bernoulli_cross_entropy(q, p.mean)
    return result.masked_fill((p.low < 0) | (p.high > 1), math.inf)


@register_kl(ContinuousBernoulli, Uniform)
def _kl_continuous_bernoulli_uniform(p, q):
    result = -p.entropy() + (q.high - q.low).log()
    return result.masked_fill((q.low > 0) | (q.high < 1), math.inf)


@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p, q):
    # sum over k in {0, 1}: (1 - p) log(1 - p) + p log p + rate - p log(rate)
    probs = p.probs
    return xlogy(1 - probs, 1 - probs) + xlogy(probs, probs) + q.rate - probs * q.rate.log()


def _infinite(p, q):
    """inf of the pair's broadcast batch shape: q gives no density to part of p's support."""
    like = next(v for v in p.__dict__.values() if isinstance(v, Tensor))
    return full(tuple(broadcast_shapes(p.batch_shape, q.batch_shape)), math.inf, device=like.device)


# p's support reaches where q's does not: below 0 for q on [0, inf), below q's scale for a Pareto, beyond [0, 1] or
# [low, high) for q bounded, or beyond {0, 1} for q a Bernoulli, beyond total_count for q a Binomial (PyTorch's pairs)
for _p in (Normal, Laplace, Gumbel):
    for _q in (Exponential, Gamma, Beta, Pareto, Uniform, ContinuousBernoulli):
        register_kl(_p, _q)(_infinite)
for _p, _q in ((Exponential, Beta), (Exponential, Uniform), (Exponential, Pareto), (Exponential, ContinuousBernoulli),
               (Gamma, Beta), (Gamma, Uniform), (Gamma, Pareto), (Gamma, ContinuousBernoulli), (Pareto, Beta),
               (Pareto, Uniform), (Pareto, ContinuousBernoulli), (Beta, Pareto), (ContinuousBernoulli, Pareto),
               (Poisson, Bernoulli), (Poisson, Binomial)):
    register_kl(_p, _q)(_infinite)
