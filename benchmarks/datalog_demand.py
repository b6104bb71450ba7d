"""Relations derived on demand (lang/logic/demand.py) against the full evaluation and clingo, in one
process, answers compared: a rule bound by a small relation (`From(s, y) <- Start(s), Path(s, y)`
over a large strongly connected graph, Start two nodes of a tree beside it) and bound queries down
chains (`Path(0, y)?` through the left- and the right-linear closure), the rewrite's linear
recursions run in the native loop.

Each workload times, from the program's text and its facts as arrays to the answers: the language
deriving on demand, the language with demand turned off (the whole relation, as before demand
existed), and clingo (which grounds the whole program: it has no magic sets by default).  They
alternate --repeat times and the fastest of each is kept; ratios are the full evaluation's time and
clingo's over demand's.

Run: python benchmarks/datalog_demand.py [--repeat N] [--only NAME ...]
  -> benchmarks/results/datalog_demand.json
"""
import argparse
import time

import clingo
import numpy as np

from harness import write_results
from tensorlogic.lang import compile
from tensorlogic.lang.logic import datalog_text, demand

LEFT = ["path(X, Y) :- e(X, Y).", "path(X, Z) :- path(X, Y), e(Y, Z)."]
RIGHT = ["path(X, Y) :- e(X, Y).", "path(X, Z) :- e(X, Y), path(Y, Z)."]
FROM = ["from(S, Y) :- start(S), path(S, Y)."]
# name -> (rules, nodes, query, the relation the answers are of)
WORKLOADS = {
    "from_start_1500": (LEFT + FROM, 1500, None, "from"),
    "chain_left_1000": (LEFT, 1000, "r_path(0, v_y)", "path"),
    "chain_right_1000": (RIGHT, 1000, "r_path(0, v_y)", "path"),
    "chain_left_2000": (LEFT, 2000, "r_path(0, v_y)", "path"),
    "chain_right_2000": (RIGHT, 2000, "r_path(0, v_y)", "path"),
}


def facts(name):
    """{relation: rows}: chains 0 -> 1 -> ...; for from_start, a random graph of 3 edges a node on
    nodes 100.. (nearly all reach each other) and node 0's tree 0 -> 1..9, k -> 10k..10k+9, Start
    {3, 7}."""
    rules, n, _, _ = WORKLOADS[name]
    if name.startswith("chain"):
        return {"e": np.stack([np.arange(n - 1), np.arange(1, n)], axis=1)}
    rng = np.random.default_rng(0)
    tree = [(0, k) for k in range(1, 10)] + [(k, 10 * k + j) for k in range(1, 10) for j in range(10)]
    edges = np.unique(np.concatenate([np.array(tree), rng.integers(100, n + 100, size=(3 * n, 2))]), axis=0)
    return {"e": edges, "start": np.array([[3], [7]])}


def run_ours(name, on_demand):
    rules, n, query, out = WORKLOADS[name]
    rows = facts(name)
    prog = compile(f"domain Node = 0..{n + 100}\n" + datalog_text.program(
        rules, None, {k: v.shape[1] for k, v in rows.items()}, domain="Node"), max_iterations=10 ** 6)
    for k, v in rows.items():
        prog.add_facts(f"r_{k}", v)
    for rel in ("r_path", "r_from"):
        if rel in prog.model.relations:
            prog.storage(rel, "sparse")     # (the tuple engine: dense, Path is squared on the device)
    if on_demand:
        got = prog.query(query) if query else prog.query("r_from(v_s, v_y)")
    else:
        real = demand.answer, demand.restrict, demand.read_in_part
        demand.answer, demand.restrict, demand.read_in_part = \
            (lambda logic, low: None), (lambda logic, comp: {}), (lambda logic, comp: (set(), set()))
        try:
            got = prog.query(query) if query else prog.query("r_from(v_s, v_y)")
        finally:
            demand.answer, demand.restrict, demand.read_in_part = real
    return len(got), prog.runtime.logic.tuples_derived


def run_clingo(name):
    rules, n, query, out = WORKLOADS[name]
    text = datalog_text.program(rules, {k: v.tolist() for k, v in facts(name).items()}, style="clingo")
    ctl = clingo.Control(["--warn=none"])
    ctl.add("base", [], text)
    ctl.ground([("base", [])])
    count = []
    # (the query's answers: path(0, Y), or every tuple of from)
    ctl.solve(on_model=lambda m: count.append(sum(
        1 for s in m.symbols(atoms=True) if s.name == f"r_{out}" and (query is None or s.arguments[0].number == 0))))
    return count[0], None


def timed(fn, *args):
    start = time.perf_counter()
    answers, work = fn(*args)
    return time.perf_counter() - start, answers, work


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=list(WORKLOADS), choices=list(WORKLOADS))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    rows = []
    for name in args.only:
        best = {}
        for _ in range(args.repeat):
            for side, fn, extra in (("demand", run_ours, (True,)), ("full", run_ours, (False,)),
                                    ("clingo", run_clingo, ())):
                seconds, answers, work = timed(fn, name, *extra)
                if side in best and best[side]["answers"] != answers:
                    raise SystemExit(f"{name}: {side} gave {answers} answers, then {best[side]['answers']}")
                if side not in best or seconds < best[side]["seconds"]:
                    best[side] = {"seconds": seconds, "answers": answers, "tuples_derived": work}
        answers = {b["answers"] for b in best.values()}
        if len(answers) != 1:
            raise SystemExit(f"{name}: the answers differ: {best}")
        row = {"name": name, **{f"{k}_seconds": round(v["seconds"], 4) for k, v in best.items()},
               "answers": answers.pop(), "demand_tuples_derived": best["demand"]["tuples_derived"],
               "full_tuples_derived": best["full"]["tuples_derived"],
               "full_over_demand": round(best["full"]["seconds"] / best["demand"]["seconds"], 2),
               "clingo_over_demand": round(best["clingo"]["seconds"] / best["demand"]["seconds"], 2)}
        rows.append(row)
        print(row, flush=True)
    print(write_results("datalog_demand", rows, {"repeat": args.repeat}))


if __name__ == "__main__":
    main()
