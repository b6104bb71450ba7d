"""Static checking of a parsed program: imports, declarations, the split into facts, rules,
equations and statements, name resolution, domain inference, arities, stratification, and the
index/shape checks that need no data.  The result, a `Model`, is what the interpreter runs."""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field

import numpy as np

from . import catalog
from ..constants import NAME, Text, constant_key, constant_kind
from ..errors import Span, TensorLogicTypeError, UndefinedRelationWarning, located, warn_at
from ..syntax import nodes as N
from ..syntax.grammar import spells_name
from ..syntax.parser import parse
from .domains import Domain, DomainInference, UnionFind
from ..datafiles import DataFileError, data_path, peek, read_table_once
from .indices import StaticShapes
from ..logic.rules import check_rules
from .constants import warn_unheld_constants
from .lower import lower
from .overlaps import warn_added_equations
from .resolve import Resolver, target_name
from .strata import Graph, Stratifier
from .structs import SCALAR_TYPES, StructChecker
from .value_shapes import ValueShapes

# Element types of tensors: every float is f16 (the seed's float32 included), integers are int32.
DTYPES = {"float16": "float16", "f16": "float16", "half": "float16", "float32": "float16",
          "f32": "float16", "float64": "float16", "float": "float16", "bfloat16": "float16",
          "int32": "int32", "int64": "int32", "int": "int32", "bool": "float16"}


@dataclass
class RelationInfo:
    name: str
    arity: int
    decl: N.RelationDecl | None = None
    span: Span | None = None                 # first place it appears
    facts: list = field(default_factory=list)     # (tuple of N nodes) in source order
    fact_rows: list = field(default_factory=list)  # constants of facts read by the parser's fast path
    rows: list = field(default_factory=list)      # int64 [n, arity] domain indices of loaded facts
    rules: list = field(default_factory=list)     # N.Rule
    domains: list = field(default_factory=list)   # Domain per position, after inference
    column_types: dict = field(default_factory=dict)  # position -> "int" / "string" (`km: int`)
    undefined: bool = False                  # nothing defines it: read under `not` only (empty)
    names_only: bool = True                  # every fact argument so far is an unquoted name


# Scalar types an argument may be declared with instead of a domain: its domain is inferred (as with
# `entity`), and `int` requires integer constants.  Relations hold no fractional numbers.
COLUMN_TYPES = {"int": "int", "int32": "int", "int64": "int", "string": "string", "str": "string",
                "float": None, "float16": None, "float32": None, "float64": None, "bool": None}


@dataclass
class TensorInfo:
    name: str
    decl: N.TensorDecl | None = None
    dtype: str = "float16"
    mode: str = "derived"                     # "learnable", "frozen" (given data) or "derived"
    equations: list = field(default_factory=list)  # N.Assign defining it
    span: Span | None = None
    rank: int | None = None
    static_shape: tuple | None = None         # ints or None per axis, when known

    @property
    def derived(self) -> bool:
        return bool(self.equations)

    @property
    def lattice(self) -> str | None:
        return lattice(self.equations)


def _index_notation(e) -> bool:
    return any(isinstance(n, N.Name) and n.role == "var" for n in N.walk(e))


def lattice(equations) -> str | None:
    """"min" or "max" when the equations project by it, beside plain `=` ones (`D[y] min= D[x] +
    W[x, y]` with `D[0] = 0`): that is a semiring's sum, so the equations combine by it, each `=`
    giving candidate values, and a cell none of them reaches, or that a recursion has not reached
    yet, holds its identity (+inf or -inf)."""
    ops = {e.op for e in equations} - {"="}
    return {"min=": "min", "max=": "max"}.get(ops.pop()) if len(ops) == 1 else None


@dataclass
class Model:
    """A checked program."""
    filename: str
    sources: dict
    items: list
    domains: dict
    relations: dict
    tensors: dict
    functions: dict
    global_vars: set
    constants: set
    actions: list
    tests: list
    learns: list
    graph: Graph
    order: list                                # components in dependency order
    named_sizes: dict = field(default_factory=dict)
    plans: dict = field(default_factory=dict)    # see Checker.plans
    structs: dict = field(default_factory=dict)  # name -> N.StructDecl
    methods: dict = field(default_factory=dict)  # (struct, name) -> N.FnDecl
    drops: dict = field(default_factory=dict)    # struct -> its `drop(self)`
    loaded_tables: dict = field(default_factory=dict)  # path -> (signature, columns): the checker's reads

    def error(self, message, span):
        return located(TensorLogicTypeError, message, _file(span, self.filename), span,
                       self.sources.get(_file(span, self.filename)))


def top_level_learns(item):
    """The `learn` blocks that run at the top level: the item itself or one inside its top-level
    `if`/`for`/`while`/`{ }` (not inside `main`, tests or functions).  Their equations define
    program tensors wherever the block stands, as a learn block written at the top level does."""
    if isinstance(item, N.Learn):
        yield item
    elif isinstance(item, (N.For, N.While, N.Block)):
        for s in item.body:
            yield from top_level_learns(s)
    elif isinstance(item, N.If):
        for s in item.then + (item.orelse or []):
            yield from top_level_learns(s)


def _file(span, default):
    return span.file if span is not None and span.file is not None else default


# Most constants a domain may hold (an axis of a relation's tensor).
MAX_DOMAIN_SIZE = 2**31 - 1
# Most members of a domain read as a relation (`Person(x)`): one row per member is made for it.
MAX_DOMAIN_RELATION = 1 << 24
# Largest program file read (`tl run`, `import`): far above any program, far below what would exhaust memory.
MAX_IMPORT_BYTES = 16 << 20


class UnreadableSource(ValueError):
    """A program file that is not text of a readable size; the message says which (no path in it)."""


_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # (none on Windows, where a named pipe is no file path)


def read_source(path):
    """A program file's text: at most MAX_IMPORT_BYTES of UTF-8. Read with a cap, since a device file
    (/dev/zero) or a pipe has no size to check first and would be read until memory ran out."""
    try:
        # Opened without waiting: a FIFO that no process writes to would block open() for ever; opened so, it
        # reads as empty (a pipe with a writer, /dev/stdin, reads as before once blocking is back on).
        fd = os.open(path, os.O_RDONLY | _NONBLOCK)
        with open(fd, "rb") as f:
            if _NONBLOCK:
                os.set_blocking(fd, True)
            data = f.read(MAX_IMPORT_BYTES + 1)
    except OSError as err:  # a read's error (a directory, /proc/self/mem) has no file name of its own
        raise OSError(err.errno, err.strerror, path) from None
    if len(data) > MAX_IMPORT_BYTES:
        raise UnreadableSource(f"larger than {MAX_IMPORT_BYTES >> 20} MiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise UnreadableSource(f"not UTF-8 text (byte {err.start})") from None
    # as Python reads its own source: a byte-order mark (editors on Windows write one) is not part of the text, and
    # \r\n or a lone \r ends a line
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def check(source: str, filename: str = "<string>", search_path=()) -> Model:
    """Parses (following imports) and checks a program.  `import` looks next to the importing file,
    then in each directory of `search_path`."""
    program = parse(source, filename)
    return Checker({filename: source}, filename, search_path).run(program)


class Checker(Resolver, DomainInference, Stratifier, StructChecker):
    def __init__(self, sources, filename, search_path=()):
        self.sources = sources
        self.filename = filename
        self.search_path = [os.fspath(p) for p in search_path]
        self.domains, self.relations, self.tensors, self.functions = {}, {}, {}, {}
        self.declared_at = {}
        self.global_vars = set()
        self.constants = set()
        self.loaded_constants = {}      # (relation, position) -> the program's constants a load puts there
        self.actions, self.tests, self.learns = [], [], []
        self.uf = UnionFind()
        self.const_occurrences = []     # (position key, constant node, key) in source order
        self.named_sizes = {}
        self.in_definition = False
        self.in_function = False        # resolving a function's body: its index variables are its own
        self.index_names = frozenset()   # index variables of the assignment being resolved
        self.loops = 0                  # loops around the statement being resolved
        self.plans = {}                 # right side's owner (Assign, Rule, Query, expression) -> Plan
        self.loaded_tables = {}         # path -> (file signature, columns) read by `load` here

    # ---- errors ---------------------------------------------------------------------------------
    def error(self, message, span):
        file = _file(span, self.filename)
        return located(TensorLogicTypeError, message, file, span, self.sources.get(file))

    def warn(self, cls, message, span):
        file = _file(span, self.filename)
        warn_at(cls, message, file, span, self.sources.get(file))

    def unknown(self, name, span, candidates, what="name"):
        close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.75)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return self.error(f"unknown {what} '{name}'{hint}", span)

    # ---- driver ---------------------------------------------------------------------------------
    def run(self, program: N.Program) -> Model:
        root = set() if program.filename.startswith("<") else {os.path.realpath(program.filename)}
        items = self.load(program, root)
        items = lower(items, {i.name for i in items if isinstance(i, N.FnDecl)},
                      {i.name for i in items if isinstance(i, N.StructDecl)}, self.sources)
        self.declare_structs(items)
        self.declare(items)
        self.classify(items)
        self.domain_relations(items)
        self.resolve(items)
        self.rank_whole_values()
        self.check_stray_facts(items)
        self.infer_domains(items)
        warn_unheld_constants(self, items)
        graph, order = self.stratify()
        check_rules(self, graph, order)
        StaticShapes(self, order).check_all()
        ValueShapes(self).check_all(items)
        warn_added_equations(self)
        for learn in self.learns:
            self.check_learn(learn)
        model = Model(filename=self.filename, sources=self.sources, items=items,
                      domains=self.domains, relations=self.relations, tensors=self.tensors,
                      functions=self.functions, global_vars=self.global_vars,
                      constants=self.constants, actions=self.actions, tests=self.tests,
                      learns=self.learns, graph=graph, order=order, named_sizes=self.named_sizes,
                      plans=self.plans, structs=self.structs, methods=self.methods,
                      drops=self.drops, loaded_tables=self.loaded_tables)
        model.checker = self
        return model

    # ---- imports --------------------------------------------------------------------------------
    def load(self, program: N.Program, seen: set) -> list:
        """The items of `program` with every `import` replaced by the imported file's items (each
        file once; an import of a file already being read, the root included, adds nothing)."""
        out = []
        base = os.path.dirname(program.filename) if not program.filename.startswith("<") else os.getcwd()
        for item in program.items:
            if not isinstance(item, N.Import):
                out.append(item)
                continue
            path = self.find_import(item, base)
            key = os.path.realpath(path)
            if key in seen:
                continue
            seen.add(key)
            self.sources[path] = text = self.read_import(item, path)
            out.extend(self.load(parse(text, path), seen))
        return out

    def find_import(self, item, base):
        """The first of base/PATH, then DIR/PATH for each search-path DIR, that exists."""
        if not item.path.endswith(".tl"):
            raise self.error(f"cannot import '{item.path}': only .tl files can be imported", item.span)
        candidates = [os.path.normpath(os.path.join(d, item.path)) for d in [base] + self.search_path]
        for path in candidates:
            if os.path.exists(path):
                return path
        where = ", ".join(os.path.dirname(c) or "." for c in candidates)
        raise self.error(f"cannot import '{item.path}': no such file (looked in {where})", item.span)

    def read_import(self, item, path):
        """A program file's text; nothing of a file that is not one reaches a message."""
        real = os.path.realpath(path)
        if not os.path.isfile(real) or not real.endswith(".tl"):
            raise self.error(f"cannot import '{item.path}': not a regular .tl file", item.span)
        try:
            return read_source(real)
        except OSError as e:
            raise self.error(f"cannot import '{item.path}': {e.strerror or e}", item.span) from None
        except UnreadableSource as e:
            raise self.error(f"cannot import '{item.path}': {e}", item.span) from None

    # ---- declarations ---------------------------------------------------------------------------
    def claim(self, name, what, span):
        if name in self.declared_at:
            prev_what, prev = self.declared_at[name]
            raise self.error(f"'{name}' is already declared as a {prev_what} at line {prev.line}", span)
        self.declared_at[name] = (what, span)

    def declare(self, items):
        for item in items:
            if isinstance(item, N.DomainDecl):
                self.claim(item.name, "domain", item.name_span)
                self.domains[item.name] = self.make_domain(item)
        for item in items:
            if isinstance(item, N.RelationDecl):
                self.claim(item.name, "relation", item.name_span)
                if item.embed is not None:
                    self.check_type(item.embed)
                rel = RelationInfo(item.name, len(item.params), decl=item, span=item.name_span)
                self.relations[item.name] = rel
                names = set()
                for k, p in enumerate(item.params):
                    dom = p.domain
                    if dom in COLUMN_TYPES and dom not in self.domains:
                        if COLUMN_TYPES[dom] is None:
                            raise self.error(f"a relation's argument holds names or integers, not "
                                             f"{dom} values (keep numbers in a tensor)", p.span)
                        rel.column_types[k] = COLUMN_TYPES[dom]
                        dom = None
                    if dom == "concept" and dom not in self.domains:
                        dom = None          # the seed's `x: concept`, like `x: entity`: inferred
                    if dom is None and p.name in self.domains:
                        dom = p.name
                    elif p.name in names:
                        raise self.error(f"parameter '{p.name}' appears twice", p.span)
                    names.add(p.name)
                    if dom is not None:
                        if dom not in self.domains:
                            raise self.unknown(dom, p.span, self.domains, "domain")
                        self.uf.attach(("R", item.name, k), self.domains[dom], p.span)
            elif isinstance(item, N.TensorDecl):
                self.claim(item.name, "tensor", item.name_span)
                self.tensors[item.name] = self.declare_tensor(item)
            elif isinstance(item, N.FnDecl):
                self.claim(item.name, "function", item.name_span)
                self.functions[item.name] = item
                params = set()
                for p in item.params:
                    if p.name in params:
                        raise self.error(f"parameter '{p.name}' appears twice", p.span)
                    params.add(p.name)
                    if p.type is not None:
                        self.check_type(p.type, item.type_params)
                if item.ret is not None:
                    self.check_type(item.ret, item.type_params)
        self.collect_globals(items)
        given = {n.target.id for item in items for n in N.walk(item)
                 if isinstance(n, N.Assign) and isinstance(n.target, N.Name)} | \
            {item.name for item in items if isinstance(item, N.Load)}
        for item in items:
            if isinstance(item, N.TensorDecl) and item.mode == "learnable" and item.init is None \
                    and item.name not in given:
                raise self.error(f"learnable tensor '{item.name}' needs an initial value (or an "
                                 f"assignment that gives it one)", item.span)
        loads = [item for item in items if isinstance(item, N.Load)]
        if loads:
            nodes = [n for item in items for n in N.walk(item)]
            self.program_names = {n.id for n in nodes if isinstance(n, N.Name)}
            self.program_words = self.program_names | {n.value for n in nodes if isinstance(n, N.Str)}
        for item in loads:
            self.declare_load(item)

    def declare_load(self, item: N.Load):
        """`load NAME from "file"` fills a relation or a tensor; an undeclared NAME becomes a
        relation (a table of constants) or a tensor (numbers) as the file says."""
        path = data_path(self.filename, item)
        try:
            kind, size = peek(path, item.name)
        except DataFileError as err:
            raise self.error(str(err), item.span) from None
        if item.name in self.tensors:
            return
        if item.name in self.declared_at and item.name not in self.relations:
            what, where = self.declared_at[item.name]
            raise self.error(f"'{item.name}' is a {what} (line {where.line}); load fills a "
                             f"relation or a tensor", item.name_span)
        if kind == "relation" or item.name in self.relations:
            self.relation(item.name, size, item.name_span)
            # Its names are constants in the rules and queries read next, as written facts' are
            # (LANGUAGE.md §3): `Path(a, x)?` asks about a, not about every x and a.  Only the
            # program's own names can be read as constants, so only those are looked up; the
            # columns are kept for the run (datafiles.read_table_once).
            try:
                columns = read_table_once(path, self.loaded_tables)
            except DataFileError as err:
                raise self.error(str(err), item.span) from None
            for k, col in enumerate(columns):
                if isinstance(col, list):
                    words = self.program_words.intersection(col)
                    self.constants.update(words & self.program_names)
                    # (as the run loads them: a name where the text spells one, else a string)
                    self.loaded_constants.setdefault((item.name, k), set()).update(
                        w if spells_name(w) else constant_key(Text(w)) for w in words)
        else:
            self.tensors[item.name] = TensorInfo(item.name, span=item.name_span, mode="frozen",
                                                 rank=size)

    def make_domain(self, d: N.DomainDecl) -> Domain:
        if d.kind == "range":
            if d.stop < d.start:
                raise self.error(f"empty range {d.start}..{d.stop}", d.span)
            if d.stop - d.start > MAX_DOMAIN_SIZE or max(abs(d.start), abs(d.stop)) > MAX_DOMAIN_SIZE:
                raise self.error(f"the range {d.start}..{d.stop} is too large (a domain holds at most "
                                 f"{MAX_DOMAIN_SIZE} constants)", d.span)
            return Domain(d.name, "range", start=d.start, stop=d.stop, span=d.name_span)
        if d.kind == "open":
            return Domain(d.name, "open", span=d.name_span)
        members, seen = [], set()  # the set: a list's `in` made a domain of n members cost n^2
        for m in d.members:
            c = self.const_key(m)
            if constant_key(c) in seen:
                raise self.error(f"'{c}' appears twice in domain {d.name}", m.span)
            members.append(c)
            seen.add(constant_key(c))
        return Domain(d.name, "set", members, span=d.name_span)

    def const_key(self, node):
        if isinstance(node, N.Name):
            return node.id
        if isinstance(node, N.Str):
            return node.constant
        if isinstance(node, N.Num):
            if not node.is_int:
                raise self.error(f"a constant must be a name, a string or an integer, not {node.text}",
                                 node.span)
            return node.value
        raise self.error("a constant must be a name, a string or an integer", node.span)

    def check_type(self, t: N.TypeSpec, type_params=()) -> str:
        """The element dtype of a tensor type; scalar, struct and generic types are accepted in
        signatures and fields (`int`, `Point`, `T`)."""
        for d in t.dims or ():
            if d.kind == "int" and d.value < 0:
                raise self.error("a dimension cannot be negative", d.span)
        if t.dtype in DTYPES:
            return DTYPES[t.dtype]
        if not t.dims and (t.dtype in SCALAR_TYPES or t.dtype in type_params or
                           t.dtype in getattr(self, "structs", {})):
            return t.dtype
        raise self.unknown(t.dtype, t.span, set(DTYPES) | SCALAR_TYPES | set(getattr(self, "structs", {})),
                           "type")

    def declare_tensor(self, d: N.TensorDecl) -> TensorInfo:
        dtype = self.check_type(d.type)
        if d.mode == "learnable" and dtype != "float16":
            raise self.error("only float16 tensors can be learnable", d.span)
        if dtype not in ("float16", "int32"):
            raise self.error(f"a tensor holds float16 or int32, not {d.type.dtype}", d.type.span)
        info = TensorInfo(d.name, decl=d, dtype=dtype, span=d.name_span,
                          mode=d.mode if d.init is not None or d.mode == "learnable" else "derived",
                          rank=len(d.type.dims or ()))
        if d.given_later:
            info.mode = d.mode
        for k, dim in enumerate(d.type.dims or ()):
            if dim.kind == "name" and dim.value in self.domains:
                self.uf.attach(("T", d.name, k), self.domains[dim.value], dim.span)
        return info

    def collect_globals(self, items):
        """Global variables: `let` at top level, in learn blocks and in top-level control blocks,
        and loop variables of top-level `for`."""
        def visit(stmts, in_block):
            for s in stmts:
                if isinstance(s, N.Let):
                    self.global_vars.add(s.name)
                elif isinstance(s, N.For):
                    self.global_vars.add(s.var)
                    visit(s.body, True)
                elif isinstance(s, N.While):
                    visit(s.body, True)
                elif isinstance(s, N.If):
                    visit(s.then, True)
                    visit(s.orelse or [], True)
                elif isinstance(s, N.Learn):
                    visit(s.body, True)
        visit(items, False)
        for name in self.global_vars:
            if name in self.declared_at:
                what, span = self.declared_at[name]
                if what != "tensor":
                    raise self.error(f"variable '{name}' has the name of a {what} declared at line "
                                     f"{span.line}", self._var_span(items, name))

    def _var_span(self, items, name):
        for n in items:
            for m in N.walk(n):
                if isinstance(m, N.Let) and m.name == name:
                    return m.name_span
                if isinstance(m, N.For) and m.var == name:
                    return m.var_span
                if isinstance(m, N.Assign) and isinstance(m.target, N.Name) and m.target.id == name:
                    return m.target.span
        return None

    # ---- facts, rules, equations, statements ----------------------------------------------------
    def classify(self, items):
        self.fact_stmts = set()
        for item in items:
            if isinstance(item, (N.DomainDecl, N.RelationDecl, N.TensorDecl, N.FnDecl)):
                continue
            if isinstance(item, N.TestBlock):
                self.tests.append(item)
            elif isinstance(item, N.Rule):
                self.add_rule(item)
            elif isinstance(item, N.Facts):
                self.add_fact_block(item)
            elif isinstance(item, N.ExprStmt) and self.is_fact(item.expr):
                self.add_fact(item.expr)
                self.fact_stmts.add(item)
            elif isinstance(item, N.Assign) and self.is_equation(item):
                self.add_equation(item)
            elif isinstance(item, N.Return):
                raise self.error("`return` outside a function", item.span)
            else:
                for learn in top_level_learns(item):
                    for s in learn.body:
                        if isinstance(s, N.Assign) and self.is_equation(s):
                            self.add_equation(s)
                    self.learns.append(learn)
                self.actions.append(item)
        self.add_block_facts(items)
        self.constants |= {m for d in self.domains.values() if d.kind == "set"
                           for m in d.members if constant_kind(m) == NAME}
        self.empty_under_not(items)

    def add_block_facts(self, items):
        """Facts written inside functions, loops, `if` blocks, `main` and tests: statements that add
        their tuple when they run.  A name that is a variable there (local or global) stands for
        its value, computed then, as does any other expression; other names are constants."""
        self.block_facts = set()
        for item in items:
            if isinstance(item, N.ImplBlock):
                bodies = [(m.body, [p.name for p in m.params]) for m in item.methods]
            elif isinstance(item, N.FnDecl):
                bodies = [(item.body, [p.name for p in item.params])]
            elif isinstance(item, (N.MainBlock, N.TestBlock)):
                bodies = [(item.body, [])]
            elif isinstance(item, (N.If, N.For, N.While, N.Block, N.Learn)):
                bodies = [([item], [])]
            else:
                continue
            for body, params in bodies:
                variables = self.global_vars | set(params) | {name for name, _ in self.bindings(body)}
                for s in (n for b in body for n in N.walk(b)):
                    if isinstance(s, N.ExprStmt) and self.is_fact(s.expr) and "::" not in s.expr.name \
                            and s.expr.name not in self.structs and s.expr.name not in variables and \
                            (s.expr.name in self.relations or not catalog.callable_builtin(s.expr.name)):
                        self.add_fact(s.expr, variables)
                        self.block_facts.add(s)

    def domain_relations(self, items):
        """A declared domain of fixed members read as a one-argument atom (`Person(x)` in a rule,
        query or equation) is the relation that holds each member: a rule can range over a domain
        (`Leaf(x) <- Person(x), not HasChild(x)`).  It is read-only: facts and rules for it are
        rejected where they are classified, as for any domain name."""
        for item in items:
            for n in N.walk(item):
                if not (isinstance(n, N.Call) and n.name in self.domains and len(n.args) == 1
                        and n.name not in self.relations and not n.kwargs):
                    continue
                dom = self.domains[n.name]
                if dom.grows:
                    raise self.error(f"'{n.name}' is a domain that grows with the facts, not a relation; "
                                     f"only a domain declared with its members or a range reads as one",
                                     n.name_span)
                if dom.size > MAX_DOMAIN_RELATION:
                    raise self.error(f"domain '{n.name}' has {dom.size} members, too many to read as a "
                                     f"relation (at most {MAX_DOMAIN_RELATION})", n.name_span)
                rel = self.relations[n.name] = RelationInfo(n.name, 1, span=dom.span)
                self.uf.attach(("R", n.name, 0), dom, dom.span)
                # loaded rows hold a range's integers and a set's indices (run/loading.py)
                rel.rows.append(np.arange(dom.start, dom.stop, dtype=np.int64)[:, None] if dom.kind == "range"
                                else np.arange(dom.size, dtype=np.int64)[:, None])

    def empty_under_not(self, items):
        """`not R(x)` where nothing defines R (no declaration, fact, rule or load) holds: R is
        empty, as in clingo and Datalog engines.  A warning says so, since a misspelt name reads
        the same way."""
        for item in items:
            for n in N.walk(item):
                for lit in (n.body if isinstance(n, N.Rule) else n.literals if isinstance(n, N.Query) else ()):
                    e = lit.expr.operand if isinstance(lit.expr, N.Prefix) and lit.expr.ops == ["!"] else lit.expr
                    if not (lit.negated or e is not lit.expr) or not isinstance(e, N.Call) or \
                            e.name in self.relations or e.name in self.declared_at or \
                            e.name in self.global_vars or e.name in catalog.BUILTINS or "::" in e.name:
                        continue
                    self.relation(e.name, len(e.args), e.span).undefined = True
                    self.warn(UndefinedRelationWarning, f"relation '{e.name}' has no facts or rules: "
                              f"`not {e.name}(...)` always holds", e.name_span)

    def is_fact(self, e) -> bool:
        return isinstance(e, N.Call) and e.name not in self.functions and \
            e.name not in self.tensors and e.name not in self.global_vars and \
            (e.name in self.relations or e.name not in catalog.BUILTINS)

    def is_equation(self, a: N.Assign) -> bool:
        return target_name(a) not in self.global_vars

    def relation(self, name, arity, span) -> RelationInfo:
        rel = self.relations.get(name)
        if rel is None:
            if name in self.declared_at:
                what, where = self.declared_at[name]
                raise self.error(f"'{name}' is a {what} (line {where.line}), not a relation", span)
            if name in self.tensors:
                where = self.tensors[name].span.line
                raise self.error(f"'{name}' is a tensor (line {where}), not a relation: give the relation "
                                 f"another name (a rule reads the tensor as {name}[...])", span)
            rel = self.relations[name] = RelationInfo(name, arity, span=span)
        elif rel.arity != arity:
            raise self.error(f"relation '{name}' takes {rel.arity} argument"
                             f"{'s' if rel.arity != 1 else ''} (line {rel.span.line}), "
                             f"but {arity} {'are' if arity != 1 else 'is'} given", span)
        return rel

    def add_rule(self, r: N.Rule):
        head = r.head
        if not isinstance(head, N.Call) or head.kwargs:
            raise self.error("a rule's head must be an atom like H(x, y)", head.span)
        if head.name in self.global_vars:
            raise self.error(f"'{head.name}' is a variable, not a relation", head.name_span)
        self.relation(head.name, len(head.args), head.span).rules.append(r)

    def add_fact(self, call: N.Call, variables=None):
        """A fact at the top level (`variables` None: every argument a constant), or in a block
        (where `variables` and expressions stand for values)."""
        if call.kwargs:
            raise self.error("a fact has no keyword arguments", call.kwargs[0].span)
        rel = self.relation(call.name, len(call.args), call.span)
        for a in call.args:
            if isinstance(a, N.Prefix) and a.ops == ["-"] and isinstance(a.operand, N.Num):
                continue
            if variables is not None and not (isinstance(a, (N.Str, N.Num)) or
                                              (isinstance(a, N.Name) and a.id not in variables)):
                rel.names_only = False
                continue
            if not isinstance(a, (N.Name, N.Str, N.Num)):
                raise self.error("a fact's arguments must be constants (names, strings or integers); "
                                 "inside a function, loop or `if` they may also be values like i + 1",
                                 a.span)
            key = self.const_key(a)
            if isinstance(a, N.Name):
                a.role, a.key = "const", key
                self.constants.add(key)
            else:
                rel.names_only = False
        if variables is None:
            rel.facts.append(call)

    def add_fact_block(self, block: N.Facts):
        rel = self.relation(block.name, len(block.rows[0]), block.span)
        rel.names_only = rel.names_only and all(constant_kind(key) == NAME for row in block.rows for key in row)
        self.constants.update(key for row in block.rows for key in row if constant_kind(key) == NAME)
        rel.fact_rows.extend(block.rows)

    def add_equation(self, a: N.Assign):
        name = target_name(a)
        if a.update:
            raise self.error(f"`{a.update}` updates a variable; '{name}' is not one (declare it with "
                             f"`let {name} = ...`)", a.target.span)
        # Without indices on the left, the value is the right side's: a scalar in index notation
        # (`S = A[i] B[i]`), or a whole tensor (`W = randn(3, 4)`, `X = [1, 2]`); after_resolution
        # tells them apart, when roles are known.
        rank = len(a.target.groups[0]) if isinstance(a.target, N.Index) else None
        if name in self.declared_at and name not in self.tensors:
            what, where = self.declared_at[name]
            raise self.error(f"'{name}' is a {what} (line {where.line}); only tensors are "
                             f"defined by equations", a.target.span)
        if name in self.relations:
            raise self.error(f"'{name}' is a relation; define it with facts and rules", a.target.span)
        info = self.tensors.get(name)
        if info is None:
            info = self.tensors[name] = TensorInfo(name, span=a.target.span, rank=rank)
        elif info.decl is not None and info.decl.init is not None:
            raise self.error(f"'{name}' is given a value at line {info.decl.span.line}; it cannot "
                             f"also be defined by an equation", a.target.span)
        if rank != info.rank and not (rank is None and info.decl is not None):
            where = info.equations[0].span.line if info.equations else info.span.line
            had, has = info.rank or 0, rank or 0
            raise self.error(f"'{name}' has {had} ind{'ex' if had == 1 else 'ices'} "
                             f"at line {where} but {has} here", a.target.span)
        info.equations.append(a)

    def rank_whole_values(self):
        """A tensor defined without indices on the left is a scalar when a right side is in index
        notation (reads a tensor or relation with index variables), else its rank is the value's."""
        for t in self.tensors.values():
            if t.rank is None and t.decl is None and any(_index_notation(eq.value) for eq in t.equations):
                t.rank = 0

    # ---- learn blocks ---------------------------------------------------------------------------
    def check_learn(self, learn: N.Learn):
        seen = {}
        for s in learn.settings:
            if s.key not in catalog.LEARN_SETTINGS:
                raise self.unknown(s.key, s.span, catalog.LEARN_SETTINGS, "learn setting")
            if s.key in seen:
                raise self.error(f"`{s.key}` is set twice", s.span)
            seen[s.key] = s
        if "objective" not in seen:
            raise self.error("a learn block needs `objective: <loss>`", learn.span)
        if not any(t.mode == "learnable" for t in self.tensors.values()) and \
                not any(f.learnable for s in self.structs.values() for f in s.fields):
            raise self.error("a learn block needs a learnable tensor "
                             "(tensor W: float16[...] learnable = ...) or a struct with a learnable "
                             "field", learn.span)
        if "optimizer" in seen:
            call = seen["optimizer"].value
            cls = catalog.optimizer_class(call.name)
            if cls is None:
                raise self.unknown(call.name, call.name_span,
                                   [c.lower() for c in catalog.OPTIMIZERS], "optimizer")
            self.check_arguments(call, catalog.OPTIMIZERS[cls], cls, max_positional=1)
        if "scheduler" in seen:
            call = seen["scheduler"].value
            cls = catalog.scheduler_class(call.name)
            if cls is None:
                raise self.unknown(call.name, call.name_span,
                                   list(catalog.SCHEDULER_ALIASES) + list(catalog.SCHEDULERS),
                                   "scheduler")
            self.check_arguments(call, catalog.SCHEDULERS[cls], cls, max_positional=1)
            if cls == "LambdaLR":
                fns = [k.value for k in call.kwargs] + call.args
                for f in fns:
                    if not (isinstance(f, N.Name) and f.id in self.functions and
                            len(self.functions[f.id].params) == 1):
                        raise self.error("LambdaLR takes a function of one argument (the epoch), "
                                         "like lambda(lr_lambda: decay)", f.span)

    def check_arguments(self, call, accepted, cls, max_positional):
        if len(call.args) > max_positional:
            raise self.error(f"{cls} takes keyword arguments, like {accepted[0]}: ...",
                             call.args[max_positional].span)
        for k in call.kwargs:
            if catalog.match_argument(k.name, accepted) is None:
                raise self.unknown(k.name, k.span, accepted, f"argument of {cls}")
