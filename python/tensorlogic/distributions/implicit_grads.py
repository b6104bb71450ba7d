"""The implicit reparameterisation gradients of Gamma and Beta draws, in float64 on the host (numpy arrays in and
out): for a draw x = F^-1(u; a) of a distribution with CDF F, dx/da = -(dF/da)(x; a) / pdf(x; a) (Figurnov et al.,
"Implicit reparameterization gradients", 2018), the derivative PyTorch's rsample of Gamma, Beta and Dirichlet
gives. dF/da comes from the series and continued fractions of the incomplete gamma and beta functions
(Numerical Recipes, 6.2 and 6.4) differentiated alongside their evaluation (forward mode), so the result is
accurate to ~1e-12 relative, far inside the f16 rounding it meets next."""
import math

import numpy as np

_EPS = 1e-15  # a series or fraction has converged when its last step changes it by less than this, relatively
_TINY = 1e-300  # stands in for a zero denominator of the modified Lentz method
# Both the series and the fractions converge within a few times sqrt(max parameter) steps (~2,300 for f16's largest
# value, 65504); past the bound an element keeps its last value, which the test's rtol would show.
_MAX_STEPS = 20000


def digamma(a):
    """psi(a) for positive float64 a: the recurrence psi(a) = psi(a + 1) - 1 / a up to a >= 10, then the
    asymptotic series (its first omitted term is below 2e-14 there)."""
    a = np.array(a, dtype=np.float64)
    shift = np.zeros_like(a)
    for _ in range(10):
        low = a < 10
        if not low.any():
            break
        shift -= np.where(low, 1.0 / a, 0.0)
        a = np.where(low, a + 1, a)
    inv2 = 1.0 / (a * a)
    series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 / 132))))
    return shift + np.log(a) - 0.5 / a - series


def _fraction(b0, db0, coefficient):
    """1 / (b0 + a1 / (b1 + a2 / (b2 + ...))) and its derivative along the parameters' tangent, by the modified
    Lentz method carried in forward mode. coefficient(n, index) gives a_n, b_n and their tangents for the elements
    `index` still unconverged; b0 must be non-zero (it is, on the sides of the fractions used below)."""
    f, dlog = b0.copy(), db0 / b0  # the value of the fraction so far and the derivative of its log
    c, dc = b0.copy(), db0.copy()
    d, dd = np.zeros_like(b0), np.zeros_like(b0)
    index = np.arange(b0.size)
    for n in range(1, _MAX_STEPS):
        a, b, da, db = coefficient(n, index)
        cp, dcp, dp, ddp = c[index], dc[index], d[index], dd[index]
        # D_n = 1 / (b + a D_{n-1}) and C_n = b + a / C_{n-1}; the fraction's value is multiplied by C_n D_n
        denom = b + a * dp
        ddenom = db + da * dp + a * ddp
        denom = np.where(denom == 0, _TINY, denom)
        cn = b + a / cp
        dcn = db + da / cp - a * dcp / (cp * cp)
        cn = np.where(cn == 0, _TINY, cn)
        step = cn / denom
        dstep = dcn / cn - ddenom / denom
        f[index] *= step
        dlog[index] += dstep
        c[index], dc[index], d[index], dd[index] = cn, dcn, 1.0 / denom, -ddenom / (denom * denom)
        done = (np.abs(step - 1) < _EPS) & (np.abs(dstep) <= _EPS * np.abs(dlog[index]) + _EPS * 1e-3)
        index = index[~done]
        if index.size == 0:
            break
    h = 1.0 / f
    return h, -h * dlog


def _gamma_series(a, v):
    """S = sum_n x^n / ((a + 1) ... (a + n)) and dS/da, with P(a, x) = x^a e^-x S / Gamma(a + 1) (x < a + 1)."""
    # t_n = x^n / prod(a + k), dt_n/da = -t_n sum_k 1 / (a + k)
    term, harmonic = np.ones_like(a), np.zeros_like(a)
    s, ds = np.ones_like(a), np.zeros_like(a)
    index = np.arange(a.size)
    for n in range(1, _MAX_STEPS):
        term[index] *= v[index] / (a[index] + n)
        harmonic[index] += 1.0 / (a[index] + n)
        s[index] += term[index]
        ds[index] -= term[index] * harmonic[index]
        index = index[term[index] >= _EPS * s[index]]
        if index.size == 0:
            break
    return s, ds


def _gamma_fraction(a, v):
    """h and dh/da, with Q(a, x) = x^a e^-x h / Gamma(a) (x >= a + 1): Legendre's continued fraction
    h = 1 / (x + 1 - a + a_1 / (x + 3 - a + ...)), a_n = -n (n - a)."""

    def coefficient(n, index):
        an = -n * (n - a[index])
        return an, v[index] + 2 * n + 1 - a[index], np.full(index.size, float(n)), np.full(index.size, -1.0)

    return _fraction(v + 1 - a, np.full(a.size, -1.0), coefficient)


def _gamma_sides(alpha, x):
    """alpha and x broadcast as float64, and the masks of the elements below and above x = alpha + 1 (both positive
    and finite): the series serves below, the fraction above, where neither loses digits to cancellation."""
    alpha, x = np.broadcast_arrays(np.asarray(alpha, np.float64), np.asarray(x, np.float64))
    ok = (alpha > 0) & (x > 0) & np.isfinite(alpha) & np.isfinite(x)
    return alpha, x, ok & (x < alpha + 1), ok & (x >= alpha + 1)


def standard_gamma_grad(alpha, x):
    """dx/dalpha for draws x of Gamma(alpha, 1), as PyTorch's _standard_gamma_grad: with P the regularised lower
    incomplete gamma, -(dP/dalpha) / pdf(x), from the series below x = alpha + 1 and the fraction above. A draw of 0
    (one that underflowed float64) gives 0, the limit; an alpha that is not positive and finite or an infinite or
    negative x gives NaN."""
    alpha, x, lower, upper = _gamma_sides(alpha, x)
    out = np.where((x == 0) & (alpha > 0) & np.isfinite(alpha), 0.0, np.nan)
    if lower.any():
        a, v = alpha[lower], x[lower]
        s, ds = _gamma_series(a, v)
        # P / pdf = x S / alpha and dlog P / dalpha = log x - psi(alpha + 1) + S' / S
        out[lower] = -(v / a) * (s * (np.log(v) - digamma(a + 1)) + ds)
    if upper.any():
        a, v = alpha[upper], x[upper]
        h, dh = _gamma_fraction(a, v)
        # Q / pdf = x h and dQ / dalpha = Q (log x - psi(alpha)) + Q h' / h
        out[upper] = v * (h * (np.log(v) - digamma(a)) + dh)
    return out


lgamma64 = np.frompyfunc(math.lgamma, 1, 1)  # (numpy has no lgamma; an object array: cast it to float64)


def regularized_gamma(alpha, x):
    """P(alpha, x), the regularised lower incomplete gamma (torch.special.gammainc): 0 at x <= 0, 1 at x = inf, NaN
    for an alpha that is not positive and finite."""
    alpha, x, lower, upper = _gamma_sides(alpha, x)
    valid = (alpha > 0) & np.isfinite(alpha)
    out = np.where(valid & (x <= 0), 0.0, np.where(valid & (x == np.inf), 1.0, np.nan))
    if lower.any():
        a, v = alpha[lower], x[lower]
        s, _ = _gamma_series(a, v)
        out[lower] = np.exp(a * np.log(v) - v - lgamma64(a + 1).astype(np.float64)) * s
    if upper.any():
        a, v = alpha[upper], x[upper]
        h, _ = _gamma_fraction(a, v)
        out[upper] = -np.expm1(a * np.log(v) - v - lgamma64(a).astype(np.float64) + np.log(h))
    return out


def _beta_fraction(p, q, y, dp, dq):
    """K(p, q, y) with I_y(p, q) = y^p (1 - y)^q K / (p B(p, q)), and its derivative along (dp, dq): the continued
    fraction K = 1 / (1 + d_1 / (1 + d_2 / ...)) that converges fast for y < (p + 1) / (p + q + 2)."""

    def coefficient(n, index):
        pi, qi, yi, dpi, dqi = p[index], q[index], y[index], dp[index], dq[index]
        m = n // 2
        if n % 2:  # d_2m+1 = -(p + m)(p + q + m) y / ((p + 2m)(p + 2m + 1))
            d = -(pi + m) * (pi + qi + m) * yi / ((pi + 2 * m) * (pi + 2 * m + 1))
            dlog_p = 1 / (pi + m) + 1 / (pi + qi + m) - 1 / (pi + 2 * m) - 1 / (pi + 2 * m + 1)
            dd = d * dlog_p * dpi - (pi + m) * yi / ((pi + 2 * m) * (pi + 2 * m + 1)) * dqi
        else:  # d_2m = m (q - m) y / ((p + 2m - 1)(p + 2m))
            scale = m * yi / ((pi + 2 * m - 1) * (pi + 2 * m))
            d = scale * (qi - m)
            dd = -d * (1 / (pi + 2 * m - 1) + 1 / (pi + 2 * m)) * dpi + scale * dqi
        return d, np.ones_like(d), dd, np.zeros_like(d)

    ones = np.ones_like(p)
    return _fraction(ones, np.zeros_like(p), coefficient)


def _beta_grad_over_x1x(x, a, b):
    """dx/da for draws x of Beta(a, b), b held fixed, over x (1 - x): -(dI_x(a, b)/da) / (pdf(x) x (1 - x)). Below
    x = (a + 1) / (a + b + 2) from I_x(a, b) itself, above it from I_x(a, b) = 1 - I_{1-x}(b, a), each through the
    fraction of _beta_fraction. NaN for parameters that are not positive and finite or x outside (0, 1]."""
    x, a, b = np.broadcast_arrays(*(np.asarray(v, np.float64) for v in (x, a, b)))
    out = np.full(x.shape, np.nan)
    ok = (a > 0) & (b > 0) & np.isfinite(a) & np.isfinite(b) & (x > 0) & (x <= 1)
    below = ok & (x * (a + b + 2) < a + 1)
    above = ok & ~below
    for side in (below, above):
        if not side.any():
            continue
        xs, as_, bs = x[side], a[side], b[side]
        common = np.log(xs) + digamma(as_ + bs) - digamma(as_)
        zeros, ones = np.zeros_like(xs), np.ones_like(xs)
        if side is below:  # I / pdf = x (1 - x) K / a; dlog I / da = log x + psi(a + b) - psi(a) - 1 / a + K' / K
            k, dk = _beta_fraction(as_, bs, xs, ones, zeros)
            out[side] = -(k * (common - 1 / as_) + dk) / as_
        else:  # J = I_{1-x}(b, a) = 1 - I: J / pdf = x (1 - x) K / b, with a the fraction's second parameter
            k, dk = _beta_fraction(bs, as_, 1 - xs, zeros, ones)
            out[side] = (k * common + dk) / bs
    return out


def beta_grad(x, a, b):
    """dx/da for draws x of Beta(a, b), b held fixed (0 at x = 0 and x = 1, its limits there)."""
    x = np.asarray(x, np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(x == 0, 0.0, x * (1 - x) * _beta_grad_over_x1x(x, a, b))


def dirichlet_grad(x, alpha, total):
    """PyTorch's _dirichlet_grad: for a coordinate x of a Dirichlet draw, dx/dalpha of its marginal
    Beta(alpha, total - alpha) over 1 - x (finite at x = 1, 0 at x = 0)."""
    x = np.asarray(x, np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(x == 0, 0.0, x * _beta_grad_over_x1x(x, alpha, np.asarray(total, np.float64) - alpha))
