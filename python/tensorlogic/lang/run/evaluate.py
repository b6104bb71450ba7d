"""Evaluation of expressions: plain values (numbers, strings, tensors) and index notation, where a
value is a `Labelled` tensor.  Index sizes are settled before evaluation (`prepare`), so gathers
for index arithmetic know their ranges."""
from __future__ import annotations

import math

import numpy as np

from ..check import catalog
from ..check.contraction import REDUCTIONS, var_names
from ..check.indices import SizeEnv, shift_ceilings, shift_hint, snippet
from ..engine import tl
from ..errors import first_line
from ..syntax import nodes as N
from .builtins import call_builtin, call_tensor_method
from .labelled import (Labelled, broadcast_pair, diagonal, gather_axis, is_tensor, project)
from .structs import field, method_of, new_struct
from .values import as_tensor, is_number, is_scalar, joins, kind, numeric_list_as_tensor, scalar, truth

SEARCH_LIMIT = 1 << 22


class Frame:
    """Context of one evaluation: index sizes, contraction plan, normalised axis, local variables
    and, during semi-naive iteration, atoms read from deltas instead of full relations."""

    def __init__(self, env, plan=None, locals=None, overrides=None, local_names=None):
        self.env = env
        self.plan = plan
        self.locals = locals
        self.local_names = local_names or set()
        self.overrides = overrides or {}


class Grid:
    """Integer values of an index expression over the grid of its variables."""

    def __init__(self, values, labels):
        self.values = values
        self.labels = tuple(labels)


class Evaluator:
    def __init__(self, rt):
        self.rt = rt
        self.model = rt.model

    def error(self, message, span):
        return self.model.error(message, span)

    # ---- entry points ---------------------------------------------------------------------------
    def frame_for(self, root, plan, lhs_items=None, locals=None, local_names=None,
                  overrides=None, declared=None, shifts_read_in_part=False, hint=None):
        """A frame with `root`'s contraction plan (the checker's) and every index size settled.
        `shifts_read_in_part`: an equation's left side shifted forward bounds its variable (SizeEnv);
        `hint(var)`: what a size disagreement's message adds (by default, about shifted left sides)."""
        env = SizeEnv(self.error, hint or (lambda var: shift_hint(lhs_items or (), var, env.ceilings)))
        fr = Frame(env, plan, locals, overrides, local_names)
        if shifts_read_in_part:
            env.ceilings = shift_ceilings(lhs_items or (), declared)
        self.prepare(root, fr)
        if lhs_items is not None:
            for item in lhs_items:
                self.prepare(item.expr, fr)
            if declared is not None:
                for size, item in zip(declared, lhs_items):
                    if isinstance(item.expr, N.Name) and item.expr.role == "var":
                        fr.env.bind(item.expr.id, size, item.expr.span, "the left side's declared shape")
        self.infer_sizes([root] + [i.expr for i in lhs_items or ()], fr)
        return fr

    def value(self, e, locals=None, local_names=None):
        """A statement-level expression: index notation keeps its surviving indices."""
        if not any(isinstance(n, N.Name) and n.role == "var" for n in N.walk(e)):
            return self.eval(e, Frame(None, None, locals, None, local_names))
        fr = self.frame_for(e, self.model.plans[e], locals=locals, local_names=local_names)
        return self.eval(e, fr)

    # ---- sizes ----------------------------------------------------------------------------------
    def prepare(self, root, fr):
        for n in N.walk(root):
            if isinstance(n, N.Index) and isinstance(n.base, N.Name) and len(n.groups) == 1 \
                    and any(isinstance(i, N.Idx) and isinstance(i.expr, N.Name) and i.expr.role == "var"
                            for i in n.groups[0]):
                base = numeric_list_as_tensor(self.rt.lookup(n.base.id, fr, n.base.span))
                if not is_tensor(base):
                    continue
                items = n.groups[0]
                if len(items) != base.ndim:
                    raise self.error(f"'{n.base.id}' has {base.ndim} ax{'is' if base.ndim == 1 else 'es'} "
                                     f"but {len(items)} ind{'ex is' if len(items) == 1 else 'ices are'} "
                                     f"given", n.span)
                where = snippet(self.model.sources, n.span, n.base.id)
                for size, item in zip(base.shape, items):
                    if isinstance(item, N.Idx) and isinstance(item.expr, N.Name) and item.expr.role == "var":
                        fr.env.bind(item.expr.id, size, item.expr.span, where)
            elif isinstance(n, N.Call) and n.kind == "relation":
                rel = self.model.relations[n.name]
                where = snippet(self.model.sources, n.span, n.name)
                for d, a in zip(rel.domains, n.args):
                    if isinstance(a, N.Name) and a.role == "var" and a.id != "_":
                        fr.env.bind(a.id, d.size, a.span, where)

    def infer_sizes(self, roots, fr):
        """Sizes of indices that only appear inside index arithmetic: the largest range whose
        accesses stay below the axis size (reads before 0 are zero padding)."""
        pending = []
        for root in roots:
            for n in N.walk(root):
                if isinstance(n, N.Index) and isinstance(n.base, N.Name) and len(n.groups) == 1:
                    base = self.rt.lookup(n.base.id, fr, n.base.span) if n.base.role == "value" else None
                    if not is_tensor(base) or base.ndim != len(n.groups[0]):
                        continue
                    for size, item in zip(base.shape, n.groups[0]):
                        if isinstance(item, N.Idx) and not isinstance(item.expr, N.Name) and var_names(item.expr):
                            pending.append((item.expr, size))
        changed = True
        while changed and pending:
            changed = False
            for expr, n in list(pending):
                unknown = [v for v in var_names(expr) if fr.env.size(v) is None]
                if len(unknown) != 1:
                    if not unknown:
                        pending.remove((expr, n))
                    continue
                u = unknown[0]
                s = self.largest_range(expr, u, n, fr)
                if s is not None:
                    fr.env.bind(u, s, expr.span, snippet(self.model.sources, expr.span, "an index"))
                    changed = True
                pending.remove((expr, n))
        for root in roots:
            for n in N.walk(root):
                if isinstance(n, N.Name) and n.role == "var" and n.id != "_" and fr.env.size(n.id) is None:
                    hint = f" (the program's variable '{n.id}' binds no index of an equation or a function: " \
                        f"pass its value to the function)" if n.id in self.model.global_vars else ""
                    raise self.error(f"cannot infer the size of index '{n.id}'{hint}", n.span)

    def largest_range(self, expr, u, n, fr):
        """The largest range [0, s) of `u` whose accesses all fall inside [0, n); when even u = 0
        reads before 0 (`X[i - 1]`), the largest range whose accesses stay below n."""
        def fits(s, lower):
            if s == 0:
                return True
            sizes = {v: fr.env.size(v) for v in var_names(expr)}
            sizes[u] = s
            g = self.grid(expr, fr, sizes).values
            return g.size == 0 or (int(g.max()) < n and (not lower or int(g.min()) >= 0))

        for lower in (True, False):
            if fits(SEARCH_LIMIT, lower):
                return None
            lo, hi = 0, 1
            while fits(hi, lower):
                lo, hi = hi, hi * 2
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if fits(mid, lower) else (lo, mid)
            if lo > 0:
                return lo
        return None

    def grid(self, expr, fr, sizes=None, domain=None) -> Grid:
        """Integer values of an index expression over its variables (numpy, broadcast)."""
        labels = var_names(expr)
        sizes = sizes or {v: fr.env.size(v) for v in labels}
        ndim = len(labels)

        def axis(v):
            shape = [1] * ndim
            shape[labels.index(v)] = sizes[v]
            return np.arange(sizes[v], dtype=np.int64).reshape(shape)

        def go(e):
            if isinstance(e, N.Name) and e.role == "var":
                return axis(e.id)
            if isinstance(e, N.BinChain):
                acc = go(e.operands[0])
                for op, o in zip(e.ops, e.operands[1:]):
                    b = go(o)
                    if op in "/%" and np.any(np.asarray(b) == 0):
                        raise self.error("division by zero in an index", o.span)
                    acc = {"+": np.add, "-": np.subtract, "*": np.multiply,
                           "/": np.floor_divide, "%": np.mod}[op](acc, b)
                return acc
            if isinstance(e, N.Prefix):
                v = go(e.operand)
                return -v if e.ops.count("-") % 2 else v
            if isinstance(e, N.Index):
                lab = self.eval(e, fr)
                if not isinstance(lab, Labelled):
                    try:
                        return np.asarray(int(scalar(lab)))
                    except (TypeError, ValueError):
                        raise self.error("an index must be an integer", e.span) from None
                arr = lab.t.numpy().astype(np.int64)
                positions = [labels.index(l) for l in lab.labels]
                arr = arr.transpose(np.argsort(positions))
                shape = [1] * ndim
                for l, size in zip(lab.labels, lab.t.shape):
                    shape[labels.index(l)] = size
                return arr.reshape(shape)
            return np.asarray(self.index_value(e, domain, fr))

        values = np.asarray(go(expr), dtype=np.int64)
        values = np.broadcast_to(values, tuple(sizes[v] for v in labels)) if ndim else values
        return Grid(np.ascontiguousarray(values), labels)

    def index_value(self, e, domain, fr) -> int:
        """An index without variables: an integer, a constant of the axis's domain, or a bound
        value."""
        key = self.index_key(e, fr)
        if domain is not None:
            idx = domain.index(key)
            if idx is None and isinstance(e, N.Str):
                # A tensor's axis indexed by a quoted name (`E["e5"]`, the seed reference's spelling)
                # reads the name where its domain holds no such string (an atom never gets here).
                idx = domain.index(e.value)
            if idx is None and _is_position(key, domain):
                return key
            if idx is None:
                raise self.error(f"'{key}' is not in domain {domain.name}", e.span)
            return idx
        if isinstance(key, bool) or not isinstance(key, int):
            raise self.error(f"an index must be an integer, not {key!r}", e.span)
        return key

    def index_key(self, e, fr):
        """The constant an index without variables names (before its domain maps it)."""
        if isinstance(e, N.Num):
            key = e.value
        elif isinstance(e, N.Prefix) and isinstance(e.operand, N.Num):
            key = -e.operand.value if e.ops.count("-") % 2 else e.operand.value
        elif isinstance(e, N.Str):
            key = e.constant
        elif isinstance(e, N.Name) and e.role == "const":
            key = e.key
        else:
            value = self.eval(e, fr)        # its own errors (a variable not set yet) stand
            try:
                key = scalar(value)
            except TypeError:
                raise self.error("an index here must be a single number or constant", e.span) from None
            if isinstance(key, float) and key.is_integer():
                key = int(key)
        return key

    # ---- expressions ----------------------------------------------------------------------------
    def eval(self, e, fr):
        v = getattr(self, "e_" + type(e).__name__)(e, fr)
        if fr.plan is not None and not isinstance(e, N.Juxt) and isinstance(v, Labelled):
            here = fr.plan.sum_at.get(e)
            if here:
                # A term that holds every occurrence of these indices (the plan's rule) sums them.
                v = project(v, here & set(v.labels), "sum")
        return v

    def e_Num(self, e, fr):
        return e.value

    def e_Str(self, e, fr):
        return e.value

    def e_Bool(self, e, fr):
        return e.value

    def e_TupleLit(self, e, fr):
        return tuple(self.eval(i, fr) for i in e.items)

    def e_ListLit(self, e, fr):
        return [self.eval(i, fr) for i in e.items]

    def e_Name(self, e, fr):
        if e.role == "var" and fr.plan is not None:
            return self.index_values(e, fr)
        return self.rt.lookup(e.id, fr, e.span)

    def index_values(self, e, fr):
        """An index variable used as a number (`Y[i] = i * 2.0`): its values along its axis, the
        integers of an integer domain, else positions from 0."""
        n = fr.env.size(e.id)
        dom = self.model.checker.var_domain(fr.plan.owner, e.id) if fr.plan.owner is not None else None
        if dom is None or dom.kind == "range":
            start = dom.start if dom is not None else 0
            return Labelled(tl.arange(start, start + n, dtype=tl.int32), (e.id,))
        values = dom.constants()[:n]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise self.error(f"index '{e.id}' ranges over domain {dom.name}, which holds names: only "
                             f"an index over integers has a value", e.span)
        return Labelled(tl.tensor(values, dtype=tl.int32), (e.id,))

    def e_Prefix(self, e, fr):
        v = self.eval(e.operand, fr)
        for op in reversed(e.ops):
            try:
                if op == "-":
                    v = _map(v, lambda t: -t)
                elif op == "!":
                    v = (not v) if isinstance(v, (bool, int, float)) else _map(v, lambda t: 1 - t)
            except (TypeError, ValueError, RuntimeError):
                raise self.error(f"'{op}' cannot apply to {kind(v)}", e.span) from None
        return v

    def e_Power(self, e, fr):
        vals = [self.eval(o, fr) for o in e.operands]
        acc = vals[-1]
        for base, node in zip(reversed(vals[:-1]), reversed(e.operands[:-1])):
            acc = self.binop("^", base, acc, node.span)
        return acc

    def e_BinChain(self, e, fr):
        acc = self.eval(e.operands[0], fr)
        for op, o in zip(e.ops, e.operands[1:]):
            if op in ("&&", "||") and isinstance(acc, bool):
                if (op == "&&" and not acc) or (op == "||" and acc):
                    continue
                acc = bool(truth(self.eval(o, fr), o.span, self))
                continue
            acc = self.binop(op, acc, self.eval(o, fr), o.span)
        return acc

    def e_Compare(self, e, fr):
        if fr.plan is not None and e.op in ("==", "!=") and self.is_term(e.left) and self.is_term(e.right) and \
                (_is_var(e.left) or _is_var(e.right)):
            return self.compare_terms(e, fr)
        return self.binop(e.op, self.eval(e.left, fr), self.eval(e.right, fr), e.span)

    def e_Juxt(self, e, fr):
        done = self.rt.products.tuple_product(self, e, fr)
        if done is not None:
            return done
        vals = [self.eval(f, fr) for f in e.factors]
        labelled = [v for v in vals if isinstance(v, Labelled)]
        if not labelled:
            acc = vals[0]
            for v, f in zip(vals[1:], e.factors[1:]):
                acc = self.binop("*", acc, v, f.span)
            return acc
        scale = None
        for v, f in zip(vals, e.factors):
            if isinstance(v, Labelled):
                continue
            if not is_scalar(v):
                raise self.error("a tensor in index notation needs its indices, like X[i]", f.span)
            scale = v if scale is None else scale * v
        if fr.plan is not None:
            here = fr.plan.sum_at.get(e, set())
        else:
            here = set()
        out = []
        for lab in labelled:
            out += [l for l in lab.labels if l not in here and l not in out]
        nodes = [f for v, f in zip(vals, e.factors) if isinstance(v, Labelled)]
        exists = getattr(fr, "exists", None)
        if exists is not None and exists[0] is e:
            # A rule's body, only tested for > 0: what its head does not read is summed here.
            out = [l for l in out if l not in exists[1]]
            return self.rt.products.product(labelled, out, scale, nodes, fr.overrides, exists=True)
        return self.rt.products.product(labelled, out, scale, nodes, fr.overrides)

    def e_Index(self, e, fr):
        items = e.groups[0]
        labelled = len(e.groups) == 1 and all(isinstance(i, N.Idx) for i in items) and \
            any(var_names(i.expr) for i in items)
        if isinstance(e.base, N.Name) and e.base.role == "value":
            base = self.rt.lookup(e.base.id, fr, e.base.span, override=fr.overrides.get(e))
            domains = self.rt.axis_domains(e.base.id, fr)
        else:
            base, domains = self.eval(e.base, fr), None
        if labelled:
            base = numeric_list_as_tensor(base)      # a list of numbers passed for a tensor: `dot([1, 2], x)`
            if not is_tensor(base):
                raise self.error("only tensors can be indexed with index variables", e.base.span)
            pad = self.rt.iterating_lattice(e.base.id) if isinstance(e.base, N.Name) else None
            return self.ref(base, [i.expr for i in items], domains, fr, e, pad or 0.0)
        v = base
        for g, group in enumerate(e.groups):
            key = self.element_key(group, domains if g == 0 else None, fr)
            try:
                v = v[key] if is_tensor(v) else _index_py(v, key)
            except (IndexError, TypeError, KeyError) as err:
                raise self.error(f"cannot index this value: {err}", e.span) from None
        return v

    def element_key(self, group, domains, fr):
        """The key of `X[k, 1:3]` outside index notation: integers (a name: its position along an
        axis with that domain) and slices."""
        key = []
        for k, item in enumerate(group):
            if isinstance(item, N.Slice):
                values = [None if p is None else self.eval(p, fr)
                          for p in (item.start, item.stop, item.step)]
                try:
                    parts = [None if v is None else int(scalar(v)) for v in values]
                except (TypeError, ValueError):
                    raise self.error("a slice takes integers", item.span) from None
                key.append(slice(*parts))
            else:
                dom = domains[k] if domains and k < len(domains) else None
                key.append(self.index_value(item.expr, dom, fr))
        return tuple(key)

    def e_Call(self, e, fr):
        labels = fr.plan.reduce_at.get(e) if fr.plan is not None else None
        if labels:          # `max(X[i, j])`: the indices only the argument holds, reduced (contraction.py)
            v = self.eval(e.args[0], fr)
            return project(v, labels & set(v.labels), REDUCTIONS[e.name]) if isinstance(v, Labelled) else v
        if e.kind == "relation":
            rel = self.model.relations[e.name]
            t = self.rt.lookup(e.name, fr, e.span, override=fr.overrides.get(e), atom=True)
            return self.ref(t, e.args, rel.domains, fr, e)
        args = [self.eval(a, fr) for a in e.args]
        kwargs = {k.name: self.eval(k.value, fr) for k in e.kwargs}
        if e.kind == "fn":
            return self.rt.call_function(self.model.functions[e.name], args, kwargs, e)
        if e.kind == "assoc":
            return self.rt.call_function(self.model.methods[tuple(e.name.split("::", 1))], args, kwargs, e)
        return call_builtin(self, e, args, kwargs, fr)

    def e_StructLit(self, e, fr):
        return new_struct(self, e, fr)

    def e_Member(self, e, fr):
        return field(self, e, self.eval(e.obj, fr))

    def e_MethodCall(self, e, fr):
        obj = self.eval(e.obj, fr)
        args = [self.eval(a, fr) for a in e.args]
        kwargs = {k.name: self.eval(k.value, fr) for k in e.kwargs}
        m = method_of(self.model, obj, e.name)
        if m is not None:
            return self.rt.call_function(m, [obj] + args, kwargs, e)
        obj = numeric_list_as_tensor(obj)
        if e.kind != "method" and is_tensor(obj) and callable(getattr(obj, e.name, None)):
            return call_tensor_method(self, e, obj, args, kwargs)
        if e.kind == "method" or not catalog.callable_builtin(e.name):
            raise self.error(f"{kind(obj)} has no method '{e.name}'" if not hasattr(obj, "type") else
                             f"{obj.type} has no method '{e.name}'", e.name_span)
        return call_builtin(self, e, [obj] + args, kwargs, fr)

    # ---- index notation -------------------------------------------------------------------------
    def ref(self, t, exprs, domains, fr, node, pad=0.0) -> Labelled:
        """`X[e1, ..., en]` or `R(a1, ..., an)` as a labelled tensor: constants select, plain
        variables label an axis, index arithmetic gathers (reading `pad` outside the axis), `_` is
        summed at once."""
        if len(exprs) != t.ndim:
            name = getattr(node, "name", None) or getattr(getattr(node, "base", None), "id", "tensor")
            raise self.error(f"'{name}' has {t.ndim} ax{'is' if t.ndim == 1 else 'es'} but "
                             f"{len(exprs)} ind{'ex is' if len(exprs) == 1 else 'ices are'} given",
                             node.span)
        where = snippet(self.model.sources, node.span, "this tensor")
        per_axis = [None] * len(exprs)
        cur = t
        anon = 0
        for k in reversed(range(len(exprs))):
            e = exprs[k]
            n = t.shape[k]
            dom = domains[k] if domains and k < len(domains) else None
            if isinstance(e, N.Name) and e.role == "var":
                if e.id == "_":
                    anon += 1
                    per_axis[k] = [f"_{anon}"]
                else:
                    fr.env.bind(e.id, n, e.span, where)
                    m = fr.env.size(e.id)
                    if m < n:       # a longer tensor under a shifted left side (SizeEnv.bind)
                        cur = cur[(slice(None),) * k + (slice(0, m),)]
                    per_axis[k] = [e.id]
                continue
            vs = var_names(e)
            if not vs and _never_held(node, e, dom):
                # A constant its position never holds: the atom never holds (clingo's answer), so
                # `R(zzz, n)?` is empty and `R(1, n)` over names is not read as a position.
                cur = tl.zeros(tuple(cur.shape[:k]) + tuple(cur.shape[k + 1:]), dtype=cur.dtype, device=cur.device)
                per_axis[k] = []
                continue
            if not vs:
                c = self.index_value(e, dom, fr)
                if not 0 <= c < n:
                    raise self.error(f"index {c} is out of range for an axis of size {n}", e.span)
                cur = cur[(slice(None),) * k + (c,)]
                per_axis[k] = []
                continue
            g = self.grid(e, fr, domain=dom)
            cur = gather_axis(cur, k, g.values, n, pad)
            per_axis[k] = list(g.labels)
        labels = [l for ls in per_axis for l in ls]
        lab = diagonal(Labelled(cur, ()), labels) if len(set(labels)) != len(labels) else Labelled(cur, labels)
        anon_labels = {l for l in lab.labels if l.startswith("_")}
        if anon_labels:
            lab = project(lab, anon_labels, "sum")
        return lab

    def is_term(self, e):
        return isinstance(e, (N.Num, N.Str)) or (isinstance(e, N.Name) and e.role in ("var", "const"))

    def compare_terms(self, e, fr):
        """`x == y`, `x != y`, `x != Alice` in rules and queries: 0/1 masks over the domain."""
        doms = getattr(fr, "var_domains", {})
        dom = next((doms[s.id] for s in (e.left, e.right) if _is_var(s) and s.id in doms), None)
        sides = []
        for s in (e.left, e.right):
            if _is_var(s):
                n = fr.env.size(s.id)
                sides.append(("var", s.id, n))
            elif dom is not None:
                # A constant outside the variable's domain equals none of its values.
                idx = dom.index(self.index_key(s, fr))
                sides.append(("const", -1 if idx is None else idx, None))
            else:
                sides.append(("const", self.index_value(s, dom, fr), None))
        (ka, a, na), (kb, b, nb) = sides
        if ka == kb == "var":
            n = na if na is not None else nb
            m = np.eye(n, dtype=np.float16)
            lab = Labelled(tl.tensor(m, dtype=tl.float16), (a, b)) if a != b else \
                Labelled(tl.ones(n, dtype=tl.float16), (a,))
        else:
            var, n, c = (a, na, b) if ka == "var" else (b, nb, a)
            m = np.zeros(n, dtype=np.float16)
            if 0 <= c < n:
                m[c] = 1
            lab = Labelled(tl.tensor(m, dtype=tl.float16), (var,))
        if e.op == "!=":
            lab = Labelled(1 - lab.t, lab.labels)
        elif e.op != "==":
            raise self.error("rules compare constants only with == and !=", e.span)
        return lab

    # ---- operators ------------------------------------------------------------------------------
    def binop(self, op, a, b, span):
        if isinstance(a, Labelled) or isinstance(b, Labelled):
            return self.labelled_binop(op, a, b, span)
        if op == "+" and isinstance(a, list) and isinstance(b, list) and joins([a, b]):
            if len(a) + len(b) > MAX_ITEMS:
                raise self.error(f"'+': a list of more than {MAX_ITEMS:,} items", span)
            return a + b        # ["ab"] + ["c"]: lists of strings or structs join
        if op == "+" and isinstance(a, list) and isinstance(b, list) and (a == []) != (b == []):
            # Numbers add elementwise, and with an empty list that is an empty list: `xs = xs + [n]`
            # from `let xs = []` would stay empty, silently.
            raise self.error("'+' adds lists of numbers elementwise (they are tensors in arithmetic), and "
                             "nothing to an empty list; to append, write concat([xs, [n]])", span)
        if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
            try:        # list literals are tensors in arithmetic: [1, 2] + [1, 1] is [2, 3]
                a, b = _tensorish(a), _tensorish(b)
            except (TypeError, ValueError, OverflowError) as err:
                raise self.error(f"'{op}': {str(err).splitlines()[0]}", span) from None
        return self.applied(op, a, b, span)

    def applied(self, op, a, b, span):
        """a op b, the engine's refusals as the language's errors at the operator."""
        try:
            return _apply(op, a, b)
        except ZeroDivisionError:
            raise self.error("division by zero", span) from None
        except (ValueError, RuntimeError, OverflowError) as err:
            raise self.error(f"'{op}' cannot combine these values: {first_line(err)}", span) from None
        except TypeError as err:
            why = f": {first_line(err)}" if is_tensor(a) or is_tensor(b) else ""
            raise self.error(f"'{op}' cannot combine {kind(a)} and {kind(b)}{why}", span) from None

    def labelled_binop(self, op, a, b, span):
        if op == "@":
            raise self.error("`@` takes whole tensors; in index notation write the product, "
                             "like A[i, j] B[j, k]", span)
        for v in (a, b):
            if not isinstance(v, Labelled) and not is_scalar(v):
                raise self.error("a tensor in index notation needs its indices, like X[i]", span)
        if isinstance(a, Labelled) and isinstance(b, Labelled):
            ta, tb, union = broadcast_pair(a, b)
            return Labelled(self.applied(op, ta, tb, span), union)
        if isinstance(a, Labelled):
            return Labelled(self.applied(op, a.t, b, span), a.labels)
        return Labelled(self.applied(op, a, b.t, span), b.labels)


def _is_var(e):
    return isinstance(e, N.Name) and e.role == "var"


def _map(v, f):
    if isinstance(v, Labelled):
        return Labelled(f(v.t), v.labels)
    if isinstance(v, (list, tuple)):
        v = _tensorish(v)
    return f(v)


def _tensorish(v):
    return as_tensor(v) if isinstance(v, (list, tuple)) else v


# The sizes of the plain values a program computes: the bits of an integer (10,000: about 3,000 digits, which
# print), the items of a string or a list. Each step of a loop may double them ("x = x * x" 30 times is 2^30
# bits), so past these an operator refuses, before minutes of arithmetic or memory the machine lacks.
MAX_INT_BITS = 10_000
MAX_ITEMS = 1 << 24


def _check_sizes(op, a, b):
    """OverflowError when `a op b` on Python ints, strings or lists would pass MAX_INT_BITS or MAX_ITEMS."""
    if _is_int(a) and _is_int(b):
        if op == "*":
            bits = a.bit_length() + b.bit_length()
        elif op == "^" and b > 0 and abs(a) > 1:
            bits = (a.bit_length() - 1) * b
        else:
            bits = max(a.bit_length(), b.bit_length()) + 1
        if bits > MAX_INT_BITS:
            raise OverflowError(f"the integer result would have more than {MAX_INT_BITS:,} bits")
    elif op in ("+", "*") and (isinstance(a, (str, list)) or isinstance(b, (str, list))):
        n = len(a) + len(b) if op == "+" and type(a) is type(b) else \
            len(a) * b if _is_int(b) else len(b) * a if _is_int(a) else 0
        if n > MAX_ITEMS:
            raise OverflowError(f"a {'string' if isinstance(a, str) or isinstance(b, str) else 'list'} of "
                                f"more than {MAX_ITEMS:,} items")


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _apply(op, a, b):
    _check_sizes(op, a, b)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if is_number(a) and is_number(b) and b == 0:
            return _divided_by_zero(a, b)
        return a / b
    if op == "%":
        if is_tensor(a) or is_tensor(b):
            return a - tl.floor(a / b) * b
        if is_number(a) and is_number(b) and b == 0:
            return math.nan          # a - floor(a / 0) * 0, as on tensors
        return a % b
    if op == "@":
        return tl.matmul(_tensorish(a), _tensorish(b))
    if op == "^":
        if is_tensor(a) or is_tensor(b):
            return tl.pow(a, b) if is_tensor(a) else tl.pow(as_tensor(a), b)
        if is_number(a) and is_number(b) and not (_is_int(a) and _is_int(b) and b >= 0):
            return _ieee_power(a, b)
        return a ** b
    if op == "&&":
        if is_tensor(a) or is_tensor(b):
            return a * b
        return bool(a) and bool(b)
    if op == "||":
        if is_tensor(a) or is_tensor(b):
            return a + b - a * b
        return bool(a) or bool(b)
    cmp = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}[op]
    if is_tensor(a) or is_tensor(b):
        return getattr(tl, cmp)(a, b).float()  # the language's truth values are numbers (1 and 0)
    return {"eq": a == b, "ne": a != b, "lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[cmp]


def _divided_by_zero(a, b):
    """`a / 0` as IEEE (and the same division of tensors) gives it, where Python raises: nan for 0 / 0,
    else an infinity signed by a and by the zero (-0.0)."""
    if a == 0 or a != a:        # (isnan would convert a huge int to a float)
        return math.nan
    return math.copysign(math.inf, math.copysign(1.0, b) * (1 if a > 0 else -1))


def _ieee_power(a, b):
    """`a ^ b` of numbers where Python raises or turns complex (`0.0 ^ -1`, `(-8.0) ^ 0.5`, `10.0 ^
    400`): IEEE's inf and nan, as tensors give (an integer beyond a float's range is an
    OverflowError, reported at the operator)."""
    with np.errstate(all="ignore"):
        return float(np.power(np.float64(a), np.float64(b)))


def _index_py(v, key):
    for k in key:
        v = v[k]
    return v


def _never_held(node, e, domain) -> bool:
    """A constant written in a relation atom that its position's domain lacks."""
    if not (isinstance(node, N.Call) and node.kind == "relation") or domain is None:
        return False
    if isinstance(e, N.Prefix) and isinstance(e.operand, N.Num) and e.operand.is_int:
        key = -e.operand.value if e.ops.count("-") % 2 else e.operand.value
    elif isinstance(e, N.Num) and e.is_int:
        key = e.value
    elif isinstance(e, N.Str):
        key = e.constant
    elif isinstance(e, N.Name) and e.role == "const":
        key = e.key
    else:
        return False        # a computed index (a loop counter) keeps its positional reading
    return domain.index(key) is None


def _is_position(key, domain) -> bool:
    """An integer (a loop counter, an argmax) on an axis whose domain holds only names is a
    position: `for a in range(7) { Two[a, b] }` walks the domain in index order."""
    return isinstance(key, int) and not isinstance(key, bool) and domain.kind != "range" and \
        0 <= key < domain.size and not any(isinstance(m, int) for m in domain.members)
