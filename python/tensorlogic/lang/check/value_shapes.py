"""The shapes of the values statements compute, where declarations and literals fix them: the errors a
run would raise on reaching `A @ B`, `A + B`, `X[5]`, `f(A)` against `fn f(x: float16[3])`, a
result or a typed `let` against its declared type, `reshape(A, [4, 2])` or `X = zeros(4)` for a
declared `X: float16[3]`, reported by the checker (`tl check`) without running.

A shape is a tuple of sizes, a size None where only a run knows it (`?`, a named size, a domain,
which facts may grow), or None for a value whose shape only a run knows: a variable (a `let` may be
given values of any shape), a parameter, a relation, a function's result without a declared type,
the built-ins other than the constructors and `reshape`.  Only a definite disagreement is an error,
reported where a run reports it, including in code no run reaches (a function nothing calls, a
branch never taken), as a type checker does.
"""
from __future__ import annotations

import math

from ..syntax import nodes as N
from .indices import CONSTRUCTORS, fmt_shape, literal_shape, type_mismatch, value_shape

# The engine's names of the operators, as its broadcasting errors name them (`%` divides first).
ENGINE_OP = {"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "div", "^": "pow", "==": "eq",
             "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}


def broadcast(a, b):
    """The shape of an elementwise result (PyTorch's rule, aligned from the right), and the first
    pair of sizes that cannot broadcast (None when none)."""
    out = []
    for k in range(1, max(len(a), len(b)) + 1):
        x = a[-k] if k <= len(a) else 1
        y = b[-k] if k <= len(b) else 1
        if x is not None and y is not None and x != y and 1 not in (x, y):
            return None, (x, y)
        out.append(y if x == 1 else x if y == 1 else x if x is not None else y)
    return tuple(reversed(out)), None


class ValueShapes:
    def __init__(self, checker):
        self.c = checker
        self.equations = set()      # id() of the assignments that are equations (definitions)

    def error(self, message, span):
        return self.c.error(message, span)

    def check_all(self, items):
        for t in self.c.tensors.values():
            for eq in t.equations:
                self.equations.add(id(eq))
                self.shape(eq.value, frozenset())
        for fn in list(self.c.functions.values()) + list(self.c.methods.values()) + list(self.c.drops.values()):
            self.block(fn.body, frozenset(fn.local_names), fn)
        top = [i for i in items if isinstance(i, (N.Let, N.Assign, N.ExprStmt, N.If, N.For, N.While, N.Block,
                                                  N.Learn, N.MainBlock, N.TestBlock))]
        self.block(top, frozenset(), None)

    # ---- statements -----------------------------------------------------------------------------
    def block(self, body, local, fn):
        for s in body:
            self.statement(s, local, fn)

    def statement(self, s, local, fn):
        if isinstance(s, N.Let):
            if s.value is not None:
                self.typed(self.shape(s.value, local), s.value, s.type, f"'{s.name}'", s.span, s.declared_tensor)
        elif isinstance(s, N.Assign):
            if id(s) not in self.equations:
                self.assigned(s, self.shape(s.value, local), local)
        elif isinstance(s, N.ExprStmt):
            shape = self.shape(s.expr, local)
            if fn is not None and s is fn.body[-1]:
                self.result(fn, shape, s.expr)      # (a body's last expression is its value)
        elif isinstance(s, N.Return):
            if s.value is not None:
                self.result(fn, self.shape(s.value, local), s.value)
        elif isinstance(s, (N.If, N.While)):
            self.shape(s.cond, local)
            self.block(s.then if isinstance(s, N.If) else s.body, local, fn)
            self.block(getattr(s, "orelse", None) or [], local, fn)
        elif isinstance(s, N.For):
            self.shape(s.iterable, local)
            self.block(s.body, local, fn)
        elif isinstance(s, (N.Block, N.Learn)):
            self.block(s.body, local, fn)
            for setting in getattr(s, "settings", ()):
                self.shape(setting.value, local)
        elif isinstance(s, (N.MainBlock, N.TestBlock)):
            self.block(s.body, frozenset(s.local_names), None)

    def typed(self, shape, value, spec, what, span, flat_fills):
        """A run checks a value against its declared type (Runtime.typed): the rank, and every size
        written as a number.  `flat_fills`: `tensor x: T[2, 3] = [1, ..., 6]`, where a flat value
        of as many elements takes the declared shape."""
        if spec is None or not spec.dims or shape is None:
            return
        if _python_type(value) is not None:
            raise self.error(f"{what} must be a tensor, not {_python_type(value)}", span)
        dims = tuple(d.value if d.kind == "int" else None for d in spec.dims)
        if not (flat_fills and _may_fill(shape, dims)) and _disagree(shape, dims):
            raise self.error(type_mismatch(what, [("?" if s is None else s) for s in shape], spec), span)

    def result(self, fn, shape, node):
        if fn is not None and fn.ret is not None:
            self.typed(shape, node, fn.ret, f"the result of {fn.name}", node.span, False)

    def assigned(self, s, shape, local):
        """`X = v` for a declared tensor X outside index notation: a run gives X the value in X's
        declared shape (Runtime.conform), a flat value of as many elements taking it."""
        if not isinstance(s.target, N.Name) or s.element or s.op != "=" or s.target.id in local or shape is None:
            return
        info = self.c.tensors.get(s.target.id)
        if info is None or info.decl is None or any(isinstance(n, N.Name) and n.role == "var" for n in N.walk(s.value)):
            return
        dims = self.declared(s.target.id)
        if not _may_fill(shape, dims) and _disagree(shape, dims):
            raise self.error(f"'{info.name}' is declared {info.dtype}{fmt_shape(self.declared_all(info))} but "
                             f"its value has shape {fmt_shape(shape)}", s.target.span)

    # ---- expressions ----------------------------------------------------------------------------
    def declared(self, name):
        """A declared tensor's sizes written as numbers (None for the others: only those are the
        same in every run and are positions, not a domain's constants)."""
        return tuple(d.value if d.kind == "int" else None for d in self.c.tensors[name].decl.type.dims or ())

    def declared_all(self, info):
        return [d.value if d.kind == "int" else self.c.domains[d.value].size
                if d.kind == "name" and d.value in self.c.domains else None for d in info.decl.type.dims or ()]

    def shape(self, e, local):
        """The shape of e's value (see the module's doc), having checked everything under it."""
        if isinstance(e, (N.Num, N.Bool)):
            return ()
        if isinstance(e, N.ListLit):
            for item in e.items:
                self.shape(item, local)
            return _literal_shape(e)
        if isinstance(e, N.Name):
            info = self.c.tensors.get(e.id)
            if e.role == "value" and info is not None and info.decl is not None and e.id not in local and \
                    e.id not in self.c.global_vars:
                return self.declared(e.id)
            return None
        if isinstance(e, N.Prefix):
            inner = self.shape(e.operand, local)
            return inner if all(op in "+-" for op in e.ops) else None
        if isinstance(e, N.BinChain):
            return self.chain(e, local)
        if isinstance(e, N.Power):
            shapes = [self.shape(o, local) for o in e.operands]
            acc = shapes[-1]
            for s, o in zip(reversed(shapes[:-1]), reversed(e.operands[:-1])):
                acc = self.elementwise("^", s, acc, o.span)
            return acc
        if isinstance(e, N.Compare):
            return self.elementwise(e.op, self.shape(e.left, local), self.shape(e.right, local), e.span)
        if isinstance(e, N.Index):
            return self.index(e, local)
        if isinstance(e, N.Call):
            return self.call(e, local)
        if isinstance(e, N.MethodCall):
            obj = self.shape(e.obj, local)
            args = [self.shape(a, local) for a in e.args]
            for k in e.kwargs:
                self.shape(k.value, local)
            if e.name in ("reshape", "view") and not e.kwargs:
                return self.reshape(obj, e.args, args, e.span)
            return None
        for child in N.iter_children(e):
            if not isinstance(child, (N.TypeSpec, N.Dim)):
                self.shape(child, local)
        return None

    def chain(self, e, local):
        acc = self.shape(e.operands[0], local)
        for op, o in zip(e.ops, e.operands[1:]):
            right = self.shape(o, local)
            if op == "@":
                acc = self.matmul(acc, right, o.span)
            elif op in ENGINE_OP:
                acc = self.elementwise(op, acc, right, o.span)
            else:
                acc = None
        return acc

    def elementwise(self, op, a, b, span):
        if a is None or b is None:
            return None
        out, clash = broadcast(a, b)
        if clash is not None:
            raise self.error(f"'{op}' cannot combine these values: {ENGINE_OP[op]}: shapes {fmt_shape(a)} and "
                             f"{fmt_shape(b)} cannot be broadcast together", span)
        return out

    def matmul(self, a, b, span):
        """`a @ b` as the engine's matmul (PyTorch's): a vector is a row on the left, a column on the
        right; leading axes broadcast."""
        if a is None or b is None:
            return None
        if not a or not b:
            raise self.error("'@' cannot combine these values: matmul: both arguments need at least one axis",
                             span)
        k_a, k_b = a[-1], b[0] if len(b) == 1 else b[-2]
        if k_a is not None and k_b is not None and k_a != k_b:
            raise self.error(f"'@' cannot combine these values: matmul: shapes {fmt_shape(a)} and "
                             f"{fmt_shape(b)} cannot be multiplied ({k_a} != {k_b})", span)
        batch, clash = broadcast(a[:-2], b[:-2])
        if clash is not None:
            raise self.error(f"'@' cannot combine these values: matmul: shapes {fmt_shape(a)} and "
                             f"{fmt_shape(b)} cannot be broadcast together", span)
        return batch + a[-2:-1] + (b[-1:] if len(b) > 1 else ())

    def index(self, e, local):
        """`X[5]`, `X[1, -1]`: integers written as numbers pick positions, which must be inside the
        axes' sizes; anything else (a variable, a slice, a name) leaves the shape unknown."""
        base = self.shape(e.base, local)
        picks = []
        for group in e.groups:
            for item in group:
                for part in (item.start, item.stop, item.step) if isinstance(item, N.Slice) else (item.expr,):
                    if part is not None:
                        self.shape(part, local)
                picks.append(_integer(item.expr) if isinstance(item, N.Idx) else None)
        if base is None or len(e.groups) != 1 or any(p is None for p in picks) or len(picks) > len(base):
            return None
        for axis, (p, n) in enumerate(zip(picks, base)):
            if n is not None and not -n <= p < n:
                raise self.error(f"cannot index this value: index {p} is out of bounds for dimension {axis} "
                                 f"with size {n}", e.span)
        return base[len(picks):]

    def call(self, e, local):
        args = [self.shape(a, local) for a in e.args]
        kwargs = {k.name: self.shape(k.value, local) for k in e.kwargs}
        if e.kind == "builtin":
            if e.name == "reshape" and len(e.args) >= 2 and not e.kwargs:
                return self.reshape(args[0], e.args[1:], args[1:], e.span)
            return value_shape(e, _Ragged) if e.name in CONSTRUCTORS else None
        if e.kind != "fn" or e.name not in self.c.functions:
            return None
        fn = self.c.functions[e.name]
        given = list(zip(fn.params, zip(e.args, args))) + \
            [(p, (k.value, kwargs[k.name])) for k in e.kwargs for p in fn.params if p.name == k.name]
        for p, (node, shape) in given:
            if p.type is not None:
                self.typed(shape, node, p.type, f"argument '{p.name}' of {fn.name}", e.span, False)
        if fn.ret is None or not fn.ret.dims:
            return None
        return tuple(d.value if d.kind == "int" else None for d in fn.ret.dims)

    def reshape(self, shape, size_nodes, size_shapes, span):
        """`reshape(x, [4, 2])`, `x.reshape(4, 2)`: the sizes written as integers must hold x's
        elements (one may be -1: the rest)."""
        if len(size_nodes) == 1 and isinstance(size_nodes[0], (N.ListLit, N.TupleLit)):
            size_nodes = size_nodes[0].items
        sizes = [_integer(n) for n in size_nodes]
        if shape is None or None in shape or None in sizes or sizes.count(-1) > 1 or \
                any(s < -1 for s in sizes):
            return None
        n, known = math.prod(shape), math.prod(s for s in sizes if s != -1)
        if (n != known if -1 not in sizes else known == 0 or n % known):
            raise self.error(f"reshape: shape {list(sizes)} is invalid for input of shape {list(shape)} "
                             f"({n} elements)", span)
        return tuple(n // known if s == -1 else s for s in sizes)


def _disagree(shape, dims) -> bool:
    """Whether a value's shape certainly differs from declared sizes (None: unknown)."""
    return len(shape) != len(dims) or any(d is not None and s is not None and d != s for d, s in zip(dims, shape))


def _may_fill(shape, dims) -> bool:
    """Whether a run may give a value the declared shape (Runtime's flat_to: a value of one axis, or
    of another rank, holding as many elements), or cannot be said not to."""
    if len(shape) != 1 and len(shape) == len(dims):
        return False
    return None in dims or None in shape or math.prod(shape) == math.prod(dims)


class _Ragged(Exception):
    """A ragged list literal: a list of lists (a value), not a tensor, until arithmetic meets it."""

    def __init__(self, message, span):
        super().__init__(message)


def _literal_shape(e):
    try:
        return literal_shape(e, _Ragged)
    except _Ragged:
        return None


def _python_type(e):
    """The Python type a run holds a literal number in (`5`, `-1.5`, `true`), else None."""
    if isinstance(e, N.Bool):
        return "bool"
    while isinstance(e, N.Prefix) and all(op in "+-" for op in e.ops):
        e = e.operand
    return ("int" if e.is_int else "float") if isinstance(e, N.Num) else None


def _integer(e):
    """The integer an expression writes as a number (`5`, `-1`), else None."""
    if isinstance(e, N.Num) and e.is_int:
        return e.value
    if isinstance(e, N.Prefix) and all(op in "+-" for op in e.ops) and isinstance(e.operand, N.Num) and \
            e.operand.is_int:
        return -e.operand.value if e.ops.count("-") % 2 else e.operand.value
    return None
