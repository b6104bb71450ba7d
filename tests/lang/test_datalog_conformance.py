"""The `datalog-conformance` suite (PyPI) through an adapter: each core case's program is written
as a `.tl` program (facts with quoted strings and integers, rules with `<-`, variables renamed so
that they never meet a constant), run, and every relation read back as rows of constants.

Two cases expect an error where LANGUAGE.md §3 fixes another meaning, and are checked against that
meaning instead: a variable only under `not` is quantified inside the negation (the suite itself
expects that meaning in nemo's `projected*` cases), and `Fib(n - 1, x)` binds `n`.
"""
import functools
import os
import re

import pytest
import yaml

from tensorlogic import lang
from tensorlogic.errors import TensorLogicError
from tensorlogic.lang.logic import arrays, datalog_text

datalog_conformance = pytest.importorskip("datalog_conformance")
from datalog_conformance.plugin import _load_multi_case_file  # noqa: E402
from datalog_conformance.schema import TestCase  # noqa: E402

# Each test runs with the tuple engine on numpy and on engine tensors (the GPU's code, here on the CPU).
pytestmark = pytest.mark.usefixtures("tuple_arrays")

# Case name -> (why our answer differs from the suite's, the relations we compute instead).
OUR_MEANING = {
    "unsafe_negation_variable_only_in_negative_literal":
        ("`not banned(X, Y)` holds when no Y has banned(X, Y)", {"ok": {("alice",)}}),
    "crepe_unbound_variable":
        ("`Fib(n - 1, x)` binds n (n = the position's value + 1)",
         {"Fib": {(n, f) for n, f in [(0, 0), (1, 1), (2, 1), (3, 2), (10, 55), (25, 75025)]}}),
}


class SafetyViolationError(Exception):
    """An unsafe rule, reported under the suite's codes."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


class ArityError(Exception):
    code = "arity_mismatch"


class StratificationError(Exception):
    code = "cyclic_negation"


class Relations(dict):
    """A program's relations as the runner reads them: each read back (as rows of constants) only
    when the runner asks for it."""

    def __init__(self, prog):
        super().__init__()
        self.prog = prog

    def get(self, name, default=None):
        rel = self.prog.model.relations.get(f"r_{name}")
        if rel is None:
            return default
        rows = self.prog.query(f"r_{name}({', '.join(f'q_{k}_' for k in range(rel.arity))})")
        if rel.arity == 0:
            return {()} if rows else set()
        return {tuple(r[f"q_{k}_"] for k in range(rel.arity)) for r in rows}

    __getitem__ = get


@functools.lru_cache(maxsize=2)
def run_text(text, tensors_on_cpu):
    """Cases that share a program (the suite asks for each relation of some as a case) run it
    once per engine (the key holds the engine, so a case never reads another engine's answer)."""
    return lang.run(text)


class Evaluator:
    def evaluate(self, program):
        try:
            prog = run_text(datalog_text.program(program.rules, program.facts), arrays.TENSORS_ON_CPU)
        except TensorLogicError as err:
            message = getattr(err, "message", str(err))
            if "unsafe rule" in message:
                raise SafetyViolationError(message, "unbound_variable") from err
            if "`_` cannot appear in a rule's head" in message:
                raise SafetyViolationError(message, "safety_violations") from err
            if "cannot be stratified" in message:
                raise StratificationError(message) from err
            if "argument" in message and "given" in message:
                raise ArityError(message) from err
            raise
        return datalog_conformance.Model(facts=Relations(prog))


@functools.cache
def cases_of(path):
    """The cases of one of the suite's files, read with libyaml (the suite's own discovery reads every
    file, the defeasible ones too, with the pure-Python loader: minutes on a busy machine)."""
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    return _load_multi_case_file(raw, path) if "tests" in raw else [TestCase.from_dict(raw)]


def core_cases():
    """The suite's non-defeasible cases as (file, position, the file's case names). A file is read when one
    of its tests runs: reading them all costs about 8 s (lubm's 17 MB of facts), which every pytest-xdist
    worker would pay at collection; the test checks the names against the cases read."""
    out = []
    root = datalog_conformance.get_tests_dir()
    for path in sorted(root.rglob("*.yaml")):
        if "defeasible" in path.relative_to(root).parts:
            continue
        text = path.read_text(encoding="utf-8")
        several = re.search(r"^tests:", text, re.M) is not None  # a file of cases, else a file of one case
        names = re.findall(r"^- name: (.+)$" if several else r"^name: (.+)$", text, re.M)
        out += [pytest.param(path, i, names, id=f"{path.parent.name}/{name}") for i, name in enumerate(names)]
    return out


# hmmer's program (45,589 constants) takes about 30 s on the 2-core CI machine, a fifth of the whole
# suite; its cases run with TL_SLOW_TESTS=1 (and in benchmarks/datalog_vs_clingo.py, beside clingo).
SLOW_PREFIX = "souffle_hmmer_"


@pytest.mark.parametrize("path,position,names", core_cases())
def test_conformance(path, position, names):
    if names[position].startswith(SLOW_PREFIX) and not os.environ.get("TL_SLOW_TESTS"):
        pytest.skip("a large program: run with TL_SLOW_TESTS=1")
    cases = cases_of(path)
    assert [c.name for c in cases] == names  # the names collection read are the file's cases, all of them
    case = cases[position]
    if case.name in OUR_MEANING:
        _, expected = OUR_MEANING[case.name]
        model = Evaluator().evaluate(case.program)
        for relation, rows in expected.items():
            assert rows <= model.facts[relation], relation
        return
    datalog_conformance.YamlTestRunner(Evaluator()).run_test_case(case)
