"""Transitive closure in the language against a pure-Python semi-naive Datalog evaluation, in one
process on the CPU: a random graph of 2,000 nodes and 8,000 edges, target <= 1/10 of the Python time
and the identical relation.

Run: python benchmarks/datalog_closure.py [--nodes N --edges M]  -> benchmarks/results/datalog_closure.json"""
import random
import sys
import time

import numpy as np

import tensorlogic as tl
from tensorlogic import lang
from harness import int_options, write_results

TARGET = 10.0


def random_graph(n, m, seed=0):
    rng = random.Random(seed)
    edges = set()
    while len(edges) < m:
        edges.add((rng.randrange(n), rng.randrange(n)))
    return sorted(edges)


def python_seminaive(edges):
    """Path(x, y) <- Edge(x, y); Path(x, z) <- Path(x, y), Edge(y, z): each round joins only the
    previous round's new tuples, through an index of Edge by its first column."""
    succ = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    total, delta = set(edges), set(edges)
    while delta:
        new = set()
        for x, y in delta:
            for z in succ.get(y, ()):
                if (x, z) not in total:
                    new.add((x, z))
        total |= new
        delta = new
    return total


def program(n, edges):
    facts = "".join(f"Edge({a}, {b})\n" for a, b in edges)
    return (f"domain Node = 0..{n}\nrelation Edge(x: Node, y: Node)\n{facts}"
            "Path(x, y) <- Edge(x, y)\nPath(x, z) <- Path(x, y), Edge(y, z)\n")


def main(argv=None):
    args = int_options(argv, __doc__, nodes=2000, edges=8000, repeat=3)
    tl.set_default_device("cpu")
    edges = random_graph(args.nodes, args.edges)
    source = program(args.nodes, edges)

    start = time.perf_counter()
    expected = python_seminaive(edges)
    python_s = time.perf_counter() - start

    start = time.perf_counter()
    prog = lang.compile(source, "closure.tl")
    compile_s = time.perf_counter() - start
    runs = []
    for _ in range(args.repeat):
        prog = lang.compile(source, "closure.tl")
        start = time.perf_counter()
        path = prog.run()["Path"].numpy()
        runs.append(time.perf_counter() - start)
    ours_s = float(np.median(runs))
    got = set(map(tuple, np.argwhere(path > 0).tolist()))
    identical = got == expected

    rows = [
        {"name": "closure evaluation (s) vs pure-Python semi-naive", "tensorlogic": ours_s,
         "python": python_s, "unit": "s", "peer": "python", "ratio": python_s / ours_s,
         "target": TARGET, "meets_target": identical and python_s / ours_s >= TARGET},
        {"name": "parse + check of the program (s)", "tensorlogic": compile_s, "unit": "s",
         "ratio": None, "target": None},
    ]
    path_json = write_results("datalog_closure", rows, extra={
        "nodes": args.nodes, "edges": args.edges, "tuples": len(expected), "identical": identical})
    print(f"{args.nodes} nodes, {args.edges} edges: {len(expected)} tuples, identical={identical}")
    print(f"python semi-naive {python_s:.2f} s, tensorlogic {ours_s:.3f} s (median of {args.repeat}), "
          f"ratio {python_s / ours_s:.1f} (target {TARGET:g}); compile {compile_s:.2f} s -> {path_json}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
