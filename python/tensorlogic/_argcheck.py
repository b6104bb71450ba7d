"""Argument checking for every public op, in one place (SPEC §6).

`guard_namespace` wraps the public functions of a module and the methods of Tensor. A call that succeeds
pays one native call (_core.Guard) and a type test of its integer arguments; when an op raises an error that
would show our internals rather than the user's mistake, its arguments are checked against the kind
each parameter has in PyTorch (read from the parameter's name and default, PyTorch's names being
consistent across ops), and a bad one gets PyTorch's TypeError/ValueError/OverflowError naming the op and
the argument (IndexError for a dim out of range). An internal error that no bad argument explains (an AttributeError on `_a`, a pybind11
cast message, "truth value ... ambiguous") never reaches the user as such: it becomes a TypeError naming
the op and the kinds of arguments it got. A call that fails only because it used NumPy's names for `dim`, `keepdim`,
`input` or `other` (`axis`, `keepdims`, ...), which PyTorch's native functions take, is made again with ours."""
import functools
import inspect
import numbers
import operator
import sys

import numpy as np

from . import _core
from .dtypes import as_dtype
from .errors import TensorLogicError
from .tensor import Tensor

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

# Parameter kinds by PyTorch's parameter names; a name missing here takes the kind of its default.
_TENSOR = {"input", "tensor", "weight", "target", "mat2", "index", "src", "mask", "query", "key", "logits", "residual",
           "norm_weight", "norm_bias", "values", "grad", "attn_mask", "total_norm", "conv_w", "bn_rm", "bn_rv",
           "linear_w", "importance_scores"}
_MODULE = {"module", "conv", "bn", "linear"}  # an nn.Module (nn.utils' functions)
_TENSOR_OR_NUMBER = {"other", "exponent", "condition", "min", "max", "scale", "shift", "fill_value"}
_INT = {"diagonal", "chunks", "groups", "decimals", "ignore_index", "n", "m",
        "steps", "length", "padding_idx", "seed"}
_DIM = {"dim", "dim0", "dim1", "start_dim", "end_dim"}  # one dimension of the input
_DIMS = {"dims", "source", "destination"}  # an int or a sequence of ints (None where the default is None)
# Ops whose `dim` may also be a sequence of dimensions.
_DIM_SEQUENCE_OPS = {"sum", "mean", "amax", "amin", "std", "var", "norm", "logsumexp", "squeeze", "flip", "count_nonzero",
                     "roll", "nansum", "nanmean", "aminmax", "prod", "argmax", "argmin", "vector_norm",
                     "matrix_norm"}
_BOOL = {"keepdim", "accumulate", "as_tuple", "ceil_mode", "count_include_pad", "is_causal", "enable_gqa",
         "return_indices", "requires_grad", "sparse", "sparse_grad", "scale_grad_by_freq", "non_blocking", "copy"}
_NUMBER = {"alpha", "beta", "threshold", "eps", "label_smoothing", "dropout_p", "norm_type", "max_norm", "start",
           "end", "step", "value"}
_SHAPE = {"shape", "sizes", "normalized_shape", "kernel_size", "output_size", "pad", "split_size_or_sections"}
_TENSORS = {"tensors", "indices"}
# Names whose kinds vary too much to check (p, ord: a number or a str; stride/padding: int, tuple or str).
_UNCHECKED = {"p", "ord", "stride", "padding", "dilation", "data", "obj", "path", "map_location", "hook"}
_ALLOC_SIZE = {"size"}  # sizes of a new tensor: beyond int64 is a request beyond memory
_STR = {"equation", "reduction", "mode", "approximate", "activation", "rounding_mode"}
# Where a name means something else in one op (the tensor `value` of attention, `start` of narrow).
_OVERRIDES = {("attention", "value"): "tensor", ("scaled_dot_product_attention", "value"): "tensor",
              ("narrow", "start"): "int", ("pad", "value"): "number", ("where", "input"): "tensor_or_number",
              **{(op, "other"): "tensor" for op in ("equal", "type_as", "expand_as", "view_as", "reshape_as")},
              ("max", "dim"): "any", ("min", "dim"): "any",  # max(input, other) is the elementwise maximum
              ("unfold", "dimension"): "dim", ("unfold", "size"): "int", ("unfold", "step"): "int",
              **{(f"{kind}_polynomial_{letter}", "n"): "any" for kind, letters in (
                  ("chebyshev", "tuvw"), ("shifted_chebyshev", "tuvw"), ("hermite", ("h", "he")), ("laguerre", "l"),
                  ("legendre", "p")) for letter in letters},  # n: a tensor or a number
              **{(op, "source"): "tensor" for op in ("index_add", "index_copy", "index_add_", "index_copy_",
                                                    "masked_scatter", "masked_scatter_", "index_reduce",
                                                    "index_reduce_", "put", "put_")}}
_KINDS_BY_NAME = ((_TENSORS, "tensors"), (_TENSOR, "tensor"), (_TENSOR_OR_NUMBER, "tensor_or_number"), (_INT, "int"),
                  (_DIM, "dim"), (_DIMS, "dims"), (_BOOL, "bool"), (_NUMBER, "number"), (_SHAPE, "shape"),
                  (_ALLOC_SIZE, "size"), (_STR, "str"), (_MODULE, "module"))
# Ops that run user code (hooks) or have errors of their own: not wrapped.
_NOT_GUARDED = {"backward", "register_hook", "save", "load", "apply_"}


def _kind(op, param):
    name, default = param.name, param.default
    kind = _OVERRIDES.get((op, name))
    if name in _UNCHECKED or name == "self" or kind == "any":
        return None
    if kind is None and name == "dim":
        kind = "dims" if op in _DIM_SEQUENCE_OPS else "dim"
    if kind is None:
        kind = next((k for names, k in _KINDS_BY_NAME if name in names), None)
    if kind is None:
        if name == "dtype":
            kind = "dtype"
        elif isinstance(default, bool):
            kind = "bool"
        elif isinstance(default, int):
            kind = "int"
        elif isinstance(default, float):
            kind = "number"
        elif isinstance(default, str):
            kind = "str"
        else:
            return None
    if param.kind is param.VAR_POSITIONAL:
        return {"shape": "varshape", "size": "varshape", "dims": "varshape", "tensors": "vartensors"}.get(kind)
    return kind, default is None


def _type_name(value):
    return type(value).__name__


def _as_int(value):
    """The int that `value` stands for (Python and numpy ints, 0-d int32 tensors), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Tensor):
        return int(value.item()) if value.ndim == 0 and value.dtype.name in ("int32", "int64") else None
    try:
        return operator.index(value)
    except TypeError:
        return None


def _int_problem(op, where, value, size=False):
    number = _as_int(value)
    if number is None:
        return TypeError(f"{op}(): {where} must be int, not {_type_name(value)}")
    if not _INT64_MIN <= number <= _INT64_MAX:
        if size and number > 0:
            return MemoryError(f"{op}(): {where} {number} asks for more memory than can be addressed")
        return OverflowError(f"{op}(): {where} {number} does not fit in a 64-bit integer")
    return None


def _ints_problem(op, where, values, size=False):
    if isinstance(values, (str, bytes, Tensor)) or not hasattr(values, "__iter__"):
        return TypeError(f"{op}(): {where} must be tuple of ints, not {_type_name(values)}")
    for i, value in enumerate(values):
        problem = _int_problem(op, f"{where} (element {i})", value, size)
        if problem is not None:
            return problem
    return None


def _dim_problem(op, where, value, ndim):
    problem = _int_problem(op, where, value)
    if problem is None and ndim is not None:
        low, high = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
        if not low - 1 <= _as_int(value) <= high + 1:  # one beyond either end is unsqueeze's range
            return IndexError(f"{op}(): Dimension out of range (expected to be in range of [{low}, {high}], "
                              f"but got {_as_int(value)})")
    return problem


def argument_problem(op, where, kind, value, ndim=None):
    """The error `value` deserves as an argument of this kind, or None when it is fine (`ndim`: the input's)."""
    if kind == "dim":
        return _dim_problem(op, where, value, ndim)
    if kind == "tensor":
        return None if isinstance(value, Tensor) else TypeError(f"{op}(): {where} must be Tensor, not {_type_name(value)}")
    if kind == "tensors":
        if isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                if not isinstance(item, Tensor) and not (item is None and where.startswith("argument 'indices'")):
                    return TypeError(f"{op}(): expected Tensor as element {i} in {where}, but got {_type_name(item)}")
            return None
        return TypeError(f"{op}(): {where} must be tuple of Tensors, not {_type_name(value)}")
    if kind == "tensor_or_number":
        if isinstance(value, (Tensor, np.ndarray)) or (isinstance(value, numbers.Number) and not isinstance(value, complex)):
            return None
        if isinstance(value, (list, tuple)):
            return None
        return TypeError(f"{op}(): {where} must be Tensor or Number, not {_type_name(value)}")
    if kind == "int":
        return _int_problem(op, where, value)
    if kind == "dims":
        if _as_int(value) is not None:
            return _dim_problem(op, where, value, ndim)
        if isinstance(value, (list, tuple)):
            return _ints_problem(op, where, value) or next(
                (p for p in (_dim_problem(op, where, v, ndim) for v in value) if p is not None), None)
        return TypeError(f"{op}(): {where} must be int or tuple of ints, not {_type_name(value)}")
    if kind in ("shape", "size"):
        if _as_int(value) is not None:
            return _int_problem(op, where, value, kind == "size")
        return _ints_problem(op, where, value, kind == "size")
    if kind == "bool":
        ok = isinstance(value, (bool, np.bool_))
        return None if ok else TypeError(f"{op}(): {where} must be bool, not {_type_name(value)}")
    if kind == "number":
        if isinstance(value, Tensor):
            return None if value.numel() == 1 else TypeError(f"{op}(): {where} must be Number, not a Tensor of {value.numel()} elements")
        ok = isinstance(value, numbers.Real)
        return None if ok else TypeError(f"{op}(): {where} must be Number, not {_type_name(value)}")
    if kind == "module":  # (told by its members: nn imports this module, so this one cannot import nn's Module)
        ok = callable(getattr(value, "named_parameters", None)) and callable(getattr(value, "train", None))
        return None if ok else TypeError(f"{op}(): {where} must be Module, not {_type_name(value)}")
    if kind == "str":
        return None if isinstance(value, str) else TypeError(f"{op}(): {where} must be str, not {_type_name(value)}")
    if kind == "dtype":
        try:
            as_dtype(value)
            return None
        except (TypeError, ValueError) as error:
            return TypeError(f"{op}(): argument 'dtype': {error}")
    return None


def find_bad_argument(op, signature, args, kwargs):
    """The typed error for the first argument of a kind the op does not take, or None."""
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as error:
        return TypeError(f"{op}(): {error}")
    # (a method's self is not counted, as PyTorch counts x.add(other)'s other as position 1)
    positions = {name: i for i, name in enumerate(n for n in signature.parameters if n != "self")}
    first = next(iter(bound.arguments.values()), None)
    ndim = first.ndim if isinstance(first, Tensor) else None  # dims refer to the first argument
    for name, value in bound.arguments.items():
        param = signature.parameters[name]
        if param.kind is param.VAR_KEYWORD:  # varargs given by their name, as torch.zeros(size=(2, 3)) takes them
            param = next((p for p in signature.parameters.values() if p.kind is p.VAR_POSITIONAL and p.name in value),
                         None)
            if param is None:
                continue
            name, value = param.name, (value[param.name],)
        kind = _kind(op, param)
        if kind is None:
            continue
        if kind == "varshape":  # sizes as varargs or as one sequence, as PyTorch takes them
            values = value[0] if len(value) == 1 and _as_int(value[0]) is None else value
            problem = _ints_problem(op, f"argument '{name}'", values, name in _ALLOC_SIZE)
            if problem is None and name in _DIMS:
                problem = argument_problem(op, f"argument '{name}'", "dims", list(values), ndim)
        elif kind == "vartensors":
            problem = argument_problem(op, f"argument '{name}'", "tensors", list(value))
        else:
            kind, optional = kind
            if value is None and optional:
                continue
            where = f"argument '{name}'"
            if param.kind is not param.KEYWORD_ONLY and name not in kwargs:
                where += f" (position {positions[name] + 1})"
            problem = argument_problem(op, where, kind, value, ndim)
        if problem is not None:
            return problem
    return None


# PyTorch's argument parser takes NumPy's names for four parameters of its native functions (torch.sum(x, axis=1,
# keepdims=True), torch.cat(ts, axis=0), x.max(axis=0)); ours are Python functions, so such a call fails at binding
# and is made again with our names.
_NUMPY_NAMES = {"axis": "dim", "keepdims": "keepdim", "x": "input", "a": "input", "x1": "input", "x2": "other"}


def torch_names(signature, args, kwargs):
    """kwargs with NumPy's names replaced by the parameters they stand for, where the call binds only that way; else
    None."""
    if not any(name in _NUMPY_NAMES for name in kwargs):
        return None
    try:
        signature.bind(*args, **kwargs)
        return None  # it binds as given: the error came from inside the op
    except TypeError:
        pass
    renamed = {}
    for name, value in kwargs.items():
        if name not in signature.parameters:
            name = _NUMPY_NAMES.get(name, name)
        if name in renamed:
            return None
        renamed[name] = value
    try:
        signature.bind(*args, **renamed)
    except TypeError:
        return None
    return renamed


def _is_internal(error):
    """An error whose message would show the user our internals rather than their mistake."""
    if isinstance(error, (AttributeError, KeyError, UnicodeError, AssertionError, NameError, RecursionError)):
        return True
    text = str(error)
    return ("incompatible function arguments" in text or "ambiguous" in text or "_core" in text
            or "object is not iterable" in text or "index out of range" in text
            or "object is not subscriptable" in text or "invalid literal" in text
            or "could not convert" in text or "indices must be integers" in text)


def _describe(args, kwargs):
    parts = [_type_name(a) for a in args] + [f"{k}={_type_name(v)}" for k, v in kwargs.items()]
    return "(" + ", ".join(parts) + ")"


_INTEGER_KINDS = {"int", "dim", "dims", "bool", "shape", "size"}


def guard(fn, op=None, keep_unexplained=False, tensors=()):
    """fn with its failures explained: see the module docstring. With keep_unexplained, an internal error that no
    bad argument explains is raised as it is (fn runs user code, whose own errors must reach the user unchanged).
    tensors: names of fn's parameters that take a tensor, beyond those the tables know (a module's forward(x1, x2))."""
    op = op or fn.__name__
    _OVERRIDES.update({(op, name): "tensor" for name in tensors})
    signature = inspect.signature(fn)
    # The one check made before the call: a tensor where an int belongs would pass the native binding
    # through its __int__ (tl.tensor([1.5]) as a dim becomes 1); PyTorch takes only 0-d integer tensors.
    int_slots, int_names = [], set()
    for position, param in enumerate(signature.parameters.values()):
        kind = _kind(op, param)
        if isinstance(kind, tuple) and kind[0] in _INTEGER_KINDS:
            int_names.add(param.name)
            if param.kind is param.POSITIONAL_OR_KEYWORD:
                int_slots.append(position)

    def check(args, kwargs):  # a tensor where an int belongs: the bad-argument error, if one explains it
        _raise_bad_argument(op, signature, args, kwargs)

    def explain(error, args, kwargs):  # what the op's error becomes: None keeps it; (result,) replaces it
        if isinstance(error, TensorLogicError) or not isinstance(error, Exception):
            return None
        renamed = torch_names(signature, args, kwargs) if isinstance(error, TypeError) and kwargs else None
        if renamed is not None:
            return (guarded(*args, **renamed),)
        if isinstance(error, MemoryError):
            if str(error) != "std::bad_alloc":  # the native translator's text for a host vector too large
                return None
            return MemoryError(f"{op}(): the host memory this call needs cannot be allocated ({error})")
        if not _is_internal(error):
            return None  # the op's own typed error, which names it
        problem = find_bad_argument(op, signature, args, kwargs)
        if problem is not None or keep_unexplained:
            return problem
        return TypeError(
            f"{op}() received an invalid combination of arguments - got {_describe(args, kwargs)}")

    # Native (python/src/bind_guard.cpp): every public call passes through it, and the checks above run only
    # where something is wrong. It binds as a method like a function does.
    guarded = functools.update_wrapper(_core.Guard(fn, tuple(int_slots), frozenset(int_names), check, explain), fn)
    guarded._tl_guarded = True
    return guarded


def _raise_bad_argument(op, signature, args, kwargs):
    problem = find_bad_argument(op, signature, args, kwargs)
    if problem is not None:
        raise problem


def _public_function(name, value):
    return (not name.startswith("_") and name not in _NOT_GUARDED and inspect.isfunction(value) and value.__module__.startswith("tensorlogic.")
            and not value.__module__.startswith("tensorlogic.lang") and not getattr(value, "_tl_guarded", False))


def _guarded(fn, name, cache, keep_unexplained=False):
    """The one wrapper of `fn`, also put in the module that defines it, so that every name of the op
    (tl.softmax, F.softmax, tensorlogic.ops.rows.softmax) stays one function."""
    if fn not in cache:
        cache[fn] = guard(fn, name, keep_unexplained)
        home = sys.modules.get(fn.__module__)
        if getattr(home, fn.__name__, None) is fn:
            setattr(home, fn.__name__, cache[fn])
    return cache[fn]


def guard_namespace(namespace, names, cache, keep_unexplained=False):
    """Replaces each public function among `names` in the dict `namespace` by its guarded form (see guard for
    keep_unexplained)."""
    for name in names:
        value = namespace.get(name)
        if _public_function(name, value):
            namespace[name] = _guarded(value, name, cache, keep_unexplained)


def guard_tensor_methods(cache):
    """Guards Tensor's public methods (operators keep their lean path: they are the hottest calls)."""
    for name, value in list(vars(Tensor).items()):
        if _public_function(name, value):
            setattr(Tensor, name, _guarded(value, name, cache))


def guard_static_functionals(classes, cache):
    """Points each staticmethod of `classes` (and of their tensorlogic bases) that holds a guarded op to the op's
    guard: a module keeps the functional it calls as a class attribute, taken before the op was guarded, and then
    explains bad arguments as the op does."""
    for cls in classes:
        for base in cls.__mro__:
            if not base.__module__.startswith("tensorlogic."):
                continue
            for name, value in list(vars(base).items()):
                if isinstance(value, staticmethod) and value.__func__ in cache:
                    setattr(base, name, staticmethod(cache[value.__func__]))
