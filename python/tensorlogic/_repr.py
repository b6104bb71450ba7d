"""repr(tensor) in PyTorch's style: `tensor([0.5000, 1.2500])`, `tensor([1., 2.])`, scientific notation when
magnitudes differ widely, summarised beyond 1000 elements, and dtype/device/grad notes at the end.
set_printoptions changes these as torch.set_printoptions does."""
import math
import sys

import numpy as np

_PROFILES = {"default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
             "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
             "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80}}
_OPTIONS = dict(_PROFILES["default"], sci_mode=None)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """torch.set_printoptions: digits after the point (precision), the element count beyond which a tensor is
    summarised (threshold) by edgeitems at each end, the line width, a profile ('default', 'short', 'full')
    setting all four, and sci_mode (True or False forces scientific notation on or off; None chooses)."""
    # Checked before anything is kept: a bad value stored here would break every later repr.
    if profile is not None and (not isinstance(profile, str) or profile not in _PROFILES):
        raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, got {profile!r}")
    given = {"precision": precision, "threshold": threshold, "edgeitems": edgeitems, "linewidth": linewidth}
    for name, value in given.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                isinstance(value, float) and not (name == "threshold" and value == math.inf)):
            kind = "an int (or math.inf)" if name == "threshold" else "an int"
            raise TypeError(f"set_printoptions: {name} must be {kind}, got {type(value).__name__}")
        if value < (1 if name == "linewidth" else 0):
            bound = "positive" if name == "linewidth" else "non-negative"
            raise ValueError(f"set_printoptions: {name} must be {bound}, got {value}")
    if sci_mode is not None and not isinstance(sci_mode, bool):
        raise TypeError(f"set_printoptions: sci_mode must be True, False or None, got {type(sci_mode).__name__}")
    if profile is not None:
        _OPTIONS.update(_PROFILES[profile])
    _OPTIONS.update({name: value for name, value in given.items() if value is not None}, sci_mode=sci_mode)


def get_printoptions():
    """The current print options, as torch.get_printoptions: a dict of set_printoptions' settings."""
    return dict(_OPTIONS)


def _float_formatter(values):
    finite = values[np.isfinite(values)].astype(np.float64)
    magnitudes = np.abs(finite[finite != 0])
    digits, sci_mode = _OPTIONS["precision"], _OPTIONS["sci_mode"]
    integral = finite.size and np.all(finite == np.round(finite))
    # PyTorch's rule: integral values too are scientific when they span more than 1000x (tensor([1.0000e+00,
    # 6.0000e+04])); only fractions look at the smallest magnitude
    wide = magnitudes.size and (magnitudes.max() / magnitudes.min() > 1000 or magnitudes.max() > 1e8
                                or (not integral and magnitudes.min() < 1e-4))
    if sci_mode or (sci_mode is None and wide):
        fmt = ("{:.%de}" % digits).format
    elif integral:
        fmt = "{:.0f}.".format
    else:
        fmt = ("{:.%df}" % digits).format

    def one(v):
        return fmt(v) if np.isfinite(v) else ("nan" if np.isnan(v) else ("inf" if v > 0 else "-inf"))

    # Like PyTorch, the column width follows the nonzero finite values (f16 has at most 65536 distinct ones): a -0.
    # does not widen the column
    width = max((len(fmt(v)) for v in np.unique(magnitudes * np.sign(finite[finite != 0]))), default=0)
    return lambda v: one(v).rjust(width)


def tensor_repr(t):
    data, notes = _host_data(t)
    if data.size == 0 and data.ndim != 1:
        notes.append(f"size={tuple(data.shape)}")
    if t.dtype.name not in ("float16", "int64", "bool"):  # PyTorch leaves out its default dtypes
        notes.append(f"dtype={t.dtype!r}")
    if t._a.device != "cpu":
        notes.append(f"device='{t._a.device}'")
    if t.grad_fn is not None:
        notes.append(f"grad_fn=<{t.grad_fn.class_name}>")
    elif t.requires_grad:
        notes.append("requires_grad=True")
    if data.size == 0:
        body = "[]"
    else:
        formatter = {"int": str} if data.dtype.kind in "ib" else {"float_kind": _float_formatter(data.astype(np.float32))}
        threshold = _OPTIONS["threshold"]
        if t.numel() > threshold:
            threshold = 0  # data holds only the summary's elements (see _host_data): numpy must still summarise
        body = np.array2string(data, separator=", ", prefix="tensor(", formatter=formatter,
                               threshold=sys.maxsize if threshold == math.inf else int(threshold),
                               edgeitems=_OPTIONS["edgeitems"], max_line_width=_OPTIONS["linewidth"])
    return "tensor(" + body + "".join(", " + n for n in notes) + ")"


def _host_data(t):
    """(numpy data, notes) to print: past numpy's 64 dims (only dims of size 1 or 0 can be that many), the data
    without its dims of size 1, the tensor's own size noted. A tensor to summarise gives only what the summary
    shows (_summary)."""
    if t.numel() == 0:  # (numpy cannot hold every empty shape: 2^62 x 0)
        return np.empty(0, t.dtype.numpy), [] if t.ndim == 1 else [f"size={tuple(t.shape)}"]
    notes = []
    if t.ndim > 64:
        t, notes = t.reshape([s for s in t.shape if s != 1]), [f"size={tuple(t.shape)}"]
    return (_summary(t) if t.numel() > _OPTIONS["threshold"] else t.numpy()), notes


def _summary(t):
    """The elements a summarised repr shows, gathered at once: along each dimension longer than 2 * edgeitems + 1,
    the first and last edgeitems with one more element between them (element 0 again, which numpy's summary
    replaces by '...'), so numpy prints the same text as for the whole tensor. The whole tensor went through the host
    first: repr of tl.zeros(1).expand(2**40) raised a MemoryError (4 TiB), and of an expansion past 2^63 bytes a
    ValueError."""
    e = _OPTIONS["edgeitems"]
    picks = [np.r_[0:e, 0, n - e:n] if n > 2 * e + 1 else np.arange(n) for n in t.shape]
    index = tuple(np.asarray(p, np.int64).reshape([-1 if d == k else 1 for k in range(t.ndim)])
                  for d, p in enumerate(picks))
    return t.detach()[index].numpy()
