"""Index bookkeeping shared by the checker and the interpreter: sizes of index variables (one size
per variable per equation, every disagreement reported where it occurs) and the static shapes the
checker can know before running: declared dimensions, literal values, relation domains, and what
equations give their left sides."""
from __future__ import annotations

import functools
import math

from ..syntax import nodes as N


@functools.lru_cache(maxsize=32)
def _lines(text):
    return text.splitlines()


def snippet(sources, span, default="") -> str:
    """The source text under a one-line span."""
    if span is None or span.end_line != span.line:
        return default
    text = sources.get(span.file)
    if text is None:
        return default
    lines = _lines(text)
    if not 1 <= span.line <= len(lines):
        return default
    return lines[span.line - 1][span.column - 1: span.end_column - 1] or default


class SizeEnv:
    """Sizes of the index variables of one equation, rule or query."""

    def __init__(self, error, hint=None):
        self.error = error
        self.hint = hint           # var -> text added to a disagreement's message ("" for none)
        self.sizes = {}            # var -> (size, span, where)
        self.ceilings = {}         # var -> positions that matter (a left side shifted by + c)

    def bind(self, var, size, span, where):
        if size is None:
            return
        prev = self.sizes.get(var)
        if prev is None:
            self.sizes[var] = (size, span, where)
        elif prev[0] != size and var in self.ceilings and min(prev[0], size) >= self.ceilings[var]:
            # `X[i + 1, j] = f(W[i, j, k] X[i, k])`: positions of i at or past the ceiling land
            # outside X, so tensors of every length reaching it agree; the longer are read in part.
            if size < prev[0]:
                self.sizes[var] = (size, span, where)
        elif prev[0] != size:
            line = f" (line {prev[1].line})" if prev[1].line != span.line else ""
            hint = self.hint(var) if self.hint is not None else ""
            raise self.error(f"index '{var}' has size {size} in {where} but size {prev[0]} in "
                             f"{prev[2]}{line}{hint}", span)

    def size(self, var):
        got = self.sizes.get(var)
        return got[0] if got else None


def literal_shape(e, error):
    """Shape of a list literal (None where an element is not a literal); errors on ragged lists."""
    if isinstance(e, (N.Num, N.Bool)):
        return ()
    if isinstance(e, N.Prefix) and isinstance(e.operand, N.Num):
        return ()
    if not isinstance(e, N.ListLit):
        return None
    shapes = [literal_shape(i, error) for i in e.items]
    if not shapes:
        return (0,)
    if any(s is None for s in shapes):
        return None
    first = shapes[0]
    for item, s in zip(e.items, shapes):
        if s != first:
            raise error("ragged list: every row must have the same length", item.span)
    return (len(shapes),) + first


_CREATORS = {"zeros", "ones", "rand", "randn", "empty"}
CONSTRUCTORS = _CREATORS | {"eye", "full"}      # the calls whose shapes value_shape reads


def value_shape(e, error):
    """Static shape of a tensor's initial value when it is a literal, a creation call with literal
    sizes, or such a value scaled or shifted by numbers; None when unknown."""
    if isinstance(e, (N.ListLit, N.Num, N.Bool)):
        return literal_shape(e, error)
    if isinstance(e, N.Call) and e.kind == "builtin" and not e.kwargs:
        args = e.args
        if len(args) == 1 and isinstance(args[0], (N.TupleLit, N.ListLit)):
            args = args[0].items
        ints = [a.value for a in args if isinstance(a, N.Num) and a.is_int]
        if e.name in _CREATORS and len(ints) == len(args):
            return tuple(ints)
        if e.name == "eye" and len(ints) == len(args) and 1 <= len(ints) <= 2:
            return (ints[0], ints[-1])
        if e.name == "full" and len(e.args) == 2 and isinstance(e.args[0], (N.TupleLit, N.ListLit)):
            dims = [a.value for a in e.args[0].items if isinstance(a, N.Num) and a.is_int]
            if len(dims) == len(e.args[0].items):
                return tuple(dims)
        return None
    if isinstance(e, N.BinChain) and all(op in "+-*/" for op in e.ops):
        shapes = [value_shape(o, error) for o in e.operands]
        tensor_shapes = {s for s in shapes if s not in (None, ())}
        if any(s is None for s in shapes) or len(tensor_shapes) > 1:
            return None
        return tensor_shapes.pop() if tensor_shapes else ()
    if isinstance(e, N.Prefix):
        return value_shape(e.operand, error)
    return None


def lhs_extent(e, env):
    """Size of a left-side axis indexed by `v / c`, `v + c` or `v - c` when v's size is known."""
    if isinstance(e, N.BinChain) and len(e.ops) == 1 and isinstance(e.operands[0], N.Name) and \
            e.operands[0].role == "var" and isinstance(e.operands[1], N.Num) and e.operands[1].is_int:
        n, c = env.size(e.operands[0].id), e.operands[1].value
        if n is None or n == 0:
            return None
        if e.ops[0] == "/" and c > 0:
            return (n - 1) // c + 1
        if e.ops[0] == "+":
            return n + c
        if e.ops[0] == "-":
            return n - c if n > c else None
    return None


def fmt_shape(shape) -> str:
    return "[" + ", ".join("?" if s is None else str(s) for s in shape) + "]"


def type_mismatch(what, shape, spec) -> str:
    """The message for a value of `shape` where type `spec` is declared (an argument, a result, a
    typed variable), the same whether the checker or a run finds it."""
    dims = ", ".join("?" if d.kind == "any" else str(d.value) for d in spec.dims)
    return f"{what} has shape {list(shape)} but {spec.dtype}[{dims}] is declared"


def declared_dims(type_spec, domains, named_size):
    """The sizes a declared type gives: an int as written, a domain's size, `named_size(name)` for
    another name (None while it is unbound), None for `?`. Shared by the checker and the runtime,
    which know named sizes at different times."""
    out = []
    for d in type_spec.dims or ():
        if d.kind == "int":
            out.append(d.value)
        elif d.kind == "name" and d.value in domains:
            out.append(domains[d.value].size)
        elif d.kind == "name":
            out.append(named_size(d.value))
        else:
            out.append(None)
    return out


class StaticShapes:
    """The checker's shape pass: declared shapes against initial values, then every equation in
    dependency order, recording the shapes equations give to the tensors they define."""

    def __init__(self, checker, order):
        self.c = checker
        self.order = order
        self.bound_sizes = {}      # named size -> (value, span)

    def error(self, message, span):
        return self.c.error(message, span)

    def check_all(self):
        for t in list(self.c.tensors.values()):
            if t.decl is not None:
                self.declared(t)
        for comp in self.order:
            for name in comp:
                t = self.c.tensors.get(name)
                if t is not None:
                    for eq in t.equations:
                        self.equation(eq, t)
        self.c.named_sizes = {k: v[0] for k, v in self.bound_sizes.items()}

    def bound_size(self, name):
        bound = self.bound_sizes.get(name)
        return bound[0] if bound else None

    def declared(self, t):
        dims = declared_dims(t.decl.type, self.c.domains, self.bound_size)
        if t.decl.init is not None:
            got = value_shape(t.decl.init, self.error)
            if got is not None and dims and None not in dims and len(got) != len(dims) and \
                    math.prod(got) == math.prod(dims):
                got = tuple(dims)          # a flat literal takes the declared shape (as the seed's)
            if got is not None:
                if len(got) != len(dims) or any(a is not None and a != b for a, b in zip(dims, got)):
                    raise self.error(f"'{t.name}' is declared {t.dtype}{fmt_shape(dims)} but its "
                                     f"value has shape {fmt_shape(got)}", t.decl.init.span)
                for d, size in zip(t.decl.type.dims or (), got):
                    if d.kind == "name" and d.value not in self.c.domains:
                        self.bound_sizes.setdefault(d.value, (size, d.span))
                dims = list(got)
        t.static_shape = tuple(dims)

    def shape_of(self, name):
        rel = self.c.relations.get(name)
        if rel is not None:
            return tuple(d.size for d in rel.domains)
        t = self.c.tensors.get(name)
        if t is not None and name not in self.c.global_vars:
            return t.static_shape
        return None

    def bind_rhs(self, root, env):
        for n in N.walk(root):
            if isinstance(n, N.Index) and isinstance(n.base, N.Name) and len(n.groups) == 1:
                shape = self.shape_of(n.base.id)
                items = n.groups[0]
                if shape is None or len(shape) != len(items):
                    continue
                where = snippet(self.c.sources, n.span, n.base.id)
                for size, item in zip(shape, items):
                    if isinstance(item, N.Idx) and isinstance(item.expr, N.Name) and item.expr.role == "var":
                        env.bind(item.expr.id, size, item.expr.span, where)
            elif isinstance(n, N.Call) and n.kind == "relation":
                shape = self.shape_of(n.name)
                where = snippet(self.c.sources, n.span, n.name)
                for size, a in zip(shape, n.args):
                    if isinstance(a, N.Name) and a.role == "var" and a.id != "_":
                        env.bind(a.id, size, a.span, where)

    def equation(self, eq, t):
        lhs = eq.target.groups[0] if isinstance(eq.target, N.Index) else ()
        declared = t.static_shape if t.decl is not None else None
        env = SizeEnv(self.error, lambda var: shift_hint(lhs, var, env.ceilings))
        env.ceilings = shift_ceilings(lhs, declared)
        self.bind_rhs(eq.value, env)
        rhs_vars = _indexing_vars(eq.value)
        if not isinstance(eq.target, N.Index):
            shape = () if rhs_vars else None
        else:
            self.bind_rhs(eq.target, env)       # integer tensors read inside left indices
            shape = []
            for k, item in enumerate(eq.target.groups[0]):
                e = item.expr
                if isinstance(e, N.Name) and e.role == "var":
                    if declared is not None and declared[k] is not None:
                        env.bind(e.id, declared[k], e.span, f"the declaration of '{t.name}'")
                    size = env.size(e.id)
                    if size is None and e.id not in rhs_vars and declared is None and \
                            self.shape_known_elsewhere(t, k) is None:
                        raise self.error(f"the size of index '{e.id}' is unknown: it indexes nothing "
                                         f"on the right side and '{t.name}' has no declared shape",
                                         e.span)
                    shape.append(size)
                else:
                    shape.append(lhs_extent(e, env))
            if declared is not None:
                shape = [d if d is not None else s for d, s in zip(declared, shape)]
            shape = tuple(shape)
        if shape is None:
            return
        prev = getattr(t, "static_shape", None)
        if prev is not None and len(prev) == len(shape):
            for a, b in zip(prev, shape):
                if a is not None and b is not None and a != b:
                    raise self.error(f"this equation gives '{t.name}' the shape {fmt_shape(shape)} "
                                     f"but it has shape {fmt_shape(prev)}", eq.target.span)
            shape = tuple(a if a is not None else b for a, b in zip(prev, shape))
        t.static_shape = shape

    def shape_known_elsewhere(self, t, k):
        prev = getattr(t, "static_shape", None)
        if prev is not None and len(prev) > k:
            return prev[k]
        return None


def shift_ceilings(lhs_items, declared):
    """For each variable a left side shifts forward (`X[i + c, ...]`) along an axis of known size
    N: N - c, the positions of the variable that land inside X (see SizeEnv.bind)."""
    out = {}
    if not declared:
        return out
    exprs = [getattr(item, "expr", None) for item in lhs_items]
    for e, n in zip(exprs, declared):
        if isinstance(e, N.BinChain) and e.ops == ["+"] and isinstance(e.operands[0], N.Name) and \
                e.operands[0].role == "var" and isinstance(e.operands[1], N.Num) and e.operands[1].is_int and \
                e.operands[1].value > 0 and n is not None and n > e.operands[1].value:
            var = e.operands[0].id
            if sum(isinstance(m, N.Name) and m.id == var for x in exprs for m in N.walk(x)) == 1:
                out[var] = n - e.operands[1].value
    return out


def shift_hint(lhs_items, var, ceilings):
    """For an index shifted on the left side (`H[t + 1, i] = ... H[t, j] ... U[t, j]`, a recurrence
    after a first row set by another equation), what makes one size serve every use."""
    for item in lhs_items:
        e = getattr(item, "expr", None)
        if isinstance(e, N.BinChain) and any(isinstance(n, N.Name) and n.id == var for n in N.walk(e)):
            if var in ceilings:
                return (f"; '{var}' is shifted on the left side, so it takes the {ceilings[var]} positions "
                        f"that land inside the left side's tensor: each tensor it indexes needs as many")
            return (f"; '{var}' is shifted on the left side: declare the left side's tensor with its "
                    f"shape (a `tensor` declaration), then '{var}' takes the positions that land inside it "
                    f"and longer tensors are read in part")
    return ""


def _indexing_vars(root):
    """The index variables that index something under `root` (a tensor's brackets, an atom's
    arguments): those give sizes; one used only as a value (`i * 2.0`) does not."""
    out = set()
    for n in N.walk(root):
        items = [i.expr for g in n.groups for i in g if isinstance(i, N.Idx)] if isinstance(n, N.Index) else \
            n.args if isinstance(n, N.Call) and n.kind == "relation" else ()
        out.update(m.id for item in items for m in N.walk(item) if isinstance(m, N.Name) and m.role == "var")
    return out
