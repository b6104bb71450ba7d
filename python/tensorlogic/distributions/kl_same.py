"""The closed forms of KL(p || q) for p and q of one family, registered with register_kl (PyTorch's pairs)."""
import math

from ..linalg import solve_triangular
from ..nn.activation_functions import logsigmoid
from ..ops.elementwise import log, softplus
from ..ops.special import digamma, lgamma, xlogy
from .bernoulli import Bernoulli
from .binomial import Binomial, Geometric
from .categorical import Categorical
from .cauchy import Cauchy
from .continuous_bernoulli import ContinuousBernoulli
from .dirichlet import Beta, Dirichlet
from .distribution import sum_rightmost
from .exponential import Exponential
from .gamma import Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .lowrank_multivariate_normal import LowRankMultivariateNormal, lowrank_log_det, lowrank_mahalanobis
from .multinomial import OneHotCategorical
from .multivariate_normal import MultivariateNormal, half_log_det, mahalanobis
from .normal import Normal
from .normal_family import HalfNormal
from .poisson import Poisson
from .transformed_distribution import TransformedDistribution
from .transformed_families import Gumbel, Pareto
from .uniform import Uniform

_EULER = 0.57721566490153286061


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    return normal_kl(p.loc, p.scale, q.loc, q.scale)


def normal_kl(loc_p, scale_p, loc_q, scale_q):
    """KL between Normals: (r^2 + ((mu_p - mu_q) / s_q)^2 - 1 - log r^2) / 2, r = s_p / s_q."""
    var_ratio = (scale_p / scale_q) ** 2
    t1 = ((loc_p - loc_q) / scale_q) ** 2
    return 0.5 * (var_ratio + t1 - 1 - log(var_ratio))


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    # terms where p is 0 count 0; where q is 0 and p is not the divergence is infinite (log(0) of q's clamp
    # in f16 gives a large finite value instead)
    t = p.probs * (p.logits - q.logits)
    return t.masked_fill(p.probs == 0, 0.0).sum(-1)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    return bernoulli_kl(p, q)


def bernoulli_kl(p, q):
    """KL between the success probabilities of p and q (Bernoulli-like: probs and logits)."""
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
    # tr(S_q^-1 S_p): the squared Frobenius norm of L_q^-1 L_p
    d = _check_events(p, q)
    lp, lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    trace = solve_triangular(lq, lp, upper=False).square().sum((-2, -1))
    return _gaussian_kl(p.loc, q.loc, lambda x: mahalanobis(lq, x), 2 * half_log_det(lq), 2 * half_log_det(lp),
                        trace, d)


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p, q):
    # n KL(Bernoulli(p) || Bernoulli(q)) for equal counts; infinite where p's count exceeds q's
    if bool((p.total_count < q.total_count).any()):
        raise NotImplementedError("KL between Binomials where q.total_count > p.total_count is not implemented")
    return (p.total_count * bernoulli_kl(p, q)).masked_fill(p.total_count > q.total_count, math.inf)


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p, q):
    # -H(p) - E[k] log(1 - q) - log q, E[k] = 1 / p - 1
    return -p.entropy() - (-q.probs).log1p() / p.probs - q.logits


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p, q):
    return xlogy(p.rate, p.rate) - xlogy(p.rate, q.rate) - (p.rate - q.rate)


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p, q):
    # log(((s_p + s_q)^2 + (m_p - m_q)^2) / (4 s_p s_q))
    return (((p.scale + q.scale).square() + (p.loc - q.loc).square()) / (4 * p.scale * q.scale)).log()


@register_kl(Gumbel, Gumbel)
def _kl_gumbel_gumbel(p, q):
    # with r = b_p / b_q: log(1 / r) - (m_q - m_p) / b_q + r gamma - 1 - gamma + exp((m_q - m_p) / b_q) Gamma(1 + r)
    ratio = p.scale / q.scale
    shift = (q.loc - p.loc) / q.scale
    return -ratio.log() - shift + ratio * _EULER + (shift + lgamma(1 + ratio)).exp() - (1 + _EULER)


@register_kl(HalfNormal, HalfNormal)
def _kl_halfnormal_halfnormal(p, q):
    return normal_kl(0.0, p.scale, 0.0, q.scale)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehotcategorical_onehotcategorical(p, q):
    return _kl_categorical_categorical(p._params, q._params)


@register_kl(Pareto, Pareto)
def _kl_pareto_pareto(p, q):
    # log(a_p / a_q) + a_q log(s_p / s_q) + a_q / a_p - 1; infinite where p reaches below q's support
    ratio = q.alpha / p.alpha
    result = q.alpha * (p.scale / q.scale).log() - ratio.log() + ratio - 1
    return result.masked_fill(p.scale < q.scale, math.inf)


@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p, q):
    if p.transforms != q.transforms:
        raise NotImplementedError("KL between TransformedDistributions needs the same transforms")
    if p.event_shape != q.event_shape:
        raise NotImplementedError("KL between TransformedDistributions needs the same event shape")
    return kl_divergence(p.base_dist, q.base_dist)


def _gaussian_kl(p_loc, q_loc, q_mahalanobis, q_log_det, p_log_det, trace, d):
    """(tr(Sq^-1 Sp) + mahalanobis_q(mu_q - mu_p) - d + log |Sq| - log |Sp|) / 2."""
    return 0.5 * (trace + q_mahalanobis(q_loc - p_loc) - d + q_log_det - p_log_det)


def _lowrank_inverse_parts(q):
    """For q low-rank: A = L_C^-1 W^T D^-1, so that Sq^-1 = D^-1 - A^T A (Woodbury)."""
    w, diag = q._unbroadcasted_cov_factor, q._unbroadcasted_cov_diag
    return solve_triangular(q._capacitance_tril, w.mT / diag.unsqueeze(-2), upper=False), diag


def _lowrank_trace(q, factor, diag_p):
    """tr(Sq^-1 (F F^T + diag(diag_p))) for q low-rank: tr(D^-1 F F^T) + sum(diag_p / D) - |A F|^2 - |A sqrt(Dp)|^2
    (Frobenius norms), with F absent (None) for a diagonal covariance."""
    a, dq = _lowrank_inverse_parts(q)
    trace = (diag_p / dq).sum(-1) - (a * diag_p.sqrt().unsqueeze(-2)).square().sum((-2, -1))
    if factor is not None:
        trace = trace + (factor.square() / dq.unsqueeze(-1)).sum((-2, -1)) - (a @ factor).square().sum((-2, -1))
    return trace


def _lowrank_mahalanobis(q):
    return lambda x: lowrank_mahalanobis(q._unbroadcasted_cov_factor, q._unbroadcasted_cov_diag, x,
                                         q._capacitance_tril)


def _check_events(p, q):
    if p.event_shape != q.event_shape:
        raise ValueError(f"KL-divergence between two (Low Rank) Multivariate Normals with different event shapes "
                         f"cannot be computed: {p.event_shape} and {q.event_shape}")
    return p.event_shape[0]


@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
def _kl_lowrank_lowrank(p, q):
    d = _check_events(p, q)
    trace = _lowrank_trace(q, p._unbroadcasted_cov_factor, p._unbroadcasted_cov_diag)
    return _gaussian_kl(p.loc, q.loc, _lowrank_mahalanobis(q),
                        lowrank_log_det(q._unbroadcasted_cov_diag, q._capacitance_tril),
                        lowrank_log_det(p._unbroadcasted_cov_diag, p._capacitance_tril), trace, d)


@register_kl(MultivariateNormal, LowRankMultivariateNormal)
def _kl_multivariatenormal_lowrank(p, q):
    # tr(Sq^-1 Lp Lp^T): the trace of a low-rank inverse against a dense factor, with no diagonal part
    d = _check_events(p, q)
    lp = p._unbroadcasted_scale_tril
    a, dq = _lowrank_inverse_parts(q)
    trace = (lp.square() / dq.unsqueeze(-1)).sum((-2, -1)) - (a @ lp).square().sum((-2, -1))
    return _gaussian_kl(p.loc, q.loc, _lowrank_mahalanobis(q),
                        lowrank_log_det(q._unbroadcasted_cov_diag, q._capacitance_tril), 2 * half_log_det(lp), trace, d)


@register_kl(LowRankMultivariateNormal, MultivariateNormal)
def _kl_lowrank_multivariatenormal(p, q):
    # tr(Lq^-T Lq^-1 (W W^T + D)) = |Lq^-1 W|^2 + |Lq^-1 sqrt(D)|^2
    d = _check_events(p, q)
    lq = q._unbroadcasted_scale_tril
    w, diag = p._unbroadcasted_cov_factor, p._unbroadcasted_cov_diag
    trace = (solve_triangular(lq, w, upper=False).square().sum((-2, -1))
             + solve_triangular(lq, diag.sqrt().diag_embed(), upper=False).square().sum((-2, -1)))
    return _gaussian_kl(p.loc, q.loc, lambda x: mahalanobis(lq, x), 2 * half_log_det(lq),
                        lowrank_log_det(diag, p._capacitance_tril), trace, d)


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _kl_continuous_bernoulli_continuous_bernoulli(p, q):
    # E_p[x] (l_p - l_q) + log C_p + log(1 - p_p) - log C_q - log(1 - p_q), l the logits
    return (p.mean * (p.logits - q.logits) + p._log_normalizer() + logsigmoid(-p.logits) - q._log_normalizer()
            - logsigmoid(-q.logits))
