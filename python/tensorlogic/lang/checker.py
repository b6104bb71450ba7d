"""Static checking of a parsed program: imports, declarations, the split into facts, rules,
equations and statements, name resolution, domain inference, arities, stratification, and the
index/shape checks that need no data.  The result, a `Model`, is what the interpreter runs."""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field

from . import catalog
from . import nodes as N
from .contraction import plan
from .domains import Domain, UnionFind
from .errors import Span, TensorLogicTypeError, located
from .parser import parse
from .strata import Graph, components, is_recursive, negative_cycle

DTYPES = {"float16": "float16", "f16": "float16", "half": "float16", "int32": "int32"}


@dataclass
class RelationInfo:
    name: str
    arity: int
    decl: N.RelationDecl | None = None
    span: Span | None = None                 # first place it appears
    facts: list = field(default_factory=list)     # (tuple of N nodes) in source order
    rules: list = field(default_factory=list)     # N.Rule
    domains: list = field(default_factory=list)   # Domain per position, after inference


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

    def error(self, message, span):
        return located(TensorLogicTypeError, message, _file(span, self.filename), span,
                       self.sources.get(_file(span, self.filename)))


def _file(span, default):
    return span.file if span is not None and span.file is not None else default


class Scope:
    """Names bound by `let`, parameters, loop variables and assignments in one function-like body.
    The top level has no local scope: its variables are the program's global variables."""

    def __init__(self, names=()):
        self.names = set(names)


def check(source: str, filename: str = "<string>") -> Model:
    """Parses (following imports) and checks a program."""
    program = parse(source, filename)
    return Checker({filename: source}, filename).run(program)


class Checker:
    def __init__(self, sources, filename):
        self.sources = sources
        self.filename = filename
        self.domains, self.relations, self.tensors, self.functions = {}, {}, {}, {}
        self.declared_at = {}
        self.global_vars = set()
        self.constants = set()
        self.actions, self.tests, self.learns = [], [], []
        self.uf = UnionFind()
        self.const_occurrences = []     # (position key, constant node, key) in source order
        self.named_sizes = {}
        self.in_definition = False

    # ---- errors ---------------------------------------------------------------------------------
    def error(self, message, span):
        file = _file(span, self.filename)
        return located(TensorLogicTypeError, message, file, span, self.sources.get(file))

    def unknown(self, name, span, candidates, what="name"):
        close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.75)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return self.error(f"unknown {what} '{name}'{hint}", span)

    # ---- driver ---------------------------------------------------------------------------------
    def run(self, program: N.Program) -> Model:
        items = self.load(program, set())
        self.declare(items)
        self.classify(items)
        self.resolve(items)
        self.check_stray_facts(items)
        self.infer_domains(items)
        graph, order = self.stratify()
        from .indices import StaticShapes
        StaticShapes(self, order).check_all()
        for learn in self.learns:
            self.check_learn(learn)
        model = Model(filename=self.filename, sources=self.sources, items=items,
                      domains=self.domains, relations=self.relations, tensors=self.tensors,
                      functions=self.functions, global_vars=self.global_vars,
                      constants=self.constants, actions=self.actions, tests=self.tests,
                      learns=self.learns, graph=graph, order=order, named_sizes=self.named_sizes)
        model.checker = self
        return model

    # ---- imports --------------------------------------------------------------------------------
    def load(self, program: N.Program, seen: set) -> list:
        """The items of `program` with every `import` replaced by the imported file's items (each
        file once)."""
        out = []
        base = os.path.dirname(program.filename) if not program.filename.startswith("<") else os.getcwd()
        for item in program.items:
            if not isinstance(item, N.Import):
                out.append(item)
                continue
            path = os.path.normpath(os.path.join(base, item.path))
            key = os.path.realpath(path)
            if key in seen:
                continue
            seen.add(key)
            try:
                with open(path, encoding="utf-8") as f:
                    text = f.read()
            except OSError as e:
                raise self.error(f"cannot import '{item.path}': {e.strerror or e}", item.span) from None
            self.sources[path] = text
            out.extend(self.load(parse(text, path), seen))
        return out

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
                rel = RelationInfo(item.name, len(item.params), decl=item, span=item.name_span)
                self.relations[item.name] = rel
                names = set()
                for k, p in enumerate(item.params):
                    dom = p.domain
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
                        self.check_type(p.type)
                if item.ret is not None:
                    self.check_type(item.ret)
        self.collect_globals(items)

    def make_domain(self, d: N.DomainDecl) -> Domain:
        if d.kind == "range":
            if d.stop < d.start:
                raise self.error(f"empty range {d.start}..{d.stop}", d.span)
            return Domain(d.name, "range", start=d.start, stop=d.stop, span=d.name_span)
        if d.kind == "open":
            return Domain(d.name, "open", span=d.name_span)
        members = []
        for m in d.members:
            key = self.const_key(m)
            if key in members:
                raise self.error(f"'{key}' appears twice in domain {d.name}", m.span)
            members.append(key)
        return Domain(d.name, "set", members, span=d.name_span)

    def const_key(self, node):
        if isinstance(node, N.Name):
            return node.id
        if isinstance(node, N.Str):
            return node.value
        if isinstance(node, N.Num):
            if not node.is_int:
                raise self.error(f"a constant must be a name, a string or an integer, not {node.text}",
                                 node.span)
            return node.value
        raise self.error("a constant must be a name, a string or an integer", node.span)

    def check_type(self, t: N.TypeSpec) -> str:
        if t.dtype not in DTYPES:
            raise self.error(f"unknown type '{t.dtype}'; use float16 or int32", t.span)
        for d in t.dims or ():
            if d.kind == "int" and d.value < 0:
                raise self.error("a dimension cannot be negative", d.span)
        return DTYPES[t.dtype]

    def declare_tensor(self, d: N.TensorDecl) -> TensorInfo:
        dtype = self.check_type(d.type)
        if d.mode == "learnable" and dtype != "float16":
            raise self.error("only float16 tensors can be learnable", d.span)
        info = TensorInfo(d.name, decl=d, dtype=dtype, span=d.name_span,
                          mode=d.mode if d.init is not None or d.mode == "learnable" else "derived",
                          rank=len(d.type.dims or ()))
        if d.mode == "learnable" and d.init is None:
            raise self.error(f"learnable tensor '{d.name}' needs an initial value", d.span)
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
                    visit([b for b in s.body if isinstance(b, N.Let)], True)
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
            elif isinstance(item, N.ExprStmt) and self.is_fact(item.expr):
                self.add_fact(item.expr)
                self.fact_stmts.add(id(item))
            elif isinstance(item, N.Assign) and self.is_equation(item):
                self.add_equation(item)
            elif isinstance(item, N.Return):
                raise self.error("`return` outside a function", item.span)
            else:
                if isinstance(item, N.Learn):
                    for s in item.body:
                        if isinstance(s, N.Assign) and self.is_equation(s):
                            self.add_equation(s)
                    self.learns.append(item)
                self.actions.append(item)
        self.constants |= {m for d in self.domains.values() if d.kind == "set"
                           for m in d.members if isinstance(m, str)}

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

    def add_fact(self, call: N.Call):
        if call.kwargs:
            raise self.error("a fact has no keyword arguments", call.kwargs[0].span)
        rel = self.relation(call.name, len(call.args), call.span)
        for a in call.args:
            if isinstance(a, N.Prefix) and a.ops == ["-"] and isinstance(a.operand, N.Num):
                continue
            if not isinstance(a, (N.Name, N.Str, N.Num)):
                raise self.error("a fact's arguments must be constants (names, strings or "
                                 "integers)", a.span)
            key = self.const_key(a)
            if isinstance(a, N.Name):
                a.role, a.key = "const", key
                self.constants.add(key)
        rel.facts.append(call)

    def add_equation(self, a: N.Assign):
        name = target_name(a)
        rank = len(a.target.groups[0]) if isinstance(a.target, N.Index) else 0
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
        if info.rank != rank:
            where = info.equations[0].span.line if info.equations else info.span.line
            raise self.error(f"'{name}' has {info.rank} ind{'ex' if info.rank == 1 else 'ices'} "
                             f"at line {where} but {rank} here", a.target.span)
        info.equations.append(a)

    # ---- name resolution ------------------------------------------------------------------------
    def resolve(self, items):
        for t in self.tensors.values():
            if t.decl is not None:
                for dim in t.decl.type.dims or ():
                    if dim.kind == "name" and dim.value not in self.domains:
                        self.named_sizes.setdefault(dim.value, []).append(dim)
                if t.decl.init is not None:
                    self.r_expr(t.decl.init, None)
        for fn in self.functions.values():
            scope = self.local_scope(fn.body, [p.name for p in fn.params])
            fn.local_names = scope.names
            self.r_block(fn.body, scope, in_fn=True)
        for item in items:
            if isinstance(item, (N.DomainDecl, N.RelationDecl, N.TensorDecl, N.FnDecl)):
                continue
            if isinstance(item, N.Rule):
                self.r_rule(item)
            elif id(item) in self.fact_stmts:
                continue
            elif isinstance(item, N.Assign) and self.is_equation(item):
                self.r_equation(item, None)
            elif isinstance(item, N.Learn):
                for s in item.body:
                    if isinstance(s, N.Assign) and self.is_equation(s):
                        self.r_equation(s, None)
                    else:
                        self.r_stmt(s, None)
                for s in item.settings:
                    self.r_setting(s)
            elif isinstance(item, (N.MainBlock, N.TestBlock)):
                scope = self.local_scope(item.body, [])
                item.local_names = scope.names
                self.r_block(item.body, scope)
            else:
                self.r_stmt(item, None)

    def local_scope(self, body, params) -> Scope:
        """Parameters and every name a body binds (`let`, loop variables, assignments to names that
        are not global variables or declared tensors)."""
        names = set(params)
        for s in body:
            for n in N.walk(s):
                if isinstance(n, N.Let):
                    names.add(n.name)
                elif isinstance(n, N.For):
                    names.add(n.var)
                elif isinstance(n, N.Assign):
                    t = target_name(n)
                    if t not in self.global_vars and t not in self.tensors:
                        names.add(t)
        return Scope(names)

    def bound(self, name, scope) -> bool:
        return (scope is not None and name in scope.names) or name in self.global_vars

    def binds_index(self, name, scope) -> bool:
        """Whether a name in an index or atom position is a bound value rather than an index
        variable.  Equations and rules are definitions: no variable binds their indices."""
        return not self.in_definition and self.bound(name, scope)

    def r_block(self, body, scope, in_fn=False):
        for s in body:
            self.r_stmt(s, scope, in_fn)

    def r_stmt(self, s, scope, in_fn=False):
        if isinstance(s, N.Let):
            if s.type is not None:
                self.check_type(s.type)
            self.r_expr(s.value, scope)
        elif isinstance(s, N.Assign):
            self.r_assign(s, scope)
        elif isinstance(s, N.ExprStmt):
            e = s.expr
            if isinstance(e, N.Call) and not self.bound(e.name, scope) and \
                    e.name not in self.functions and e.name in self.relations:
                raise self.error("facts must be written at the top level", s.span)
            self.r_expr(e, scope)
        elif isinstance(s, N.Query):
            self.r_query(s, scope)
        elif isinstance(s, N.If):
            self.r_expr(s.cond, scope)
            self.r_block(s.then, scope, in_fn)
            self.r_block(s.orelse or [], scope, in_fn)
        elif isinstance(s, N.While):
            self.r_expr(s.cond, scope)
            self.r_block(s.body, scope, in_fn)
        elif isinstance(s, N.For):
            self.r_expr(s.iterable, scope)
            self.r_block(s.body, scope, in_fn)
        elif isinstance(s, N.Return):
            if not in_fn:
                raise self.error("`return` outside a function", s.span)
            if s.value is not None:
                self.r_expr(s.value, scope)
        elif isinstance(s, N.Rule):
            raise self.error("rules must be written at the top level", s.span)
        else:
            raise self.error("this statement is not allowed here", s.span)

    def r_assign(self, a: N.Assign, scope):
        """An assignment run as a statement (not an equation)."""
        name = target_name(a)
        info = self.tensors.get(name)
        if info is not None and info.derived and not self.bound(name, scope):
            raise self.error(f"'{name}' is defined by an equation at line "
                             f"{info.equations[0].span.line}; it cannot be assigned", a.target.span)
        if info is not None and info.mode == "learnable" and not self.bound(name, scope):
            raise self.error(f"'{name}' is learnable; only `learn` changes it", a.target.span)
        if name in self.declared_at and name not in self.tensors and not self.bound(name, scope):
            what, where = self.declared_at[name]
            raise self.error(f"'{name}' is a {what} (line {where.line}); it cannot be assigned",
                             a.target.span)
        if scope is None and not self.bound(name, None) and info is None:
            raise self.error(f"unknown variable '{name}'; declare it with `let {name} = ...`",
                             a.target.span)
        self.r_lhs(a)
        self.r_expr(a.value, scope)

    def r_equation(self, a: N.Assign, scope):
        self.in_definition = True
        try:
            self.r_lhs(a)
            self.r_expr(a.value, scope)
        finally:
            self.in_definition = False
        items = a.target.groups[0] if isinstance(a.target, N.Index) else None
        plan(a.value, items, a.op, (), self.error)

    def r_lhs(self, a: N.Assign):
        if not isinstance(a.target, N.Index):
            return
        marked = [i for i in a.target.groups[0] if i.marked]
        if len(marked) > 1:
            raise self.error("only one axis can be marked as normalised", marked[1].span)
        for item in a.target.groups[0]:
            self.r_index_expr(item.expr, None, lhs=True)

    def r_setting(self, s: N.Setting):
        if s.key not in ("optimizer", "scheduler"):
            self.r_expr(s.value, None)
            return
        call = s.value
        if not isinstance(call, N.Call):
            raise self.error(f"`{s.key}` takes a call like "
                             f"{'adam(lr: 0.01)' if s.key == 'optimizer' else 'cosine(t_max: 100)'}",
                             s.value.span)
        for a in call.args:
            self.r_expr(a, None)
        for k in call.kwargs:
            if not (s.key == "scheduler" and isinstance(k.value, N.Name) and k.value.id in self.functions):
                self.r_expr(k.value, None)

    def r_value_name(self, e: N.Name, scope):
        name = e.id
        if self.bound(name, scope) or name in self.tensors or name in self.relations \
                or name in self.domains:
            e.role = "value"
            return
        if name in self.functions or name in catalog.BUILTINS:
            raise self.error(f"'{name}' is a function; call it with ( )", e.span)
        known = set(self.tensors) | set(self.relations) | set(self.domains) | self.global_vars
        if scope is not None:
            known |= scope.names
        raise self.unknown(name, e.span, known)

    def r_expr(self, e, scope):
        if isinstance(e, N.Name):
            self.r_value_name(e, scope)
        elif isinstance(e, N.Index):
            self.r_index(e, scope)
        elif isinstance(e, N.Call):
            self.r_call(e, scope)
        elif isinstance(e, (N.Num, N.Str, N.Bool)):
            return
        else:
            for c in N.iter_children(e):
                self.r_expr(c, scope)

    def rank_of(self, name):
        if name in self.relations:
            return self.relations[name].arity
        info = self.tensors.get(name)
        return info.rank if info is not None else None

    def r_index(self, e: N.Index, scope):
        base = e.base
        named = isinstance(base, N.Name) and not self.bound(base.id, scope) and \
            (base.id in self.tensors or base.id in self.relations)
        if named:
            base.role = "value"
        else:
            self.r_expr(base, scope)
        has_var = False
        for group in e.groups:
            for item in group:
                if isinstance(item, N.Slice):
                    for part in (item.start, item.stop, item.step):
                        if part is not None:
                            self.r_expr(part, scope)
                    continue
                if item.marked:
                    raise self.error("the normalised-axis mark `.` belongs on the left side of an "
                                     "equation", item.span)
                has_var |= self.r_index_expr(item.expr, scope)
        if has_var and len(e.groups) > 1:
            raise self.error("write indices in one bracket, like X[i, j]", e.span)
        if named:
            rank = self.rank_of(base.id)
            given = len(e.groups[0])
            if rank is not None and (given > rank or (has_var and given != rank) or
                                     (base.id in self.relations and given != rank)):
                raise self.error(f"'{base.id}' has {rank} ax{'is' if rank == 1 else 'es'} but "
                                 f"{given} ind{'ex is' if given == 1 else 'ices are'} given", e.span)

    def r_index_expr(self, e, scope, lhs=False) -> bool:
        """Checks one index expression; returns whether it uses an index variable."""
        if isinstance(e, N.Name):
            if self.binds_index(e.id, scope):
                e.role = "value"
                return False
            if e.id in self.constants:
                e.role, e.key = "const", e.id
                return False
            if e.id in self.tensors or e.id in self.relations or e.id in self.domains or \
                    e.id in self.functions:
                raise self.error(f"'{e.id}' cannot be used as an index variable: it names a "
                                 f"{self.kind_of(e.id)}", e.span)
            e.role = "var"
            return True
        if isinstance(e, N.Num):
            if not e.is_int:
                raise self.error(f"an index must be an integer, not {e.text}", e.span)
            return False
        if isinstance(e, N.BinChain) and all(op in "+-*/%" for op in e.ops):
            return any([self.r_index_expr(o, scope, lhs) for o in e.operands])
        if isinstance(e, N.Prefix) and all(op in "+-" for op in e.ops):
            return self.r_index_expr(e.operand, scope, lhs)
        if isinstance(e, N.Index) and not lhs:
            self.r_index(e, scope)
            return any(isinstance(n, N.Name) and n.role == "var" for n in N.walk(e))
        if isinstance(e, (N.Call, N.Str)) and not lhs:
            if isinstance(e, N.Str):
                e_key = e.value
                if e_key not in self.constants:
                    raise self.error(f"'{e_key}' is not a constant of any domain", e.span)
                return False
            self.r_expr(e, scope)
            return False
        raise self.error("an index may only hold index variables, constants, integers, "
                         "+ - * / % and integer tensors", e.span)

    def kind_of(self, name):
        if name in self.declared_at:
            return self.declared_at[name][0]
        if name in self.relations:
            return "relation"
        if name in self.tensors:
            return "tensor"
        return "name"

    def r_call(self, c: N.Call, scope):
        name = c.name
        if name in self.functions and not self.bound(name, scope):
            c.kind = "fn"
            fn = self.functions[name]
            params = [p.name for p in fn.params]
            if len(c.args) > len(params):
                raise self.error(f"'{name}' takes {len(params)} argument"
                                 f"{'s' if len(params) != 1 else ''} but {len(c.args)} "
                                 f"{'are' if len(c.args) != 1 else 'is'} given", c.span)
            given = set(params[:len(c.args)])
            for k in c.kwargs:
                if k.name not in params:
                    raise self.error(f"'{name}' has no parameter '{k.name}'", k.span)
                if k.name in given:
                    raise self.error(f"'{k.name}' is given twice", k.span)
                given.add(k.name)
            if len(given) != len(params):
                missing = [p for p in params if p not in given]
                raise self.error(f"'{name}' takes {len(params)} argument"
                                 f"{'s' if len(params) != 1 else ''}; missing "
                                 f"{', '.join(missing)}", c.span)
        elif name in self.relations and not self.bound(name, scope):
            c.kind = "relation"
            rel = self.relations[name]
            if c.kwargs:
                raise self.error("an atom has no keyword arguments", c.kwargs[0].span)
            if len(c.args) != rel.arity:
                raise self.error(f"relation '{name}' takes {rel.arity} argument"
                                 f"{'s' if rel.arity != 1 else ''} (line {rel.span.line}), but "
                                 f"{len(c.args)} {'are' if len(c.args) != 1 else 'is'} given",
                                 c.span)
            for a in c.args:
                self.r_atom_arg(a, scope)
            return
        elif name in self.tensors and not self.bound(name, scope):
            raise self.error(f"'{name}' is a numeric tensor: index it with [ ], like {name}[i]",
                             c.name_span)
        elif self.bound(name, scope):
            raise self.error(f"'{name}' is a variable, not a function", c.name_span)
        elif name in catalog.BUILTINS:
            c.kind = "builtin"
            lo, hi = catalog.ARITY.get(name, (0, None))
            if len(c.args) < lo or (hi is not None and len(c.args) > hi):
                want = str(lo) if lo == hi else (f"{lo} to {hi}" if hi is not None else f"at least {lo}")
                raise self.error(f"'{name}' takes {want} argument{'s' if hi != 1 else ''} but "
                                 f"{len(c.args)} {'are' if len(c.args) != 1 else 'is'} given",
                                 c.span)
        else:
            known = set(self.functions) | set(self.relations) | catalog.BUILTINS
            raise self.unknown(name, c.name_span, known, "function or relation")
        for a in c.args:
            self.r_expr(a, scope)
        for k in c.kwargs:
            self.r_expr(k.value, scope)

    def r_atom_arg(self, a, scope, head=False):
        if isinstance(a, N.Name):
            if a.id == "_":
                if head:
                    raise self.error("`_` cannot appear in a rule's head", a.span)
                a.role = "var"
            elif a.id in self.constants:
                a.role, a.key = "const", a.id
            elif self.binds_index(a.id, scope):
                a.role = "value"
            else:
                a.role = "var"
        elif isinstance(a, N.Str) or (isinstance(a, N.Num) and a.is_int):
            return
        elif isinstance(a, N.Prefix) and a.ops == ["-"] and isinstance(a.operand, N.Num) \
                and a.operand.is_int:
            return
        else:
            raise self.error("an atom's arguments must be variables or constants", a.span)

    def r_literal(self, lit: N.Literal, scope, where):
        e = lit.expr
        if isinstance(e, N.Prefix) and e.ops == ["!"]:
            e = e.operand
        if isinstance(e, N.Call):
            if e.name in self.functions or (e.name not in self.relations and e.name in catalog.BUILTINS
                                            and e.name not in self.tensors):
                raise self.error(f"'{e.name}' is a function; {where} holds atoms like R(x, y)",
                                 e.name_span)
            if e.name not in self.relations:
                raise self.unknown(e.name, e.name_span, set(self.relations), "relation")
            self.r_call(e, scope)
        elif isinstance(e, N.Compare) and e.op in ("==", "!="):
            self.r_atom_arg(e.left, scope)
            self.r_atom_arg(e.right, scope)
        elif isinstance(e, N.Index) and isinstance(e.base, N.Name) and \
                (e.base.id in self.relations or e.base.id in self.tensors):
            self.r_index(e, scope)
        else:
            raise self.error(f"{where} holds atoms like R(x, y), comparisons x == y / x != y and "
                             f"`not`", e.span)

    def r_rule(self, r: N.Rule):
        self.in_definition = True
        try:
            for a in r.head.args:
                self.r_atom_arg(a, None, head=True)
            for lit in r.body:
                self.r_literal(lit, None, "a rule's body")
        finally:
            self.in_definition = False

    def r_query(self, q: N.Query, scope):
        if len(q.literals) == 1 and not q.literals[0].negated:
            e = q.literals[0].expr
            if not (isinstance(e, N.Call) and e.name in self.relations and not self.bound(e.name, scope)):
                self.r_expr(e, scope)
                return
        for lit in q.literals:
            self.r_literal(lit, scope, "a query")

    def check_stray_facts(self, items):
        """`prnt("x")` parses as a fact; when its relation is undeclared, defined by nothing else,
        read nowhere and named like a function, it is a misspelt call."""
        read = set()
        for item in items:
            if isinstance(item, N.ExprStmt) and id(item) in self.fact_stmts:
                continue
            for n in N.walk(item):
                if isinstance(n, N.Call) and n.kind == "relation":
                    read.add(n.name)
                elif isinstance(n, N.Name) and n.role == "value":
                    read.add(n.id)
        for fn in self.functions.values():
            read |= {n.name for s in fn.body for n in N.walk(s) if isinstance(n, N.Call)}
        for rel in self.relations.values():
            if rel.decl is None and not rel.rules and rel.name not in read:
                close = difflib.get_close_matches(rel.name, sorted(catalog.BUILTINS | set(self.functions)),
                                                  n=1, cutoff=0.75)
                if close:
                    raise self.error(f"unknown function '{rel.name}'; did you mean '{close[0]}'? "
                                     f"(a relation that is only ever stated as facts would be "
                                     f"declared with `relation`)", rel.span)

    # ---- domains --------------------------------------------------------------------------------
    def infer_domains(self, items):
        """Unifies argument positions through shared variables, gives every class a domain, then
        adds (or checks) the constants written at each position, in source order."""
        occurrences = []           # (uf node, constant node, key)

        def position(node_key, arg, stmt, span):
            if isinstance(arg, N.Name) and arg.role == "var":
                if arg.id == "_":
                    return
                var = ("V", id(stmt), arg.id)
                clash = self.uf.union(var, node_key)
                if clash:
                    (d1, s1), (d2, s2) = clash
                    raise self.error(f"'{arg.id}' ranges over {d1.name} (line {s1.line}) and over "
                                     f"{d2.name} (line {s2.line})", arg.span)
            elif isinstance(arg, N.Name) and arg.role == "const":
                occurrences.append((node_key, arg, arg.key))
            elif isinstance(arg, N.Str):
                occurrences.append((node_key, arg, arg.value))
            elif isinstance(arg, N.Num) and arg.is_int and node_key[0] == "R":
                occurrences.append((node_key, arg, arg.value))
            elif isinstance(arg, N.Prefix) and isinstance(arg.operand, N.Num) and node_key[0] == "R":
                occurrences.append((node_key, arg, -arg.operand.value))


        def atoms(stmt, root):
            for n in N.walk(root):
                if isinstance(n, N.Call) and n.kind == "relation":
                    for k, a in enumerate(n.args):
                        position(("R", n.name, k), a, stmt, a.span)
                elif isinstance(n, N.Index) and isinstance(n.base, N.Name) and len(n.groups) == 1:
                    name = n.base.id
                    for k, item in enumerate(n.groups[0]):
                        if not isinstance(item, N.Idx):
                            continue
                        if name in self.relations:
                            position(("R", name, k), item.expr, stmt, item.span)
                        elif name in self.tensors and self.uf.domain_of(("T", name, k)) is not None:
                            position(("T", name, k), item.expr, stmt, item.span)
                        elif isinstance(item.expr, (N.Name, N.Str)) and \
                                getattr(item.expr, "role", "const") == "const":
                            raise self.error(f"axis {k} of '{name}' is not indexed by a domain, so it "
                                             f"takes no constant", item.span)
                elif isinstance(n, N.Compare) and isinstance(stmt, N.Rule) and n.op in ("==", "!="):
                    l, r = n.left, n.right
                    if isinstance(l, N.Name) and isinstance(r, N.Name) and l.role == r.role == "var":
                        clash = self.uf.union(("V", id(stmt), l.id), ("V", id(stmt), r.id))
                        if clash:
                            raise self.error(f"'{l.id}' and '{r.id}' range over different domains",
                                             n.span)

        for item in items:
            if isinstance(item, N.ExprStmt) and id(item) in self.fact_stmts:
                call = item.expr
                for k, a in enumerate(call.args):
                    position(("R", call.name, k), a, item, a.span)
            elif isinstance(item, N.Rule):
                for k, a in enumerate(item.head.args):
                    position(("R", item.head.name, k), a, item, a.span)
                for lit in item.body:
                    atoms(item, lit)
            elif isinstance(item, N.FnDecl):
                for s in item.body:
                    atoms(s, s)
            elif not isinstance(item, (N.DomainDecl, N.RelationDecl)):
                for n in N.walk(item):
                    if isinstance(n, (N.Assign, N.Query, N.ExprStmt, N.Let)):
                        atoms(n, n)
                    elif isinstance(n, N.TensorDecl) and n.init is not None:
                        atoms(n, n.init)

        # One domain per class: the declared one, or a new inferred one named after a position.
        for rel in self.relations.values():
            for k in range(rel.arity):
                key = ("R", rel.name, k)
                if self.uf.domain_of(key) is None:
                    self.uf.attach(key, Domain(f"{rel.name}.{k}", "inferred", declared=False), rel.span)
        for node_key, node, key in occurrences:
            dom = self.uf.domain_of(node_key)
            if dom is None:
                continue
            if dom.grows:
                dom.add(key)
            elif dom.index(key) is None:
                raise self.error(f"'{key}' is not in domain {dom.name}", node.span)
        finished = set()
        for rel in self.relations.values():
            rel.domains = [self.uf.domain_of(("R", rel.name, k)) for k in range(rel.arity)]
            for d in rel.domains:
                if id(d) not in finished:
                    d.finish_inferred()
                    finished.add(id(d))
        for t in self.tensors.values():
            if t.rank:
                t.axis_domains = [self.uf.domain_of(("T", t.name, k)) for k in range(t.rank)]
            else:
                t.axis_domains = []
        self.constants |= {m for d in {id(r): r for rel in self.relations.values()
                                       for r in rel.domains}.values()
                           for m in d.constants() if isinstance(m, str)}

    def var_domain(self, stmt, var):
        """The domain of a rule's (or query's) variable, or None."""
        return self.uf.domain_of(("V", id(stmt), var))

    # ---- stratification -------------------------------------------------------------------------
    def stratify(self):
        graph = Graph()
        fn_reads = self.function_reads()
        for rel in self.relations.values():
            if rel.rules or rel.facts or rel.decl:
                graph.add_node(rel.name)
            for r in rel.rules:
                for lit in r.body:
                    e = lit.expr
                    negated = lit.negated
                    if isinstance(e, N.Prefix) and e.ops == ["!"]:
                        e, negated = e.operand, not negated
                    for name in self.reads(e, fn_reads):
                        graph.add(rel.name, name, negated, lit.span)
        for t in self.tensors.values():
            graph.add_node(t.name)
            for eq in t.equations:
                for name in self.reads(eq.value, fn_reads) | self.reads_lhs(eq, fn_reads):
                    graph.add(t.name, name, False, eq.span)
        comps = components(graph)
        bad = negative_cycle(graph, comps)
        if bad:
            source, edge, path = bad
            cycle = " -> ".join([source, "not " + edge.target] + path[1:])
            raise self.error(f"'{source}' depends on 'not {edge.target}' and '{edge.target}' "
                             f"depends on '{source}' ({cycle}): negation through recursion "
                             f"cannot be stratified", edge.span)
        return graph, comps

    def reads(self, e, fn_reads) -> set:
        """Global tensors and relations an expression reads (through user functions too)."""
        out = set()
        for n in N.walk(e):
            if isinstance(n, N.Name) and n.role == "value" and \
                    (n.id in self.tensors or n.id in self.relations) and n.id not in self.global_vars:
                out.add(n.id)
            elif isinstance(n, N.Call):
                if n.kind == "relation":
                    out.add(n.name)
                elif n.kind == "fn":
                    out |= fn_reads.get(n.name, set())
        return out

    def reads_lhs(self, eq, fn_reads):
        out = set()
        if isinstance(eq.target, N.Index):
            for item in eq.target.groups[0]:
                out |= self.reads(item.expr, fn_reads)
        return out

    def function_reads(self) -> dict:
        direct, calls = {}, {}
        for name, fn in self.functions.items():
            direct[name], calls[name] = set(), set()
            for s in fn.body:
                for n in N.walk(s):
                    if isinstance(n, N.Name) and n.role == "value" and \
                            (n.id in self.tensors or n.id in self.relations):
                        direct[name].add(n.id)
                    elif isinstance(n, N.Call) and n.kind == "relation":
                        direct[name].add(n.name)
                    elif isinstance(n, N.Call) and n.kind == "fn":
                        calls[name].add(n.name)
        changed = True
        while changed:
            changed = False
            for name in direct:
                for callee in calls[name]:
                    if not direct[callee] <= direct[name]:
                        direct[name] |= direct[callee]
                        changed = True
        return direct

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
        if not any(t.mode == "learnable" for t in self.tensors.values()):
            raise self.error("a learn block needs a learnable tensor "
                             "(tensor W: float16[...] learnable = ...)", learn.span)
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


def target_name(a: N.Assign) -> str:
    return a.target.id if isinstance(a.target, N.Name) else a.target.base.id
