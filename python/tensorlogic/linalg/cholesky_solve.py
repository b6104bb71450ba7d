"""torch.cholesky_solve and torch.cholesky_inverse: solves with A = L L^T (or U^T U) given its Cholesky factor, as
Gaussian-process and whitening code calls them. As the LU family's solves: float64 on the host from the exact f16
values (only the factor's triangle is read), each result rounded once to f16 on the input's device; gradients are
PyTorch's formulas written with tensor ops (cholesky_solve itself among them, so they differentiate again)."""
import numpy as np

from ..autograd.function import Function
from ..creation import eye
from ..errors import ShapeMismatchError
from ..ops.linalg import matmul
from ..tensor import tensor_method
from .checks import batch_shape, flags, float_input, square
from .host import float64, to_device


def _gram(factor, upper):
    """A = L L^T (or U^T U) in float64 from the factor's triangle."""
    t = np.triu(factor) if upper else np.tril(factor)
    return np.swapaxes(t, -1, -2) @ t if upper else t @ np.swapaxes(t, -1, -2)


def _host_solve(a, b):
    """A^-1 B for each matrix; a singular one (a zero on the factor's diagonal) gives NaN, where LAPACK's potrs
    divides by that zero."""
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        out = np.full(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:], np.nan)
        for i in np.ndindex(out.shape[:-2]):
            try:
                out[i] = np.linalg.solve(a[i], b[i])
            except np.linalg.LinAlgError:
                pass
        return out


class _CholeskySolve(Function):
    """X with (L L^T) X = B for L and B of one batch shape (U^T U with upper)."""

    @staticmethod
    def forward(ctx, B, L, upper):
        X = to_device(_host_solve(_gram(float64(L), upper), float64(B)), B)
        ctx.upper = upper
        ctx.save_for_backward(L, X)
        return X

    @staticmethod
    def backward(ctx, gX):
        # PyTorch's cholesky_solve_backward: gB = A^-1 gX; gL = -(C + C^T) L (U (C + C^T) for upper), C = gB X^T
        L, X = ctx.saved_tensors
        gB = _CholeskySolve.apply(gX, L, ctx.upper)
        if not ctx.needs_input_grad[1]:
            return gB, None, None
        common = matmul(gB, X.mT)
        common = common + common.mT
        gL = -matmul(L, common) if ctx.upper else -matmul(common, L)
        return (gB if ctx.needs_input_grad[0] else None), gL, None


@tensor_method()
def cholesky_solve(input, input2, upper=False):
    """X with A X = input for A = L L^T given its Cholesky factor input2 = L (upper=True: A = U^T U, U = input2),
    as torch.cholesky_solve: input [..., n, k], the factor [..., n, n], batch dimensions broadcast; only the
    factor's triangle is read."""
    L = square(input2, "cholesky_solve")
    B = float_input(input, None, "cholesky_solve")
    flags("cholesky_solve", upper=upper)
    if B.ndim < 2 or B.shape[-2] != L.shape[-1]:
        raise ShapeMismatchError(f"cholesky_solve: input {list(B.shape)} must be [..., n, k] for a factor "
                                 f"{list(L.shape)} (n = {L.shape[-1]})")
    batch = batch_shape("cholesky_solve", B, L)
    return _CholeskySolve.apply(B.broadcast_to(batch + tuple(B.shape[-2:])),
                                L.broadcast_to(batch + tuple(L.shape[-2:])), upper)


@tensor_method()
def cholesky_inverse(input, upper=False):
    """The inverse of A = L L^T given its Cholesky factor input = L (upper=True: A = U^T U), as
    torch.cholesky_inverse: cholesky_solve(I, L)."""
    L = square(input, "cholesky_inverse")
    return cholesky_solve(eye(L.shape[-1], device=L.device).broadcast_to(tuple(L.shape)), L, upper)


__all__ = ["cholesky_solve", "cholesky_inverse"]
