"""The tuple engine's two array namespaces side by side on one device (tensorlogic/lang/logic/arrays.py):
numpy on the host against engine tensors (what a GPU runs), same programs, answers compared.  On the
CPU it says whether tensors may replace numpy there (numpy stays the default while it is faster); with
--device cuda it times the tensors on the GPU against numpy on that machine's CPU.

The two alternate in one process (numpy, tensors, numpy, ...) and the fastest of each is kept, so that
load from other processes falls on both alike; the load average is recorded beside each workload.

Run: python benchmarks/logic_arrays.py [--repeat N] [--device cuda] [--only NAME ...]
  -> benchmarks/results/logic_arrays[_DEVICE].json
"""
import argparse
import os
import time

import numpy as np

import tensorlogic as tl
from harness import write_results
from tensorlogic.lang import compile
from tensorlogic.lang.logic import arrays, datalog_text

from datalog_vs_clingo import RULES, random_edges

WORKLOADS = {
    # name: (rules, nodes, edges, relation counted, relations forced sparse)
    "triangles_1000": (RULES["triangles"], 1000, 4000, "tri", []),
    "closure_300_sparse": (RULES["closure"], 300, 1200, "path", ["path"]),
    "nonlinear_closure_200": (["path(X, Y) :- e(X, Y).", "path(X, Z) :- path(X, Y), path(Y, Z)."],
                              200, 600, "path", ["path"]),
    "two_hops_not_edge_1000": (["two(X, Z) :- e(X, Y), e(Y, Z), not e(X, Z)."], 1000, 5000, "two", []),
}


def run(name, tensors, device):
    rules, n, m, out, sparse = WORKLOADS[name]
    arrays.TENSORS_ON_CPU = tensors
    tl.set_default_device(device if tensors else "cpu")
    t0 = time.perf_counter()
    prog = compile(f"domain Node = 0..{n}\n" + datalog_text.program(rules, None, {"e": 2}, domain="Node"),
                   max_iterations=10 ** 6)
    prog.add_facts("r_e", random_edges(n, m))
    for rel in sparse:
        prog.storage(f"r_{rel}", "sparse")
    prog.run()
    count = len(prog.runtime.logic.table(f"r_{out}"))     # read back to the host: the work is done
    return time.perf_counter() - t0, count


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=list(WORKLOADS), choices=list(WORKLOADS))
    ap.add_argument("--device", default="cpu", help="where the tensors run (numpy runs on the host)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    rows = []
    for name in args.only:
        load = os.getloadavg()
        times = {"numpy": [], "tensors": []}
        counts = set()
        for _ in range(args.repeat):
            for kind in times:
                seconds, count = run(name, kind == "tensors", args.device)
                times[kind].append(seconds)
                counts.add(count)
        ours, peer = min(times["tensors"]), min(times["numpy"])
        # The harness's row format: ratio = peer time / ours (above 1: tensors faster).
        row = {"name": f"{name}, tensors on {args.device} vs numpy", "tensorlogic": ours, "numpy": peer,
               "unit": "s", "peer": "numpy", "ratio": peer / ours, "target": None,
               "same_answers": len(counts) == 1, "answers": sorted(counts), "seconds_each": times,
               "load_average": [load, os.getloadavg()]}
        rows.append(row)
        print(name, {k: v for k, v in row.items() if k != "seconds_each"}, flush=True)
    arrays.TENSORS_ON_CPU = False
    suite = "logic_arrays" + ("" if args.device == "cpu" else f"_{args.device}")
    write_results(suite, rows, {"device": args.device,
                                   "note": "numpy on the host against engine tensors on the device"})


if __name__ == "__main__":
    main()
