"""Checks of random draws against the law they should follow, each failing by chance with probability at most
FALSE_FAILURE, so that the suite's few dozen such checks together fail a run by chance about once in 10^5 runs
(a CI run is one run of the suite, and any failure blocks it)."""
import math

import numpy as np
from scipy import stats

FALSE_FAILURE = 1e-7
Z = float(stats.norm.isf(FALSE_FAILURE / 2))  # 5.33: standard errors a mean of many draws stays within
MIN_EXPECTED = 5  # draws expected in each chi-square cell, below which its chi-square law does not hold


def chi_square_p(counts, p):
    """The chi-square p-value of counts drawn from probabilities p (zeros: never drawn, which is checked), the
    least likely cells pooled into one expected at least MIN_EXPECTED draws: a rare token drawn once would
    outweigh everything else (unpooled, 30000 draws of 24 tokens at temperature 0.7 gave p < 1e-6 in 1.5e-4 of
    simulated runs, 2026-12-06)."""
    counts, p = np.asarray(counts, dtype=np.float64), np.asarray(p, dtype=np.float64)
    support = p > 0
    assert counts[~support].sum() == 0, f"drew outside the support: {np.flatnonzero(counts * ~support)}"
    expected = p[support] / p[support].sum() * counts.sum()
    order = np.argsort(expected)
    counts, expected = counts[support][order], expected[order]
    pooled = int(np.searchsorted(np.cumsum(expected), MIN_EXPECTED)) + 1  # the smallest cells reaching it
    counts = np.append(counts[pooled:], counts[:pooled].sum())
    expected = np.append(expected[pooled:], expected[:pooled].sum())
    if counts.size < 2:  # one cell: every draw is in it, no degree of freedom
        return 1.0
    return stats.chisquare(counts, expected).pvalue


def assert_chi_square(counts, p, what=""):
    pvalue = chi_square_p(counts, p)
    assert pvalue > FALSE_FAILURE, f"{what} counts {counts} against probabilities {p}: chi-square p = {pvalue:.2e}"


def assert_mean_within(x, mean, sd, atol=0.0):
    """The means over axis 0 of the draws x within Z standard errors (sd / sqrt(len(x))) of `mean`, plus atol for
    what rounding each draw to f16 adds."""
    x = np.asarray(x, dtype=np.float64)
    bound = Z * np.asarray(sd, dtype=np.float64) / math.sqrt(len(x)) + atol
    gap = np.abs(x.mean(0) - mean)
    assert np.all(gap <= bound), f"means {x.mean(0)} against {mean}: off by {gap}, allowed {bound}"
