"""torch.linalg's chained and tensor-shaped products: multi_dot (in the cheapest order), vander (batched), and the
tensor forms of inversion and solving, tensorinv and tensorsolve (reshapes around inv and solve, so their
gradients and LinAlgError)."""
import math
import numbers

from ..ops.arrange import increasing_powers
from ..ops.linalg import matmul
from ..ops.shape import _checked_dim
from ..tensor import Tensor
from .lu_family import inv, solve


def multi_dot(tensors):
    """The product of two or more matrices, as torch.linalg.multi_dot: the first may be a 1-d row vector and the last
    a 1-d column vector (their dimension then leaves the result). The order of the products is the one of fewest
    multiplications (the matrix-chain order), each product accumulated in f32 and rounded once."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"multi_dot(): tensor {i} must be a Tensor, not {type(t).__name__}")
        if t.dtype != tensors[0].dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have the same dtype but tensor 0 is "
                               f"{tensors[0].dtype.name} and tensor {i} {t.dtype.name}")
        edge = "first" if i == 0 else "last" if i == len(tensors) - 1 else None
        if (t.ndim not in (1, 2)) if edge else t.ndim != 2:
            raise RuntimeError(f"multi_dot(): the {edge} tensor must be 1D or 2D but got {t.ndim}D" if edge else
                               f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    row, col = tensors[0].ndim == 1, tensors[-1].ndim == 1
    mats = [tensors[0].unsqueeze(0) if row else tensors[0]] + tensors[1:-1] + \
        [tensors[-1].unsqueeze(1) if col else tensors[-1]]
    for i, (a, b) in enumerate(zip(mats, mats[1:])):
        if a.shape[1] != b.shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(tensors[i].shape)} and "
                               f"{list(tensors[i + 1].shape)} cannot be multiplied")
    out = _chain(mats, _chain_order(mats), 0, len(mats) - 1)
    if row:
        out = out.squeeze(0)
    return out.squeeze(-1) if col else out


def _chain_order(mats):
    """split[i][j]: where the cheapest product of mats[i..j] splits (the textbook O(n^3) dynamic programme)."""
    n = len(mats)
    dims = [m.shape[0] for m in mats] + [mats[-1].shape[1]]
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain(mats, split, i, j):
    if i == j:
        return mats[i]
    k = split[i][j]
    return matmul(_chain(mats, split, i, k), _chain(mats, split, k + 1, j))


def vander(x, *, N=None):  # noqa: N803 (PyTorch's argument name)
    """[..., n, N]: the powers x ** 0, ..., x ** (N - 1) of each element of x [..., n] (N = n by default), as
    torch.linalg.vander (increasing powers, batched; tl.vander is numpy's order). Integer x gives int64."""
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg.vander(): argument 'x' must be Tensor, not {type(x).__name__}")
    if x.dtype.name == "bool":
        raise RuntimeError("linalg.vander supports floating point, complex, and integer tensors, but got Bool")
    n = (x.shape[-1] if x.ndim else 0) if N is None else N
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"linalg.vander(): argument 'N' must be int, not {type(N).__name__}")
    if n <= 1 or x.ndim == 0:
        raise RuntimeError("N must be greater than 1.")
    return increasing_powers(x, int(n))


def tensorinv(A, ind=2):
    """The tensor X with tensordot(X, A, ind) the identity, as torch.linalg.tensorinv: A's first `ind` dimensions
    against the rest, as a square matrix, inverted (inv: LinAlgError when singular) and shaped
    A.shape[ind:] + A.shape[:ind]."""
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.tensorinv(): argument 'A' must be Tensor, not {type(A).__name__}")
    if isinstance(ind, bool) or not isinstance(ind, numbers.Integral) or ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = math.prod(A.shape[:ind]), math.prod(A.shape[ind:])
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    return inv(A.reshape(rows, cols)).reshape(tuple(A.shape[ind:]) + tuple(A.shape[:ind]))


def tensorsolve(A, B, dims=None):
    """The tensor X with tensordot(A, X, X.ndim) == B, as torch.linalg.tensorsolve: A (its `dims` moved to the end
    first) reshaped to a square matrix of B's numel columns, solved (solve: LinAlgError when singular), and shaped
    A.shape[B.ndim:]."""
    if not isinstance(A, Tensor) or not isinstance(B, Tensor):
        raise TypeError("linalg.tensorsolve(): A and B must be Tensors")
    if dims is not None:
        dims = [dims] if isinstance(dims, numbers.Integral) else list(dims)
        if not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) for d in dims):
            raise TypeError(f"linalg.tensorsolve(): dims must be ints, got {dims!r:.80}")
        dims = [_checked_dim(d, A.ndim) for d in dims]
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"linalg.tensorsolve(): dims {dims} names a dimension twice")
        A = A.permute([d for d in range(A.ndim) if d not in dims] + dims)
    cols = math.prod(A.shape[B.ndim:])
    if cols != B.numel():
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
                           f"prod(self.shape[:other.ndim]), but got {cols} != {B.numel()}")
    if A.numel() != cols * cols:
        raise RuntimeError(f"linalg.tensorsolve: A of shape {list(A.shape)} does not reshape to a square "
                           f"{cols} x {cols} matrix")
    return solve(A.reshape(cols, cols), B.reshape(cols)).reshape(A.shape[B.ndim:])
