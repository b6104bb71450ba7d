"""Name resolution for the checker: what every name in every expression refers to, which names in
index and atom positions are index variables, constants or bound values, and the checks that come
with it (arities, fact placement, ambiguous summation, misspelt calls)."""
from __future__ import annotations

import difflib

from . import catalog
from ..logic.rules import AGGREGATES
from ..syntax import nodes as N
from .constants import constant_origin
from .contraction import conjunction, plan, var_names


class Scope:
    """Names bound by `let`, parameters, loop variables and assignments in one function-like body.
    The top level has no local scope: its variables are the program's global variables."""

    def __init__(self, names=(), types=None, first=None):
        self.names = set(names)
        self.types = dict(types or {})      # variable -> struct it certainly holds
        self.first = dict(first or {})      # variable -> program order of its first binding


class Resolver:
    """Mixed into `Checker`."""

    def resolve(self, items):
        self.items = items
        self.number_nodes(items)
        for t in self.tensors.values():
            if t.decl is not None:
                for dim in t.decl.type.dims or ():
                    if dim.kind == "name" and dim.value not in self.domains:
                        self.named_sizes.setdefault(dim.value, []).append(dim)
                if t.decl.init is not None:
                    self.r_root(t.decl.init, None)
        for fn in list(self.functions.values()) + list(self.methods.values()) + list(self.drops.values()):
            scope = self.local_scope(fn.body, [p.name for p in fn.params])
            for k, p in enumerate(fn.params):
                if p.name == "self" and k == 0 and fn.owner is not None:
                    scope.types["self"] = fn.owner
                elif p.type is not None and p.type.dtype in self.structs:
                    scope.types[p.name] = p.type.dtype
            fn.local_names = scope.names
            self.in_function = True
            try:
                self.r_block(fn.body, scope, in_fn=True)
            finally:
                self.in_function = False
        for item in items:
            if isinstance(item, (N.DomainDecl, N.RelationDecl, N.TensorDecl, N.FnDecl,
                                 N.StructDecl, N.ImplBlock, N.Load)):
                continue
            if isinstance(item, N.Rule):
                self.r_rule(item)
            elif item in self.fact_stmts or isinstance(item, N.Facts):
                continue
            elif isinstance(item, N.Assign) and self.is_equation(item):
                self.r_equation(item, None)
            elif isinstance(item, (N.MainBlock, N.TestBlock)):
                scope = self.local_scope(item.body, [])
                item.local_names = scope.names
                self.r_block(item.body, scope)
            else:
                self.r_stmt(item, None)

    def number_nodes(self, items):
        """Program order of every node, and of each global variable's first binding: a query reads
        a variable only once it is bound (`Big(n, v)?` before `for n in ...` asks for n)."""
        self.order = {}
        self.global_first = {}
        self.query_at = None
        for item in items:
            top = not isinstance(item, (N.FnDecl, N.MainBlock, N.TestBlock, N.ImplBlock))
            for n in N.walk(item):
                self.order[id(n)] = len(self.order)
                name = n.name if isinstance(n, N.Let) else n.var if isinstance(n, N.For) else None
                if top and name is not None:
                    self.global_first.setdefault(name, self.order[id(n)])

    def local_scope(self, body, params) -> Scope:
        """Parameters and every name a body binds (`let`, loop variables, assignments to names that
        are not global variables or declared tensors)."""
        names = set(params)
        first = dict.fromkeys(params, -1)
        for name, n in self.bindings(body):
            names.add(name)
            first.setdefault(name, self.order.get(id(n), -1))
        return Scope(names, first=first)

    def bindings(self, body):
        """(name, node) of each local variable a body binds, in order."""
        for s in body:
            for n in N.walk(s):
                if isinstance(n, N.Let):
                    yield n.name, n
                elif isinstance(n, N.For):
                    yield n.var, n
                elif isinstance(n, N.Assign) and not isinstance(n.target, N.Member):
                    t = target_name(n)
                    if t not in self.global_vars and t not in self.tensors:
                        yield t, n

    def bound(self, name, scope) -> bool:
        return (scope is not None and name in scope.names) or name in self.global_vars

    def index_bound(self, name, scope) -> bool:
        """Whether a variable's value may stand in an index or atom position here: the body's own
        variables, and the program's outside functions.  A function is hygienic: a variable of the
        program (`for i in ...` at the top level) does not capture the index `i` of its body,
        which means the same at every call."""
        return (scope is not None and name in scope.names) or \
            (name in self.global_vars and not self.in_function)

    def binds_index(self, name, scope) -> bool:
        """Whether a name in an index or atom position is a bound value rather than an index
        variable.  Equations and rules are definitions: no variable binds their indices; in a
        query only a variable bound before it does."""
        if self.in_definition or not self.index_bound(name, scope):
            return False
        if self.query_at is None:
            return True
        if scope is not None and name in scope.names:
            return scope.first.get(name, -1) < self.query_at
        return self.global_first.get(name, -1) < self.query_at

    def r_root(self, e, scope):
        """A statement-level expression: resolved, and planned when it uses index variables."""
        self.r_expr(e, scope)
        if any(isinstance(n, N.Name) and n.role == "var" for n in N.walk(e)):
            self.plans[e] = plan(e, None, "=", (), self.error)

    def r_block(self, body, scope, in_fn=False):
        for s in body:
            self.r_stmt(s, scope, in_fn)

    def r_stmt(self, s, scope, in_fn=False):
        if isinstance(s, N.Let):
            if s.type is not None:
                self.check_type(s.type)
            if s.value is not None:
                self.r_root(s.value, scope)
            if scope is not None:
                kind = s.type.dtype if s.type is not None and s.type.dtype in self.structs else \
                    (self.static_type(s.value, scope) if s.value is not None else None)
                if kind is not None:
                    scope.types[s.name] = kind
                else:
                    scope.types.pop(s.name, None)
        elif isinstance(s, N.Assign):
            self.r_assign(s, scope)
        elif isinstance(s, N.ExprStmt) and s in self.block_facts and not self.bound(s.expr.name, scope):
            s.expr.kind = "fact"
            for a in s.expr.args:
                if not (isinstance(a, N.Name) and a.role == "const"):
                    self.r_root(a, scope)       # a value, computed when the statement runs
        elif isinstance(s, N.ExprStmt):
            self.r_root(s.expr, scope)
        elif isinstance(s, N.Query):
            self.r_query(s, scope)
        elif isinstance(s, N.If):
            self.r_root(s.cond, scope)
            self.r_block(s.then, scope, in_fn)
            self.r_block(s.orelse or [], scope, in_fn)
        elif isinstance(s, (N.While, N.For)):
            self.r_root(s.cond if isinstance(s, N.While) else s.iterable, scope)
            self.loops += 1
            try:
                self.r_block(s.body, scope, in_fn)
            finally:
                self.loops -= 1
        elif isinstance(s, (N.Break, N.Continue)):
            if not self.loops:
                raise self.error(f"`{'break' if isinstance(s, N.Break) else 'continue'}` outside a "
                                 f"loop", s.span)
        elif isinstance(s, N.Block):
            self.r_block(s.body, scope, in_fn)
        elif isinstance(s, N.Learn):
            for b in s.body:
                if scope is None and isinstance(b, N.Assign) and self.is_equation(b):
                    self.r_equation(b, None)        # registered as an equation by `classify`
                else:
                    self.r_stmt(b, scope, in_fn)
            for setting in s.settings:
                self.r_setting(setting, scope)
            if scope is not None:                   # top-level ones were collected by `classify`
                self.learns.append(s)
        elif isinstance(s, N.Load):
            raise self.error("`load` must be written at the top level", s.span)
        elif isinstance(s, N.Return):
            if not in_fn:
                raise self.error("`return` outside a function", s.span)
            if s.value is not None:
                self.r_root(s.value, scope)
        elif isinstance(s, N.Rule):
            raise self.error("a rule holds for the whole run, so it cannot be written inside a function, "
                             "loop, `if` or test: write it at the top level or directly inside `main`",
                             s.span)
        else:
            raise self.error("this statement is not allowed here", s.span)

    def r_assign(self, a: N.Assign, scope):
        """An assignment run as a statement (not an equation)."""
        if isinstance(a.target, N.Member):
            self.r_member(a.target, scope)
            self.r_root(a.value, scope)
            return
        name = target_name(a)
        info = self.tensors.get(name)
        if info is not None and info.derived and not self.bound(name, scope):
            raise self.error(f"'{name}' is defined by an equation at line "
                             f"{info.equations[0].span.line}; it cannot be assigned", a.target.span)
        if info is not None and info.mode == "learnable" and not self.bound(name, scope) and \
                info.decl.init is not None:
            raise self.error(f"'{name}' is learnable; only `learn` changes it", a.target.span)
        if name in self.declared_at and name not in self.tensors and not self.bound(name, scope):
            what, where = self.declared_at[name]
            raise self.error(f"'{name}' is a {what} (line {where.line}); it cannot be assigned",
                             a.target.span)
        if scope is None and not self.bound(name, None) and info is None:
            raise self.error(f"unknown variable '{name}'; declare it with `let {name} = ...`",
                             a.target.span)
        if self.sets_elements(a, scope):
            a.element = True
            for item in a.target.groups[0]:
                for part in ((item.start, item.stop, item.step) if isinstance(item, N.Slice) else (item.expr,)):
                    if part is not None:
                        self.r_expr(part, scope)
            self.r_expr(a.value, scope)
            return
        self.r_lhs(a)
        self.index_names = self.index_positions(a)
        try:
            self.r_expr(a.value, scope)
        finally:
            self.index_names = frozenset()
        self.plan_assign(a)

    def sets_elements(self, a: N.Assign, scope) -> bool:
        """`h[1] = 7` or `q[k] = v` in a statement, where h or q holds a value already (a variable or
        a given tensor) and every index is a number, a slice, a constant or a bound variable: those
        elements change. Any other indexed left side has index variables: an equation run once."""
        if not isinstance(a.target, N.Index) or a.op != "=" or len(a.target.groups) != 1:
            return False
        name = a.target.base.id
        info = self.tensors.get(name)
        if not (self.bound(name, scope) or (info is not None and not info.derived)):
            return False
        if scope is not None and name in scope.names and \
                scope.first.get(name, -1) >= self.order.get(id(a), -1):
            return False        # its first assignment (`y[i] = x[i] * 2` in a function): an equation
        for item in a.target.groups[0]:
            if isinstance(item, N.Idx) and item.marked:
                return False
            parts = (item.start, item.stop, item.step) if isinstance(item, N.Slice) else (item.expr,)
            for n in (m for p in parts if p is not None for m in N.walk(p)):
                if isinstance(n, N.Name) and not (self.index_bound(n.id, scope) or n.id in self.constants
                                                  or n.id in self.domains):
                    return False
        return True

    def r_equation(self, a: N.Assign, scope):
        self.in_definition = True
        self.index_names = self.index_positions(a)
        try:
            self.r_lhs(a)
            self.r_expr(a.value, scope)
        finally:
            self.in_definition = False
            self.index_names = frozenset()
        self.plan_assign(a, equation=True)

    def plan_assign(self, a: N.Assign, equation=False):
        """An equation's left side without indices (`Loss = ...`) still has one: nothing on it."""
        items = a.target.groups[0] if isinstance(a.target, N.Index) else ([] if equation else None)
        self.plans[a] = plan(a.value, items, a.op, (), self.error)
        self.plans[a].owner = a

    def r_lhs(self, a: N.Assign):
        if not isinstance(a.target, N.Index):
            return
        for item in a.target.groups[0]:
            if isinstance(item, N.Slice):
                raise self.error(f"a slice on the left side sets elements of a value that '{a.target.base.id}' "
                                 f"holds already (after `let {a.target.base.id} = zeros(...)`); an equation's "
                                 f"left side takes indices, like {a.target.base.id}[i]", item.span)
        marked = [i for i in a.target.groups[0] if i.marked]
        if len(marked) > 1:
            raise self.error("only one axis can be marked as normalised", marked[1].span)
        for item in a.target.groups[0]:
            self.r_index_expr(item.expr, None, lhs=True)

    def r_setting(self, s: N.Setting, scope):
        if s.key not in ("optimizer", "scheduler"):
            self.r_root(s.value, scope)
            return
        call = s.value
        if not isinstance(call, N.Call):
            raise self.error(f"`{s.key}` takes a call like "
                             f"{'adam(lr: 0.01)' if s.key == 'optimizer' else 'cosine(t_max: 100)'}",
                             s.value.span)
        for a in call.args:
            self.r_root(a, scope)
        for k in call.kwargs:
            if not (s.key == "scheduler" and isinstance(k.value, N.Name) and k.value.id in self.functions):
                self.r_root(k.value, scope)

    def index_positions(self, a: N.Assign) -> frozenset:
        """Names written as indices in an assignment (inside brackets on either side, or as
        arguments of relation atoms): its index variables wherever else they appear."""
        out = set()
        for root in (a.target, a.value):
            for n in N.walk(root):
                if isinstance(n, N.Index):
                    items = [i.expr for g in n.groups for i in g if isinstance(i, N.Idx)]
                elif isinstance(n, N.Call) and n.name in self.relations:
                    items = n.args
                else:
                    continue
                out.update(m.id for item in items for m in _index_arithmetic(item) if isinstance(m, N.Name))
        return frozenset(out)

    def r_value_name(self, e: N.Name, scope):
        name = e.id
        if (self.in_definition or not self.index_bound(name, scope)) and name in self.index_names and \
                name != "_" and name not in self.constants and name not in self.tensors and \
                name not in self.relations and name not in self.domains:
            e.role = "var"          # an equation's own index, whatever a loop elsewhere binds (`(w != v)`)
            return
        if self.bound(name, scope) or name in self.tensors or name in self.relations \
                or name in self.domains:
            e.role = "value"
            return
        if name in self.index_names and name != "_" and name not in self.constants:
            e.role = "var"          # an index variable used as a number: its values (`Y[i] = i * 2.0`)
            return
        if name in self.functions or name in catalog.BUILTINS:
            raise self.error(f"'{name}' is a function; call it with ( )", e.span)
        if name in self.constants and name in self.index_names:
            raise self.error(f"'{name}' is a constant ({constant_origin(self, self.items, name)}), so it is no "
                             f"index variable: a name that a fact or domain holds is a constant everywhere; "
                             f"give the index another name", e.span)
        known = set(self.tensors) | set(self.relations) | set(self.domains) | self.global_vars
        if scope is not None:
            known |= scope.names
        raise self.unknown(name, e.span, known)

    # The expressions with a resolver of their own; literals need none, others resolve their children.
    _R_EXPR = {N.Name: "r_value_name", N.Index: "r_index", N.Call: "r_call", N.StructLit: "r_struct_lit",
               N.Member: "r_member", N.MethodCall: "r_method_call", N.Num: None, N.Str: None, N.Bool: None}

    def r_expr(self, e, scope):
        kind = type(e)
        if kind not in self._R_EXPR:
            for c in N.iter_children(e):
                self.r_expr(c, scope)
        elif self._R_EXPR[kind] is not None:
            getattr(self, self._R_EXPR[kind])(e, scope)

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
                # (a tensor's axis reads the name where its domain holds no such string: evaluate.py)
                if e.value not in self.constants and not any(
                        d.kind == "set" and d.index(e.constant) is not None for d in self.domains.values()):
                    raise self.error(f"'{e.value}' is not a constant of any domain", e.span)
                return False
            names, self.index_names = self.index_names, frozenset()
            try:
                self.r_expr(e, scope)       # a call in an index reads values, not the index variables
            finally:
                self.index_names = names
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
        if "::" in name:
            self.r_path_call(c, scope)
        elif name in self.functions and not self.bound(name, scope):
            c.kind = "fn"
            fn = self.functions[name]
            self.check_call_arity(c, fn, name, [p.name for p in fn.params])
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
            rank = self.tensors[name].rank
            if rank is None:
                raise self.error(f"'{name}' is a tensor, not a function: index it with [ ], or to multiply "
                                 f"it by what follows, write {name} * (...)", c.name_span)
            if rank == 0:
                raise self.error(f"'{name}' is a scalar tensor, not a function: to multiply it by what "
                                 f"follows, write {name} * (...)", c.name_span)
            index = f"{name}[{', '.join('ijkl'[:rank])}]" if rank and rank <= 4 else f"{name}[i]"
            raise self.error(f"'{name}' is a numeric tensor, not a function: index it with [ ], like {index} "
                             f"(to multiply it by what follows, write {index} * (...))", c.name_span)
        elif self.bound(name, scope):
            set_at = self._var_span(self.items, name) if name in self.global_vars else None
            where = f" (set at line {set_at.line})" if set_at is not None and set_at.line != c.span.line else ""
            raise self.error(f"'{name}' is a variable{where}, not a function or a relation", c.name_span)
        elif catalog.callable_builtin(name):
            c.kind = "builtin"
            lo, hi = catalog.ARITY.get(name, (0, None))
            if len(c.args) < lo or (hi is not None and len(c.args) > hi):
                want = str(lo) if lo == hi else (f"{lo} to {hi}" if hi is not None else f"at least {lo}")
                raise self.error(f"'{name}' takes {want} argument{'s' if hi != 1 else ''} but "
                                 f"{len(c.args)} {'are' if len(c.args) != 1 else 'is'} given",
                                 c.span)
        else:
            known = set(self.functions) | set(self.relations) | catalog.BUILTINS | catalog.ENGINE_MORE
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
        elif isinstance(a, N.Prefix) and all(op in "+-" for op in a.ops):
            self.r_number(a.operand, scope)
        elif isinstance(a, N.BinChain) and all(op in "+-*/%" for op in a.ops):
            for o in a.operands:
                self.r_number(o, scope)
        elif head and isinstance(a, N.Call) and a.name in AGGREGATES and len(a.args) == 1:
            self.r_atom_arg(a.args[0], scope)
        elif head and isinstance(a, N.Call) and a.name in AGGREGATES:
            raise self.error(f"{a.name} takes one argument, and aggregates over the distinct bindings of "
                             f"all the body's variables: Count(count(y)) <- Path(x, y) counts the pairs",
                             a.span)
        else:
            raise self.error("an atom's arguments are variables, constants and integer arithmetic "
                             "(an aggregate like count(y) in a rule's head)", a.span)

    def r_number(self, a, scope):
        """An operand of arithmetic in an atom."""
        self.r_atom_arg(a, scope)
        if isinstance(a, N.Name) and a.role == "const" and isinstance(a.key, str):
            raise self.error(f"'{a.id}' is a constant (a fact or a domain holds it), not a number: "
                             f"arithmetic in an atom takes integer variables and integers (to mean "
                             f"a variable, give it another name)", a.span)

    def r_literal(self, lit: N.Literal, scope, where):
        e = lit.expr
        if isinstance(e, N.Prefix) and e.ops == ["!"]:
            e = e.operand
        if isinstance(e, N.Call):
            if e.name in self.functions or (e.name not in self.relations and e.name in catalog.BUILTINS
                                            and e.name not in self.tensors):
                raise self.error(f"'{e.name}' is a function; {where} holds atoms like R(x, y)",
                                 e.name_span)
            if e.name not in self.relations and e.name in self.tensors:
                raise self.error(f"'{e.name}' is a tensor, not a relation: {where} reads it with "
                                 f"brackets, like {e.name}[x] (true where it is not 0)", e.name_span)
            if e.name not in self.relations:
                raise self.unknown(e.name, e.name_span, set(self.relations), "relation")
            self.r_call(e, scope)
        elif isinstance(e, N.Compare):
            for side in (e.left, e.right):
                read = next((n for n in N.walk(side) if isinstance(n, (N.Index, N.Call))
                             and not (isinstance(n, N.Call) and n.name in AGGREGATES)), None)
                if read is not None:
                    raise self.error(f"a comparison in {where} compares variables, constants and integer "
                                     "arithmetic, not tensor values: compare in an equation and read its "
                                     "result as an atom (Big[x, y] = (Sim[x, y] > 0.5), then Big[x, y] in "
                                     "the body)", read.span)
                self.r_atom_arg(side, scope)
        elif isinstance(e, N.Index) and isinstance(e.base, N.Name) and \
                (e.base.id in self.relations or e.base.id in self.tensors):
            self.r_index(e, scope)
        elif isinstance(e, N.BinChain) and "||" in e.ops:
            raise self.error(f"{where} is a conjunction, and `or` (||) is absent there: write one rule "
                             f"(or query) per alternative", e.span)
        else:
            raise self.error(f"{where} holds atoms like R(x, y), comparisons (x == y, x < y + 1) and "
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
        r.head_items = [N.Idx(span=a.span, expr=a) for a in r.head.args]
        r.product = conjunction(r.body, r.span, always_product=True)
        self.plans[r] = plan(r.product, r.head_items, "=", (), self.error)

    def r_query(self, q: N.Query, scope):
        if len(q.literals) == 1 and not q.literals[0].negated:
            e = q.literals[0].expr
            if not (isinstance(e, N.Call) and e.name in self.relations and not self.bound(e.name, scope)):
                self.r_root(e, scope)
                return
        self.query_at = self.order.get(id(q))
        try:
            for lit in q.literals:
                self.r_literal(lit, scope, "a query")
        finally:
            self.query_at = None
        q.product = conjunction(q.literals, q.literals[0].span)
        self.plans[q] = plan(q.product, None, "=", tuple(var_names(q.product)), self.error)

    def check_stray_facts(self, items):
        """`prnt("x")` parses as a fact; when its relation is undeclared, defined by nothing else,
        read nowhere and named like a function, it is a misspelt call."""
        read = set()
        for item in items:
            if isinstance(item, N.ExprStmt) and item in self.fact_stmts:
                continue
            for n in N.walk(item):
                if isinstance(n, N.Call) and n.kind == "relation":
                    read.add(n.name)
                elif isinstance(n, N.Name) and n.role == "value":
                    read.add(n.id)
        for fn in self.functions.values():
            read |= {n.name for s in fn.body for n in N.walk(s) if isinstance(n, N.Call) and n.kind != "fact"}
        for rel in self.relations.values():
            if rel.decl is None and not rel.rules and rel.name not in read and not self.reads_as_facts(rel):
                close = difflib.get_close_matches(rel.name, sorted(catalog.BUILTINS | set(self.functions)),
                                                  n=1, cutoff=0.75)
                if close:
                    raise self.error(f"unknown function '{rel.name}'; did you mean '{close[0]}'? "
                                     f"(a relation that is only ever stated as facts would be "
                                     f"declared with `relation`)", rel.span)


    def reads_as_facts(self, rel):
        """Whether a relation's lines read as facts rather than calls: a capitalised name (the
        built-ins are lower-case: `Paint(red)` is no misspelt `print`), or only names for arguments
        that name no variable, tensor or function (`paint(red)`, but not `prnt(x)` with `let x`)."""
        if rel.name[:1].isupper():
            return True
        values = set(self.global_vars) | set(self.tensors) | set(self.functions)
        names = [a.id for call in rel.facts for a in call.args] + [k for row in rel.fact_rows for k in row]
        return rel.names_only and bool(names) and not values.intersection(names)


def _index_arithmetic(e):
    """The nodes of an index expression's arithmetic (`i + 1`, `x / 2`), not inside calls or
    nested indexing (a value there is not an index)."""
    stack = [e]
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, (N.BinChain, N.Prefix)):
            stack.extend(N.iter_children(n))


def target_name(a: N.Assign) -> str:
    return a.target.id if isinstance(a.target, N.Name) else a.target.base.id
