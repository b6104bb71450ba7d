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


def dkw_bound(n):
    """The Dvoretzky-Kiefer-Wolfowitz bound (Massart's constant): sup |F_n - F| over n draws exceeds it with probability
    at most FALSE_FAILURE, for every n and every law F, continuous or not."""
    return math.sqrt(math.log(2 / FALSE_FAILURE) / (2 * n))


def assert_cdf(draws, cdf, what="", low=-math.inf, atol=2e-3):
    """The draws' empirical CDF within the DKW bound of cdf (a function of a sorted float64 array), on both sides of
    each step, plus atol for f16's rounding of each draw (pdf times half an ulp). Draws clamped up to `low` hold
    the mass below it: cdf's left limit there counts as 0."""
    x = np.sort(np.asarray(draws, dtype=np.float64).ravel())
    n = x.size
    f = np.asarray(cdf(x), dtype=np.float64)
    gap = max(np.max(np.arange(1, n + 1) / n - f), np.max(np.where(x <= low, 0.0, f) - np.arange(n) / n))
    bound = dkw_bound(n) + atol
    assert gap <= bound, f"{what}: KS distance {gap:.4f} > {bound:.4f}"


def assert_pmf(draws, pmf, what=""):
    """Integer draws against the CDF summed from pmf over 0, 1, ..., len(pmf) - 1 (the DKW bound holds for discrete
    laws too)."""
    pmf = np.asarray(pmf, dtype=np.float64)
    counts = np.bincount(np.asarray(draws).astype(np.int64).ravel(), minlength=pmf.size)
    assert counts[pmf.size:].sum() == 0, f"{what}: draws beyond the pmf's {pmf.size} values"
    n = counts.sum()
    gap = np.abs(np.cumsum(counts[:pmf.size]) / n - np.cumsum(pmf)).max()
    assert gap <= dkw_bound(n) + 1e-6, f"{what}: KS distance {gap:.4f} > {dkw_bound(n):.4f}"
