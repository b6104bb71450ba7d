"""Domains (finite sets of constants) and the inference that gives every relation argument one.

A declared domain is a set of constants or an integer range.  The arguments of untyped relations
get inferred domains: positions joined by a shared variable are unified (union-find), and the
constants written at those positions become the members, in order of first appearance.  An inferred
domain whose constants are all integers is a range: 0..max+1 when none is negative (integers index
it), else min..max+1 (its positions hold values that rules compute with, as the non-negative ones do).
"""
from __future__ import annotations

from ..constants import NAME, constant_key, constant_kind
from ..errors import ConstantNameWarning
from ..logic.rules import AGGREGATES
from ..syntax import nodes as N
from ..syntax.facts import arg_span


class Domain:
    def __init__(self, name: str, kind: str, members=(), start: int = 0, stop: int = 0,
                 declared: bool = True, span=None):
        self.name = name
        self.kind = kind                # "set", "range", "open" (declared, grows) or "inferred"
        self.members = list(members)
        self._index = {constant_key(m): i for i, m in enumerate(self.members)}   # (constant_key)
        self.start, self.stop = start, stop
        self.declared = declared
        self.span = span

    def __repr__(self):
        return f"Domain({self.name!r}, {self.kind}, size={self.size})"

    @property
    def grows(self) -> bool:
        return self.kind in ("open", "inferred")

    @property
    def size(self) -> int:
        if self.kind == "range":
            return max(0, self.stop - self.start)
        return len(self.members)

    def index(self, c):
        """Index of a constant, or None when it is not a member."""
        if self.kind == "range":
            if isinstance(c, int) and not isinstance(c, bool) and self.start <= c < self.stop:
                return c - self.start
            return None
        return self._index.get(constant_key(c))

    def add(self, c) -> int:
        k = constant_key(c)
        if k not in self._index:
            self._index[k] = len(self.members)
            self.members.append(c)
        return self._index[k]

    def drop(self, constants):
        """Removes constants (names only read, from a position that otherwise holds integers)."""
        gone = {constant_key(c) for c in constants}
        self.members = [m for m in self.members if constant_key(m) not in gone]
        self._index = {constant_key(m): i for i, m in enumerate(self.members)}

    def constants(self) -> list:
        if self.kind == "range":
            return list(range(self.start, self.stop))
        return list(self.members)

    def finish_inferred(self):
        """An inferred domain of integers becomes the range 0..max+1, or min..max+1 when one is
        negative."""
        if self.kind == "inferred" and self.members and all(
                isinstance(m, int) and not isinstance(m, bool) for m in self.members):
            self.kind, self.start, self.stop = "range", min(0, *self.members), max(self.members) + 1
            self.members, self._index = [], {}


class UnionFind:
    """Classes of argument positions; each class may carry one declared domain."""

    def __init__(self):
        self.parent = {}
        self.domain = {}                # root -> (Domain, span where it was attached)

    def find(self, x):
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a, b):
        """Joins two classes; returns the two clashing domains if both carry different ones."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        da, db = self.domain.get(ra), self.domain.get(rb)
        if da and db and da[0] is not db[0]:
            return da, db
        self.parent[rb] = ra
        if db and not da:
            self.domain[ra] = db
        self.domain.pop(rb, None)
        return None

    def attach(self, x, domain, span):
        root = self.find(x)
        have = self.domain.get(root)
        if have and have[0] is not domain:
            return have
        self.domain[root] = (domain, span)
        return None

    def domain_of(self, x):
        d = self.domain.get(self.find(x))
        return d[0] if d else None


class DomainInference:
    """Mixed into `Checker`: gives every relation argument its domain."""

    def infer_domains(self, items):
        """Unifies argument positions through shared variables, gives every class a domain, then
        adds (or checks) the constants written at each position, in source order."""
        occurrences = []           # (uf node, constant node, key)
        optional = []              # (uf node, key) of comparisons: added to domains that grow
        reads = set()              # ids of the arguments of atoms read (rule bodies, queries)
        picks = []                 # (head position, variable) of min(y) and max(y)
        computed = []              # head positions that rules compute integers into

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
                occurrences.append((node_key, arg, arg.constant))
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
                        elif name in self.tensors:
                            # a tensor defined by an equation gets its axes' domains from the
                            # variables that index them (Joint[c, w] = PC[c] PW[c, w] -> Joint[c, yes])
                            position(("T", name, k), item.expr, stmt, item.span)
                        elif isinstance(item.expr, (N.Name, N.Str)) and \
                                getattr(item.expr, "role", "const") == "const":
                            raise self.error(f"axis {k} of '{name}' is not indexed by a domain, so it "
                                             f"takes no constant{self.constant_note(item.expr)}", item.span)
                elif isinstance(n, N.Compare) and isinstance(stmt, N.Rule) and n.op in ("==", "!="):
                    l, r = n.left, n.right
                    if isinstance(l, N.Name) and isinstance(r, N.Name) and l.role == r.role == "var":
                        clash = self.uf.union(("V", id(stmt), l.id), ("V", id(stmt), r.id))
                        if clash:
                            raise self.error(f"'{l.id}' and '{r.id}' range over different domains",
                                             n.span)
                    for var, c in ((l, r), (r, l)) if n.op == "==" else ():
                        # `w == "c"` may bind w to a constant no fact mentions: a domain that grows
                        # takes it in (a fixed one is not extended; the comparison matches nothing).
                        key = _constant_key(c)
                        if isinstance(var, N.Name) and var.role == "var" and var.id != "_" and key is not None:
                            optional.append((("V", id(stmt), var.id), key))

        for item in items:
            for stmt in (n for n in N.walk(item) if n in self.block_facts):
                for k, a in enumerate(stmt.expr.args):
                    position(("R", stmt.expr.name, k), a, stmt, a.span)
            if isinstance(item, N.Facts):
                for r, row in enumerate(item.rows):
                    for k, key in enumerate(row):
                        occurrences.append((("R", item.name, k), (item, r, k), key))
            elif isinstance(item, N.ExprStmt) and item in self.fact_stmts:
                call = item.expr
                for k, a in enumerate(call.args):
                    position(("R", call.name, k), a, item, a.span)
            elif isinstance(item, N.Rule):
                for k, a in enumerate(item.head.args):
                    position(("R", item.head.name, k), a, item, a.span)
                    extreme = isinstance(a, N.Call) and a.name in ("min", "max") and len(a.args) == 1
                    if extreme and isinstance(a.args[0], N.Name) and a.args[0].role == "var":
                        picks.append((("R", item.head.name, k), ("V", id(item), a.args[0].id)))
                    elif extreme and isinstance(a.args[0], (N.Name, N.Str)):
                        # max(b) is the constant b (clingo's #max{b : ...}): its position holds it.
                        position(("R", item.head.name, k), a.args[0], item, a.args[0].span)
                    elif isinstance(a, N.BinChain) or (isinstance(a, N.Call) and a.name in AGGREGATES):
                        computed.append(("R", item.head.name, k))
                for lit in item.body:
                    atoms(item, lit)
                    reads.update(_atom_args(lit.expr))
            elif isinstance(item, N.FnDecl):
                for s in item.body:
                    atoms(s, s)
            elif not isinstance(item, (N.DomainDecl, N.RelationDecl)):
                for n in N.walk(item):
                    if isinstance(n, (N.Assign, N.Query, N.ExprStmt, N.Let)):
                        atoms(n, n)
                        if isinstance(n, N.Query):
                            reads.update(_atom_args(n))
                    elif isinstance(n, N.TensorDecl) and n.init is not None:
                        atoms(n, n.init)

        for position_key, var in picks:
            # min(y) is one of y's constants (names too): its position takes y's domain, unless
            # both carry declared ones (the engine then says that they differ).
            self.uf.union(position_key, var)
        # One domain per class: the declared one, or a new inferred one named after a position.
        for rel in self.relations.values():
            for k in range(rel.arity):
                key = ("R", rel.name, k)
                if self.uf.domain_of(key) is None:
                    self.uf.attach(key, Domain(f"{rel.name}.{k}", "inferred", declared=False), rel.span)
        # id(domain) -> [domain, names atoms read, whether facts and heads put constants there, only integers]
        only_read = {}
        for node_key, node, key in occurrences:
            dom = self.uf.domain_of(node_key)
            if dom is None:
                if node_key[0] == "T":
                    raise self.error(f"axis {node_key[2]} of '{node_key[1]}' is not indexed by a "
                                     f"domain, so it takes no constant{self.constant_note(node)}", node.span)
                continue
            if node_key[0] == "T" and isinstance(node, N.Str) and dom.index(key) is None:
                key = node.value    # a tensor's axis reads a quoted name as the name (evaluate.py)
            if isinstance(key, int) and not isinstance(key, bool) and not -2**63 <= key < 2**63:
                shown = str(key) if len(str(key)) < 30 else f"{str(key)[:12]}...({len(str(key))} digits)"
                raise self.error(f"the integer {shown} is outside the 64-bit range that relations hold",
                                 self._occurrence_span(node))
            if dom.grows:
                dom.add(key)
                seen = only_read.setdefault(id(dom), [dom, set(), False, True])
                if id(node) not in reads:
                    seen[2:] = True, seen[3] and isinstance(key, int) and not isinstance(key, bool)
                elif isinstance(key, str):
                    seen[1].add(key)
            elif dom.index(key) is None and id(node) in reads:
                # As in clingo, an atom naming a constant no tuple can hold never holds.
                self.warn(ConstantNameWarning, f"'{key}' is not in domain {dom.name}, so no tuple holds it "
                          f"here: this atom never holds", self._occurrence_span(node))
            elif dom.index(key) is None:
                raise self.error(f"'{key}' is not in domain {dom.name}", self._occurrence_span(node))
        # A name only read where facts and heads put integers (`P("x", n)?`, `Q(x) <- P(x, "x")`,
        # `Deg(x, "x")?` of `Deg(x, count(y))`) matches nothing (as in clingo), and the position stays an
        # integer one that rules compute with.
        for node_key in computed:
            dom = self.uf.domain_of(node_key)
            if dom is not None and dom.grows:
                only_read.setdefault(id(dom), [dom, set(), False, True])[2] = True
        for dom, names, held, integers in only_read.values():
            if dom.kind == "inferred" and held and integers and names:
                dom.drop(names)
        # Names first: whether an integer joins depends on whether the domain holds names.
        for node_key, key in sorted(optional, key=lambda o: isinstance(o[1], int) and not isinstance(o[1], bool)):
            # A name joins the domain (an integer only one that holds names: integer domains hold
            # every value rules compute).
            is_int = isinstance(key, int) and not isinstance(key, bool)
            dom = self.uf.domain_of(node_key)
            if dom is None and not is_int:
                # A variable no atom reads (`w == "c"`, then only compared): a domain of its own.
                dom = Domain(f"{node_key[2]}", "inferred", declared=False)
                self.uf.attach(node_key, dom, None)
            if dom is not None and dom.grows and (not is_int or any(
                    not isinstance(m, int) or isinstance(m, bool) for m in dom.members)):
                dom.add(key)
        finished = set()
        for rel in self.relations.values():
            rel.domains = [self.uf.domain_of(("R", rel.name, k)) for k in range(rel.arity)]
            for d in rel.domains:
                if id(d) not in finished:
                    d.finish_inferred()
                    finished.add(id(d))
            for k, kind in rel.column_types.items():
                d = rel.domains[k]
                bad = next((m for m in d.members if not isinstance(m, int)), None)
                if kind == "int" and bad is not None:
                    raise self.error(f"argument {k} of '{rel.name}' is declared int, but '{bad}' "
                                     f"is not an integer", rel.decl.params[k].span)
        for t in self.tensors.values():
            if t.rank:
                t.axis_domains = [self.uf.domain_of(("T", t.name, k)) for k in range(t.rank)]
            else:
                t.axis_domains = []
        # An integer domain holds no names (and may hold millions of integers).
        self.constants |= {m for d in {id(r): r for rel in self.relations.values()
                                       for r in rel.domains}.values() if d.kind != "range"
                           for m in d.constants() if constant_kind(m) == NAME}

    def _occurrence_span(self, node):
        """Where a constant stands: a node, or (Facts, row, column) of a fact line."""
        return arg_span(*node, self.sources[node[0].span.file]) if isinstance(node, tuple) else node.span

    def constant_note(self, node):
        """Why a name meant as an index variable is a constant: a domain holds it (`d` in
        `Z[n, d]` where `domain Node = {a, b, c, d}`)."""
        if not (isinstance(node, N.Name) and getattr(node, "role", None) == "const"):
            return ""
        holder = next((d.name for d in self.domains.values() if d.kind != "range" and node.id in d.members), None)
        where = f"domain {holder}" if holder is not None else "a fact"
        return (f" ('{node.id}' is a constant of {where}: a name a domain or a fact holds is a "
                f"constant, not an index variable)")

    def var_domain(self, stmt, var):
        """The domain of a rule's (or query's) variable, or None."""
        return self.uf.domain_of(("V", id(stmt), var))


def _atom_args(root):
    """The arguments of the relation atoms under `root`."""
    return {id(a) for n in N.walk(root) if isinstance(n, N.Call) and n.kind == "relation" for a in n.args}


def _constant_key(e):
    """The constant an expression names (a string, a name, an integer), else None."""
    if isinstance(e, N.Str):
        return e.constant
    if isinstance(e, N.Name) and e.role == "const":
        return e.key if e.key is not None else e.id
    if isinstance(e, N.Num) and e.is_int:
        return e.value
    if isinstance(e, N.Prefix) and e.ops == ["-"] and isinstance(e.operand, N.Num) and e.operand.is_int:
        return -e.operand.value
    return None
