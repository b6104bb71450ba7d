"""The device sampler against numpy: the probabilities of every token under temperature, top-k and top-p
(numpy computes the same masked softmax in float64 from the same f16 logits), checked by chi-square over
many draws (one per row of a tall batch), on every device; top_k=1 and a tiny top_p are greedy; a seed
repeats the draws; rows of one batch are independent."""
import numpy as np
import pytest
from scipy import stats

import tensorlogic as tl
from tensorlogic import models
from stat_checks import FALSE_FAILURE, assert_chi_square

DRAWS = 30000


def intended(logits, temperature, top_k=0, top_p=1.0):
    """The distribution the sampler means, in float64: softmax(x / T) over the top_k and the most-likely-first
    prefix whose mass before each kept token is under top_p (for distinct logits)."""
    x = logits.astype(np.float64) / temperature
    if 0 < top_k < x.size:
        x = np.where(x < np.sort(x)[-top_k], -np.inf, x)
    p = np.exp(x - x.max())
    p /= p.sum()
    if top_p < 1:
        ranked = np.sort(p)[::-1]
        kept = int(((np.cumsum(ranked) - ranked) < top_p).sum())
        p = np.where(p < ranked[kept - 1], 0.0, p)
        p /= p.sum()
    return p


def draws(logits_row, rows, device, **kw):
    logits = tl.tensor(np.tile(logits_row, (rows, 1)), device=device)
    # tl's generator: the rng fixture seeds it, so TL_TEST_SEED replays the draws too
    return models.Sampler(seed=int(tl.randint(0, 2**31 - 1, (1,)).item()), **kw)(logits)


def distinct_logits(rng, vocab, scale):
    """f16 logits with no two equal (ties would make top-k and top-p ambiguous)."""
    while True:
        x = (rng.standard_normal(vocab) * scale).astype(np.float16)
        if len(np.unique(x)) == vocab:
            return x


@pytest.mark.parametrize("kw", [dict(temperature=1.0), dict(temperature=0.7), dict(temperature=1.3, top_k=5),
                                dict(temperature=1.0, top_p=0.8), dict(temperature=0.9, top_k=9, top_p=0.9)],
                         ids=["t1", "t0.7", "topk5", "topp0.8", "topk9-topp0.9"])
def test_distribution_matches_numpy(kw, device, rng):
    logits = distinct_logits(rng, 24, 1.5)
    while "top_p" in kw and top_p_margin(logits, **kw) < 3e-3:  # keep the cut clear of f16's rounding
        logits = distinct_logits(rng, 24, 1.5)
    counts = np.bincount(draws(logits, DRAWS, device, **kw), minlength=logits.size)
    assert_chi_square(counts, intended(logits, **kw))


def top_p_margin(logits, temperature, top_p, top_k=0):
    """How far from top_p the mass before any token comes (the device sums in f16)."""
    ranked = np.sort(intended(logits, temperature, top_k))[::-1]
    return np.abs(np.cumsum(ranked) - ranked - top_p).min()


@pytest.mark.usefixtures("rng")  # seeds tl's generator, which draws the sampler's seed
def test_rare_tokens_keep_their_weight(device):
    """Tokens e^-7 and e^-9 times less likely than the best are drawn at their rates (about 360 and 50 of
    400,000 draws): the noise reaches the Gumbel tail (uniforms in 2^-11 steps would cap it near 7.6)."""
    logits = np.array([0.0, -7.0, -9.0] + [-30.0] * 5, dtype=np.float16)
    p = intended(logits, 1.0)
    counts = np.bincount(draws(logits, 400000, device, temperature=1.0), minlength=logits.size)
    assert counts[1] > 0 and counts[2] > 0
    assert_chi_square(counts[:3], p[:3] / p[:3].sum())


def test_top_k_one_and_tiny_top_p_are_greedy(device, rng):
    """Also where the best logit is tied (argmax takes the first; so does the sampler's ranking)."""
    logits = np.stack([distinct_logits(rng, 50, 3.0) for _ in range(16)])
    for row in range(0, 16, 2):
        logits[row, rng.choice(50, 2, replace=False)] = logits[row].max()
    x = tl.tensor(logits, device=device)
    greedy = logits.astype(np.float32).argmax(-1)
    for _ in range(5):
        assert np.array_equal(models.Sampler(temperature=2.0, top_k=1)(x), greedy)
        assert np.array_equal(models.Sampler(temperature=2.0, top_p=1e-6)(x), greedy)
        assert np.array_equal(models.Sampler(temperature=2.0, top_k=3, top_p=1e-6)(x), greedy)
    assert np.array_equal(models.Sampler()(x), greedy)


def test_seed_repeats_the_draws(device, rng):
    x = tl.tensor(np.tile(distinct_logits(rng, 40, 1.0), (64, 1)), device=device)
    first = models.Sampler(1.0, top_k=20, top_p=0.95, seed=11)
    a = [first(x) for _ in range(3)]
    second = models.Sampler(1.0, top_k=20, top_p=0.95, seed=11)
    b = [second(x) for _ in range(3)]
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a[0], a[1])  # the stream moves on between steps
    assert not np.array_equal(models.Sampler(1.0, seed=12)(x), models.Sampler(1.0, seed=11)(x))


def test_rows_are_independent(device, rng):
    """Two rows with different distributions in one batch, drawn many times: each row has its own law and
    their joint counts are the product of the two (chi-square test of independence)."""
    a, b = distinct_logits(rng, 5, 1.0), distinct_logits(rng, 5, 0.5)
    steps = 4000
    x = tl.tensor(np.tile(np.stack([a, b]), (steps, 1)), device=device)
    ids = models.Sampler(1.0, seed=int(rng.integers(2**31)))(x).reshape(steps, 2)
    for row, logits in enumerate((a, b)):
        assert_chi_square(np.bincount(ids[:, row], minlength=logits.size), intended(logits, 1.0), f"row {row}")
    table = np.zeros((a.size, b.size))
    np.add.at(table, (ids[:, 0], ids[:, 1]), 1)
    table = table[table.sum(1) > 0][:, table.sum(0) > 0]
    assert stats.chi2_contingency(table).pvalue > FALSE_FAILURE


def test_only_the_ids_leave_the_device(device, rng):
    x = tl.tensor(distinct_logits(rng, 30, 1.0).reshape(1, 30), device=device)
    ids = models.Sampler(0.8, top_k=10, top_p=0.9).sample(x)
    assert ids.device == x.device and ids.dtype == tl.int64 and ids.shape == (1,)


def test_bad_arguments():
    # a NaN temperature made every probability NaN, and each draw token 0
    for kw in (dict(temperature=-1.0), dict(temperature=float("nan")), dict(temperature=float("inf")),
               dict(top_p=0.0), dict(top_p=1.5), dict(top_k=-1)):
        with pytest.raises(ValueError):
            models.Sampler(**kw)
