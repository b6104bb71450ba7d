"""Rules in the language beside clingo (a mature grounder/solver), on the CPU, answers compared:
triangles of random graphs (listed, and counted per node with `count`), reachability on chains,
the `hmmer` program of datalog-conformance (tens of thousands of constants), the transitive closure
of a random graph (the dense path), same-generation on a random tree, Andersen-style points-to
analysis of random statements, and reachability past blocked nodes with the unreached ones found
by negation.
Many rounds of few new tuples each (a round should cost what it adds, not the relation): the closure
of a path, reachability round a cycle, same-generation on a deep tree, points-to down a chain of
assignments, and distances along a chain (arithmetic in the head).
The `wide_` workloads are the same graphs with node ids spread over (-2 * 10^9, 2 * 10^9) (clingo's
integers are 32-bit): their relations have more possible tuples than an int64 numbers (2^63), which
the tuple engine keys by rows of words and native rounds by dictionary codes.

Each run is a fresh process (its peak memory is its own): the language compiles the rules, takes the
facts as arrays (`add_facts`) and runs; clingo is given the same program as text, grounds and
solves.  With --repeat N the two alternate N times per workload (ours, clingo, ours, ...) and the
fastest of each is compared, so that load from other processes falls on both alike; the load
average is recorded beside each workload.  Bars (issue 17): sparse workloads within 2x clingo's
time and memory, dense closure >= 5x faster.

Run: python benchmarks/datalog_vs_clingo.py [--only NAME ...] [--repeat N] [--device cuda]
         [--baseline OTHER_CHECKOUT/python]  (the code before a change, alternated with the two)
  -> benchmarks/results/datalog_vs_clingo[_DEVICE].json
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import clingo
import datalog_conformance
import numpy as np
import yaml

import tensorlogic as tl
from harness import write_results
from tensorlogic.lang import compile
from tensorlogic.lang.logic import datalog_text

RULES = {
    "triangles": ["tri(X, Y, Z) :- e(X, Y), e(Y, Z), e(Z, X)."],
    "chain": ["reach(Y) :- reach(X), e(X, Y)."],
    "closure": ["path(X, Y) :- e(X, Y).", "path(X, Z) :- path(X, Y), e(Y, Z)."],
    "same_generation": ["sg(X, Y) :- e(P, X), e(P, Y), X != Y.", "sg(X, Y) :- e(A, X), sg(A, B), e(B, Y)."],
    # p = &a, p = q, p = *q, *p = q.
    "points_to": ["pt(P, A) :- addr(P, A).", "pt(P, A) :- assign(P, Q), pt(Q, A).",
                  "pt(P, A) :- load(P, Q), pt(Q, R), pt(R, A).", "pt(R, A) :- store(P, Q), pt(P, R), pt(Q, A)."],
    "reach_negation": ["reach(X) :- start(X).", "reach(Y) :- reach(X), e(X, Y), not blocked(Y).",
                       "unreached(X) :- node(X), not reach(X)."],
    # The language's head aggregate (datalog_text reads `count(Y)` as an atom: run_ours renames it).
    "triangle_count": ["tc(X, count(Y)) :- e(X, Y), e(Y, Z), e(Z, X)."],
    # The distance along a chain: arithmetic in the head (the rounds run in Python).
    "chain_distance": ["d(Y, D + 1) :- d(X, D), e(X, Y)."],
}
# Rules that clingo spells otherwise: a count per group is an aggregate in the body.
CLINGO_RULES = {
    "triangle_count": ["r_tc(V_X, N) :- r_e(V_X, _), N = #count{V_Y, V_Z : r_e(V_X, V_Y), r_e(V_Y, V_Z), "
                       "r_e(V_Z, V_X)}, N > 0."],
}
WORKLOADS = {
    "triangles_1000": ("triangles", 1000, 4000, "tri"),
    "triangles_10000": ("triangles", 10000, 40000, "tri"),
    "chain_20000": ("chain", 20000, None, "reach"),
    "chain_1000000": ("chain", 1000000, None, "reach"),
    "hmmer": ("hmmer", None, None, "IsPtr"),
    "closure_2000": ("closure", 2000, 8000, "path"),
    "wide_triangles_10000": ("wide_triangles", 10000, 40000, "tri"),
    "wide_closure_2000": ("wide_closure", 2000, 8000, "path"),
    "same_generation_2000": ("same_generation", 2000, None, "sg"),
    "points_to_10000": ("points_to", 10000, 10000, "pt"),
    "reach_negation_50000": ("reach_negation", 50000, 100000, "unreached"),
    "triangle_count_2000": ("triangle_count", 2000, 20000, "tc"),
    # The GPU bar (issue 17): run only when named, with --device cuda (clingo takes hours on it).
    "closure_20000": ("closure", 20000, 80000, "path"),
    # Many rounds of few new tuples each (a round's cost should follow what it adds, not the relation).
    "path_closure_2000": ("path_closure", 2000, None, "path"),
    "cycle_reach_20000": ("cycle_reach", 20000, None, "reach"),
    "deep_same_generation_4000": ("deep_same_generation", 4000, None, "sg"),
    "chain_points_to_4000": ("chain_points_to", 4000, None, "pt"),
    "chain_distance_20000": ("chain_distance", 20000, None, "d"),
}
DEFAULT = [w for w in WORKLOADS if w != "closure_20000"]


def random_edges(n, m, seed=0):
    rng = np.random.default_rng(seed)
    edges = np.unique(rng.integers(0, n, size=(int(m * 1.1) + 16, 2)), axis=0)
    return edges[rng.permutation(len(edges))[:m]]


def spread_ids(edges, n, seed=0):
    """The edges with node k renamed to the k-th of n distinct ids drawn from (-2 * 10^9, 2 * 10^9),
    its ends included (so that the domains' extents are the range's)."""
    rng = np.random.default_rng(seed)
    ids = np.unique(np.concatenate([[-2 * 10 ** 9 + 1, 2 * 10 ** 9 - 1],
                                    rng.integers(-2 * 10 ** 9 + 1, 2 * 10 ** 9, size=2 * n)]))
    ids = np.concatenate([ids[[0, -1]], rng.permutation(ids[1:-1])])[:n]
    return ids[edges]


def workload(name):
    """(rules, {relation: rows}, relation counted, nodes or None: a declared domain 0..n)."""
    kind, n, m, out = WORKLOADS[name]
    if kind.startswith("wide_"):
        return RULES[kind[5:]], {"e": spread_ids(random_edges(n, m), n)}, out, None
    if kind == "hmmer":
        path = datalog_conformance.get_tests_dir() / "recursion" / "souffle_example_hmmer.yaml"
        raw = yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
        case = raw["tests"][0] if "tests" in raw else raw
        return case["program"]["rules"], case["program"]["facts"], out, None
    if kind == "same_generation":
        # A random tree: node k's parent is one of the 20 nodes before it (a deep, narrow tree).
        rng = np.random.default_rng(0)
        child = np.arange(1, n)
        return RULES[kind], {"e": np.stack([np.maximum(child - rng.integers(1, 21, n - 1), 0), child], 1)}, out, n
    if kind == "points_to":
        rng = np.random.default_rng(0)
        parts = {"addr": m // 4, "assign": m // 2, "load": m // 8, "store": m // 8}
        return RULES[kind], {r: np.unique(rng.integers(0, n, (k, 2)), axis=0) for r, k in parts.items()}, out, n
    if kind == "reach_negation":
        rng = np.random.default_rng(0)
        nodes = np.arange(n).reshape(-1, 1)
        return RULES[kind], {"e": random_edges(n, m), "start": nodes[:10], "node": nodes,
                             "blocked": np.unique(rng.integers(10, n, (n // 5, 1)), axis=0)}, out, n
    if kind == "path_closure":
        return RULES["closure"], {"e": np.stack([np.arange(n - 1), np.arange(1, n)], axis=1)}, out, n
    if kind == "cycle_reach":
        edges = np.stack([np.arange(n), (np.arange(n) + 1) % n], axis=1)
        return RULES["chain"], {"e": edges, "reach": np.zeros((1, 1), dtype=np.int64)}, out, n
    if kind == "deep_same_generation":
        # Node k's parent is one or two before it: a tree about n / 1.5 levels deep, few nodes a level.
        rng = np.random.default_rng(0)
        child = np.arange(1, n)
        return RULES["same_generation"], {"e": np.stack([np.maximum(child - rng.integers(1, 3, n - 1), 0),
                                                         child], 1)}, out, n
    if kind == "chain_points_to":
        # p_k = p_(k-1) down a chain from p_0 = &o_j for 100 objects (ids n..n+99), with a few loads and
        # stores: about n rounds of 100 new tuples each, and the non-linear rules read `pt` whole.
        rng = np.random.default_rng(0)
        k = np.arange(1, n)
        return RULES["points_to"], {"addr": np.stack([np.zeros(100, np.int64), n + np.arange(100)], 1),
                                    "assign": np.stack([k, k - 1], 1),
                                    "load": np.unique(rng.integers(0, n, (n // 100, 2)), axis=0),
                                    "store": np.unique(rng.integers(0, n, (n // 100, 2)), axis=0)}, out, n + 100
    if kind == "chain_distance":
        edges = np.stack([np.arange(n - 1), np.arange(1, n)], axis=1)
        return RULES[kind], {"e": edges, "d": np.zeros((1, 2), dtype=np.int64)}, out, None
    if kind == "chain":
        edges = np.stack([np.arange(n - 1), np.arange(1, n)], axis=1)
        return RULES["chain"], {"e": edges, "reach": np.zeros((1, 1), dtype=np.int64)}, out, n
    return RULES[kind], {"e": random_edges(n, m)}, out, n


def run_ours(name, device=None):
    rules, facts, out, n = workload(name)
    if device is not None:
        tl.set_default_device(device)
    t0 = time.perf_counter()
    arities = {k: v.shape[1] if isinstance(v, np.ndarray) else len(v[0]) for k, v in facts.items()}
    head = f"domain Node = 0..{n}\n" if n else ""
    text = datalog_text.program(rules, None, arities, domain="Node" if n else None)
    prog = compile(head + text.replace("r_count(", "count("), max_iterations=10 ** 7, max_steps=10 ** 8)
    for k, rows in facts.items():
        prog.add_facts(f"r_{k}", rows)
    if device not in (None, "cpu") and WORKLOADS[name][0] == "closure":
        prog.storage(f"r_{out}", "dense")       # on an accelerator, the dense path
    prog.run()
    logic = prog.runtime.logic
    rel = f"r_{out}"
    storage = logic.storage(prog.runtime.component[rel])[0]
    count = len(logic.table(rel)) if storage == "sparse" else int(np.count_nonzero(prog[rel].numpy()))
    return time.perf_counter() - t0, count, storage


def run_clingo(name):
    rules, facts, out, n = workload(name)
    t0 = time.perf_counter()
    kind = WORKLOADS[name][0]
    text = datalog_text.program([] if kind in CLINGO_RULES else rules,
                                {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in facts.items()},
                                style="clingo") + "\n".join(CLINGO_RULES.get(kind, []))
    ctl = clingo.Control(["--warn=none"])
    ctl.add("base", [], text)
    ctl.ground([("base", [])])
    count = []
    ctl.solve(on_model=lambda m: count.append(sum(1 for s in m.symbols(atoms=True)
                                                  if s.name == f"r_{out}")))
    return time.perf_counter() - t0, count[0], "clingo"


def closure_size(edges, n):
    """The number of (x, y) with a path of one or more edges from x to y, computed independently of both
    systems: strongly connected components (iterative Tarjan), then each component's reachable set as a
    Python-int bitset, in reverse topological order (Tarjan emits components sinks first)."""
    succ = [[] for _ in range(n)]
    for a, b in edges:
        succ[int(a)].append(int(b))
    index, low, comp, order, stack, on_stack, components = [-1] * n, [0] * n, [-1] * n, [0], [], [False] * n, []
    for root in range(n):
        if index[root] >= 0:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = order[0]
                order[0] += 1
                stack.append(v)
                on_stack[v] = True
            if i < len(succ[v]):
                work.append((v, i + 1))
                w = succ[v][i]
                if index[w] < 0:
                    work.append((w, 0))
                elif on_stack[w]:
                    low[v] = min(low[v], index[w])
                continue
            if low[v] == index[v]:
                members = []
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    comp[w] = len(components)
                    members.append(w)
                    if w == v:
                        break
                components.append(members)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    reach = []                                      # bitset of nodes reachable by >= 1 edge
    for c, members in enumerate(components):
        bits = 0
        for v in members:
            for w in succ[v]:
                bits |= reach[comp[w]] | (1 << w) if comp[w] != c else (1 << w)
        if len(members) > 1:
            bits |= sum(1 << v for v in members)
        reach.append(bits)
    return sum(len(members) * bin(reach[c]).count("1") for c, members in enumerate(components))


def child(system, name, device):
    seconds, count, how = run_ours(name, device) if system == "ours" else run_clingo(name)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "answers": count, "peak_mb": peak, "how": how}))


def measure(system, name, timeout, device, baseline=None):
    """One run in a fresh process; `baseline`: the language imported from that python/ directory
    (another checkout's) instead."""
    env = dict(os.environ)
    if baseline:
        env["PYTHONPATH"] = os.pathsep.join([baseline] + [p for p in [env.get("PYTHONPATH")] if p])
    try:
        done = subprocess.run([sys.executable, __file__, "--child", "ours" if baseline else system, name] +
                              (["--device", device] if device else []),
                              capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout} s"}
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=DEFAULT, choices=list(WORKLOADS))
    ap.add_argument("--device", help="the language's device (clingo runs on the CPU); results go to "
                                     "datalog_vs_clingo_DEVICE.json")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--baseline", metavar="PYTHON_DIR",
                    help="also run the language from this python/ directory (another checkout: the code "
                         "before a change), alternated with the other two, recorded as 'before'")
    ap.add_argument("--child", nargs=2, metavar=("SYSTEM", "WORKLOAD"))
    args = ap.parse_args(argv)
    if args.child:
        child(*args.child, args.device)
        return
    # A run of some workloads (--only) updates their rows of the last results.
    suite = "datalog_vs_clingo" + (f"_{args.device}" if args.device else "")
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", f"{suite}.json")
    results = {}
    if set(args.only) != set(DEFAULT) and os.path.exists(path):
        with open(path) as f:
            results = json.load(f)["results"]
    for name in args.only:
        load = os.getloadavg()
        runs = {"ours": [], "clingo": []} | ({"before": []} if args.baseline else {})
        for _ in range(args.repeat):
            for system in runs:
                runs[system].append(measure(system, name, args.timeout, args.device,
                                            args.baseline if system == "before" else None))
        ours, peer, *before = (min(r, key=lambda m: m.get("seconds", float("inf"))) for r in runs.values())
        row = {"ours": ours, "clingo": peer, "load_average": [load, os.getloadavg()]}
        if before and "error" not in before[0] and "error" not in ours:
            row["before"] = before[0]
            row["speedup_over_before"] = before[0]["seconds"] / ours["seconds"]
            row["same_answers_as_before"] = before[0]["answers"] == ours["answers"]
        if args.repeat > 1:
            row["seconds_each"] = {k: [m.get("seconds") for m in r] for k, r in runs.items()}
        if "error" in peer and "error" not in ours and WORKLOADS[name][0] == "closure":
            t0 = time.perf_counter()
            kind, n, m, _ = WORKLOADS[name]
            expected = closure_size(random_edges(n, m), n)
            row["oracle"] = {"answers": expected, "seconds": time.perf_counter() - t0,
                             "how": "SCCs and reachable-set bitsets in Python (clingo did not finish)"}
            row["same_answers_as_oracle"] = ours["answers"] == expected
            row["time_ratio_below"] = ours["seconds"] / args.timeout   # clingo took longer than the timeout
        if "error" not in ours and "error" not in peer:
            row["same_answers"] = ours["answers"] == peer["answers"]
            row["time_ratio"] = ours["seconds"] / peer["seconds"]
            row["memory_ratio"] = ours["peak_mb"] / peer["peak_mb"]
        results[name] = row
        print(name, json.dumps(row), flush=True)
    write_results(suite, results,
                  {"load_average_after": os.getloadavg(),
                   "note": "the language takes facts as arrays; clingo parses them as text"})


if __name__ == "__main__":
    main()
