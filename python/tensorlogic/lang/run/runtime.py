"""A running program's state: its global variables, given tensors (leaves) and their versions,
and the names it resolves; definitions (definitions.py) and statements (statements.py) run on it."""
from __future__ import annotations

import weakref

from ..check.indices import declared_dims, fmt_shape
from ..engine import tl
from ..errors import first_line
from ..logic.engine import Logic
from .datalog import Datalog
from .definitions import Definitions
from .evaluate import Evaluator
from .labelled import Labelled, is_tensor
from .limits import DEFAULT_MAX_STEPS, Budget
from .products import Products
from .show import plain
from .statements import Statements
from .values import as_tensor, dtype_of

DEFAULT_MAX_ITERATIONS = 1000


class Runtime(Definitions, Statements):
    """One run of a checked program: what it holds now (`globals`, `leaves` and their `versions`,
    the cache of definitions) and how names resolve to it."""

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
        self.defining = 0       # definitions being evaluated now (a fact statement may not run then)
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
                raise self.error(f"{what} needs a tensor value: {first_line(err)}", span) from None
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
        value = self.as_dtype(value, dtype_of(spec), span, what)
        declared = []
        for d in spec.dims or ():
            declared.append(d.value if d.kind == "int" else self.model.domains[d.value].size
                            if d.kind == "name" and d.value in self.model.domains else None)
        return flat_to(value, tuple(declared))

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
        value = flat_to(value, declared)
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


def flat_to(value, declared):
    """A tensor whose values fill a fully known declared shape of another rank takes that shape
    (the seed writes `tensor a: float16[2, 3] = [1, 2, 3, 4, 5, 6]`)."""
    if declared and all(d is not None for d in declared) and tuple(value.shape) != tuple(declared):
        n = 1
        for d in declared:
            n *= d
        if value.numel() == n and (value.ndim == 1 or len(declared) != value.ndim):
            return value.reshape(*declared)
    return value
