"""Built-in functions at run time: the language's own (`print`, `assert`, `shape`, `step`, `sig`,
`lnorm` ...) and the engine's ops by their PyTorch names.  Elementwise functions keep the indices
of an indexed argument; `softmax`, `log_softmax` and `lnorm` normalise along the marked axis."""
from __future__ import annotations

import builtins as _py
import contextlib
import sys

import numpy as np

from ..check import catalog
from ..engine import tl
from ..errors import TensorLogicRuntimeError, TensorLogicTypeError, first_line, format_diagnostic
from .labelled import Labelled, broadcast_all, is_tensor
from .seed_ops import SEED_OPS, TENSOR_ARGS
from .show import plain, show
from .values import as_tensor, is_number, joins, kind, scalar, truth

LNORM_EPS = 1e-5


def step(t):
    return tl.gt(t, tl.zeros((), dtype=t.dtype)).float() if is_tensor(t) else float(t > 0)


def sig(t, temperature=None):
    """Sigmoid with temperature 1/(1+exp(-v/T)); T = 0 is `step`."""
    if temperature is None:
        return tl.sigmoid(t)
    if is_tensor(temperature):
        temperature = temperature.item()
    if temperature == 0:
        return step(t)
    return tl.sigmoid(t / temperature)


def lnorm(t, dim=-1):
    """Layer normalisation without affine parameters along `dim`."""
    mean = t.mean(dim=dim, keepdim=True)
    centered = t - mean
    var = (centered * centered).mean(dim=dim, keepdim=True)
    return centered / tl.sqrt(var + LNORM_EPS)


def where(condition, input, other):
    """The engine's `where`, whose condition may also be a 0/1 tensor: the language's comparisons
    give float16 0/1 tensors, so `where(x > 0, x, 0)` reads as written."""
    if is_tensor(condition) and condition.is_floating_point():
        condition = tl.ne(condition, tl.zeros((), dtype=condition.dtype))
    return tl.where(condition, input, other)


# The language's own elementwise functions; every other one is the engine's, found by name when
# called.
_LANG_ELEMENTWISE = {"step": step, "sig": sig, "where": where}


def _engine(name):
    f = getattr(tl, name, None)
    if f is None:
        nn = getattr(tl, "nn", None)
        fn = getattr(nn, "functional", None) if nn is not None else None
        f = getattr(fn, name, None) if fn is not None else None
    return f


def call_builtin(ev, node, args, kwargs, fr):
    name = getattr(node, "builtin", None) or node.name
    special = _SPECIAL.get(name)
    if special is not None:
        with _engine_errors(ev, name, node, args):
            return special(ev, node, args, kwargs, fr)
    if name in _PAIRWISE and len(args) == 2 and not kwargs and \
            (any(isinstance(a, Labelled) for a in args) or all(is_number(a) for a in args)):
        # max(a, b) of two values, elementwise in index notation (`max(C[x], Cap[x, y])`); a
        # whole tensor's max(x, 1) stays the engine's reduction along dim 1, as in PyTorch.
        with _engine_errors(ev, name, node, args):
            if all(is_number(a) for a in args):
                return getattr(_py, name)(*args)
            a, b = (x if isinstance(x, Labelled) else as_tensor(x) for x in args)
            return _labelled_call(ev, node, [a, b], {}, fr, _PAIRWISE[name])
    if any(isinstance(a, Labelled) for a in args):
        with _engine_errors(ev, name, node, args):
            return _labelled_call(ev, node, args, kwargs, fr)
    f = tl.cat if name == "concat" else (SEED_OPS.get(name) or _LANG_ELEMENTWISE.get(name) or _engine(name))
    if f is None:
        raise ev.error(f"the engine has no '{name}'", node.name_span)
    with _engine_errors(ev, name, node, args):
        if name in SEED_OPS:
            args = [as_tensor(a) if k in TENSOR_ARGS.get(name, ()) and a is not None else a
                    for k, a in enumerate(args)]
        elif name in ("cat", "concat") and args and isinstance(args[0], (list, tuple)) and \
                all(isinstance(x, list) for x in args[0]) and joins(list(args[0])):
            return [x for part in args[0] for x in part]
        elif name in _TAKES_TENSORS and args and isinstance(args[0], (list, tuple)):
            args = [[as_tensor(x.t if isinstance(x, Labelled) else x) for x in args[0]]] + \
                [_as_engine_arg(a) for a in args[1:]]
        else:
            args = [_sizes(a) if name in _TAKES_SIZES and not (k == 0 and name in _RESHAPES) else
                    as_tensor(a, tl.int32) if k == _INDEX_ARG.get(name) and _integers(a) else
                    _as_engine_arg(a) for k, a in enumerate(args)]
            if name in _NEEDS_TENSOR and args and not is_tensor(args[0]):
                args[0] = as_tensor(args[0])
        return f(*args, **kwargs)


@contextlib.contextmanager
def _engine_errors(ev, name, node, args):
    """Whatever the engine raises for a built-in's arguments, as a TensorLogicTypeError at the call."""
    try:
        yield
    except (TensorLogicTypeError, TensorLogicRuntimeError, AssertionError):
        raise
    except AttributeError:          # a number or string where the op needs a tensor
        kinds = ", ".join(kind(a) for a in args)
        raise ev.error(f"{name} cannot take ({kinds}): one of them must be a tensor", node.span) from None
    except Exception as err:        # the engine's own message, at the call's location
        text = first_line(err)
        raise ev.error(text if text.startswith(f"{name}:") else f"{name}: {text}", node.span) from None


def call_tensor_method(ev, node, obj, args, kwargs):
    """`x.view([2, 3])`, `x.contiguous()`: the tensor's own method, as in PyTorch."""
    with _engine_errors(ev, node.name, node, [obj] + args):
        convert = _sizes if node.name in _TAKES_SIZES else _as_engine_arg
        return getattr(obj, node.name)(*[convert(a) for a in args], **kwargs)


# Built-ins whose list arguments are sizes, as PyTorch accepts them (`ones([2, 3])`,
# `reshape(x, [3, 2])`): the seed writes sizes as floats too (`[seq, 32.0]`).
_TAKES_SIZES = {"zeros", "ones", "empty", "full", "rand", "randn", "randint", "reshape", "view",
                "broadcast_to", "expand", "permute"}
# Those whose first argument is the data reshaped (`reshape([1.0, 2.0, 3.0, 4.0], [2, 2])`).
_RESHAPES = {"reshape", "broadcast_to", "permute"}


def _sizes(a):
    if isinstance(a, (list, tuple)) and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                            and float(x).is_integer() for x in a):
        return tuple(int(x) for x in a)
    return _as_engine_arg(a)


# The argument that holds indices: a list literal of integers there is an integer tensor
# (`embedding(T, [2, 0])`, `cross_entropy(logits, [0, 2])`); a list of floats stays float16.
_INDEX_ARG = {"embedding": 1, "index_select": 2, "gather": 2, "cross_entropy": 1, "nll_loss": 1, "one_hot": 0,
              "bincount": 0}


def _integers(v) -> bool:
    if isinstance(v, list):
        return bool(v) and all(_integers(x) for x in v)
    return isinstance(v, int) and not isinstance(v, bool)

# Built-ins whose first argument is a sequence of tensors: `concat([a, [4]])` joins a list (a
# tensor) and a list literal, whatever their lengths, rather than stacking them as one literal.
_TAKES_TENSORS = {"cat", "concat", "stack"}

_NEEDS_TENSOR = catalog.ELEMENTWISE | {"softmax", "log_softmax", "sum", "mean", "amax", "amin",
                                       "argmax", "argmin", "var", "std", "prod", "logsumexp", "norm"}


def _as_engine_arg(a):
    """Lists of numbers become tensors; lists holding tensors stay sequences (for cat, stack)."""
    if isinstance(a, list):
        if any(is_tensor(x) or isinstance(x, Labelled) for x in a):
            return [x.t if isinstance(x, Labelled) else x for x in a]
        return as_tensor(a)
    return a


_PAIRWISE = {"max": "maximum", "min": "minimum"}


def _labelled_call(ev, node, args, kwargs, fr, name=None):
    name = name or getattr(node, "builtin", None) or node.name
    if name in catalog.NORMALISING:
        x = args[0]
        if not isinstance(x, Labelled):
            raise ev.error(f"{name} takes one indexed tensor", node.span)
        axis = _norm_axis(ev, node, x, fr)
        dim = x.labels.index(axis)
        if name == "lnorm":
            return Labelled(lnorm(x.t, dim), x.labels)
        f = tl.softmax if name == "softmax" else tl.log_softmax
        return Labelled(f(x.t, dim), x.labels)
    if name not in catalog.ELEMENTWISE:
        raise ev.error(f"'{name}' cannot take an indexed tensor; index notation takes elementwise "
                       f"functions ({', '.join(sorted(catalog.ELEMENTWISE))}) and "
                       f"softmax/log_softmax/lnorm", node.name_span)
    f = _LANG_ELEMENTWISE.get(name) or _engine(name)
    if name == "sig" and len(args) == 2:
        if isinstance(args[1], Labelled):
            raise ev.error("the temperature of sig must be a single number", node.args[1].span)
        return Labelled(sig(args[0].t, args[1]), args[0].labels)
    tensors = [a for a in args if isinstance(a, Labelled)]
    if len(tensors) == 1:
        x = tensors[0]
        call_args = [x.t if a is x else a for a in args]
        return Labelled(f(*call_args, **kwargs), x.labels)
    laid, union = broadcast_all(tensors)      # `where(C[i] > 0, A[i, j], B[j])`: three of them
    by_id = {id(x): t for x, t in zip(tensors, laid)}
    call_args = [by_id.get(id(x), x) for x in args]
    return Labelled(f(*call_args, **kwargs), union)


def _norm_axis(ev, node, x, fr):
    marked = fr.plan.marked if fr.plan is not None else None
    if marked is not None:
        if marked not in x.labels:
            raise ev.error(f"the marked axis '{marked}' is not an index of {node.name}'s argument",
                           node.span)
        return marked
    lhs_vars = fr.plan.lhs_vars if fr.plan is not None else ()
    lhs = [l for l in lhs_vars if l in x.labels]
    summed = [l for l in x.labels if l not in lhs_vars]
    if lhs and summed:
        # `lnorm(X[n, i]) W[i, j]`: the left side cannot mark i, and its last index n would
        # normalise across the batch, not along the features that i names.
        raise ev.error(f"{node.name}'s argument carries '{summed[-1]}', which the left side sums, so "
                       f"no mark can name its axis: normalise in an equation of its own "
                       f"(A[{', '.join(x.labels)}.] = {node.name}(...)) and read A", node.span)
    if lhs:
        return lhs[-1]
    if len(x.labels) == 1:
        return x.labels[0]
    raise ev.error(f"{node.name} needs a normalised axis: mark it on the left side, like Y[i, j.]",
                   node.span)


# ---- the language's own built-ins ---------------------------------------------------------------
def _print(ev, node, args, kwargs, fr):
    sep = kwargs.pop("sep", " ")
    end = kwargs.pop("end", "\n")
    sys.stdout.write(sep.join(show(a) for a in args) + end)
    return None


def _assert(ev, node, args, kwargs, fr):
    if not truth(args[0], node.args[0].span, ev):
        raise _failed(ev, node, "assertion failed" + (f": {args[1]}" if len(args) > 1 else ""))
    return None


def _assert_eq(ev, node, args, kwargs, fr):
    """`assert_eq(a, b)`: equal within f16 rounding (strings and booleans exactly)."""
    a, b = (_plain(ev, node, v) for v in args[:2])
    if isinstance(a, str) or isinstance(b, str):
        same = a == b
    else:
        try:
            x, y = (np.reshape(as_tensor(v).float().numpy(), -1) for v in (a, b))
        except TypeError:
            same = a == b
        else:
            same = x.shape == y.shape and bool(np.allclose(x, y, rtol=2e-3, atol=2e-3))
    if not same:
        raise _failed(ev, node, f"assertion failed: {show(a)} != {show(b)}" +
                      (f": {args[2]}" if len(args) > 2 else ""))
    return None


def _panic(ev, node, args, kwargs, fr):
    """`panic(message)`: stops the program with a located TensorLogicRuntimeError."""
    raise ev.rt.budget.error("panic" + (f": {' '.join(show(a) for a in args)}" if args else ""),
                             node.span)


def _failed(ev, node, message):
    file = node.span.file or ev.model.filename
    err = AssertionError(format_diagnostic(message, file, node.span, ev.model.sources.get(file)))
    err.lineno, err.offset = node.span.line, node.span.column
    return err


def _plain(ev, node, v):
    if isinstance(v, Labelled):
        return plain(v)
    return v


def _shape(ev, node, args, kwargs, fr):
    v = _plain(ev, node, args[0])
    if is_tensor(v):
        return tuple(v.shape)
    if isinstance(v, (list, tuple)):
        return tuple(np.shape(v))
    return ()


def _rank(ev, node, args, kwargs, fr):
    """The seed's `rank(x)`: the number of axes (0 for a scalar)."""
    return len(_shape(ev, node, args, kwargs, fr))


def _len(ev, node, args, kwargs, fr):
    v = _plain(ev, node, args[0])
    if is_tensor(v):
        if v.ndim == 0:
            raise ev.error("len of a scalar", node.span)
        return v.shape[0]
    try:
        return _py.len(v)
    except TypeError:
        raise ev.error(f"len of {type(v).__name__}", node.span) from None


def _range(ev, node, args, kwargs, fr):
    try:
        values = [scalar(a) for a in args]
        bad = next((v for v in values if isinstance(v, float) and not v.is_integer()), None)
        if bad is not None:         # int() would cut 2.5 to 2 silently
            raise ValueError(f"takes integers, not {bad:g}")
        return _py.range(*[int(v) for v in values])
    except (TypeError, ValueError) as err:
        raise ev.error(f"range: {err}", node.span) from None


def _convert(kind):
    def f(ev, node, args, kwargs, fr):
        v = _plain(ev, node, args[0])
        if is_tensor(v):
            if v.numel() != 1:
                raise ev.error(f"{kind.__name__}() of a tensor of shape {list(v.shape)}", node.span)
            v = v.item()
        try:
            return kind(v)
        except (TypeError, ValueError) as err:
            raise ev.error(f"{kind.__name__}(): {err}", node.span) from None
    return f


def _item_of(ev, node, args, kwargs, fr):
    v = _plain(ev, node, args[0])
    return v.item() if is_tensor(v) else v


def _tolist(ev, node, args, kwargs, fr):
    v = _plain(ev, node, args[0])
    return v.tolist() if is_tensor(v) else list(v)


def _lnorm_plain(ev, node, args, kwargs, fr):
    if isinstance(args[0], Labelled):
        return _labelled_call(ev, node, args, kwargs, fr)
    x = args[0] if is_tensor(args[0]) else tl.tensor(args[0], dtype=tl.float16)
    return lnorm(x, kwargs.get("dim", -1))


def _sig_plain(ev, node, args, kwargs, fr):
    if any(isinstance(a, Labelled) for a in args):
        return _labelled_call(ev, node, args, kwargs, fr)
    x = args[0] if is_tensor(args[0]) else tl.tensor(args[0], dtype=tl.float16)
    return sig(x, args[1] if len(args) > 1 else None)


def _einsum(ev, node, args, kwargs, fr):
    with _engine_errors(ev, "einsum", node, args):
        return tl.einsum(args[0], *[_as_engine_arg(a) for a in args[1:]])


_SPECIAL = {
    "print": _print, "assert": _assert, "assert_eq": _assert_eq, "panic": _panic, "shape": _shape, "rank": _rank,
    "len": _len, "range": _range,
    "float": _convert(float), "int": _convert(int), "str": _convert(str), "bool": _convert(bool),
    "item": _item_of, "tolist": _tolist, "lnorm": _lnorm_plain, "sig": _sig_plain,
    "einsum": _einsum,
}
