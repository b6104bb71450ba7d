"""The transforms of tl.distributions.transforms that act on vectors and matrices, as torch.distributions.transforms:
Softmax and StickBreaking (onto the simplex), LowerCholesky, PositiveDefinite, and CorrCholesky (onto Cholesky
factors of correlation matrices)."""
import math

from ..creation import arange, tensor
from ..ops.composite import tril_indices
from ..dtypes import int64
from ..errors import ShapeMismatchError
from ..linalg import cholesky
from ..ops.elementwise import softplus
from ..ops.shape import cat
from . import constraints
from .transform import ParameterlessTransform
from .transforms_elementwise import clipped_sigmoid


def _vector(x, name):
    if x.ndim < 1:
        raise ShapeMismatchError(f"{name}: expected at least one dimension, got a 0-d tensor")
    return x


class SoftmaxTransform(ParameterlessTransform):
    """y = softmax(x) over the last dimension (not invertible: the inverse gives log y, one of the x that map
    there)."""

    domain = constraints.real_vector
    codomain = constraints.simplex

    def _call(self, x):
        e = (_vector(x, "SoftmaxTransform") - x.amax(-1, keepdim=True)).exp()
        return e / e.sum(-1, keepdim=True)

    def _inverse(self, y):
        return y.log()

    def _forward_shape(self, shape):
        """The same shape (at least one dimension)."""
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return tuple(shape)

    _inverse_shape = _forward_shape


def _stick_offsets(k, like):
    """log(K - j) for j = 0..K-2 (K - 1 = k sticks): subtracted from x so that x = 0 breaks the stick evenly."""
    return (arange(k, 0, -1, device=like.device).to(like.dtype)).log()


class StickBreakingTransform(ParameterlessTransform):
    """R^(K-1) onto the K-simplex: z_j = sigmoid(x_j - log(K - 1 - j)), y_j = z_j prod_{i<j} (1 - z_i), and y_K the
    rest of the stick. Bijective; the inverse reads z_j = y_j / sum_{i>=j} y_i."""

    domain = constraints.real_vector
    codomain = constraints.simplex
    bijective = True

    def _call(self, x):
        k = _vector(x, "StickBreakingTransform").shape[-1]
        z = clipped_sigmoid(x - _stick_offsets(k, x))
        left = (1 - z).cumprod(-1)  # the stick left after each break
        ones = x.new_ones(x.shape[:-1] + (1,))
        return cat([z, ones], -1) * cat([ones, left], -1)

    def _inverse(self, y):
        # the stick left after piece j is the sum of the pieces after it (on the simplex, 1 - sum_{i<=j} y_i, which
        # in f16 cancels to nothing near the end: PyTorch's form); a sum of positive pieces keeps its digits
        k = _vector(y, "StickBreakingTransform").shape[-1] - 1
        left = y.flip(-1).cumsum(-1).flip(-1)[..., 1:].clamp(min=2.0 ** -24)
        return y[..., :k].log() - left.log() + _stick_offsets(k, y)

    def _log_abs_det_jacobian(self, x, y):
        # dy_j/dx_j = z_j (1 - z_j) prod_{i<j} (1 - z_i) = y_j (1 - z_j); the Jacobian is triangular
        """sum_j log(y_j (1 - z_j)): the Jacobian is triangular."""
        shifted = x - _stick_offsets(x.shape[-1], x)
        return (-softplus(shifted) + y[..., :-1].log()).sum(-1)

    def _forward_shape(self, shape):
        """The last dimension one longer."""
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return tuple(shape[:-1]) + (shape[-1] + 1,)

    def _inverse_shape(self, shape):
        """The last dimension one shorter."""
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return tuple(shape[:-1]) + (shape[-1] - 1,)


def _square(x, name):
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ShapeMismatchError(f"{name}: expected square matrices in the last two dimensions, got shape "
                                 f"{list(x.shape)}")
    return x


class LowerCholeskyTransform(ParameterlessTransform):
    """Square matrices onto lower-triangular ones with a positive diagonal: the strict lower triangle kept, the
    diagonal exponentiated (the upper triangle dropped)."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky

    def _call(self, x):
        _square(x, "LowerCholeskyTransform")
        return x.tril(-1) + x.diagonal(dim1=-2, dim2=-1).exp().diag_embed()

    def _inverse(self, y):
        _square(y, "LowerCholeskyTransform")
        return y.tril(-1) + y.diagonal(dim1=-2, dim2=-1).log().diag_embed()


class PositiveDefiniteTransform(ParameterlessTransform):
    """Square matrices onto positive definite ones: L L^T of LowerCholeskyTransform's L."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.positive_definite

    def _call(self, x):
        lower = LowerCholeskyTransform()(x)
        return lower @ lower.mT

    def _inverse(self, y):
        return LowerCholeskyTransform().inv(cholesky(_square(y, "PositiveDefiniteTransform")))


def _tril_positions(d, device):
    """The flat positions (row-major) of the strict lower triangle of a d x d matrix, in PyTorch's order
    (tril_indices(d, d, -1))."""
    rows, cols = tril_indices(d, d, -1, device=device)
    return rows * d + cols


def _matrix_size(n):
    """d with d (d - 1) / 2 = n: a ShapeMismatchError where n is not such a count."""
    d = round((1 + math.sqrt(1 + 8 * n)) / 2)
    if d * (d - 1) // 2 != n:
        raise ShapeMismatchError(f"CorrCholeskyTransform: the last dimension, {n}, is not d (d - 1) / 2 for any d")
    return d


class CorrCholeskyTransform(ParameterlessTransform):
    """Vectors of d (d - 1) / 2 reals onto the lower Cholesky factors of d x d correlation matrices: tanh maps
    each to (-1, 1), filling the strict lower triangle row by row (PyTorch's order); each row is then a stick
    broken so that it has unit length: L_ij = r_ij sqrt(1 - sum_{k<j} L_ik^2), L_ii the rest."""

    domain = constraints.real_vector
    codomain = constraints.corr_cholesky
    bijective = True

    def _call(self, x):
        n = _vector(x, "CorrCholeskyTransform").shape[-1]
        d = _matrix_size(n)
        r = x.tanh()
        # the strict lower triangle, from the vector with a 0 appended for every other position
        index = tensor([n] * (d * d), dtype=int64, device=x.device)
        index[_tril_positions(d, x.device)] = arange(n, dtype=int64, device=x.device)
        padded = cat([r, r.new_zeros(r.shape[:-1] + (1,))], -1)
        lower = padded.index_select(-1, index).reshape(r.shape[:-1] + (d, d))
        # row i: L_ij = r_ij * sqrt(1 - sum_{k<j} L_ik^2) = r_ij prod_{k<j} sqrt(1 - r_ik^2), and the diagonal the
        # remaining length, sqrt(prod_{k<i} (1 - r_ik^2))
        stick = (1 - lower.square()).clamp(min=2.0 ** -24).sqrt().cumprod(-1)
        left = cat([stick.new_ones(stick.shape[:-1] + (1,)), stick[..., :-1]], -1)
        eye_mask = arange(d, device=x.device).unsqueeze(-1) == arange(d, device=x.device)
        return (lower + eye_mask.to(x.dtype)) * left

    def _inverse(self, y):
        d = _square(y, "CorrCholeskyTransform").shape[-1]
        left = (1 - y.square().cumsum(-1)).clamp(min=2.0 ** -24)
        left = cat([left.new_ones(left.shape[:-1] + (1,)), left[..., :-1]], -1).sqrt()
        r = (y / left).reshape(y.shape[:-2] + (d * d,)).index_select(-1, _tril_positions(d, y.device))
        # atanh of r clamped inside (-1, 1) by f16's last step, as PyTorch's clamp by its dtype's eps
        return r.clamp(-1 + 2.0 ** -11, 1 - 2.0 ** -11).atanh()

    def _log_abs_det_jacobian(self, x, y):
        # tanh's: sum log(1 - r^2); each L_ij scales r_ij by sqrt(1 - sum_{k<j} L_ik^2), for j >= 1 below the diagonal
        """tanh's sum log(1 - r^2) plus the rows' scales, sum log sqrt(1 - sum_{k<j} L_ik^2)."""
        d = y.shape[-1]
        left = (1 - y.square().cumsum(-1)).clamp(min=2.0 ** -24)  # left[i, m] = 1 - sum_{k<=m} L_ik^2
        positions = _tril_positions(d, y.device)
        keep = positions // d >= positions % d + 2  # entries (i, m) with i >= m + 2: the scale of L_i,m+1
        scale = left.reshape(y.shape[:-2] + (d * d,)).index_select(-1, positions[keep]).log().sum(-1) * 0.5
        tanh = (2.0 * (math.log(2.0) - x - softplus(-2.0 * x))).sum(-1)
        return scale + tanh

    def _forward_shape(self, shape):
        """(..., d (d - 1) / 2) to (..., d, d)."""
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        d = _matrix_size(shape[-1])
        return tuple(shape[:-1]) + (d, d)

    def _inverse_shape(self, shape):
        """(..., d, d) to (..., d (d - 1) / 2)."""
        if len(shape) < 2 or shape[-1] != shape[-2]:
            raise ValueError("A matrix that isn't square can't be represented as LKJCholesky sample")
        d = shape[-1]
        return tuple(shape[:-2]) + (d * (d - 1) // 2,)
