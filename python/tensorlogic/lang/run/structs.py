"""Struct values at run time: literals, fields, methods, `Type::function(...)` calls and the
destructors (`impl Drop`) run when the variables of a `main`, `test` or function go out of scope."""
from __future__ import annotations

from ..engine import tl
from .labelled import is_tensor
from .show import show
from .values import kind, numeric_list_as_tensor


class StructValue:
    """An instance of a declared struct; fields keep their declaration order."""
    __slots__ = ("type", "fields", "__weakref__")

    def __init__(self, type_name, fields):
        self.type = type_name
        self.fields = fields

    def __repr__(self):
        inner = ", ".join(f"{k}: {show(v)}" for k, v in self.fields.items())
        return f"{self.type} {{ {inner} }}"


def new_struct(ev, e, fr):
    """A struct literal; each field's value must fit the field's declared type (a tensor's shape,
    a string, another struct)."""
    decl = ev.model.structs[e.name]
    given = {f.name: (ev.eval(f.value, fr), f.value.span) for f in e.fields}
    for f in decl.fields:
        value, span = given[f.name]
        what = f"field '{f.name}' of {e.name}"
        if f.type.dims:
            if isinstance(value, (list, tuple)):        # a list literal is a tensor
                value = ev.rt.as_dtype(value, tl.float16, span, what)
                given[f.name] = (value, span)
            ev.rt.check_type(value, f.type, span, what)
        elif f.type.dtype in ("string", "str") and not isinstance(value, str):
            raise ev.error(f"{what} is a string, not {kind(value)}", span)
        elif f.type.dtype in ev.model.structs and getattr(value, "type", None) != f.type.dtype:
            raise ev.error(f"{what} is a {f.type.dtype}, not {kind(value)}", span)
        if f.learnable:
            given[f.name] = (learnable_leaf(ev, value, span, what), span)
    out = StructValue(e.name, {f.name: given[f.name][0] for f in decl.fields})
    if any(f.learnable for f in decl.fields):
        ev.rt.trainable.add(out)
    return out


def learnable_leaf(ev, value, span, what):
    """A `learnable` field's value as a float16 tensor that `learn` trains."""
    if not is_tensor(value):
        value = ev.rt.as_dtype(value, tl.float16, span, what)
    if not value.is_floating_point():
        raise ev.error(f"{what} is learnable, so it holds float16 values, not {value.dtype}", span)
    return value if value.requires_grad and value.grad_fn is None else value.detach().requires_grad_(True)


def struct_parameters(ev, span):
    """The tensors of the `learnable` fields of every live struct value (a field reassigned since
    is made a trainable tensor again), for the learn block at `span`."""
    out = []
    for obj in list(ev.rt.trainable):
        for f in ev.model.structs[obj.type].fields:
            if f.learnable and f.name in obj.fields:
                obj.fields[f.name] = learnable_leaf(ev, obj.fields[f.name], span,
                                                    f"field '{f.name}' of {obj.type}")
                out.append(obj.fields[f.name])
    return out


def field(ev, e, obj):
    if isinstance(obj, StructValue):
        if e.name in obj.fields:
            return obj.fields[e.name]
        raise ev.error(f"{obj.type} has no field '{e.name}'", e.name_span)
    obj = numeric_list_as_tensor(obj)
    if is_tensor(obj) and e.name == "shape":
        return tuple(obj.shape)
    if is_tensor(obj) and not e.name.startswith("_") and hasattr(type(obj), e.name) and \
            not callable(getattr(type(obj), e.name)):
        return getattr(obj, e.name)         # PyTorch's properties: x.T, x.ndim, x.dtype
    raise ev.error(f"{type(obj).__name__} has no field '{e.name}'", e.name_span)


def set_field(ev, target, obj, value):
    if not isinstance(obj, StructValue) or target.name not in obj.fields:
        raise ev.error(f"no field '{target.name}' to assign", target.name_span)
    obj.fields[target.name] = value


def method_of(model, value, name):
    """The user method `name` of a struct value, or None."""
    if isinstance(value, StructValue):
        return model.methods.get((value.type, name))
    return None


def drop_locals(rt, local_values, keep=None):
    """Runs `drop(self)` for the struct values among `local_values` whose type has one, last
    bound first; `keep` (a returned value) is not dropped."""
    for value in reversed(list(local_values)):
        if isinstance(value, StructValue) and value is not keep:
            fn = rt.model.drops.get(value.type)
            if fn is not None:
                rt.call_function(fn, [value], {}, fn)
