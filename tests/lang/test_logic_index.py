"""The sorted indexes of relations that grow during a fixpoint (lang/logic/tuples.py): an index merged
with a round's new keys is the index a fresh stable sort of all of them gives, its run-start table
gives the ranges a binary search does, and a recursive relation read whole in each round is sorted
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
def test_merged_index_is_a_fresh_sort(words):
    # An index built from a first batch, then merged with 1-4 more (of any size, empty too), holds
    # the keys and row numbers of a stable sort of all rows; its ranges are numpy's searches.
    seed = random.randrange(1 << 30)
    rng = np.random.default_rng(seed)
    xp = arrays.for_device("cpu")
    space = int(rng.integers(1, 400))
    batches = [random_keys(rng, int(rng.integers(0, 300)), words, space) for _ in range(rng.integers(2, 6))]
    index = T.SortedIndex(xp, xp.asarray(batches[0]), space=None if words else space)
    done = len(batches[0])
    for batch in batches[1:]:
        index = index.merged(xp.asarray(batch), done)
        done += len(batch)
    keys = np.concatenate(batches)
    order = np.lexsort(keys.T[::-1]) if words else np.argsort(keys, kind="stable")
    assert np.array_equal(xp.numpy(index.order), order), seed
    assert np.array_equal(xp.numpy(index.keys), keys[order]), seed
    if not words:
        assert index.starts is not None, seed
        # Probes inside the space, and outside it on both sides (computed arguments).
        probe = np.concatenate([rng.integers(0, space, 50), [-1, -7, space, space + 5]])
        lo, counts = (xp.numpy(a) for a in index.ranges(xp.asarray(probe)))
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
