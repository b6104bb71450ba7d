"""Equations that project by min= or max= form a semiring's sum: they combine by min (max), each `=`
equation beside them giving candidate values, cells nothing reaches hold the identity (+inf, -inf),
and a recursive one iterates from it (docs/language.md §4). Each program against a plain-Python
oracle on a fresh random graph (the seed is in the failure message)."""
import math
import random

import numpy as np
import pytest

import tensorlogic as tl
from tensorlogic import lang

INF = math.inf


def _graph(seed, n, p=0.35, lo=1, hi=9):
    """A random weighted digraph as {(a, b): w}, integer weights (exact in f16 and in sums)."""
    rng = random.Random(seed)
    return {(a, b): rng.randint(lo, hi) for a in range(n) for b in range(n) if a != b and rng.random() < p}


def _matrix(edges, n, absent):
    m = np.full((n, n), absent, dtype=np.float64)
    for (a, b), w in edges.items():
        m[a, b] = w
    return m


def _bellman_ford(edges, n, source):
    d = [INF] * n
    d[source] = 0
    for _ in range(n):
        for (a, b), w in edges.items():
            d[b] = min(d[b], d[a] + w)
    return d


def _run(src, **tensors):
    prog = lang.compile(src, "prog.tl")
    for name, value in tensors.items():
        prog.set(name, tl.tensor(np.asarray(value, dtype=np.float16)))
    return prog.run()


def _values(prog, name):
    return np.asarray(prog[name].numpy(), dtype=np.float64).tolist()


@pytest.mark.parametrize("start", ["D[0] = 0", "D[y] min= Src[y]", "D[0] min= 0"])
def test_shortest_paths_as_a_recursive_min_equation(on_device, start):
    seed = random.randrange(2 ** 32)
    n = 9
    edges = _graph(seed, n)
    src = f"tensor W: float16[{n}, {n}]\ntensor Src: float16[{n}]\ntensor D: float16[{n}]\n" \
          f"{start}\nD[y] min= D[x] + W[x, y]\n"
    prog = _run(src, W=_matrix(edges, n, INF), Src=[0] + [INF] * (n - 1))
    assert _values(prog, "D") == _bellman_ford(edges, n, 0), f"seed {seed}"


def test_without_a_start_nothing_is_reached_and_large_weights_stand_for_no_edge(on_device):
    seed = random.randrange(2 ** 32)
    n = 7
    edges = _graph(seed, n)
    src = f"tensor W: float16[{n}, {n}]\nD[y] min= D[x] + W[x, y]\n" \
          f"tensor E: float16[{n}]\nE[0] = 0\nE[y] min= E[x] + W[x, y]\n"
    prog = _run(src, W=_matrix(edges, n, 10000))       # 10000 is exact in f16
    assert _values(prog, "D") == [INF] * n, f"seed {seed}"
    want = [min(d, 10000.0) for d in _bellman_ford(edges, n, 0)]
    assert _values(prog, "E") == want, f"seed {seed}"


def test_longest_and_most_reliable_and_widest_paths(on_device):
    """max-plus on a DAG, max-times with zero weights (inf * 0 must not make nan), max-min."""
    seed = random.randrange(2 ** 32)
    rng = random.Random(seed)
    n = 8
    dag = {(a, b): rng.randint(1, 9) for a in range(n) for b in range(a + 1, n) if rng.random() < 0.4}
    prob = {e: rng.choice([0.125, 0.25, 0.5, 1.0]) for e in dag}      # products exact in f16
    src = f"tensor W: float16[{n}, {n}]\ntensor P: float16[{n}, {n}]\ntensor C: float16[{n}, {n}]\n" \
          f"tensor L: float16[{n}]\nL[0] = 0\nL[y] max= L[x] + W[x, y]\n" \
          f"tensor R: float16[{n}]\nR[0] = 1\nR[y] max= R[x] P[x, y]\n" \
          f"tensor B: float16[{n}]\nB[0] = 100\nB[y] max= min(B[x], C[x, y])\n"
    prog = _run(src, W=_matrix(dag, n, -INF), P=_matrix(prob, n, 0), C=_matrix(dag, n, 0))
    P, C = _matrix(prob, n, 0), _matrix(dag, n, 0)
    longest, reliable, widest = [-INF] * n, [-INF] * n, [-INF] * n
    longest[0], reliable[0], widest[0] = 0, 1, 100
    for b in list(range(n)) * 2:           # every x is a candidate (a 0 of P or C too); a cell
        for a in range(n):                 # not reached yet is none
            longest[b] = max(longest[b], longest[a] + dag.get((a, b), -INF))
            if reliable[a] > -INF:
                reliable[b] = max(reliable[b], reliable[a] * P[a, b])
                widest[b] = max(widest[b], min(widest[a], C[a, b]))
    assert _values(prog, "L") == longest, f"seed {seed}"
    assert _values(prog, "R") == reliable, f"seed {seed}"
    assert _values(prog, "B") == widest, f"seed {seed}"


def test_viterbi_in_log_space_reads_before_the_first_step_as_nothing():
    """`Delta[t - 1, r]` at t = 0 reads -inf (the identity), not 0, while the recursion runs."""
    seed = random.randrange(2 ** 32)
    rng = np.random.default_rng(seed)
    s, o, t = 3, 4, 6
    init = np.log(rng.dirichlet(np.ones(s)))
    trans = np.log(rng.dirichlet(np.ones(s), size=s))
    emit = np.log(rng.dirichlet(np.ones(o), size=s))
    seq = rng.integers(0, o, size=t)
    src = f"tensor I: float16[{s}]\ntensor T: float16[{s}, {s}]\ntensor E: float16[{s}, {o}]\n" \
          f"tensor Seq: int32[{t}] = {seq.tolist()}\ntensor V: float16[{t}, {s}]\n" \
          "V[0, s] max= I[s] + E[s, Seq[0]]\nV[t, s] max= V[t - 1, r] + T[r, s] + E[s, Seq[t]]\n"
    i16, t16, e16 = (np.float16(x).astype(np.float64) for x in (init, trans, emit))
    prog = _run(src, I=i16, T=t16, E=e16)
    want = [i16 + e16[:, seq[0]]]
    for k in range(1, t):
        want.append((want[-1][:, None] + t16).max(axis=0) + e16[:, seq[k]])
    np.testing.assert_allclose(_values(prog, "V"), np.array(want), rtol=0.02, atol=0.02,
                               err_msg=f"seed {seed}")


def test_non_recursive_min_and_max_combine_and_fill_with_the_identity():
    prog = lang.run("tensor A: float16[2, 3] = [[4, 1, 7], [2, 9, 5]]\n"
                    "Y[i] min= A[i, j]\nY[3] = 6\nM[i] = A[i, 0]\nM[i] max= A[i, j] - 5\n", "prog.tl")
    assert _values(prog, "Y") == [1, 2, INF, 6]
    assert _values(prog, "M") == [4, 4]


def test_edit_distance_from_integer_borders():
    """`D[i, 0] = i` gives int32 candidates beside the float min= ones; reads before row and column 0
    are +inf while the recursion runs."""
    seed = random.randrange(2 ** 32)
    rng = random.Random(seed)
    a = [rng.randrange(4) for _ in range(rng.randint(1, 9))]
    b = [rng.randrange(4) for _ in range(rng.randint(1, 9))]
    n, m = len(a), len(b)
    src = f"tensor A: int32[{n}] = {a}\ntensor B: int32[{m}] = {b}\ntensor D: float16[{n + 1}, {m + 1}]\n" \
          "D[i, 0] = i\nD[0, j] = j\nD[i, j] min= D[i - 1, j] + 1\nD[i, j] min= D[i, j - 1] + 1\n" \
          "D[i, j] min= D[i - 1, j - 1] + (A[i - 1] != B[j - 1])\n"
    want = [[max(i, j) if not i * j else 0 for j in range(m + 1)] for i in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            want[i][j] = min(want[i - 1][j] + 1, want[i][j - 1] + 1, want[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
    assert _values(lang.run(src, "prog.tl"), "D") == want, f"seed {seed}: {a} {b}"
