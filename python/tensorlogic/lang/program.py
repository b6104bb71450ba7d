"""The Python face of the language: `compile`, `run` and `Program` (tensors and relations as
`tl.Tensor`, domains, queries, tests)."""
from __future__ import annotations

import contextlib
import numbers
import os
import sys
from collections import namedtuple

import numpy as np

from .check.checker import check
from .engine import tl
from .errors import TensorLogicSyntaxError, located
from .run.datalog import query_rows
from .run.limits import DEFAULT_MAX_STEPS  # noqa: F401  (re-exported for the CLI)
from .run.loading import add_rows
from .run.runtime import DEFAULT_MAX_ITERATIONS, Runtime
from .run.statements import MAX_CALL_DEPTH
from .syntax import nodes as N
from .syntax.parser import parse

TestResult = namedtuple("TestResult", "name passed message")


class Program:
    """A checked program; `run()` executes it.  After a run, `prog["Y"]` is the tensor or relation
    named Y, `prog.domain("Person")` a domain's constants in index order and
    `prog.query("Ancestor(Alice, x)")` the bindings of a query."""

    def __init__(self, model, max_iterations=DEFAULT_MAX_ITERATIONS, max_steps=DEFAULT_MAX_STEPS,
                 time_limit=None):
        self.model = model
        self.runtime = Runtime(model, max_iterations, max_steps, time_limit)
        self.test_results = []

    @property
    def max_iterations(self):
        """The most iterations a recursive rule or equation set may take to reach its fixpoint (1000 by default);
        past it the program warns and keeps the last values."""
        return self.runtime.max_iterations

    @max_iterations.setter
    def max_iterations(self, n):
        self.runtime.max_iterations = int(n)

    def run(self, test=False):
        """Runs the top-level statements in order (definitions are evaluated when first read, and
        those that nothing read at the end, for their errors); with `test=True` also every `test`
        block.  Returns the program."""
        self.runtime.budget.start()
        with tl.no_grad(), _stack_for_calls():
            for item in self.model.actions:
                self.runtime.exec_top(item)
            self.runtime.evaluate_unread()
        if test:
            self.test()
        return self

    def test(self, verbose=True):
        """Runs the `test` blocks; returns a list of TestResult(name, passed, message)."""
        results = []
        self.runtime.budget.start()
        with tl.no_grad(), _stack_for_calls():
            for t in self.model.tests:
                try:
                    self.runtime.exec_scope(t.body, t.local_names)
                    results.append(TestResult(t.name, True, ""))
                except AssertionError as err:
                    results.append(TestResult(t.name, False, str(err)))
                if verbose:
                    r = results[-1]
                    print(f"test {r.name} ... {'ok' if r.passed else 'FAILED'}")
                    if not r.passed:
                        print(r.message)
        self.test_results = results
        return results

    def add_facts(self, name, rows):
        """Adds facts to relation `name` without the parser: `rows` is an array of shape [facts,
        arity] (integers, names as `str`, strings as `tl.lang.Text`) or a list of tuples of constants.
        Returns the program."""
        if name not in self.model.relations:
            raise KeyError(f"no relation named '{name}'")
        if not isinstance(rows, np.ndarray) and all(isinstance(r, (tuple, list)) for r in rows):
            # Tuples of constants: columns as given (an array would turn 1 into "1" beside a name).
            if len({len(r) for r in rows}) > 1:
                raise ValueError("add_facts takes rows of one length")
            if rows:
                add_rows(self.runtime, name, [list(c) for c in zip(*rows)], facts=len(rows))
            return self
        arr = np.asarray(rows)
        if arr.size == 0:
            return self
        if arr.ndim != 2:
            raise ValueError(f"add_facts takes rows of shape [facts, arity], not {list(arr.shape)}")
        add_rows(self.runtime, name, [arr[:, k] for k in range(arr.shape[1])])
        return self

    def set(self, name, value):
        """Gives tensor `name` (declared, or loaded) or global variable `name` a new value, as an
        assignment in the program would; definitions that read it are recomputed.  Returns the
        program."""
        if not (name in self.model.global_vars or
                (name in self.model.tensors and not self.model.tensors[name].derived)):
            raise KeyError(f"no tensor or variable named '{name}' that can be set (tensors defined "
                           f"by equations cannot)")
        self.runtime.set_var(name, value, None, None)
        return self

    def __getitem__(self, name):
        if name not in self:
            raise KeyError(name)
        with tl.no_grad():
            v = self.runtime.lookup(name, None, None)
        return v

    def __contains__(self, name):
        m = self.model
        return name in m.tensors or name in m.relations or name in m.global_vars

    def domain(self, name):
        """The constants of a domain in index order (also `Relation.k` for the inferred domain of
        argument k of an untyped relation)."""
        if name in self.model.domains:
            return self.model.domains[name].constants()
        rel, _, k = name.rpartition(".")
        if rel in self.model.relations and k.isdigit() and int(k) < self.model.relations[rel].arity:
            return self.model.relations[rel].domains[int(k)].constants()
        raise KeyError(name)

    def explain(self) -> str:
        """How the rules run: per group of relations, dense (einsums over 0/1 tensors) or sparse
        (tuples, database joins) and why; per sparse rule, its join order."""
        return self.runtime.logic.explain()

    def storage(self, name, kind):
        """Forces a relation's storage, "dense" or "sparse" (the engine chooses otherwise)."""
        self.runtime.logic.force(name, kind)

    def query(self, text):
        """`prog.query("Ancestor(Alice, x)")` -> [{"x": "Bob"}, ...]; a query without variables
        gives a bool."""
        text = text.strip()
        if not text.endswith("?"):
            text += "?"
        filename = "<query>"
        self.model.sources[filename] = text
        items = parse(text, filename).items
        if len(items) != 1 or not isinstance(items[0], N.Query):
            raise located(TensorLogicSyntaxError, "expected one query, like Ancestor(Alice, x)",
                          filename, items[0].span if items else None, text)
        q = items[0]
        self.model.checker.r_query(q, None)
        for lit in q.literals:
            e = lit.expr
            if not (isinstance(e, N.Call) and e.kind == "relation") and not isinstance(e, (N.Compare, N.Index)):
                raise self.model.error("a query holds atoms like R(x, y) (or a tensor read as one, "
                                       "Big[x])", e.span)
        if q.product is None:
            raise self.model.error("a tensor alone is not a query: read it as prog[name]", q.span)
        with tl.no_grad():
            return query_rows(self.runtime, q)


@contextlib.contextmanager
def _stack_for_calls():
    """Python's recursion limit high enough for MAX_CALL_DEPTH nested calls of user functions."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 40 * MAX_CALL_DEPTH))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def compile(source: str, filename: str = "<string>", max_iterations=DEFAULT_MAX_ITERATIONS,
            max_steps=DEFAULT_MAX_STEPS, time_limit=None, search_path=()) -> Program:
    """Parses and checks a program (following its imports) without running it.  `max_steps`
    bounds the loop iterations, calls and fixpoint rounds of a run; `time_limit` (seconds) its
    wall-clock time; `search_path` lists directories `import` also looks in."""
    _check_arguments(source, filename, max_iterations, max_steps, time_limit, search_path)
    return Program(check(source, filename, search_path), max_iterations, max_steps, time_limit)


def _check_arguments(source, filename, max_iterations, max_steps, time_limit, search_path):
    """TypeError or ValueError naming the argument: a negative max_steps ended the run as a step limit of -1, a NaN
    time limit was no limit, a string search_path was searched letter by letter, and None as the source raised
    "argument of type 'NoneType' is not iterable"."""
    if not isinstance(source, str):
        raise TypeError(f"compile: the source must be a str, got {type(source).__name__}")
    if not isinstance(filename, str):
        raise TypeError(f"compile: filename must be a str, got {type(filename).__name__}")
    for name, value in (("max_iterations", max_iterations), ("max_steps", max_steps)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"compile: {name} must be a positive int, got {value!r}")
    if time_limit is not None and (isinstance(time_limit, bool) or not isinstance(time_limit, numbers.Real) or
                                   not time_limit > 0):
        raise ValueError(f"compile: time_limit must be None or a positive number of seconds, got {time_limit!r}")
    if isinstance(search_path, (str, bytes)) or any(not isinstance(p, (str, os.PathLike)) for p in search_path):
        raise TypeError(f"compile: search_path must be a sequence of directory paths, got {search_path!r}")


def run(source: str, filename: str = "<string>", test=False, max_iterations=DEFAULT_MAX_ITERATIONS,
        max_steps=DEFAULT_MAX_STEPS, time_limit=None, search_path=()) -> Program:
    """Compiles and runs a program; returns it."""
    return compile(source, filename, max_iterations, max_steps, time_limit, search_path).run(test=test)
