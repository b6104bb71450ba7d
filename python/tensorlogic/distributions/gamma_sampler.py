"""Gamma and Dirichlet draws on the host, their reparameterised gradients, and the Gamma CDF.

The draws: Marsaglia and Tsang's rejection method ("A simple method for generating gamma variables", 2000) in
float64, fed by the Philox stream (tl.randn, tl.rand); the library has no device kernel for it, so draws are made on
the host and copied to the parameters' device. The gradients: implicit_grads' dx/dalpha, through autograd Functions
whose own derivative raises, as PyTorch's _standard_gamma_grad and _dirichlet_grad do. The CDF: implicit_grads'
regularised incomplete gamma, differentiable once in x (the density, computed in float64), not in the shape (as
torch.special.gammainc)."""
import numpy as np

from ..autograd.function import Function
from ..creation import tensor
from ..ops.random import rand, randn
from .implicit_grads import lgamma64, dirichlet_grad, regularized_gamma, standard_gamma_grad

# Each round accepts a candidate with probability above 0.95 for every shape (Marsaglia and Tsang), so 64 rounds
# leave an element unaccepted with probability below 0.05 ** 64: the loop is bounded whatever the input.
_ROUNDS = 64
TINY = 2.0 ** -14  # f16's smallest normal: draws are clamped to it, as torch clamps to finfo.tiny
ONE_BELOW = 1.0 - 2.0 ** -11  # the largest f16 below 1


def _uniform(n):
    """n uniforms in (0, 1) at 2**-22 resolution: two f16 draws (multiples of 2**-11) combined, offset off zero."""
    hi, lo = (rand(n).numpy().astype(np.float64) for _ in range(2))
    return hi + lo * 2.0 ** -11 + 2.0 ** -23


def log_standard_gamma(concentration):
    """The logs of Gamma(concentration, 1) draws, one per element of the float64 array concentration (logs, so
    that the draws of small concentrations, which fall below float64's range, still normalise into Dirichlet
    draws). A concentration that is not a positive finite number (unchecked without validate_args) gives -inf
    where it is 0, negative or NaN and inf where it is inf, as PyTorch's sampler draws 0 and inf: the rejection
    loop never sees it."""
    alpha = concentration.reshape(-1)
    out = np.where(alpha == np.inf, np.inf, -np.inf)
    valid = (alpha > 0) & (alpha < np.inf)
    alpha = np.where(valid, alpha, 1.0)
    boosted = valid & (alpha < 1)  # Gamma(a) = Gamma(a + 1) U^(1/a) for a < 1 (the method needs a >= 1)
    d = np.where(boosted, alpha + 1, alpha) - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * d)
    pending = np.flatnonzero(valid)
    for _ in range(_ROUNDS):
        if pending.size == 0:
            break
        x = randn(pending.size).numpy().astype(np.float64)
        u = _uniform(pending.size)
        dp, cp = d[pending], c[pending]
        v = (1.0 + cp * x) ** 3
        with np.errstate(invalid="ignore", divide="ignore"):
            log_v = np.log(np.where(v > 0, v, 1.0))
            accept = (v > 0) & (np.log(u) < 0.5 * x * x + dp - dp * v + dp * log_v)
        out[pending[accept]] = np.log(dp[accept]) + log_v[accept]
        pending = pending[~accept]
    if pending.size:
        raise RuntimeError(f"standard_gamma: {pending.size} draws were not accepted in {_ROUNDS} rounds")
    if boosted.any():
        out[boosted] += np.log(_uniform(int(boosted.sum()))) / alpha[boosted]
    return out.reshape(concentration.shape)


def standard_gamma(concentration):
    """Gamma(concentration, 1) draws in float64 (see log_standard_gamma; 0 where it gives -inf)."""
    return np.exp(log_standard_gamma(concentration))


def standard_dirichlet(concentration):
    """Dirichlet draws over the last axis of the float64 array concentration: Gamma draws normalised in log space,
    so that no row of small draws divides 0 by 0 (clamp them to [TINY, ONE_BELOW] for f16)."""
    logs = log_standard_gamma(concentration)
    with np.errstate(invalid="ignore"):
        logs = logs - logs.max(-1, keepdims=True)
        x = np.exp(logs)
        return x / x.sum(-1, keepdims=True)


def _host(t):
    return t.detach().cpu().numpy().astype(np.float64)


def _f16(array, like):
    with np.errstate(over="ignore"):  # draws beyond f16's range become inf, as a cast to f16 in PyTorch
        return tensor(array.astype(np.float16), device=like.device)


# The gradients below are taken at the float64 draws, not at their f16 roundings: a draw clamped up to TINY has the
# (tiny) derivative of where it truly fell, not the derivative at TINY, which for concentrations near 0.001 (most
# draws clamped) doubled the mean gradient.

class _StandardGammaGrad(Function):
    """dx/dalpha at the float64 draws x64 of Gamma(alpha, 1); its own derivative is not implemented (as PyTorch's)."""

    @staticmethod
    def forward(ctx, alpha, x64):
        return _f16(standard_gamma_grad(_host(alpha), x64), alpha)

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("the derivative of a Gamma draw's reparameterised gradient (_standard_gamma_grad) "
                                  "is not implemented")


class _StandardGamma(Function):
    """Gamma(alpha, 1) draws of alpha's shape (f16, at least TINY), differentiable in alpha: implicitly, through
    the CDF the draw keeps when alpha moves."""

    @staticmethod
    def forward(ctx, alpha):
        x64 = standard_gamma(_host(alpha))
        ctx.save_for_backward(alpha)
        ctx.x64 = x64
        return _f16(np.maximum(x64, TINY), alpha)

    @staticmethod
    def backward(ctx, grad):
        (alpha,) = ctx.saved_tensors
        return grad * _StandardGammaGrad.apply(alpha, ctx.x64)


class _DirichletGrad(Function):
    """For Dirichlet draws x64 (float64): dx_j/dalpha_j of the marginal Beta(alpha_j, total - alpha_j) over 1 - x_j
    (PyTorch's _dirichlet_grad); its own derivative is not implemented (as PyTorch's)."""

    @staticmethod
    def forward(ctx, alpha, x64):
        a = _host(alpha)
        return _f16(dirichlet_grad(x64, a, a.sum(-1, keepdims=True)), alpha)

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("the derivative of a Dirichlet draw's reparameterised gradient (_dirichlet_grad) "
                                  "is not implemented")


class _Dirichlet(Function):
    """Dirichlet draws over the last dimension of alpha, differentiable in alpha along PyTorch's field
    dx_i/dalpha_j = D_j (delta_ij - x_i), D_j from _DirichletGrad: it moves each marginal x_j as its Beta's
    CDF requires (implicitly) and keeps the sum 1."""

    @staticmethod
    def forward(ctx, alpha):
        x64 = standard_dirichlet(_host(alpha))
        x = _f16(np.clip(x64, TINY, ONE_BELOW), alpha)
        ctx.save_for_backward(alpha, x)
        ctx.x64 = x64
        return x

    @staticmethod
    def backward(ctx, grad):
        alpha, x = ctx.saved_tensors
        return _DirichletGrad.apply(alpha, ctx.x64) * (grad - (x * grad).sum(-1, keepdim=True))


class _GammaDensity(Function):
    """x^(alpha-1) e^-x / Gamma(alpha) in float64 on the host (in f16 ops, (alpha - 1) log x - x - lgamma(alpha)
    cancels terms of 100 to the density's few units); its own derivative is not implemented."""

    @staticmethod
    def forward(ctx, alpha, x):
        a, v = np.broadcast_arrays(_host(alpha), _host(x))
        with np.errstate(divide="ignore", invalid="ignore"):
            log_pdf = (a - 1) * np.log(np.where(v > 0, v, 1.0)) - v - lgamma64(a).astype(np.float64)
        return _f16(np.where(v > 0, np.exp(log_pdf), 0.0), x)

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("the second derivative of the regularised incomplete gamma (the Gamma's cdf) is "
                                  "not implemented")


class _RegularizedGamma(Function):
    """P(alpha, x) computed on the host in float64 and rounded once; its gradient in x is the density, in alpha it
    raises, as torch.special.gammainc's."""

    @staticmethod
    def forward(ctx, alpha, x):
        ctx.save_for_backward(alpha, x)
        a, v = np.broadcast_arrays(_host(alpha), _host(x))
        return _f16(regularized_gamma(a, v), x)

    @staticmethod
    def backward(ctx, grad):
        alpha, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative of the regularised incomplete gamma (gammainc) with respect to "
                                      "its first argument, the Gamma's concentration, is not implemented")
        return None, (grad * _GammaDensity.apply(alpha, x)).sum_to_size(x.shape)


def regularized_gamma_tensor(alpha, x):
    """P(alpha, x) of tensors (broadcast), on x's device: the Gamma's CDF at x = rate value."""
    return _RegularizedGamma.apply(alpha, x)


def rsample_standard_gamma(alpha):
    """Gamma(alpha, 1) draws of alpha's shape on its device; gradients reach alpha."""
    return _StandardGamma.apply(alpha)


def rsample_dirichlet(alpha):
    """Dirichlet draws over alpha's last dimension, of its shape and on its device; gradients reach alpha."""
    return _Dirichlet.apply(alpha)
