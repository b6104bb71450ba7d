"""tl.linalg: torch.linalg's functions with its signatures, errors (LinAlgError for singular or non-convergent
input, with PyTorch's messages) and gradients.

- Norms and products (norms), composed of the library's ops: vector_norm matrix_norm norm cross vecdot matmul
  diagonal; reductions accumulate in f32 and round once.
- Cholesky and triangular solves (triangular), composed of ops column by column for small matrices: cholesky
  cholesky_ex solve_triangular.
- Factorisations and what is built on them: lu_factor lu_factor_ex lu lu_solve solve solve_ex inv inv_ex det slogdet
  matrix_power (lu_family), eigh eigvalsh svd svdvals (spectral), eig eigvals (eigen: complex results, a gradient
  that does not differentiate again), qr pinv matrix_rank lstsq (least_squares), matrix_exp householder_product
  (matrix_functions); multi_dot vander tensorinv tensorsolve (products: the last two
  reshapes around inv and solve); cond (condition: svdvals, or the norms of A and its inverse).

The factorisations run in float64 on the host (LAPACK: numpy's, and getrf/getrs from the OpenBLAS that CPU matmul
links) from the exact f16 values, each result rounded once to f16 on the input's device: as accurate as f16 can
hold, where a factorisation in f16 arithmetic would lose digits at every step. Their gradients are PyTorch's
analytic formulas written with tensor ops (their solves and decompositions being these functions again), so they
run on every device and can be differentiated again. The default rank tolerances of pinv, matrix_rank and lstsq use
f16's eps (2^-10), A's dtype being float16."""
from ..errors import LinAlgError
from ..ops.linalg import matmul
from .condition import cond
from .least_squares import lstsq, matrix_rank, pinv, qr
from .matrix_functions import householder_product, matrix_exp
from .lu_family import (det, inv, inv_ex, lu, lu_factor, lu_factor_ex, lu_solve, matrix_power, slogdet, solve,
                        solve_ex)
from .norms import cross, diagonal, matrix_norm, norm, vecdot, vector_norm
from .products import multi_dot, tensorinv, tensorsolve, vander
from .eigen import eig, eigvals
from .spectral import eigh, eigvalsh, svd, svdvals
from .triangular import cholesky, cholesky_ex, solve_triangular

__all__ = ["vector_norm", "matrix_norm", "norm", "cross", "vecdot", "matmul", "diagonal", "cholesky", "cholesky_ex",
           "solve_triangular", "lu_factor", "lu_factor_ex", "lu", "lu_solve", "solve", "solve_ex", "inv", "inv_ex",
           "det", "slogdet", "matrix_power", "eig", "eigvals", "eigh", "eigvalsh", "svd", "svdvals", "qr", "pinv",
           "matrix_rank", "lstsq", "matrix_exp", "householder_product", "multi_dot", "vander", "tensorinv",
           "tensorsolve", "cond", "LinAlgError"]
