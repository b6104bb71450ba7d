"""Equations with one left side add up (LANGUAGE.md §4).  Where one of them sets entries by a
constant index (`X[0, j] = X0[j]`) and another covers those entries too (`X[i, j] = sig(W[i - 1,
j, k] X[i - 1, k])`, the paper's MLP with the layer as an index), the entries get the sum of both:
here the input plus sig(0), since at i = 0 the layer reads X[-1] and W[-1], outside their axes, as
0.  A program almost never means that, so the checker warns, saying how to write the covering
equation so that it starts after the set entries.  No warning where the covering equation is 0 at
those entries whatever the data (a product with a factor read outside its axis, tanh of 0: the
recurrences of the HMM and RNN programs), nor for equations without constant indices (their sum is
the paper's way of adding terms), nor where every equation is `min=` (or every one `max=`): those
combine by min (max), as a semiring adds."""
from __future__ import annotations

from ..errors import AddedEquationsWarning
from ..syntax import nodes as N
from .indices import snippet

# Functions f with f(0) = 0: a right side f(v) is 0 where v is.
ZERO_AT_ZERO = {"step", "relu", "gelu", "silu", "tanh", "sqrt", "sin", "tan", "abs", "neg", "square",
                "sign", "sgn", "floor", "ceil", "round", "trunc", "sinh", "asin", "atan", "asinh", "atanh",
                "arcsin", "arctan", "expm1", "erf", "leaky_relu", "elu", "selu", "celu", "mish", "hardtanh",
                "hardswish", "relu6", "softsign", "tanhshrink", "softshrink", "hardshrink"}


def warn_added_equations(checker):
    """One warning per equation whose entries overlap an earlier equation's set entries (or that
    sets entries an earlier one covers), unless one of the two is 0 there."""
    for t in checker.tensors.values():
        if t.lattice is not None:       # min= / max= equations combine by min / max, not +
            continue
        eqs = [e for e in t.equations if isinstance(e.target, N.Index)]
        for b_pos, b in enumerate(eqs):
            for a in eqs[:b_pos]:
                found = _overlap(checker, t, a, b)
                if found is not None:
                    checker.warn(AddedEquationsWarning, _message(checker, t, a, b, *found), b.target.span)
                    break


def _axes(checker, t, eq):
    """Per left-side axis: ("const", c), ("shift", var, s) for `v + s` (s may be 0 or negative),
    or ("other",)."""
    domains = getattr(t, "axis_domains", None) or []
    out = []
    for k, item in enumerate(eq.target.groups[0]):
        e = item.expr
        dom = domains[k] if k < len(domains) else None
        if isinstance(e, N.Num) and e.is_int and e.value >= 0:
            out.append(("const", e.value if dom is None or dom.kind != "range" else e.value - dom.start))
        elif isinstance(e, (N.Name, N.Str)) and getattr(e, "role", "const") == "const" and dom is not None:
            c = dom.index(e.key if isinstance(e, N.Name) else e.value)
            out.append(("const", c) if c is not None else ("other",))
        elif (v := _offset(e)) is not None:
            out.append(("shift",) + v)
        else:
            out.append(("other",))
    return out


def _offset(e):
    """`v`, `v + c` or `v - c` as (v, c); None otherwise."""
    if isinstance(e, N.Name) and e.role == "var" and e.id != "_":
        return (e.id, 0)
    if isinstance(e, N.BinChain) and len(e.ops) == 1 and e.ops[0] in "+-" and \
            isinstance(e.operands[0], N.Name) and e.operands[0].role == "var" and \
            isinstance(e.operands[1], N.Num) and e.operands[1].is_int:
        c = e.operands[1].value
        return (e.operands[0].id, c if e.ops[0] == "+" else -c)
    return None


def _overlap(checker, t, a, b):
    """(general, binds, set_eq) when a and b both give some entries and neither is 0 there:
    `general` is the equation whose variables cover the other's constants (None when both set
    the same entries), `binds` those variables' values at the set entries."""
    ax_a, ax_b = _axes(checker, t, a), _axes(checker, t, b)
    if not any(x[0] == "const" for x in ax_a + ax_b):
        return None
    shape = t.static_shape or ()
    binds = {id(a): {}, id(b): {}}
    general = None
    for k, (x, y) in enumerate(zip(ax_a, ax_b)):
        if "other" in (x[0], y[0]):
            return None
        if x[0] == y[0] == "const":
            if x[1] != y[1]:
                return None
            continue
        if x[0] == y[0] == "shift":
            continue
        g, (_, v, s), c = (a, x, y[1]) if x[0] == "shift" else (b, y, x[1])
        n = shape[k] if k < len(shape) else None
        size = _var_size(checker, g, v)
        if c - s < 0 or (n is not None and c >= n) or (size is not None and c - s >= size):
            return None
        if binds[id(g)].get(v, c - s) != c - s or (general is not None and general is not g):
            return None          # a diagonal or a cross of two general equations: not analysed
        binds[id(g)][v] = c - s
        general = g
    if _is_zero(checker, a.value, binds[id(a)]) or _is_zero(checker, b.value, binds[id(b)]):
        return None
    set_eq = (b if general is a else a) if general is not None else a
    return general, binds[id(general)] if general is not None else {}, set_eq


def _var_size(checker, eq, v):
    """The size of index variable v in an equation, from the right side's tensors and relations it
    indexes plainly (the smallest: a left side shifted forward reads longer ones in part)."""
    sizes = []
    for node in N.walk(eq.value):
        if isinstance(node, N.Index) and isinstance(node.base, N.Name) and len(node.groups) == 1:
            info = checker.tensors.get(node.base.id)
            shape = info.static_shape if info is not None and info.static_shape else ()
            items = [i.expr if isinstance(i, N.Idx) else None for i in node.groups[0]]
        elif isinstance(node, N.Call) and node.kind == "relation":
            shape, items = [d.size for d in checker.relations[node.name].domains], node.args
        else:
            continue
        sizes += [n for e, n in zip(items, shape) if n is not None and isinstance(e, N.Name) and e.id == v
                  and e.role == "var"]
    return min(sizes) if sizes else None


def _index_value(e, binds):
    """The integer an index expression has with `binds`, or None."""
    if isinstance(e, N.Num) and e.is_int:
        return e.value
    if isinstance(e, N.Name) and e.role == "var":
        return binds.get(e.id)
    off = _offset(e)
    if off is not None and off[0] in binds:
        return binds[off[0]] + off[1]
    return None


def _outside(checker, node, binds):
    """Whether `X[...]` reads outside an axis of X with `binds` (so it reads 0)."""
    if not (isinstance(node, N.Index) and isinstance(node.base, N.Name) and len(node.groups) == 1):
        return False
    info = checker.tensors.get(node.base.id)
    shape = info.static_shape if info is not None and info.static_shape else ()
    for k, item in enumerate(node.groups[0]):
        if not isinstance(item, N.Idx) or (isinstance(item.expr, N.Name) and item.expr.role == "var"):
            continue
        c = _index_value(item.expr, binds)
        n = shape[k] if k < len(shape) else None
        if c is not None and (c < 0 or (n is not None and c >= n)):
            return True
    return False


def _is_zero(checker, e, binds) -> bool:
    """Whether a right side is 0 whatever the data, with `binds` (reads outside an axis are 0)."""
    if isinstance(e, N.Num):
        return e.value == 0
    if isinstance(e, N.Prefix):
        return all(op in "+-" for op in e.ops) and _is_zero(checker, e.operand, binds)
    if isinstance(e, N.Juxt):
        return any(_is_zero(checker, f, binds) for f in e.factors)
    if isinstance(e, N.BinChain):
        if set(e.ops) <= {"+", "-"}:
            return all(_is_zero(checker, o, binds) for o in e.operands)
        if set(e.ops) <= {"*", "/", "%"}:
            return _is_zero(checker, e.operands[0], binds) or any(
                op == "*" and _is_zero(checker, o, binds) for op, o in zip(e.ops, e.operands[1:]))
        return False
    if isinstance(e, N.Power):
        return _is_zero(checker, e.operands[0], binds) and all(
            isinstance(o, N.Num) and o.value > 0 for o in e.operands[1:])
    if isinstance(e, N.Index):
        return _outside(checker, e, binds)
    if isinstance(e, N.Call) and e.kind == "builtin" and e.args and not e.kwargs:
        zero_arg = _is_zero(checker, e.args[0], binds)
        if e.name == "sig":         # sig(v, 0) is step
            return zero_arg and len(e.args) == 2 and isinstance(e.args[1], N.Num) and e.args[1].value == 0
        return zero_arg and e.name in ZERO_AT_ZERO and len(e.args) == 1
    return False


# ---- the message --------------------------------------------------------------------------------
def _text(checker, node):
    return snippet(checker.sources, node.span, "")


def _message(checker, t, a, b, general, binds, set_eq):
    entries = _text(checker, set_eq.target) or f"entries of '{t.name}'"
    if general is None:
        return (f"{entries} is also set at line {a.span.line}: equations with one left side add up, so "
                f"it gets the sum of both (give each entry one equation)")
    at = ", ".join(f"{v} = {c}" for v, c in binds.items())
    outside = [_text(checker, n) for n in N.walk(general.value) if _outside(checker, n, binds)]
    why = (f"; at {at} it reads {' and '.join(dict.fromkeys(outside))} outside "
           f"{'its axis' if len(set(outside)) == 1 else 'their axes'} (as 0), yet its value there is not 0"
           ) if outside else ""
    if general is b:
        head = (f"this equation also gives {entries}, which line {set_eq.span.line} sets: equations with "
                f"one left side add up, so {entries} gets both values{why}")
    else:
        head = (f"the equation at line {general.span.line} also gives {entries} (at {at}): equations with "
                f"one left side add up, so {entries} gets both values{why}")
    return head + _advice(checker, t, general, binds)


def _advice(checker, t, general, binds):
    """How to write `general` so that it leaves the set entries alone: shifted by the number of
    set entries at the start of the axis (or at its end), as a rewritten line when it can be."""
    if len(binds) != 1:
        return "; write the covering equation so that it leaves the set entries alone"
    (v, c), = binds.items()
    k = next(k for k, item in enumerate(general.target.groups[0]) if v in _names(item.expr))
    s = _offset(general.target.groups[0][k].expr)[1]
    taken = {x[1] for eq in t.equations if isinstance(eq.target, N.Index) and eq is not general
             for x in [_axes(checker, t, eq)[k]] if x[0] == "const"}
    n = (t.static_shape or (None,) * (k + 1))[k]
    if taken == set(range(max(taken) + 1)):
        m, say = max(taken) + 1 - s, f"to start {v} + {s} at {max(taken) + 1}" if s else \
            f"to start {v} at {max(taken) + 1}"
    elif s == 0 and n is not None and taken == set(range(min(taken), n)):
        m, say = min(taken) - n, f"to end {v} before {min(taken)}"
    else:
        return "; write the covering equation so that it leaves the set entries alone"
    line = _shifted(checker, general, v, m)
    if line is None:
        sign = "+" if m > 0 else "-"
        return (f"; {say}, shift '{v}' on the left side ({t.name}[... {v} {sign} {abs(m)} ...]) and "
                f"every use of '{v}' on the right side with it")
    return f"; {say}, write: {line}"


def _names(e):
    return {n.id for n in N.walk(e) if isinstance(n, N.Name) and n.role == "var"}


def _shifted(checker, eq, v, m):
    """The equation's line with v replaced by v + m, when each use of v is `v`, `v + c` or `v - c`
    in an index or an atom's argument and the equation is one line; None otherwise."""
    span = eq.span
    text = checker.sources.get(span.file if span.file else checker.filename)
    if text is None or span.end_line != span.line:
        return None
    uses = [n for n in N.walk(eq) if isinstance(n, N.Name) and n.role == "var" and n.id == v]
    edits = []
    for node in N.walk(eq):
        items = [i.expr for g in node.groups for i in g if isinstance(i, N.Idx)] if isinstance(node, N.Index) \
            else node.args if isinstance(node, N.Call) and node.kind == "relation" else []
        for e in items:
            off = _offset(e)
            if off is not None and off[0] == v:
                c = off[1] + m
                edits.append((e.span.column, e.span.end_column, v if c == 0 else f"{v} {'+' if c > 0 else '-'} {abs(c)}"))
    if len(edits) != len(uses):
        return None
    seg = text.splitlines()[span.line - 1][span.column - 1: span.end_column - 1]
    for start, end, new in sorted(edits, reverse=True):
        seg = seg[:start - span.column] + new + seg[end - span.column:]
    return seg.strip()
