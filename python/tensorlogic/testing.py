"""tl.testing: torch.testing's assert_close and make_tensor.

assert_close compares tensors (real and complex), numpy arrays, numbers, and sequences and mappings of them, with
PyTorch's default tolerances per dtype (float16 and complex32: rtol 1e-3, atol 1e-5; numpy's float32 and float64 and
Python floats as PyTorch's float32 and float64; integers and bools exactly) and PyTorch's messages: the number of
mismatched elements and the greatest absolute and relative differences, with where they are. Values are compared
in float64 (complex128) on the host."""
import collections.abc
import math
import numbers

import numpy as np

from .complex_tensors import ComplexTensor, rand
from .dtypes import as_dtype, complex_dtype
from .ops.elementwise import where
from .ops.random import randint
from .ops.shape import stack
from .tensor import Tensor

__all__ = ["assert_close", "make_tensor"]

# (rtol, atol) by dtype name, PyTorch's table (float16 for every float tensor here: SPEC §1); others compare exactly
_TOLERANCES = {"float16": (1e-3, 1e-5), "complex32": (1e-3, 1e-5), "float32": (1.3e-6, 1e-5),
               "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7)}


def _number_dtype(value):
    """The dtype a Python or numpy number stands for, as PyTorch takes them (bool, int64, float64, complex128)."""
    if isinstance(value, (bool, np.bool_)):
        return "bool", np.int64
    if isinstance(value, numbers.Integral):
        return "int64", np.int64
    if isinstance(value, numbers.Real):
        return "float64", np.float64
    return "complex128", np.complex128


class _Leaf:
    """One compared value: its kind (tensor, array or number), host values (float64, complex128 or int64), dtype
    name, device, strides and shape."""

    def __init__(self, value):
        self.device = self.strides = None
        if isinstance(value, ComplexTensor):
            self.kind, self.dtype, self.device = "tensor", "complex32", value.device
            self.values, self.strides = value.numpy().astype(np.complex128), value._ri.stride()[:-1]
        elif isinstance(value, Tensor):
            self.kind, self.dtype, self.device, self.strides = "tensor", value.dtype.name, value.device, value.stride()
            self.values = value.detach().numpy().astype(np.float64 if value.is_floating_point() else np.int64)
        elif isinstance(value, np.ndarray):
            self.kind, self.dtype = "array", value.dtype.name
            self.values = value.astype({"c": np.complex128, "f": np.float64}.get(value.dtype.kind, np.int64))
        else:
            self.kind = "number"
            self.dtype, host = _number_dtype(value)
            self.values = np.asarray(value, dtype=host)
        self.shape = tuple(self.values.shape)
        self.scalar = self.kind == "number" or not self.shape


def _is_leaf(value):
    return isinstance(value, (Tensor, ComplexTensor, np.ndarray)) or \
        (isinstance(value, numbers.Number) and not isinstance(value, np.ndarray))


def _is_sequence(value):
    return isinstance(value, collections.abc.Sequence) and not isinstance(value, (str, bytes))


def _fail(message, path, msg):
    if path:
        message += "\n\nThe failure occurred for item " + "".join(f"[{p!r}]" for p in path)
    if msg is not None:
        message = msg(message) if callable(msg) else msg
    raise AssertionError(message)


def _attribute(name, a, e, path, msg):
    _fail(f"The values for attribute '{name}' do not match: {a} != {e}.", path, msg)


def _compare(actual, expected, path, options):
    if _is_leaf(actual) and _is_leaf(expected):
        return _compare_leaves(actual, expected, path, options)
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            _fail(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}", path, options["msg"])
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, path + [i], options)
        return
    if isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
        missing, extra = [k for k in expected if k not in actual], [k for k in actual if k not in expected]
        if missing or extra:
            _fail(f"The keys of the mappings do not match:\nMissing keys in the actual mapping: "
                  f"{sorted(missing, key=str)}\nAdditional keys in the actual mapping: {sorted(extra, key=str)}", path,
                  options["msg"])
        for k in expected:
            _compare(actual[k], expected[k], path + [k], options)
        return
    raise TypeError(f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}.")


def _compare_leaves(actual, expected, path, options):
    a, e = _Leaf(actual), _Leaf(expected)
    msg = options["msg"]
    if (a.kind == "number") != (e.kind == "number") or {a.kind, e.kind} == {"tensor", "array"}:
        raise TypeError(f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}.")
    if not options["allow_subclasses"] and type(actual) is not type(expected) and a.kind != "number":
        _fail(f"Except for Python scalars, the input types must be the same, but got {type(actual)} and "
              f"{type(expected)}.", path, msg)
    if a.shape != e.shape:
        _attribute("shape", a.shape, e.shape, path, msg)
    if options["check_device"] and a.device != e.device:
        _attribute("device", a.device, e.device, path, msg)
    if options["check_dtype"] and a.dtype != e.dtype:
        _attribute("dtype", a.dtype, e.dtype, path, msg)
    if options["check_stride"] and a.values.size and a.strides is not None and a.strides != e.strides:
        _attribute("stride()", a.strides, e.strides, path, msg)
    rtol, atol = options["rtol"], options["atol"]
    if rtol is None:
        rtol, atol = (max(x) for x in zip(_TOLERANCES.get(a.dtype, (0.0, 0.0)), _TOLERANCES.get(e.dtype, (0.0, 0.0))))
    _compare_values(a, e, rtol, atol, options["equal_nan"], path, msg)


def _compare_values(a, e, rtol, atol, equal_nan, path, msg):
    x, y = a.values, e.values
    exact = x.dtype.kind in "iub" and y.dtype.kind in "iub"
    if exact:
        diff = np.abs(x - y).astype(np.int64)
        close = diff == 0 if rtol == 0 and atol == 0 else diff <= atol + rtol * np.abs(y)
    else:
        with np.errstate(invalid="ignore", over="ignore"):
            diff = np.abs(x - y)
            close = (x == y) | (diff <= atol + rtol * np.abs(y))  # equal infinities are close
        if equal_nan:
            close |= np.isnan(x) & np.isnan(y)
    if close.all():
        return
    equality = rtol == 0 and atol == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = diff / np.abs(y)
    kind = "Scalars" if a.scalar and e.scalar else "Tensor-likes"
    lines = [f"{kind} are not {'equal' if equality else 'close'}!", ""]
    if kind == "Scalars":
        lines.append(f"Expected {_item(y)} but got {_item(x)}.")
        lines.append(_difference("Absolute difference", _item(diff), None, atol, equality))
        lines.append(_difference("Relative difference", _item(relative), None, rtol, equality))
    else:
        mismatched, total = int((~close).sum()), close.size
        lines.append(f"Mismatched elements: {mismatched} / {total} ({mismatched / total:.1%})")
        for name, values, tol in (("absolute", diff, atol), ("relative", relative, rtol)):
            only = np.where(close, 0, values).reshape(-1)  # the greatest among the mismatched (a NaN wins)
            k = int(np.argmax(only))
            index = tuple(int(i) for i in np.unravel_index(k, close.shape))
            lines.append(_difference(f"Greatest {name} difference", _item(only[k]), index, tol, equality))
    _fail("\n".join(lines), path, msg)


def _item(values):
    value = np.asarray(values).reshape(-1)[0].item()
    return value


def _difference(what, value, index, tol, equality):
    text = f"{what}: {value}" + ("" if index is None else f" at index {index}")
    return text if equality else text + f" (up to {tol} allowed)"


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Asserts that actual and expected are close: |actual - expected| <= atol + rtol |expected| elementwise
    (equal infinities close, NaNs only with equal_nan), same shapes, devices (check_device) and dtypes
    (check_dtype; without it the looser dtype's tolerances apply), as torch.testing.assert_close. rtol and atol
    are given together or not at all (PyTorch's defaults per dtype). msg replaces the message, or a callable
    makes it from the generated one. Raises AssertionError with PyTorch's messages."""
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                         f"{'rtol' if rtol is None else 'atol'}.")
    options = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
                   check_device=check_device, check_dtype=check_dtype, check_stride=check_stride, msg=msg)
    _compare(actual, expected, [], options)


# ---- make_tensor -----------------------------------------------------------------------------------------
_F16_MAX = 65504.0
_F16_TINY = 2.0 ** -14  # the smallest normal float16 (PyTorch's finfo.tiny), what exclude_zero puts for 0


def _bounds(low, high, default_low, default_high, lowest, highest, name):
    low = default_low if low is None else low
    high = default_high if high is None else high
    for v, what in ((low, "low"), (high, "high")):
        if isinstance(v, float) and math.isnan(v):
            raise ValueError(f"make_tensor: `{what}` cannot be NaN, but got {what}={v}")
    if low > high:
        raise ValueError(f"make_tensor: `low` must be less than or equal to `high`, but got {low} > {high}")
    return max(low, lowest), min(high, highest)


def make_tensor(*shape, dtype, device=None, low=None, high=None, requires_grad=False, noncontiguous=False,
                exclude_zero=False, memory_format=None):
    """A tensor of `shape` filled with values uniform on [low, high) from the global stream (tl.manual_seed makes
    it repeatable), as torch.testing.make_tensor: defaults [-9, 9) for floats and complex parts, [-9, 10) for
    integers, {False, True} for bool; bounds clamped to the dtype's finite range. exclude_zero replaces zeros by
    the smallest normal float16 (1 for integers and bools); noncontiguous gives a strided view of the same values."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    is_complex = complex_dtype(dtype) is not None
    kind = "complex" if is_complex else as_dtype(dtype).name
    if requires_grad and kind not in ("float16", "complex"):
        raise ValueError(f"make_tensor: requires_grad must be False for the integral dtype {dtype}")
    if kind in ("float16", "complex"):
        lo, hi = _bounds(low, high, -9.0, 9.0, -_F16_MAX, _F16_MAX, "make_tensor")
        values = rand(shape + ((2,) if is_complex else ()), device=device) * (hi - lo) + lo
        if exclude_zero:
            zero = (values == 0) if not is_complex else ((values == 0).sum(-1, keepdim=True) == 2)
            values = where(zero, _F16_TINY, values)
    else:
        limits = {"bool": (0, 2), "int32": (-2**31, 2**31), "int64": (-2**63, 2**63)}[kind]
        lo, hi = _bounds(low, high, 0 if kind == "bool" else -9, 2 if kind == "bool" else 10, *limits, "make_tensor")
        lo, hi = math.ceil(lo), math.ceil(hi)
        values = randint(lo, max(hi, lo + 1), shape, device=device)
        if exclude_zero:
            values = values + (values == 0).long()
        values = values.to(as_dtype(dtype))
    if noncontiguous and len(shape) and values.numel() > (2 if is_complex else 1):
        # each element twice along the last dimension, then every other one: the same values at stride 2
        d = values.ndim - (2 if is_complex else 1)
        values = stack([values, values], d + 1).flatten(d, d + 1)[(slice(None),) * d + (slice(None, None, 2),)]
    if is_complex:
        values = ComplexTensor(values)
    return values.requires_grad_() if requires_grad else values
