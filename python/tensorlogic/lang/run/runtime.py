"""A running program: global state, definitions evaluated on demand (and again when a tensor or
variable they read changes), fixpoints, statements, functions and tests."""
from __future__ import annotations

import contextlib
import weakref

from ..check.checker import DTYPES, _file, lattice as lattice_of
from ..check.indices import declared_dims, fmt_shape, snippet
from ..check.strata import is_recursive
from ..engine import tl
from ..errors import TensorLogicRuntimeError, TensorLogicTypeError, warn_at
from ..syntax import nodes as N
from .datalog import Datalog, FixpointLimitWarning, _with_missing, facts_tensor, query_rows
from .evaluate import Evaluator, Frame
from .labelled import Labelled, is_tensor, project
from ..logic.engine import Logic
from .learn import run_learn
from .limits import DEFAULT_MAX_STEPS, Budget
from .loading import load_into
from .placement import IDENTITY, PROJECTION, classify_lhs, extent, place
from .products import Products
from .show import plain, show, show_relation, show_rows, show_table
from .structs import drop_locals, set_field
from .values import as_tensor, kind, truth

DEFAULT_MAX_ITERATIONS = 1000
# Nested calls of user functions; each takes ~25 Python frames, so Program.run raises Python's
# recursion limit to fit (see program.py).
MAX_CALL_DEPTH = 150


class _Return(Exception):
    def __init__(self, value):
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class Runtime:
    def __init__(self, model, max_iterations=DEFAULT_MAX_ITERATIONS, max_steps=DEFAULT_MAX_STEPS,
                 time_limit=None):
        self.model = model
        self.max_iterations = max_iterations
        self.budget = Budget(model, max_steps, time_limit)
        self.evaluator = Evaluator(self)
        self.datalog = Datalog(self)
        self.products = Products(self)
        self.logic = Logic(self)
        self.globals, self.leaves, self.versions = {}, {}, {}
        self.trainable = weakref.WeakSet()     # struct values with `learnable` fields
        self.cache, self._facts = {}, {}
        self._scc, self._initialising = [], set()
        self.depth = 0
        self.component = {name: comp for comp in model.order for name in comp}
        self.deps = {}
        self.warned = set()     # nodes a runtime warning was given at (once each)

    def error(self, message, span):
        return self.model.error(message, span)

    # ---- names ----------------------------------------------------------------------------------
    def lookup(self, name, fr, span, override=None, atom=False):
        """The value of a name; `atom`: read as a relation atom `R(...)` (a domain's name is its
        size elsewhere, its membership relation there)."""
        if override is not None:
            return override
        if name in self.model.domains and not atom:
            return self.model.domains[name].size
        if fr is not None and fr.locals is not None and name in fr.local_names:
            if name in fr.locals:
                return fr.locals[name]
            raise self.error(f"'{name}' is used before it is set", span)
        if name in self.model.global_vars:
            if name in self.globals:
                return self.globals[name]
            if not (name in self.model.tensors and self.model.tensors[name].decl is not None):
                raise self.error(f"'{name}' is used before `let {name}` ran", span)
        for values in reversed(self._scc):
            if name in values:
                return values[name]
        info = self.model.tensors.get(name)
        if info is not None:
            return self.derived(name) if info.derived else self.leaf(name, span)
        if name in self.model.relations:
            return self.derived(name)
        if name in self.model.domains:
            return self.model.domains[name].size
        raise self.error(f"unknown name '{name}'", span)

    def axis_domains(self, name, fr):
        if fr is not None and fr.locals is not None and name in fr.local_names:
            return None
        rel = self.model.relations.get(name)
        if rel is not None:
            return rel.domains
        info = self.model.tensors.get(name)
        return getattr(info, "axis_domains", None) if info is not None else None

    def set_var(self, name, value, fr, span):
        if fr is not None and fr.locals is not None and name in fr.local_names:
            fr.locals[name] = value
            return
        if name in self.model.global_vars:
            self.globals[name] = value
        elif name in self.model.tensors and not self.model.tensors[name].derived:
            info = self.model.tensors[name]
            value = self.conform(info, value, span)
            if info.mode == "learnable":
                value = value.detach().requires_grad_(True)
            self.leaves[name] = value
        else:
            raise self.error(f"'{name}' cannot be assigned", span)
        self.versions[name] = self.versions.get(name, 0) + 1

    # ---- leaves ---------------------------------------------------------------------------------
    def leaf(self, name, span=None):
        if name in self.leaves:
            return self.leaves[name]
        info = self.model.tensors[name]
        if info.decl is None or info.decl.init is None:
            raise self.error(f"'{name}' has no value", span or info.span)
        if name in self._initialising:
            raise self.error(f"the value of '{name}' depends on itself", info.decl.init.span)
        self._initialising.add(name)
        try:
            with tl.no_grad():
                value = self.evaluator.value(info.decl.init)
            value = self.conform(info, value, info.decl.init.span)
            if info.mode == "learnable":
                value = value.detach().requires_grad_(True)
        finally:
            self._initialising.discard(name)
        self.leaves[name] = value
        return value

    def declared_shape(self, info):
        """The declared shape with domains and bound named sizes resolved (None for `?` and
        unbound names); None when there is no declaration."""
        if info.decl is None:
            return None
        return tuple(declared_dims(info.decl.type, self.model.domains, self.named_size))

    def as_dtype(self, value, dtype, span, what):
        if not is_tensor(value):
            try:
                return as_tensor(value, dtype)
            except (TypeError, ValueError, OverflowError, RuntimeError) as err:
                raise self.error(f"{what} needs a tensor value: {_first_line(err)}", span) from None
        return value if value.dtype == dtype else value.to(dtype)

    def spec_shape(self, spec, span):
        """The shape a type spells, every size known (a domain, a number or a bound named size)."""
        shape = []
        for d in spec.dims or ():
            size = d.value if d.kind == "int" else (
                self.model.domains[d.value].size if d.kind == "name" and d.value in self.model.domains
                else self.named_size(d.value) if d.kind == "name" else None)
            if size is None:
                raise self.error("a `tensor` declared without a value needs every size known", d.span)
            shape.append(size)
        return shape

    def to_declared(self, value, spec, span, what):
        """`tensor x: T[dims] = v` in a block: v in T's dtype; a flat list or vector holding as many
        values as the declared shape takes that shape."""
        value = self.as_dtype(value, _dtype(spec), span, what)
        declared = []
        for d in spec.dims or ():
            declared.append(d.value if d.kind == "int" else self.model.domains[d.value].size
                            if d.kind == "name" and d.value in self.model.domains else None)
        return _flat_to(value, tuple(declared))

    def named_size(self, name):
        bound = self.globals.get(("size", name))
        return bound[0] if bound else None

    def conform(self, info, value, span):
        """`value` as a tensor of the declared dtype and shape (binding named sizes)."""
        if isinstance(value, Labelled):
            value = plain(value)
        dtype = tl.int32 if info.dtype == "int32" else tl.float16
        value = self.as_dtype(value, dtype, span, f"'{info.name}'")
        if info.decl is None:
            return value
        dims = info.decl.type.dims or []
        declared = self.declared_shape(info)
        value = _flat_to(value, declared)
        shape = tuple(value.shape)
        if len(shape) != len(dims) or any(d is not None and d != s for d, s in zip(declared, shape)):
            raise self.error(f"'{info.name}' is declared {info.dtype}{fmt_shape(declared)} but its "
                             f"value has shape {fmt_shape(shape)}", span)
        for d, s in zip(dims, shape):
            if d.kind == "name" and d.value not in self.model.domains and self.named_size(d.value) is None:
                self.globals[("size", d.value)] = (s, d.span)
        return value

    def data_changed(self):
        """Facts were added (domains may have grown): every relation and definition is recomputed
        when next read."""
        self._facts.clear()
        self.cache.clear()
        self.products.sparse.clear()
        self.logic.data_changed()

    # ---- definitions ----------------------------------------------------------------------------
    def facts(self, rel):
        t = self._facts.get(rel.name)
        if t is None or not self._fits(rel.name, t):
            t = self._facts[rel.name] = facts_tensor(rel)
        return t

    def _fits(self, name, t):
        """Whether a relation's tensor still has its domains' sizes: a rule that computes new
        integers grows their domain (a range may grow downwards, moving every index)."""
        rel = self.model.relations.get(name)
        return rel is None or tuple(t.shape) == tuple(d.size for d in rel.domains)

    def leaf_deps(self, name):
        """Leaves (given tensors and global variables) a definition reads, through other
        definitions and functions. Each definition's are kept, and a definition's are its own reads'
        (a post-order walk of the definitions it reads, their components taken together): a chain of
        n rules costs n steps, not n^2."""
        if name in self.deps:
            return self.deps[name]
        stack, entered = [name], set()
        while stack:
            n = stack[-1]
            if n in self.deps:
                stack.pop()
                continue
            comp = self.component.get(n, (n,))
            reads = {r for m in comp for r in self.direct_reads(m)}
            inner = [r for r in reads if not self._is_leaf(r) and r not in comp and r not in self.deps]
            if inner and n not in entered:
                entered.add(n)
                stack.extend(inner)
                continue
            if inner:  # a cycle the components do not know of: the plain walk of everything n reads
                out = self._leaf_walk(n)
            else:
                out = {r for r in reads if self._is_leaf(r)}
                for r in reads:
                    if not self._is_leaf(r) and r not in comp:
                        out |= self.deps[r]
            for m in comp:
                self.deps[m] = frozenset(out)
            stack.pop()
        return self.deps[name]

    def _is_leaf(self, name):
        info = self.model.tensors.get(name)
        return name in self.model.global_vars or (info is not None and not info.derived and
                                                  name not in self.model.relations)

    def _leaf_walk(self, name):
        out, seen, stack = set(), set(), [name]
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            for r in self.direct_reads(n):
                if self._is_leaf(r):
                    out.add(r)
                else:
                    stack.append(r)
        return out

    def direct_reads(self, name):
        roots = []
        if name in self.model.relations:
            roots = [lit.expr for r in self.model.relations[name].rules for lit in r.body]
        elif name in self.model.tensors:
            for eq in self.model.tensors[name].equations:
                roots.append(eq.value)
                if isinstance(eq.target, N.Index):
                    roots += [i.expr for i in eq.target.groups[0]]
        out, seen_fns = set(), set()
        pending = [(roots, ())]      # nodes to walk, with the names local to them
        while pending:
            nodes, local_names = pending.pop()
            for root in nodes:
                for n in N.walk(root):
                    if isinstance(n, N.Name) and n.role == "value" and n.id not in local_names:
                        out.add(n.id)
                    elif isinstance(n, N.Call) and n.kind == "relation":
                        out.add(n.name)
                    elif isinstance(n, N.Call) and n.kind == "fn" and n.name not in seen_fns:
                        seen_fns.add(n.name)
                        fn = self.model.functions[n.name]
                        pending.append((fn.body, fn.local_names))
        return out

    def snapshot(self, comp):
        deps = set()
        for m in comp:
            deps |= self.leaf_deps(m)
        return tuple(sorted((d, self.versions.get(d, 0)) for d in deps))

    def derived(self, name):
        comp = self.component[name]
        if name in self.model.relations and self.logic.storage(comp)[0] == "sparse":
            return self.logic.dense(name)
        snap = self.snapshot(comp)
        hit = self.cache.get(name)
        if hit is not None and hit[1] == snap and self._fits(name, hit[0]):
            return hit[0]
        self.read_inputs(comp)
        if name in self.model.relations and self.logic.storage(comp)[0] == "sparse":
            return self.logic.dense(name)  # its domains grew past what a dense table holds
        values = self.evaluate_component(comp)
        for m, v in values.items():
            self.cache[m] = (v, snap)
        return values[name]

    def evaluate_unread(self):
        """Evaluates, in dependency order, every rule and equation that nothing has read, so that
        its errors (shapes and values known only when it runs, the engine's refusals) are reported,
        located, as a read one's are."""
        for comp in self.model.order:
            for name in comp:
                if name in self.cache or name in self.logic.results:
                    continue
                if name in self.model.relations and self.model.relations[name].rules:
                    self.logic.rows(name) if self.relation_is_sparse(name) else self.derived(name)
                elif name in self.model.tensors and self.model.tensors[name].derived:
                    self.derived(name)

    def read_inputs(self, comp):
        """Evaluates the relations a component reads, first: one may compute integers that grow a domain, and
        the dense frames size their axes from the domains once (which may also make the component sparse)."""
        for r in sorted({r for m in comp for r in self.direct_reads(m)} - set(comp)):
            if r in self.model.relations:
                self.logic.rows(r) if self.logic.is_sparse(r) else self.derived(r)

    def relation_is_sparse(self, name):
        """Whether the tuple engine holds relation `name`, once its inputs (which may grow its domains) ran."""
        comp = self.component[name]
        self.read_inputs(comp)
        return self.logic.storage(comp)[0] == "sparse"

    def iterating_lattice(self, name):
        """The identity of tensor `name`'s min/max lattice while its own fixpoint iterates (None
        otherwise): its cells not reached yet, and its reads outside its axes (`D[t - 1, r]` at t =
        0), are that identity, and a product of it with 0 (inf * 0, nan) is too, as a semiring's
        zero annihilates."""
        info = self.model.tensors.get(name)
        if info is None or info.lattice is None or not any(name in v for v in self._scc):
            return None
        return IDENTITY[info.lattice]

    @contextlib.contextmanager
    def scc_scope(self, values):
        self._scc.append(values)
        try:
            yield
        finally:
            self._scc.pop()

    def evaluate_component(self, comp):
        recursive = is_recursive(self.model.graph, comp)
        if not recursive:
            name = comp[0]
            if name in self.model.relations:
                return {name: self.datalog.relation(self.model.relations[name])}
            return {name: self.equations_value(self.model.tensors[name])}
        if all(m in self.model.relations for m in comp):
            return self.datalog.fixpoint(comp, self.max_iterations)
        return self.naive_fixpoint(comp)

    def naive_fixpoint(self, comp):
        """Mutually recursive equations (and rules): iterate until nothing changes, from zero, or
        from the identity of a tensor's min/max lattice (+inf or -inf: nothing reached yet)."""
        values = {}
        for m in comp:
            start = 0.0
            if m in self.model.relations:
                shape = tuple(d.size for d in self.model.relations[m].domains)
            else:
                info = self.model.tensors[m]
                shape = self.declared_shape(info) or info.static_shape
                if shape is None or any(s is None for s in shape):
                    raise self.error(f"'{m}' is defined recursively: declare its shape, like "
                                     f"tensor {m}: float16[...]", info.equations[0].span)
                start = IDENTITY.get(info.lattice, 0.0)
            values[m] = tl.full(tuple(shape), start, dtype=tl.float16)
        with self.scc_scope(values):
            for _ in range(self.max_iterations):
                self.budget.tick(self.model.tensors[comp[0]].span if comp[0] in self.model.tensors
                                 else self.model.relations[comp[0]].span)
                new = {}
                for m in comp:
                    if m in self.model.relations:
                        new[m] = self.datalog.relation(self.model.relations[m])
                    else:
                        new[m] = self.equations_value(self.model.tensors[m])
                same = all(_same(new[m], values[m]) for m in comp)
                values.update(new)
                if same:
                    break
            else:
                self.warn_limit(comp, self.max_iterations)
        return dict(values)

    def warn_limit(self, members, limit):
        """The warning names the program's file and the line of the component's first rule or
        equation (Python's default would name this module's line, which tells a user nothing)."""
        name = members[0]
        if name in self.model.relations:
            rel = self.model.relations[name]
            span = rel.rules[0].span if rel.rules else rel.span
        else:
            span = self.model.tensors[name].equations[0].span
        file = _file(span, self.model.filename)
        warn_at(FixpointLimitWarning, f"fixpoint of {', '.join(members)} not reached after {limit} iterations "
                f"(the iteration limit; raise it with --max-iterations)", file, span, self.model.sources.get(file))

    def equations_value(self, info):
        """The sum of the contributions of every equation with this left side."""
        parts = []
        for eq in info.equations:
            with self.at(eq.span):
                parts.append(self.equation_part(eq, info, None))
        with self.at(info.equations[0].span):
            return self.combine(info, parts)

    def equation_part(self, eq, info, fr_locals, local_names=None):
        """Evaluates one equation's right side and projects it: returns (labelled result, axes,
        frame) for `combine`."""
        ev = self.evaluator
        items = eq.target.groups[0] if isinstance(eq.target, N.Index) else []
        declared = self.declared_shape(info) if info is not None else None
        fr = ev.frame_for(eq.value, self.model.plans[eq], items, locals=fr_locals, local_names=local_names,
                          declared=declared, shifts_read_in_part=True)
        r = ev.eval(eq.value, fr)
        zero = self.iterating_lattice(info.name) if info is not None else None
        if zero is not None and isinstance(r, Labelled) and r.t.is_floating_point():
            r = Labelled(tl.where(tl.isnan(r.t), tl.full((), zero, dtype=r.t.dtype), r.t), r.labels)
        if not isinstance(r, Labelled):
            if not items and eq.op == "=":
                return (r, None, fr, eq)
            if not is_tensor(r):
                r = self.as_dtype(r, tl.float16, eq.value.span, "the right side")
            if r.ndim > 0:
                if items:
                    raise self.error("a tensor in index notation needs its indices, like X[i]",
                                     eq.value.span)
                r = Labelled(r, [f"#all{k}" for k in range(r.ndim)])
            else:
                r = Labelled(r, ())
        r = project(r, fr.plan.top | {l for l in r.labels if l.startswith("#all")}, PROJECTION[eq.op])
        domains = getattr(info, "axis_domains", None) if info is not None else None
        axes = classify_lhs(items, domains, lambda e, d: ev.index_value(e, d, fr))
        return (r, axes, fr, eq)

    def combine(self, info, parts, name=None):
        name = name or info.name
        plain = [p for p in parts if p[1] is None]
        if plain:
            if len(parts) == 1:
                return self.as_float(plain[0][0], plain[0][3].value.span)
            total = None
            for v, _, _, eq in parts:
                v = self.as_float(v.t if isinstance(v, Labelled) else v, eq.value.span)
                total = v if total is None else total + v
            return total
        declared = self.declared_shape(info) if info is not None else None
        n_axes = len(parts[0][1])
        shape = []
        for k in range(n_axes):
            if declared is not None and declared[k] is not None:
                shape.append(declared[k])
                continue
            size = 0
            for r, axes, fr, eq in parts:
                sizes = {v: s[0] for v, s in fr.env.sizes.items()}
                e = extent(axes[k], sizes)
                if e is None:
                    g = self.evaluator.grid(axes[k].expr, fr)
                    e = int(g.values.max()) + 1 if g.values.size else 0
                size = max(size, e)
            shape.append(size)
        lattice = lattice_of([p[3] for p in parts])
        total = None
        for r, axes, fr, eq in parts:
            grids = {k: self.evaluator.grid(a.expr, fr) for k, a in enumerate(axes) if a.kind == "general"}
            r = _with_missing(r, axes, {v: s[0] for v, s in fr.env.sizes.items()})
            if lattice is not None and not r.t.is_floating_point():     # (`D[i, 0] = i`: ±inf fills it)
                r = Labelled(r.t.to(tl.float16), r.labels)
            for a, item in zip(axes, eq.target.groups[0] if isinstance(eq.target, N.Index) else []):
                if a.kind == "const" and not 0 <= a.c < shape[axes.index(a)]:
                    raise self.error(f"index {a.c} is outside '{name}' of shape {list(shape)}", item.span)
            part = place(r, axes, tuple(shape), eq.op, grids, IDENTITY.get(lattice, 0.0)).t
            total = part if total is None else tl.minimum(total, part) if lattice == "min" else \
                tl.maximum(total, part) if lattice == "max" else total + part
        return total

    def as_float(self, v, span):
        if is_tensor(v):
            return v
        if isinstance(v, (bool, int, float)):
            return tl.full((), float(v), dtype=tl.float16)
        if isinstance(v, list):
            return tl.tensor(v, dtype=tl.float16)
        raise self.error(f"an equation must give a tensor or a number, not {type(v).__name__}", span)

    # ---- functions ------------------------------------------------------------------------------
    def call_function(self, fn, args, kwargs, node):
        params = [p.name for p in fn.params]
        local = dict(zip(params, args))
        local.update(kwargs)
        for p in fn.params:
            if p.type is not None:
                local[p.name] = self.typed(local.get(p.name), p.type, node.span,
                                           f"argument '{p.name}' of {fn.name}")
        if self.depth >= MAX_CALL_DEPTH:
            raise self.budget.error(f"calls nested deeper than {MAX_CALL_DEPTH} (in '{fn.name}'); "
                                    f"does the recursion have a base case?", node.span)
        self.budget.tick(node.span)
        self.depth += 1
        fr = Frame(None, None, local, None, fn.local_names)
        result = None
        try:
            result = self.exec_block(fn.body, fr, value_of_last=True)
        except _Return as r:
            result = r.value
        except RecursionError:      # Python's own stack ran out before MAX_CALL_DEPTH
            raise self.budget.error(f"calls nested too deep (in '{fn.name}'); does the recursion "
                                    f"have a base case?", node.span) from None
        finally:
            self.depth -= 1
            drop_locals(self, [v for k, v in fr.locals.items() if k not in params], keep=result)
        if fn.ret is not None:
            result = self.typed(result, fn.ret, node.span, f"the result of {fn.name}")
        return result

    def typed(self, value, spec, span, what):
        """`value` checked against a declared type; a list where a tensor type is declared becomes
        that tensor (`let x: float16[2] = [1, 2]`, `f([0.5, 1])`, `return [0.0, 0.0]`)."""
        if spec.dims and isinstance(value, (list, tuple)):
            value = self.as_dtype(value, _dtype(spec), span, what)
        self.check_type(value, spec, span, what)
        return value

    def check_type(self, value, spec, span, what):
        if isinstance(value, Labelled):
            value = plain(value)
        if not spec.dims:
            return
        if not is_tensor(value):
            raise self.error(f"{what} must be a tensor, not {type(value).__name__}", span)
        ok = value.ndim == len(spec.dims)
        if ok:
            for d, s in zip(spec.dims, value.shape):
                if d.kind == "int" and d.value != s:
                    ok = False
                elif d.kind == "name" and d.value in self.model.domains and \
                        self.model.domains[d.value].size != s:
                    ok = False
        if not ok:
            dims = ", ".join("?" if d.kind == "any" else str(d.value) for d in spec.dims)
            raise self.error(f"{what} has shape {list(value.shape)} but {spec.dtype}[{dims}] is "
                             f"declared", span)

    # ---- statements -----------------------------------------------------------------------------
    def exec_top(self, item):
        with self.at(item.span):
            self.exec_stmt(item, None)

    @contextlib.contextmanager
    def at(self, span):
        """Gives errors raised by the engine under this node the node's location."""
        try:
            yield
        except (TensorLogicTypeError, TensorLogicRuntimeError, SyntaxError, AssertionError, _Return,
                _Break, _Continue, KeyboardInterrupt):
            raise
        except RecursionError:  # a definition read evaluates the ones it reads first, a few stack frames each
            raise self.budget.error("the program nests deeper than the interpreter's stack allows (a chain of "
                                    "thousands of rules or equations, each reading the next?)", span) from None
        except Exception as err:
            if getattr(err, "_tl_located", False):
                raise
            if type(err).__name__ in ("ShapeMismatchError", "EinsumError"):
                raise self.error(str(err).splitlines()[0], span) from err
            err._tl_located = True
            err.add_note(self.error("raised here", span).args[0])
            raise

    def exec_block(self, stmts, fr, value_of_last=False):
        """Runs statements; with `value_of_last` (a function body) returns the value of the last
        one when it is an expression or an assignment (the seed ends functions with `r := ...`)."""
        result = None
        for k, s in enumerate(stmts):
            with self.at(s.span):
                v = self.exec_stmt(s, fr)
            if value_of_last and k == len(stmts) - 1:
                if isinstance(s, N.ExprStmt):
                    result = v
                elif isinstance(s, (N.Let, N.Assign)) and fr is not None and fr.locals is not None:
                    name = s.name if isinstance(s, N.Let) else getattr(s.target, "id", None)
                    result = fr.locals.get(name)
        return result

    def exec_stmt(self, s, fr):
        ev = self.evaluator
        locals_, names = (fr.locals, fr.local_names) if fr is not None else (None, None)
        if isinstance(s, N.Let):
            if s.value is None:
                value = tl.zeros(*self.spec_shape(s.type, s.span), dtype=_dtype(s.type))
            else:
                value = ev.value(s.value, locals_, names)
            if isinstance(value, Labelled):
                value = plain(value)
            if s.declared_tensor:
                value = self.to_declared(value, s.type, s.span, f"'{s.name}'")
            if s.type is not None:
                value = self.typed(value, s.type, s.span, f"'{s.name}'")
            self.set_var(s.name, value, fr, s.name_span)
        elif isinstance(s, N.Assign):
            self.exec_assign(s, fr)
        elif isinstance(s, N.ExprStmt):
            return ev.value(s.expr, locals_, names)
        elif isinstance(s, N.Query):
            self.print_query(s, fr)
        elif isinstance(s, N.If):
            if truth(ev.value(s.cond, locals_, names), s.cond.span, ev):
                self.exec_scoped(s.then, fr)
            elif s.orelse is not None:
                self.exec_scoped(s.orelse, fr)
        elif isinstance(s, N.While):
            while truth(ev.value(s.cond, locals_, names), s.cond.span, ev):
                if not self.loop_pass(s, fr):
                    break
        elif isinstance(s, N.For):
            domain = self.loop_domain(s.iterable, fr)
            it = domain.constants() if domain is not None else ev.value(s.iterable, locals_, names)
            if is_tensor(it):
                it = [it[k] for k in range(it.shape[0])] if it.ndim > 0 else [it]
            try:
                iterator = iter(it)
            except TypeError:
                hint = f" (range({_source_text(self.model, s.iterable)}) counts to it)" \
                    if isinstance(it, int) else ""
                raise self.error(f"cannot loop over {kind(it)}{hint}", s.iterable.span) from None
            with self.scope(fr, [s.var]):
                for v in iterator:
                    self.set_var(s.var, v, fr, s.var_span)
                    if not self.loop_pass(s, fr):
                        break
        elif isinstance(s, N.Break):
            raise _Break()
        elif isinstance(s, N.Continue):
            raise _Continue()
        elif isinstance(s, N.Block):
            self.exec_scoped(s.body, fr)
        elif isinstance(s, N.Return):
            raise _Return(None if s.value is None else ev.value(s.value, locals_, names))
        elif isinstance(s, N.MainBlock):
            self.exec_scope(s.body, s.local_names)
        elif isinstance(s, N.Learn):
            run_learn(self, s, fr)
        elif isinstance(s, N.Load):
            load_into(self, s)
        return None

    def loop_domain(self, e, fr):
        """The domain `for p in Person` walks (its constants in index order), or None."""
        if not isinstance(e, N.Name) or e.id not in self.model.domains:
            return None
        if fr is not None and fr.locals is not None and e.id in (fr.local_names or ()):
            return None
        return self.model.domains[e.id]

    def loop_pass(self, loop, fr):
        """One pass of a `while` or `for` body (counted against the step budget); False after
        `break`."""
        self.budget.tick(loop.span)
        try:
            self.exec_scoped(loop.body, fr)
        except _Break:
            return False
        except _Continue:
            pass
        return True

    def exec_scoped(self, stmts, fr):
        """A block inside `main`, a test or a function: its `let`s shadow the enclosing
        variables until it ends (at the top level variables are global and stay)."""
        with self.scope(fr, [s.name for s in stmts if isinstance(s, N.Let)]):
            self.exec_block(stmts, fr)

    @contextlib.contextmanager
    def scope(self, fr, names):
        if fr is None or fr.locals is None or not names:
            yield
            return
        saved = {n: fr.locals[n] for n in names if n in fr.locals}
        try:
            yield
        finally:
            for n in names:
                if n in saved:
                    fr.locals[n] = saved[n]
                else:
                    fr.locals.pop(n, None)

    def exec_scope(self, body, local_names):
        """The body of `main` or a test: its own variables, dropped (`impl Drop`) at its end."""
        fr = Frame(None, None, {}, None, local_names)
        try:
            self.exec_block(body, fr)
        finally:
            drop_locals(self, fr.locals.values())

    def exec_assign(self, s, fr):
        """An assignment run as a statement: the right side evaluated now (an indexed or scalar
        left side makes it an equation evaluated once)."""
        if isinstance(s.target, N.Member):
            locals_, names = (fr.locals, fr.local_names) if fr is not None else (None, None)
            obj = self.evaluator.value(s.target.obj, locals_, names)
            set_field(self.evaluator, s.target, obj, self.evaluator.value(s.value, locals_, names))
            return
        name = s.target.id if isinstance(s.target, N.Name) else s.target.base.id
        if s.element:
            self.set_var(name, self.with_elements(s, name, fr), fr, s.target.span)
            return
        info = self.model.tensors.get(name)
        if fr is not None and fr.locals is not None and name in fr.local_names:
            info = None
        part = self.equation_part(s, info if (info and info.decl) else None,
                                  fr.locals if fr else None, fr.local_names if fr else None)
        if part[1] is None:
            value = part[0]
            if isinstance(value, Labelled):
                value = plain(value)
        else:
            value = self.combine(info if (info and info.decl) else None, [part], name)
        self.set_var(name, value, fr, s.target.span)

    def with_elements(self, s, name, fr):
        """`h[k] = v`: a copy of h's value with those elements set (a copy, so that another name
        holding the same value, and the definitions that read h, see the change only through h)."""
        ev = self.evaluator
        locals_, names = (fr.locals, fr.local_names) if fr is not None else (None, None)
        vfr = Frame(None, None, locals_, None, names)
        old = self.lookup(name, fr, s.target.base.span)
        key = ev.element_key(s.target.groups[0], self.axis_domains(name, fr), vfr)
        value = ev.eval(s.value, vfr)
        if isinstance(value, Labelled):
            value = plain(value)
        try:
            if is_tensor(old):
                new = old.detach().clone()
                new[key] = as_tensor(value, new.dtype) if isinstance(value, list) else value
                return new
            if isinstance(old, list):
                return _set_in_list(old, list(key), value)
        except (IndexError, TypeError, ValueError, RuntimeError) as err:
            raise self.error(f"cannot set these elements of '{name}': {_first_line(err)}", s.target.span) from None
        raise self.error(f"'{name}' holds {kind(old)}, which has no elements to set", s.target.span)

    # ---- queries --------------------------------------------------------------------------------
    def print_query(self, q, fr):
        lits = q.literals
        e = lits[0].expr
        locals_, names = (fr.locals, fr.local_names) if fr is not None else (None, None)
        atom = isinstance(e, N.Call) and e.kind == "relation"
        if len(lits) == 1 and not lits[0].negated and not atom:
            if isinstance(e, N.Name) and e.id in self.model.relations and e.id not in self.model.domains and \
                    not (locals_ is not None and e.id in (names or ())):
                rel = self.model.relations[e.id]
                if self.relation_is_sparse(e.id):
                    print(show_table(rel, self.logic.table(e.id), [lo for lo, _ in self.logic.extents(e.id)]))
                else:
                    print(show_relation(rel, self.lookup(e.id, fr, e.span)))
                return
            value = self.evaluator.value(e, locals_, names)
            label = f"{_source_text(self.model, e)} = "
            print(label + show(value).replace("\n", "\n" + " " * len(label)))
            return
        print(show_rows(query_rows(self, q, locals_, names)))


def _set_in_list(items, key, value):
    """A copy of nested lists `items` with the item at `key` (integers and slices) set."""
    out = list(items)
    k, rest = key[0], key[1:]
    if rest:
        if isinstance(k, slice):
            raise TypeError("a slice must be the last index of a list")
        out[k] = _set_in_list(out[k], rest, value)
    else:
        out[k] = value
    return out


def _same(a, b):
    """Whether a fixpoint's round changed nothing: equal shapes and cells, infinities and nan
    included (inf - inf is nan, so a difference would never settle)."""
    if tuple(a.shape) != tuple(b.shape):
        return False
    return bool(tl.logical_or(tl.eq(a, b), tl.logical_and(tl.isnan(a), tl.isnan(b))).all().item())


def _source_text(model, e):
    return snippet(model.sources, e.span, "value")


def _dtype(spec):
    return tl.int32 if DTYPES.get(spec.dtype) == "int32" else tl.float16


def _flat_to(value, declared):
    """A tensor whose values fill a fully known declared shape of another rank takes that shape
    (the seed writes `tensor a: float16[2, 3] = [1, 2, 3, 4, 5, 6]`)."""
    if declared and all(d is not None for d in declared) and tuple(value.shape) != tuple(declared):
        n = 1
        for d in declared:
            n *= d
        if value.numel() == n and (value.ndim == 1 or len(declared) != value.ndim):
            return value.reshape(*declared)
    return value


def _first_line(err):
    return str(err).splitlines()[0] if str(err) else type(err).__name__
