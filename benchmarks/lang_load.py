"""Knowledge bases into the language, on the CPU, each against a peer in the same process:

1. parsing a program of 100,000 fact lines (target >= 100,000 lines/s), against Python's own
   `ast.parse` of the same lines written as Python calls (both build a syntax tree);
2. `load Edge from "edges.tsv"` of 1,000,000 facts of a binary relation over 100,000 named
   constants (target <= 2 s, program run included), against `numpy.loadtxt` of the same file
   (which only reads the strings, without mapping them to a domain).

Run: python benchmarks/lang_load.py [--facts N --lines N]  -> benchmarks/results/lang_load.json"""
import ast
import os
import random
import sys
import tempfile
import time

import numpy as np

import tensorlogic as tl
from tensorlogic import lang
from tensorlogic.lang.syntax.parser import parse
from harness import int_options, measure_pair, write_results

PARSE_TARGET = 100_000      # fact lines per second
LOAD_TARGET = 2.0           # seconds for the TSV of --facts facts


def fact_lines(n, nodes, seed=0):
    rng = random.Random(seed)
    return [f"Edge(n{rng.randrange(nodes)}, n{rng.randrange(nodes)})" for _ in range(n)]


def main(argv=None):
    args = int_options(argv, __doc__, lines=100_000, facts=1_000_000, nodes=100_000, repeat=3)
    tl.set_default_device("cpu")

    lines = fact_lines(args.lines, args.nodes)
    source = "\n".join(lines) + "\n"
    # The same text is a valid Python module: `ast.parse` builds its tree as the peer.
    parse_s, ast_s = measure_pair(lambda: parse(source, "kb.tl"), lambda: ast.parse(source),
                                  repeat=args.repeat, warmup=1)

    with tempfile.TemporaryDirectory() as tmp:
        tsv = os.path.join(tmp, "edges.tsv")
        with open(tsv, "w") as f:
            f.write("\n".join(line[5:-1].replace(", ", "\t") for line in fact_lines(args.facts, args.nodes, 1)))
            f.write("\n")
        program = os.path.join(tmp, "kb.tl")
        text = 'load Edge from "edges.tsv"\n'

        def ours():
            return lang.run(text, program)

        def peer():
            return np.loadtxt(tsv, dtype=str, delimiter="\t")

        load_s, loadtxt_s = measure_pair(ours, peer, repeat=args.repeat, warmup=0)
        # The machine may be shared: CPU time is what the load costs this process.
        start = time.process_time()
        prog = ours()
        load_cpu_s = time.process_time() - start
        facts = sum(len(r) for r in prog.model.relations["Edge"].rows)
    start = time.process_time()
    parse(source, "kb.tl")
    parse_cpu_s = time.process_time() - start

    rows = [
        {"name": f"parse {args.lines} fact lines (s) vs ast.parse", "tensorlogic": parse_s,
         "python-ast": ast_s, "unit": "s", "peer": "python-ast", "ratio": ast_s / parse_s,
         "lines_per_s": args.lines / parse_s, "cpu_s": parse_cpu_s, "target": PARSE_TARGET,
         "meets_target": args.lines / parse_s >= PARSE_TARGET,
         "meets_target_cpu": args.lines / parse_cpu_s >= PARSE_TARGET},
        {"name": f"load {args.facts} facts from a TSV (s) vs numpy.loadtxt", "tensorlogic": load_s,
         "numpy": loadtxt_s, "unit": "s", "peer": "numpy", "ratio": loadtxt_s / load_s,
         "cpu_s": load_cpu_s, "target": LOAD_TARGET,
         "meets_target": load_s <= LOAD_TARGET and facts == args.facts,
         "meets_target_cpu": load_cpu_s <= LOAD_TARGET and facts == args.facts},
    ]
    out = write_results("lang_load", rows, extra={"lines": args.lines, "facts": args.facts,
                                                 "nodes": args.nodes, "loaded": facts,
                                                 "load_average": os.getloadavg()})
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"parse: {args.lines} lines in {parse_s:.3f} s ({parse_cpu_s:.3f} s CPU) = "
          f"{args.lines / parse_s:,.0f} lines/s "
          f"(ast.parse {ast_s:.3f} s, ratio {ast_s / parse_s:.2f}; target {PARSE_TARGET:,}/s)")
    print(f"load: {facts} facts in {load_s:.3f} s, {load_cpu_s:.3f} s CPU (numpy.loadtxt {loadtxt_s:.3f} s, ratio "
          f"{loadtxt_s / load_s:.2f}; target <= {LOAD_TARGET} s) -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
