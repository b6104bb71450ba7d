"""Closure-shaped recursion on dense relations: semi-naive rounds, handed over to repeated squaring
once they outlast its cost (lang/run/closure.py), against numpy on chains and random graphs with
fresh seeds, in every orientation of the rule; `explain` says which ran."""
import random

import numpy as np
import pytest

from tensorlogic import lang
from tensorlogic.lang.run.closure import Closure

RULES = {
    "right": "Path(x, z) <- Path(x, y), E(y, z)",
    "left": "Path(x, z) <- E(x, y), Path(y, z)",
    "right_transposed": "Path(x, z) <- Path(x, y), E(z, y)",
    "left_transposed": "Path(x, z) <- E(y, x), Path(y, z)",
}



def reference(edges, n, kind):
    """Path = E (I + S)* or (I + S)* E, S the step's orientation of E; the star by numpy's
    repeated squaring in float32."""
    base = np.zeros((n, n), np.float32)
    base[edges[:, 0], edges[:, 1]] = 1
    star = np.eye(n, dtype=np.float32) + (base.T if kind.endswith("transposed") else base)
    while True:
        grown = (star @ star > 0).astype(np.float32)
        if (grown == (star > 0)).all():
            break
        star = grown
    return (base @ star if kind.startswith("right") else star @ base) > 0


def graph_edges(graph, rng):
    if graph == "chain":
        n = 200
        order = rng.permutation(n)
        return n, np.stack([order[:-1], order[1:]], axis=1)
    if graph == "layers":
        # 60 layers of 8 nodes, each joined to the next: dense enough that every round is a full
        # product, and 60 rounds deep, so that squaring's 10 products win.
        n, width = 480, 8
        order = rng.permutation(n).reshape(-1, width)
        return n, np.array([(a, b) for k in range(len(order) - 1) for a in order[k] for b in order[k + 1]])
    n = int(rng.integers(20, 200))
    return n, np.unique(rng.integers(0, n, size=(2 * n, 2)), axis=0)


@pytest.mark.parametrize("kind", list(RULES))
@pytest.mark.parametrize("graph", ["chain", "random", "layers"])
def test_closure_matches_numpy(on_device, kind, graph, monkeypatch):
    if graph == "layers":
        # Which plan wins is timed, so under a loaded machine either can: here squaring is made to win at its
        # first chance, so that its path is the one checked (the choice itself is covered by the other graphs).
        worth = Closure.worth
        monkeypatch.setattr(Closure, "worth", lambda self, rt, spent: worth(self, rt, float("inf")))
    seed = random.randrange(1 << 30)
    n, edges = graph_edges(graph, np.random.default_rng(seed))
    prog = lang.compile(f"domain Node = 0..{n}\nrelation E(a: Node, b: Node)\nPath(x, y) <- E(x, y)\n"
                        f"{RULES[kind]}\n", max_iterations=10 * n)
    prog.add_facts("E", edges)
    prog.run()
    assert np.array_equal(prog["Path"].numpy() > 0, reference(edges, n, kind)), seed
    ran = [line for line in prog.explain().splitlines() if line.startswith("  rounds:")]
    assert ran and ("squarings of E" in ran[0] or graph != "layers"), ran
