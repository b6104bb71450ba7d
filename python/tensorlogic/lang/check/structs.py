"""Structs for the checker: declarations (`struct Box<T> { value: T }`), `impl` blocks and their
methods, struct literals, field access, `Type::function(...)` and method calls, with the usual
located errors (unknown struct, field or method, missing or repeated fields, arity).

Static types are known where the program says them: `self` in a method, a parameter with a struct
type, a `let` bound to a struct literal or to a call whose declared result is a struct.  Where the
type is not known the method is resolved when the program runs.
"""
from __future__ import annotations

from ..engine import tl
from ..syntax import nodes as N
from . import catalog

# `f16::zeros(...)`, `f32::ones(...)`, `Tensor::randn(...)`: the engine's constructors (every
# float is f16).
NAMESPACES = {"f16", "f32", "f64", "float16", "float32", "Tensor"}
# Scalar and element types a signature or a field may name.
SCALAR_TYPES = {"int", "float", "bool", "string", "str", "void", "float32", "float64", "int64",
                "bfloat16", "tensor", "Tensor"}


class StructChecker:
    """Mixed into `Checker`."""

    def declare_structs(self, items):
        self.structs, self.methods, self.drops = {}, {}, {}
        for item in items:
            if isinstance(item, N.StructDecl):
                self.claim(item.name, "struct", item.name_span)
                self.structs[item.name] = item
        for item in items:
            if isinstance(item, N.StructDecl):
                seen = set()
                for f in item.fields:
                    if f.name in seen:
                        raise self.error(f"field '{f.name}' appears twice in struct {item.name}",
                                         f.span)
                    seen.add(f.name)
                    self.check_type(f.type, item.type_params)
            elif isinstance(item, N.ImplBlock):
                self.declare_impl(item)

    def declare_impl(self, impl):
        if impl.type_name not in self.structs:
            raise self.unknown(impl.type_name, impl.name_span, self.structs, "struct")
        for m in impl.methods:
            key = (impl.type_name, m.name)
            if impl.trait == "Drop":
                if m.name != "drop" or len(m.params) != 1 or m.params[0].name != "self":
                    raise self.error("`impl Drop` holds one method, fn drop(self)", m.span)
                self.drops[impl.type_name] = m
                continue
            if key in self.methods:
                raise self.error(f"'{impl.type_name}' already has a method '{m.name}' (line "
                                 f"{self.methods[key].span.line})", m.name_span)
            names = set()
            for k, p in enumerate(m.params):
                if p.name in names:
                    raise self.error(f"parameter '{p.name}' appears twice", p.span)
                if p.name == "self" and k != 0:
                    raise self.error("`self` must be the first parameter", p.span)
                names.add(p.name)
                if p.type is not None:
                    self.check_type(p.type, impl.type_params + m.type_params)
            if m.ret is not None:
                self.check_type(m.ret, impl.type_params + m.type_params)
            m.owner = impl.type_name
            self.methods[key] = m
        for m in impl.methods:
            m.owner = impl.type_name

    # ---- expressions ----------------------------------------------------------------------------
    def static_type(self, e, scope):
        """The struct a value certainly has, or None."""
        if isinstance(e, N.StructLit):
            return e.name
        if isinstance(e, N.Name) and scope is not None:
            return scope.types.get(e.id)
        if isinstance(e, N.Call) and e.kind in ("fn", "assoc"):
            fn = self.functions.get(e.name) if e.kind == "fn" else self.methods.get(tuple(e.name.split("::")))
            ret = fn.ret if fn is not None else None
            return ret.dtype if ret is not None and ret.dtype in self.structs else None
        if isinstance(e, N.MethodCall) and e.kind == "method":
            m = self.methods.get((self.static_type(e.obj, scope), e.name))
            return m.ret.dtype if m is not None and m.ret is not None and m.ret.dtype in self.structs else None
        if isinstance(e, N.Member):
            owner = self.static_type(e.obj, scope)
            if owner is not None:
                f = next((f for f in self.structs[owner].fields if f.name == e.name), None)
                return f.type.dtype if f is not None and f.type.dtype in self.structs else None
        return None

    def r_path_call(self, c, scope):
        prefix, name = c.name.split("::", 1)
        if prefix in NAMESPACES:
            if not catalog.callable_builtin(name):
                raise self.unknown(name, c.name_span, catalog.ENGINE_OPS, f"function of {prefix}")
            c.kind, c.builtin = "builtin", name
            self.check_builtin_arity(c, name)
            return
        if prefix not in self.structs:
            raise self.unknown(prefix, c.name_span, set(self.structs) | NAMESPACES, "struct")
        m = self.methods.get((prefix, name))
        if m is None:
            raise self.unknown(name, c.name_span, {k[1] for k in self.methods if k[0] == prefix},
                               f"function of {prefix}")
        c.kind = "assoc"
        self.check_call_arity(c, m, f"{prefix}::{name}", [p.name for p in m.params])

    def r_struct_lit(self, e, scope):
        decl = self.structs.get(e.name)
        if decl is None:
            raise self.unknown(e.name, e.name_span, self.structs, "struct")
        fields = {f.name for f in decl.fields}
        given = set()
        for f in e.fields:
            if f.name not in fields:
                raise self.unknown(f.name, f.span, fields, f"field of {e.name}")
            if f.name in given:
                raise self.error(f"field '{f.name}' is given twice", f.span)
            given.add(f.name)
            self.r_expr(f.value, scope)
        missing = [f.name for f in decl.fields if f.name not in given]
        if missing:
            raise self.error(f"{e.name} needs field{'s' if len(missing) > 1 else ''} "
                             f"{', '.join(missing)}", e.span)

    def r_member(self, e, scope):
        self.r_expr(e.obj, scope)
        owner = self.static_type(e.obj, scope)
        if owner is not None and not any(f.name == e.name for f in self.structs[owner].fields):
            raise self.unknown(e.name, e.name_span, {f.name for f in self.structs[owner].fields},
                               f"field of {owner}")

    def r_method_call(self, e, scope):
        self.r_expr(e.obj, scope)
        for a in e.args:
            self.r_expr(a, scope)
        for k in e.kwargs:
            self.r_expr(k.value, scope)
        owner = self.static_type(e.obj, scope)
        if owner is not None:
            m = self.methods.get((owner, e.name))
            if m is None:
                raise self.unknown(e.name, e.name_span, {k[1] for k in self.methods if k[0] == owner},
                                   f"method of {owner}")
            params = [p.name for p in m.params]
            if not params or params[0] != "self":
                raise self.error(f"'{owner}::{e.name}' takes no self; call it as "
                                 f"{owner}::{e.name}(...)", e.name_span)
            e.kind = "method"
            self.check_call_arity(e, m, f"{owner}.{e.name}", params[1:])
            return
        if any(k[1] == e.name for k in self.methods):
            return                        # a struct's method, found when the program runs
        if e.name not in catalog.BUILTINS and is_tensor_method(e.name):
            e.kind = "tensor"             # PyTorch's own: x.size(1), x.dim(), x.float()
            return
        if not catalog.callable_builtin(e.name):
            raise self.unknown(e.name, e.name_span, catalog.BUILTINS | {k[1] for k in self.methods},
                               "method")
        e.kind = "builtin"
        self.check_builtin_arity(e, e.name, extra=1)

    def check_builtin_arity(self, c, name, extra=0):
        lo, hi = catalog.ARITY.get(name, (0, None))
        given = len(c.args) + extra
        if given < lo or (hi is not None and given > hi):
            want = str(lo) if lo == hi else (f"{lo} to {hi}" if hi is not None else f"at least {lo}")
            raise self.error(f"'{name}' takes {want} argument{'s' if hi != 1 else ''} but {given} "
                             f"{'are' if given != 1 else 'is'} given", c.span)

    def check_call_arity(self, c, fn, what, params):
        if len(c.args) > len(params):
            raise self.error(f"'{what}' takes {len(params)} argument{'s' if len(params) != 1 else ''} "
                             f"but {len(c.args)} {'are' if len(c.args) != 1 else 'is'} given", c.span)
        given = set(params[:len(c.args)])
        for k in c.kwargs:
            if k.name not in params:
                raise self.error(f"'{what}' has no parameter '{k.name}'", k.span)
            if k.name in given:
                raise self.error(f"'{k.name}' is given twice", k.span)
            given.add(k.name)
        missing = [p for p in params if p not in given]
        if missing:
            raise self.error(f"'{what}' takes {len(params)} argument{'s' if len(params) != 1 else ''}; "
                             f"missing {', '.join(missing)}", c.span)


def is_tensor_method(name) -> bool:
    """Whether tensors have a public method of this name (x.size(1) as in PyTorch)."""
    return not name.startswith("_") and callable(getattr(tl.Tensor, name, None))
