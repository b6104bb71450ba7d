"""torch._foreach_*: an op over lists of tensors, as EMA and optimizer code call them (timm's and diffusers' EMA:
_foreach_lerp_, _foreach_mul_, _foreach_sub_ ...). Each runs the op per tensor (no fused multi-tensor kernel);
the second operand is a list (one per tensor) or one scalar or tensor shared by all."""
from ..promotion import check_cast
from ..tensor import Tensor
from . import add_products, composite, elementwise

# name -> (out-of-place function, in-place method name, whether it takes alpha=)
_BINARY = {"add": (elementwise.add, "add_", True), "sub": (elementwise.sub, "sub_", True),
           "mul": (elementwise.mul, "mul_", False), "div": (elementwise.div, "div_", False),
           "maximum": (elementwise.maximum, None, False), "minimum": (elementwise.minimum, None, False),
           "pow": (elementwise.pow, "pow_", False)}
_UNARY = ("abs", "neg", "exp", "log", "sqrt", "rsqrt", "reciprocal", "sign", "sigmoid", "tanh")


def _tensors(tensors, op):
    tensors = list(tensors)
    if not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError(f"_foreach_{op}: expected a list of tensors")
    return tensors


def _operands(other, n, op):
    """The second operand per tensor: a list or tuple of n, or one value repeated."""
    if isinstance(other, (list, tuple)):
        if len(other) != n:
            raise ValueError(f"_foreach_{op}: tensor lists must have the same length, got {n} and {len(other)}")
        return list(other)
    return [other] * n


def _binary(op, fn, method, with_alpha):
    def out_of_place(self, other, **kwargs):
        tensors = _tensors(self, op)
        alpha = kwargs.pop("alpha", 1) if with_alpha else 1
        if kwargs:
            raise TypeError(f"_foreach_{op}: unexpected keyword arguments {sorted(kwargs)}")
        if alpha != 1:
            return [fn(t, o, alpha=alpha) for t, o in zip(tensors, _operands(other, len(tensors), op))]
        return [fn(t, o) for t, o in zip(tensors, _operands(other, len(tensors), op))]

    def in_place(self, other, **kwargs):
        tensors = _tensors(self, op)
        if method is None:  # no in-place form of its own: the result is copied back
            _copy_back(tensors, out_of_place(tensors, other, **kwargs), f"_foreach_{op}_")
            return
        alpha = kwargs.pop("alpha", 1) if with_alpha else 1
        if kwargs:
            raise TypeError(f"_foreach_{op}_: unexpected keyword arguments {sorted(kwargs)}")
        for t, o in zip(tensors, _operands(other, len(tensors), op)):
            if alpha != 1:
                getattr(t, method)(o, alpha=alpha)
            else:
                getattr(t, method)(o)

    out_of_place.__doc__ = f"[{op}(t, o) for each tensor t and its operand o] (alpha= where {op} takes it)."
    in_place.__doc__ = f"{op} written into each tensor of the list in place; returns None, as PyTorch's does."
    return out_of_place, in_place


def _unary(op):
    def out_of_place(self):
        return [getattr(t, op)() for t in _tensors(self, op)]

    def in_place(self):
        for t in _tensors(self, op):
            getattr(t, op + "_")()  # (checks that the result's dtype can be written into t, as PyTorch does)

    out_of_place.__doc__ = f"[t.{op}() for each tensor t]."
    in_place.__doc__ = f"{op} written into each tensor of the list in place."
    return out_of_place, in_place


def _foreach_lerp(self, tensors1, weight):
    """[lerp(s, e, w)] with w one scalar, or a list (scalars or tensors) of one per tensor."""
    tensors = _tensors(self, "lerp")
    ends = _operands(tensors1, len(tensors), "lerp")
    return [composite.lerp(s, e, w) for s, e, w in zip(tensors, ends, _operands(weight, len(tensors), "lerp"))]


def _foreach_lerp_(self, tensors1, weight):
    """lerp written into each tensor in place: s += w (e - s) (an EMA of parameters in one call)."""
    tensors = _tensors(self, "lerp")
    ends = _operands(tensors1, len(tensors), "lerp")
    for s, e, w in zip(tensors, ends, _operands(weight, len(tensors), "lerp")):
        s.lerp_(e, w)


def _pointwise(op, self, tensor1, tensor2, value):
    """[op(s, a, b, value=v)]: tensor1 and tensor2 lists of tensors, one per tensor (PyTorch takes no scalar for
    them), value one number or one per tensor."""
    tensors = _tensors(self, op)
    n = len(tensors)
    operands = []
    for name, others in (("tensor1", tensor1), ("tensor2", tensor2)):
        if not isinstance(others, (list, tuple)) or not all(isinstance(t, Tensor) for t in others):
            raise TypeError(f"_foreach_{op}(): argument '{name}' must be a list of tensors, got "
                            f"{type(others).__name__}")
        operands.append(_operands(others, n, op))
    fn = getattr(add_products, op)
    return [fn(s, a, b, value=v) for s, a, b, v in zip(tensors, *operands, _operands(value, n, op))]


def _foreach_addcmul(self, tensor1, tensor2, value=1):
    """[s + value * t1 * t2] (value one scalar or one per tensor)."""
    return _pointwise("addcmul", self, tensor1, tensor2, value)


def _foreach_addcdiv(self, tensor1, tensor2, value=1):
    """[s + value * t1 / t2] (value one scalar or one per tensor)."""
    return _pointwise("addcdiv", self, tensor1, tensor2, value)


def _foreach_addcmul_(self, tensor1, tensor2, value=1):
    """addcmul written into each tensor in place."""
    _copy_back(self, _foreach_addcmul(self, tensor1, tensor2, value), "_foreach_addcmul_")


def _foreach_addcdiv_(self, tensor1, tensor2, value=1):
    """addcdiv written into each tensor in place."""
    _copy_back(self, _foreach_addcdiv(self, tensor1, tensor2, value), "_foreach_addcdiv_")


def _copy_back(tensors, results, name):
    """Writes each result into its tensor, after checking every dtype first (a float result copied into an int
    tensor was silently truncated) and before writing any."""
    for t, r in zip(tensors, results):
        check_cast(r.dtype, t.dtype, name)
    for t, r in zip(tensors, results):
        t.copy_(r)


def _foreach_copy_(self, src, non_blocking=False):
    """Copies src[i] into self[i] for every i."""
    tensors = _tensors(self, "copy_")
    for t, s in zip(tensors, _operands(src, len(tensors), "copy_")):
        t.copy_(s)


def _foreach_zero_(self):
    """Zeroes every tensor of the list in place."""
    for t in _tensors(self, "zero_"):
        t.zero_()


def _foreach_norm(self, ord=2, dtype=None):  # noqa: A002 (PyTorch's name)
    """[the ord-norm of each tensor, flattened] as 0-d tensors."""
    return [t.norm(p=ord) for t in _tensors(self, "norm")]


__all__ = ["_foreach_lerp", "_foreach_lerp_", "_foreach_addcmul", "_foreach_addcmul_", "_foreach_addcdiv",
           "_foreach_addcdiv_", "_foreach_copy_", "_foreach_zero_", "_foreach_norm"]
for _name, (_fn, _method, _alpha) in _BINARY.items():
    globals()[f"_foreach_{_name}"], globals()[f"_foreach_{_name}_"] = _binary(_name, _fn, _method, _alpha)
    __all__ += [f"_foreach_{_name}", f"_foreach_{_name}_"]
for _name in _UNARY:
    globals()[f"_foreach_{_name}"], globals()[f"_foreach_{_name}_"] = _unary(_name)
    __all__ += [f"_foreach_{_name}", f"_foreach_{_name}_"]
