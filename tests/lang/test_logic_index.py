"""The sorted indexes of relations that grow during a fixpoint (lang/logic/tuples.py): an index of
sorted runs, appended a round's new keys at a time, finds what a fresh stable sort of all of them
does and its runs merged are that sort, a run-start table gives the ranges a binary search does, and a recursive relation read whole in each round is sorted
only as far as its new tuples, with answers against clingo."""
import random

import numpy as np
import pytest

from tensorlogic.lang.logic import arrays
from tensorlogic.lang.logic import tuples as T

from test_logic import clingo_model, ours

# Each test runs with the tuple engine on numpy and on engine tensors (the GPU's code, here on the CPU).
pytestmark = pytest.mark.usefixtures("tuple_arrays")


def random_keys(rng, n, words, space):
    """n keys with repeats: int64s in [0, space), or rows of `words` words (few values per word)."""
    if words:
        return rng.integers(-2, 3, size=(n, words))
    return rng.integers(0, space, size=n)


@pytest.mark.parametrize("words", [0, 2])
def test_run_index_finds_what_a_fresh_sort_does(words):
    # An index built from a first batch, then appended 1-40 more (of any size, empty too), finds for
    # each probe the rows a stable sort of all keys gives, in O(log n) runs; its runs merged into one
    # are that sort (keys and row numbers), and their run-start tables give numpy's searches.
    seed = random.randrange(1 << 30)
    rng = np.random.default_rng(seed)
    xp = arrays.for_device("cpu")
    space = int(rng.integers(1, 400))
    batches = [random_keys(rng, int(rng.integers(0, 300 if k == 0 else 40)), words, space)
               for k in range(rng.integers(2, 42))]
    index = T.RunIndex.of(xp, xp.asarray(batches[0]), None if words else space)
    done = len(batches[0])
    for batch in batches[1:]:
        if len(batch):
            index = index.appended(xp.asarray(batch), done)
        done += len(batch)
    keys = np.concatenate(batches)
    assert len(index.runs) <= max(done, 1).bit_length() + 1, (seed, [len(r.keys) for r in index.runs])
    # Probes inside the space, and outside it on both sides (computed arguments).
    probe = random_keys(rng, 50, words, space)
    if not words:
        probe = np.concatenate([probe, [-1, -7, space, space + 5]])
    ranges = index.ranges(xp.asarray(probe))
    fi, ti = (xp.numpy(a) for a in index.expand(ranges))
    same = (keys[None] == probe[:, None]).all(-1) if words else keys[None] == probe[:, None]
    assert sorted(zip(fi.tolist(), ti.tolist())) == sorted(zip(*(a.tolist() for a in np.nonzero(same)))), seed
    assert np.array_equal(xp.numpy(T.RunIndex.counts(ranges)), same.sum(1)), seed
    assert np.array_equal(xp.numpy(index.contains(xp.asarray(probe))), same.any(1)), seed
    whole = index.runs[0]
    for run in index.runs[1:]:
        whole = whole.merge(run)
    order = np.lexsort(keys.T[::-1]) if words else np.argsort(keys, kind="stable")
    assert np.array_equal(xp.numpy(whole.order), order), seed
    assert np.array_equal(xp.numpy(whole.keys), keys[order]), seed
    if not words:
        assert whole.starts is not None, seed
        lo, counts = (xp.numpy(a) for a in whole.ranges(xp.asarray(probe)))
        ordered = keys[order]
        want_lo = np.searchsorted(ordered, probe)
        assert np.array_equal(counts, np.searchsorted(ordered, probe, "right") - want_lo), seed
        assert np.array_equal(lo[counts > 0], want_lo[counts > 0]), seed


def test_a_recursive_relation_read_whole_is_sorted_by_its_new_tuples(monkeypatch):
    # `Reach(y) <- Reach(x), Edge(x, y), Reach(z), Edge(z, y)` over a long chain with random extra
    # edges takes a round per step and reads Reach whole in each: its index is merged with each
    # round's few new tuples: indexes are sorted whole a few times (Edge's), not once a round
    # (before, each of the 100-odd rounds sorted all of Reach).  Answers against clingo.
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    n = 150
    edges = {(f"n{k}", f"n{k + 1}") for k in range(n - 1)}
    edges |= {(f"n{rng.randrange(n)}", f"n{rng.randrange(n)}") for _ in range(rng.randrange(0, 6))}
    rules = ["reach(Y) :- reach(X), e(X, Y), reach(Z), e(Z, Y).", "cut(X) :- e(X, Y), not reach(Y)."]
    facts = {"e": sorted(edges), "reach": [("n0",)]}
    sorted_whole = []
    init = T.SortedIndex.__init__

    def recording(self, xp, keys, order=None, space=None):
        if order is None:
            sorted_whole.append(len(keys))
        init(self, xp, keys, order, space)

    monkeypatch.setattr(T.SortedIndex, "__init__", recording)
    got = ours(rules, facts, {"reach": "sparse"})
    want = clingo_model(rules, facts)
    assert got["reach"] == want["reach"] and got["cut"] == want.get("cut", set()), seed
    assert len(got["reach"]) > 100 and len(sorted_whole) <= 10, (seed, sorted_whole)


def test_growing_rows_keep_earlier_views_as_prefixes():
    # Rows appended in random batches (empty ones too) to capacity-doubled storage: every view
    # taken earlier still holds the rows of its time, a prefix of the last view.
    seed = random.randrange(1 << 30)
    rng = np.random.default_rng(seed)
    xp = arrays.for_device("cpu")
    first = rng.integers(-50, 50, size=(int(rng.integers(0, 20)), 3))
    grown = T.Growing(xp, 3, xp.asarray(first))
    views, want = [grown.rows()], [first]
    for _ in range(int(rng.integers(1, 30))):
        batch = rng.integers(-50, 50, size=(int(rng.integers(0, 40)), 3))
        grown.extend(xp.asarray(batch))
        views.append(grown.rows())
        want.append(np.concatenate([want[-1], batch]))
    for view, rows in zip(views, want):
        assert np.array_equal(xp.numpy(view), rows), seed


def test_a_domain_grown_each_round_repacks_the_keys_a_few_times(monkeypatch):
    # `d(Y, D + 1)` along a 300-node chain with random shortcuts computes a new distance into an
    # undeclared domain in each of its ~300 rounds: the relation's key set is packed over room that
    # doubles, rebuilt a few times (before, in every round: quadratic).  Answers against clingo.
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    n = 300
    edges = {(f"n{k}", f"n{k + 1}") for k in range(n - 1)}
    edges |= {(f"n{a}", f"n{a + rng.randrange(2, 9)}") for a in (rng.randrange(n - 9) for _ in range(5))}
    rules = ["d(Y, D + 1) :- d(X, D), e(X, Y)."]
    facts = {"e": sorted(edges), "d": [("n0", 0)]}
    built = []
    init = T.KeySet.__init__

    def recording(self, xp, space):
        built.append(space)
        init(self, xp, space)

    monkeypatch.setattr(T.KeySet, "__init__", recording)
    got = ours(rules, facts, {"d": "sparse"})
    assert got["d"] == clingo_model(rules, facts)["d"], seed
    assert len(got["d"]) >= n and len(built) <= 16, (seed, len(built))
