"""Statements run in order: assignments, control flow, calls of user functions, `learn`, `load`
and printed queries, each locating the errors raised under it.  Mixed into `Runtime`."""
from __future__ import annotations

import contextlib

from ..check.indices import snippet, type_mismatch
from ..engine import tl
from ..errors import TensorLogicRuntimeError, TensorLogicTypeError, first_line
from ..syntax import nodes as N
from .datalog import query_rows
from .evaluate import Frame
from .labelled import Labelled, is_tensor
from .learn import run_learn
from .loading import add_rows, load_into
from .show import plain, show, show_relation, show_rows, show_table
from .structs import drop_locals, set_field
from .values import as_tensor, dtype_of, kind, truth

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


class Statements:
    """Statement execution on the runtime's state (`self` is the `Runtime`)."""

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
            value = self.as_dtype(value, dtype_of(spec), span, what)
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
            raise self.error(type_mismatch(what, value.shape, spec), span)

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
                value = tl.zeros(*self.spec_shape(s.type, s.span), dtype=dtype_of(s.type))
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
        elif isinstance(s, N.ExprStmt) and isinstance(s.expr, N.Call) and s.expr.kind == "fact":
            if self.defining:
                # new facts would change what the definition being evaluated reads, mid-way
                raise self.error(f"a fact of '{s.expr.name}' cannot be added while a rule or equation is "
                                 f"evaluated (a function called from one); call it from a statement",
                                 s.expr.span)
            # one row added when the statement runs (as `Program.add_facts` adds rows)
            add_rows(self, s.expr.name, [[self.fact_constant(a, locals_, names)] for a in s.expr.args],
                     s.expr.span, facts=1)
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

    def fact_constant(self, a, locals_, names):
        """An argument of a fact in a block: a constant, or the integer or string a value is now."""
        if isinstance(a, N.Name) and a.role == "const":
            return a.key if a.key is not None else a.id
        value = self.evaluator.value(a, locals_, names)
        if isinstance(value, Labelled):
            value = plain(value)
        if is_tensor(value) and value.ndim == 0:
            value = value.item()
        if isinstance(value, float) and value.is_integer():
            value = int(value)      # every float is f16: a whole number stands for the integer
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            shown = kind(value) if not isinstance(value, float) else f"{value:g}"
            raise self.error(f"a fact's argument must be an integer or a string, not {shown}", a.span)
        return value

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
            raise self.error(f"cannot set these elements of '{name}': {first_line(err)}", s.target.span) from None
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


def _source_text(model, e):
    return snippet(model.sources, e.span, "value")
