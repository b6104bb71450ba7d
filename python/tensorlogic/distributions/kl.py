"""kl_divergence(p, q) and register_kl, as torch.distributions.kl: KL(p || q) from a table of closed forms
keyed by the two distributions' classes (the most specific registered pair wins)."""
import math

from ..linalg import solve_triangular
from ..ops.elementwise import log, softplus
from ..ops.special import digamma, lgamma
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution, sum_rightmost
from .exponential import Exponential
from .dirichlet import Beta, Dirichlet
from .gamma import Gamma
from .independent import Independent
from .laplace import Laplace
from .multivariate_normal import MultivariateNormal, half_log_det, mahalanobis
from .normal import Normal
from .uniform import Uniform

_KL = {}


def register_kl(type_p, type_q):
    """A decorator registering fn(p, q) as KL(p || q) for instances of type_p and type_q (or subclasses). Both must
    be Distribution classes: checked here, as PyTorch does, since a bad key in the table broke every later
    kl_divergence."""
    for t in (type_p, type_q):
        if not (isinstance(t, type) and issubclass(t, Distribution)):
            raise TypeError(f"register_kl: expected subclasses of Distribution, got {t!r}")

    def decorator(fn):
        _KL[type_p, type_q] = fn
        return fn

    return decorator


def kl_divergence(p, q):
    """KL(p || q) per distribution of the batch; NotImplementedError for a pair with no registered form."""
    matches = [(tp, tq) for tp, tq in _KL if isinstance(p, tp) and isinstance(q, tq)]
    if not matches:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type {type(p).__name__} and q type "
                                  f"{type(q).__name__}")
    # the pair nearest to the classes of p and q in their method resolution orders
    best = min(matches, key=lambda pair: (type(p).__mro__.index(pair[0]), type(q).__mro__.index(pair[1])))
    return _KL[best](p, q)


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    var_ratio = (p.scale / q.scale) ** 2
    t1 = ((p.loc - q.loc) / q.scale) ** 2
    return 0.5 * (var_ratio + t1 - 1 - log(var_ratio))


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    # terms where p is 0 count 0; where q is 0 and p is not the divergence is infinite (log(0) of q's clamp
    # in f16 gives a large finite value instead)
    t = p.probs * (p.logits - q.logits)
    return t.masked_fill(p.probs == 0, 0.0).sum(-1)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    # each term is infinite where q gives no mass to an outcome p can take, and 0 where p cannot take it
    t1 = (p.probs * (softplus(-q.logits) - softplus(-p.logits))).masked_fill(q.probs == 0, math.inf)
    t2 = ((1 - p.probs) * (softplus(q.logits) - softplus(p.logits))).masked_fill(q.probs == 1, math.inf)
    return t1.masked_fill(p.probs == 0, 0.0) + t2.masked_fill(p.probs == 1, 0.0)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return result.masked_fill((q.low > p.low) | (q.high < p.high), math.inf)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p, q):
    ratio = q.rate / p.rate
    return ratio - 1 - ratio.log()


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p, q):
    ratio = p.scale / q.scale
    gap = (p.loc - q.loc).abs()
    return -ratio.log() + gap / q.scale + ratio * (-gap / p.scale).exp() - 1


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p, q):
    return (q.concentration * (p.rate / q.rate).log() + lgamma(q.concentration) - lgamma(p.concentration)
            + (p.concentration - q.concentration) * digamma(p.concentration)
            + (q.rate - p.rate) * (p.concentration / p.rate))


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    sum_p = p.concentration1 + p.concentration0
    sum_q = q.concentration1 + q.concentration0
    return (q._log_normalizer() - p._log_normalizer()
            + (p.concentration1 - q.concentration1) * digamma(p.concentration1)
            + (p.concentration0 - q.concentration0) * digamma(p.concentration0)
            + (sum_q - sum_p) * digamma(sum_p))


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p, q):
    a, b = p.concentration, q.concentration
    a0 = a.sum(-1)
    return (lgamma(a0) - lgamma(b.sum(-1)) - (lgamma(a) - lgamma(b)).sum(-1)
            + ((a - b) * (digamma(a) - digamma(a0).unsqueeze(-1))).sum(-1))


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("KL(Independent || Independent) needs equal reinterpreted_batch_ndims")
    return sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_multivariatenormal_multivariatenormal(p, q):
    # log(|S_q| / |S_p|) / 2 + (tr(S_q^-1 S_p) + (mu_q - mu_p)^T S_q^-1 (mu_q - mu_p) - d) / 2, with
    # tr(S_q^-1 S_p) the squared Frobenius norm of L_q^-1 L_p
    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two Multivariate Normals with different event shapes cannot be "
                         "computed")
    Lp, Lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    trace = solve_triangular(Lq, Lp, upper=False).pow(2).sum((-2, -1))
    return (half_log_det(Lq) - half_log_det(Lp)
            + 0.5 * (trace + mahalanobis(Lq, q.loc - p.loc) - p.event_shape[0]))
