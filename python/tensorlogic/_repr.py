"""repr(tensor) in PyTorch's style: `tensor([0.5000, 1.2500])`, `tensor([1., 2.])`, scientific notation when
magnitudes differ widely, summarised beyond 1000 elements, and dtype/device/grad notes at the end."""
import numpy as np

_THRESHOLD = 1000
_EDGE = 3


def _float_formatter(values):
    finite = values[np.isfinite(values)].astype(np.float64)
    magnitudes = np.abs(finite[finite != 0])
    if finite.size and np.all(finite == np.round(finite)) and (magnitudes.size == 0 or magnitudes.max() < 1e8):
        fmt = "{:.0f}.".format
    elif magnitudes.size and (magnitudes.max() / magnitudes.min() > 1000 or magnitudes.max() > 1e8 or magnitudes.min() < 1e-4):
        fmt = "{:.4e}".format
    else:
        fmt = "{:.4f}".format

    def one(v):
        return fmt(v) if np.isfinite(v) else ("nan" if np.isnan(v) else ("inf" if v > 0 else "-inf"))

    # Like PyTorch, the column width follows the finite values (f16 has at most 65536 distinct ones).
    width = max((len(fmt(v)) for v in np.unique(finite)), default=0)
    return lambda v: one(v).rjust(width)


def tensor_repr(t):
    data = t.numpy()
    notes = []
    if data.size == 0 and data.ndim != 1:
        notes.append(f"size={tuple(data.shape)}")
    if t.dtype.name not in ("float16", "int64", "bool"):  # PyTorch leaves out its default dtypes
        notes.append(f"dtype={t.dtype!r}")
    if t._a.device != "cpu":
        notes.append(f"device='{t._a.device}'")
    if t.grad_fn is not None:
        notes.append(f"grad_fn=<{type(t.grad_fn).__name__}>")
    elif t.requires_grad:
        notes.append("requires_grad=True")
    if data.size == 0:
        body = "[]"
    else:
        formatter = {"int": str} if data.dtype.kind in "ib" else {"float_kind": _float_formatter(data.astype(np.float32))}
        body = np.array2string(data, separator=", ", prefix="tensor(", formatter=formatter, threshold=_THRESHOLD,
                               edgeitems=_EDGE, max_line_width=80)
    return "tensor(" + body + "".join(", " + n for n in notes) + ")"
