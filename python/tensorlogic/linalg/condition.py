"""torch.linalg.cond, composed of svdvals (p None, 2, -2: the ratio of the extreme singular values; 'nuc': sum(s)
sum(1/s)) or of matrix_norm and inv_ex (the other orders: |A| |A^-1|), so it has their gradients. As PyTorch's, a singular matrix
has an infinite condition number under the norm orders (so has one holding NaN, except under 'nuc', which is
svdvals' LinAlgError as for the spectral orders), and empty matrices have 0."""
import math

from ..creation import zeros
from ..ops.elementwise import where
from .checks import matrices, square
from .lu_family import inv_ex
from .norms import matrix_norm
from .spectral import svdvals

_NORM_ORDS = ("fro", "nuc", 1, -1, math.inf, -math.inf)


def cond(A, p=None):
    """The condition number of each matrix of A in the p-norm: the largest over the smallest singular value for
    p=None or 2 (any shape), the smallest over the largest for -2, else matrix_norm(A, p) * matrix_norm(inv(A), p)
    for square A ('nuc' from the singular values), inf where A is singular. Each singular value and norm is rounded
    to f16, so a condition number beyond 65504 is inf."""
    spectral = p is None or (not isinstance(p, (bool, str)) and p in (2, -2))
    if not spectral and (isinstance(p, bool) or p not in _NORM_ORDS):
        raise ValueError(f"linalg.cond: p={p!r} is not a norm order; supported: None, 2, -2, 'fro', 'nuc', 1, -1, "
                         "inf, -inf")
    A = matrices(A, "cond") if spectral else square(A, "cond")
    if A.shape[-1] == 0 or A.shape[-2] == 0:
        return zeros(A.shape[:-2], device=A.device)
    if spectral:
        s = svdvals(A)
        largest, smallest = s[..., 0], s[..., -1]
        return smallest / largest if p == -2 else largest / smallest
    if p == "nuc":  # the sums of the singular values and of their reciprocals, as PyTorch's (NaN for a zero matrix)
        s = svdvals(A)
        return s.sum(-1) * s.reciprocal().sum(-1)
    inverse, info = inv_ex(A)
    product = where(info > 0, math.inf, matrix_norm(A, p) * matrix_norm(inverse, p))
    return where(product.isnan(), math.inf, product)  # a NaN in A too gives inf, as PyTorch's (NumPy's gives NaN)
