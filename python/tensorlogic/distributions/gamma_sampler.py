"""Standard Gamma draws on the host: Marsaglia and Tsang's rejection method ("A simple method for generating gamma
variables", 2000) in float64, fed by the Philox stream (tl.randn, tl.rand), for Gamma and Beta. The library has no
device kernel for it; the draws are made on the host and copied to the parameters' device."""
import numpy as np

from ..ops.random import rand, randn

# Each round accepts a candidate with probability above 0.95 for every shape (Marsaglia and Tsang), so 64 rounds
# leave an element unaccepted with probability below 0.05 ** 64: the loop is bounded whatever the input.
_ROUNDS = 64


def _uniform(n):
    """n uniforms in (0, 1) at 2**-22 resolution: two f16 draws (multiples of 2**-11) combined, offset off zero."""
    hi, lo = (rand(n).numpy().astype(np.float64) for _ in range(2))
    return hi + lo * 2.0 ** -11 + 2.0 ** -23


def standard_gamma(concentration):
    """Gamma(concentration, 1) draws, one per element of the float64 array concentration. A concentration that is not
    a positive finite number (unchecked without validate_args) draws 0 where it is 0, negative or NaN and inf where it
    is inf, as PyTorch's sampler: the rejection loop never sees it."""
    alpha = concentration.reshape(-1)
    out = np.where(alpha == np.inf, np.inf, 0.0)
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
            accept = (v > 0) & (np.log(u) < 0.5 * x * x + dp - dp * v + dp * np.log(np.where(v > 0, v, 1.0)))
        out[pending[accept]] = dp[accept] * v[accept]
        pending = pending[~accept]
    if pending.size:
        raise RuntimeError(f"standard_gamma: {pending.size} draws were not accepted in {_ROUNDS} rounds")
    if boosted.any():
        out[boosted] *= _uniform(int(boosted.sum())) ** (1.0 / alpha[boosted])
    return out.reshape(concentration.shape)
