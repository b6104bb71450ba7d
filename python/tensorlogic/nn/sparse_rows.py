"""The rows of a sparse=True embedding's gradient. TensorLogic has no sparse tensors: such a lookup's weight gradient
is dense (the same values), and its backward records here which rows the lookup named, the rows of PyTorch's
sparse gradient, for optim.SparseAdam, which updates those rows alone (rows looked up whose gradient is zero
included, as PyTorch's)."""
import weakref

import numpy as np

from ..autograd.function import Function

# id(weight) -> (a weak reference to weight, the bool mask of its rows recorded since clear_rows(weight)). Keyed by
# id: a WeakKeyDictionary compares its keys with ==, which is elementwise on tensors.
_ROWS = {}


class _RecordRows(Function):
    """The identity on a lookup's output; its backward records the looked-up rows of `weight`."""

    @staticmethod
    def forward(ctx, out, *, weight, indices):
        ctx.weight, ctx.indices = weight, indices
        return out.view_as(out)

    @staticmethod
    def backward(ctx, g):
        weight, key = ctx.weight, id(ctx.weight)
        entry = _ROWS.get(key)
        if entry is None or entry[0]() is not weight or entry[1].shape[0] != weight.shape[0]:
            entry = _ROWS[key] = (weakref.ref(weight, lambda _: _ROWS.pop(key, None)),
                                  np.zeros(weight.shape[0], bool))
        entry[1][np.asarray(ctx.indices.cpu().numpy(), np.int64).reshape(-1)] = True
        return g


def recorded(out, weight, indices):
    """out, whose backward will record the rows of weight that indices name (out itself where nothing records)."""
    return _RecordRows.apply(out, weight=weight, indices=indices) if out.requires_grad and weight.requires_grad \
        else out


def rows_of(weight):
    """The bool mask of weight's rows recorded since clear_rows(weight) (None: weight's gradient came from no sparse
    lookup, so it is dense)."""
    entry = _ROWS.get(id(weight))
    return entry[1] if entry is not None and entry[0]() is weight else None


def clear_rows(weight):
    """Forgets weight's recorded rows (an optimizer step has used them)."""
    if rows_of(weight) is not None:
        del _ROWS[id(weight)]
