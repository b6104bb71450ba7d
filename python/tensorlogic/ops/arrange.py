"""Arranging tensors with PyTorch's names, composed of views, cat, flip and where (so they have those ops'
gradients): atleast_1d atleast_2d atleast_3d rot90 diag_embed diagflat block_diag cartesian_prod combinations
vander hsplit vsplit dsplit unravel_index logspace, and the Tensor methods sum_to_size tril_ triu_ fill_diagonal_
cumsum_ cumprod_ is_complex is_nonzero."""
import math
import numbers

import numpy as np

from ..autograd.broadcast import sum_to
from ..creation import arange, linspace, tensor, zeros
from ..errors import ShapeMismatchError
from ..tensor import Tensor, tensor_method
from .elementwise import _written_back, copy_, where
from .linalg import tril, triu
from .ordering import cumprod, cumsum, flip
from .composite import tensor_split
from .shape import cat, stack


def _each(tensors, fn):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(fn(t) for t in tensors[0])
    return fn(tensors[0]) if len(tensors) == 1 else tuple(fn(t) for t in tensors)


def atleast_1d(*tensors):
    """Each tensor with at least 1 dim (a 0-d one becomes [1]); one tensor in, one out."""
    return _each(tensors, lambda t: t.reshape(1) if t.ndim == 0 else t)


def atleast_2d(*tensors):
    """Each tensor with at least 2 dims (leading 1s added)."""
    return _each(tensors, lambda t: t.reshape((1,) * (2 - t.ndim) + tuple(t.shape)) if t.ndim < 2 else t)


def atleast_3d(*tensors):
    """Each tensor with at least 3 dims: 0-d -> [1, 1, 1], [n] -> [1, n, 1], [m, n] -> [m, n, 1]."""
    def lift(t):
        if t.ndim == 0:
            return t.reshape(1, 1, 1)
        if t.ndim == 1:
            return t.reshape(1, t.shape[0], 1)
        return t.unsqueeze(-1) if t.ndim == 2 else t
    return _each(tensors, lift)


@tensor_method()
def rot90(input, k=1, dims=(0, 1)):
    """input rotated by 90 degrees k times in the plane of dims (from the first toward the second)."""
    if len(dims) != 2 or input.ndim < 2:
        raise ValueError(f"rot90: expected 2 dims of a tensor of at least 2 dims, got dims {dims} of {list(input.shape)}")
    d0, d1 = dims[0] % input.ndim, dims[1] % input.ndim
    if d0 == d1:
        raise ValueError(f"rot90: the two dims must differ, got {dims}")
    k %= 4
    if k == 1:
        return flip(input, d1).transpose(d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return flip(input, d0).transpose(d0, d1)
    return input * 1


@tensor_method()
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices whose (offset) diagonals are input's last dim, placed in dims dim1 and dim2 of the result."""
    k = abs(offset)
    n = input.shape[-1] + k
    # the result first: an impossible size is a MemoryError before any helper is made (as diag)
    base = zeros(tuple(input.shape[:-1]) + (n, n), dtype=input.dtype, device=input.device)
    if k:  # padded so that row r of the matrix reads rows[r] (input[r] above the diagonal, input[r - k] below)
        pad = zeros(tuple(input.shape[:-1]) + (k,), dtype=input.dtype, device=input.device)
        rows = cat([input, pad] if offset > 0 else [pad, input], -1)
    else:
        rows = input
    i = arange(n, device=input.device)
    on = (i.unsqueeze(1) + offset) == i.unsqueeze(0)  # [n, n]: c - r == offset
    out = where(on, rows.unsqueeze(-1), base)
    ndim = out.ndim
    return out.movedim((ndim - 2, ndim - 1), (dim1 % ndim, dim2 % ndim))


@tensor_method()
def diagflat(input, offset=0):
    """A square matrix with input's flattened elements on its (offset) diagonal."""
    return diag_embed(input.reshape(-1), offset)


def block_diag(*tensors):
    """The tensors (0-d, 1-d or 2-d) as the blocks of a block-diagonal matrix, zeros elsewhere."""
    blocks = [t.reshape(1, 1) if t.ndim == 0 else t.reshape(1, -1) if t.ndim == 1 else t for t in tensors]
    if any(b.ndim != 2 for b in blocks):
        raise ShapeMismatchError("block_diag: inputs must have 2 or fewer dims")
    if not blocks:
        return zeros((1, 0))
    cols = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        pieces = [zeros((b.shape[0], left), device=b.device), b, zeros((b.shape[0], cols - left - b.shape[1]),
                                                                         device=b.device)]
        rows.append(cat([p for p in pieces if p.shape[1] or p is b], 1))
        left += b.shape[1]
    return cat(rows, 0)


def cartesian_prod(*tensors):
    """Every combination of one element of each 1-d tensor, as rows [n1 * n2 * ..., k] (a 1-d tensor for one)."""
    if len(tensors) == 1:
        return tensors[0]
    sizes = [t.shape[0] for t in tensors]
    columns = []
    for i, t in enumerate(tensors):
        shape = [1] * len(tensors)
        shape[i] = sizes[i]
        columns.append(t.reshape(shape).expand(sizes).reshape(-1))
    return stack(columns, 1)


def combinations(input, r=2, with_replacement=False):
    """The r-element combinations of a 1-d tensor's elements, as rows [n choose r, r] in itertools' order (with
    with_replacement, itertools.combinations_with_replacement's); r = 0 gives an empty 1-d tensor. The rows are
    picked by index, so gradients flow back to the elements."""
    if not isinstance(input, Tensor):
        raise TypeError(f"combinations: expected a tensor, got {type(input).__name__}")
    if input.ndim != 1:
        raise ShapeMismatchError(f"combinations: expected a 1-d tensor, got shape {list(input.shape)}")
    if isinstance(r, bool) or not isinstance(r, numbers.Integral) or r < 0:
        raise ValueError(f"combinations: r must be a non-negative int, got {r!r}")
    if r == 0:
        return input[:0]
    n, r = input.shape[0], int(r)
    # With replacement, a_0 <= a_1 <= ... from range(n) are c_j = a_j + j, strictly increasing in range(n + r - 1)
    # (an order-keeping bijection), so one generator serves both.
    pool = n + r - 1 if with_replacement else n
    count = math.comb(pool, r)
    if count * max(r, pool - r + 1) > _MAX_INDEX_ELEMENTS:
        raise MemoryError(f"combinations: {count} combinations of {r} elements exceed the addressable memory")
    rows = _subsets(pool, r) if count else np.zeros((0, r), dtype=np.int64)
    if with_replacement:
        rows -= np.arange(r, dtype=np.int64)
    return input[tensor(rows, device=input.device)]


# int64 index elements beyond any host's memory (2^48: 2 PiB): a MemoryError naming the op before numpy is asked
_MAX_INDEX_ELEMENTS = 2**48


def _subsets(n, r):
    """The r-element subsets of range(n) as rows [comb(n, r), r] in lexicographic order (itertools.combinations'),
    built a column at a time by numpy: a list of itertools' tuples took minutes for 1024 choose 3. Past n / 2 the
    subsets are the complements of the (n - r)-element ones, so the prefixes built on the way never outnumber the
    subsets of the larger size."""
    s = min(r, n - r)
    lasts, parents = [np.arange(n, dtype=np.int64)], []  # per length k: each prefix's last element, its parent
    for _ in range(1, s):
        last = lasts[-1]
        counts = n - 1 - last  # a prefix ending in v goes on with v + 1, ..., n - 1
        parent = np.repeat(np.arange(last.size, dtype=np.int64), counts)
        ends = np.cumsum(counts)
        lasts.append(np.repeat(last + 1, counts) + np.arange(parent.size, dtype=np.int64) - np.repeat(ends - counts,
                                                                                                       counts))
        parents.append(parent)
    m = lasts[-1].size if s else 1
    rows = np.empty((m, s), dtype=np.int64)
    pick = np.arange(m, dtype=np.int64)
    for j in range(s - 1, -1, -1):
        rows[:, j] = lasts[j][pick]
        if j:
            pick = parents[j - 1][pick]
    if s == r:
        return rows
    kept = np.ones((m, n), dtype=bool)
    kept[np.arange(m)[:, None], rows] = False
    rows = np.nonzero(kept)[1].reshape(m, r)
    return rows[np.lexsort(rows.T[::-1])]


def vander(x, N=None, increasing=False):  # noqa: N803 (PyTorch's argument name)
    """The Vandermonde matrix of a 1-d tensor: column j is x ** (N - 1 - j) (x ** j with increasing), N columns
    (len(x) by default). Integer and bool inputs give int64 (exact, wrapping as int64 does); products come from
    a cumulative product, so gradients flow."""
    if not isinstance(x, Tensor):
        raise TypeError(f"vander: x must be a tensor, got {type(x).__name__}")
    if x.ndim != 1:
        raise ShapeMismatchError(f"vander: x must be a 1-d tensor, got shape {list(x.shape)}")
    n = x.shape[0] if N is None else N
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"vander: N must be a non-negative int, got {N!r}")
    powers = increasing_powers(x, int(n))
    return powers if increasing else powers.flip(1)


def increasing_powers(x, n):
    """[..., k, n]: x ** 0, ..., x ** (n - 1) for each element of x [..., k], from a cumulative product (so gradients
    flow); integer and bool x give int64 (exact, wrapping as int64 does)."""
    x = x if x.is_floating_point() else x.long()
    if n == 0:
        return x.new_zeros(tuple(x.shape) + (0,))
    ones = x.new_ones(tuple(x.shape) + (1,))
    return cat([ones, x.unsqueeze(-1).expand(tuple(x.shape) + (n - 1,))], -1).cumprod(-1)


def _split_along(input, indices_or_sections, dim, name, least):
    if input.ndim < least:
        raise ShapeMismatchError(f"{name}: expected a tensor of at least {least} dims, got {list(input.shape)}")
    if isinstance(indices_or_sections, numbers.Integral) and indices_or_sections <= 0:
        raise ValueError(f"{name}: the number of sections must be positive, got {indices_or_sections}")
    if isinstance(indices_or_sections, numbers.Integral) and input.shape[dim] % indices_or_sections:
        raise ValueError(f"{name}: dimension {dim} of size {input.shape[dim]} is not divisible into "
                         f"{indices_or_sections} equal sections")
    return tensor_split(input, indices_or_sections, dim)


@tensor_method()
def hsplit(input, indices_or_sections):
    """tensor_split along dim 1 (dim 0 of a 1-d tensor), into equal sections or at the given indices."""
    return _split_along(input, indices_or_sections, 0 if input.ndim == 1 else 1, "hsplit", 1)


@tensor_method()
def vsplit(input, indices_or_sections):
    """tensor_split along dim 0 of a tensor of at least 2 dims."""
    return _split_along(input, indices_or_sections, 0, "vsplit", 2)


@tensor_method()
def dsplit(input, indices_or_sections):
    """tensor_split along dim 2 of a tensor of at least 3 dims."""
    return _split_along(input, indices_or_sections, 2, "dsplit", 3)


def unravel_index(indices, shape):
    """The coordinates (one int64 tensor per dim of shape) of flat indices into a tensor of that shape."""
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    if any(isinstance(n, bool) or not isinstance(n, numbers.Integral) for n in shape):
        raise TypeError(f"unravel_index: expected 'shape' to hold only ints, got {shape}")
    if any(n < 0 for n in shape):
        raise ValueError(f"unravel_index: 'shape' cannot have negative values, but got {shape}")
    flat = indices if isinstance(indices, Tensor) else tensor(np.asarray(indices, np.int64))
    if flat.is_floating_point():
        raise TypeError(f"unravel_index: expected 'indices' to be an integer tensor, got {flat.dtype}")
    total = math.prod(int(n) for n in shape)  # Python's integers: numpy's product wrapped (2^32 x 2^32 gave 0)
    if total > np.iinfo(np.int64).max:
        # every int64 index lies in range; negative ones count from the end, which int64 cannot reach
        flat = flat.cpu().numpy().astype(object) % total
        coords = []
        for size in reversed(shape):
            coords.append(tensor(np.asarray(flat % size, dtype=np.int64), device=indices.device if isinstance(
                indices, Tensor) else None))
            flat = flat // size
        return tuple(reversed(coords))
    if bool(((flat < -total) | (flat >= total)).any()):
        raise IndexError(f"unravel_index: indices out of range for shape {list(shape)}")
    flat = flat.long() % total if total else flat.long()
    coords = []
    for size in reversed(shape):
        coords.append(flat % size)
        flat = flat // size
    return tuple(reversed(coords))


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    """base ** linspace(start, end, steps)."""
    out = base ** linspace(start, end, steps, device=device)
    if dtype is not None:
        out = out.to(dtype=dtype)
    return out.requires_grad_() if requires_grad else out


@tensor_method()
def sum_to_size(input, *size):
    """input summed over broadcast dims down to size (which input must expand from)."""
    size = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], numbers.Integral) else tuple(size)
    try:
        np.broadcast_shapes(size, tuple(input.shape))
    except ValueError:
        raise ShapeMismatchError(f"sum_to_size: size {list(size)} is not expandable to {list(input.shape)}") from None
    return sum_to(input, size)


for _fn in (tril, triu, cumsum, cumprod):
    _written_back(_fn, _fn.__name__ + "_")


@tensor_method()
def fill_diagonal_(input, fill_value, wrap=False):
    """In place: the main diagonal (i, i, ..., i) set to fill_value; for a tall matrix with wrap=True the
    diagonal restarts every columns + 1 rows, as in PyTorch. Returns input."""
    if input.ndim < 2 or (input.ndim > 2 and len(set(input.shape)) != 1):
        raise ShapeMismatchError(f"fill_diagonal_: expected a matrix or a tensor of equal dims, got {list(input.shape)}")
    if input.ndim == 2:
        rows, cols = input.shape
        r = arange(rows, device=input.device).unsqueeze(1)
        c = arange(cols, device=input.device).unsqueeze(0)
        on = ((r * cols + c) % (cols + 1) == 0) if wrap else (r == c)  # wrap: every (cols + 1)-th flat element
    else:
        idx = [arange(input.shape[0], device=input.device).reshape([-1 if j == d else 1 for j in range(input.ndim)])
               for d in range(input.ndim)]
        on = idx[0] == idx[1]
        for other in idx[2:]:
            on = on & (idx[0] == other)
    return copy_(input, where(on, float(fill_value), input))


@tensor_method()
def is_complex(input):
    """False: TensorLogic has no complex dtypes."""
    return False


@tensor_method()
def is_nonzero(input):
    """The truth of a one-element tensor (RuntimeError for any other number of elements, as in PyTorch)."""
    if input.numel() != 1:
        raise RuntimeError(f"is_nonzero: expected a tensor of one element, got {input.numel()} elements")
    return bool(input.reshape(()).item() != 0)


__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "rot90", "diag_embed", "diagflat", "block_diag", "cartesian_prod",
           "combinations", "vander",
           "hsplit", "vsplit", "dsplit", "unravel_index", "logspace", "is_complex", "is_nonzero"]
