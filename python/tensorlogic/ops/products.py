"""Tensor products and distances with PyTorch's names, composed of matmul, broadcasting and norm (so they
have those ops' gradients): tensordot inner vdot kron cross cdist."""
import numbers

from ..errors import ShapeMismatchError
from ..tensor import tensor_method
from .linalg import matmul
from .shape import cat


def tensordot(a, b, dims=2):
    """Contracts the last `dims` dims of a with the first `dims` of b (an int), or the listed pairs of dims
    ((dims_a, dims_b)); one matmul over the flattened contracted and free dims."""
    if isinstance(dims, numbers.Integral):
        if dims < 0:
            raise ValueError(f"tensordot: dims must be non-negative, got {dims}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, numbers.Integral) else list(d) for d in dims)
    dims_a, dims_b = [d % max(a.ndim, 1) for d in dims_a], [d % max(b.ndim, 1) for d in dims_b]
    if len(dims_a) != len(dims_b) or any(a.shape[i] != b.shape[j] for i, j in zip(dims_a, dims_b)):
        raise ShapeMismatchError(f"tensordot: contracted dims {dims_a} of {list(a.shape)} and {dims_b} of "
                                 f"{list(b.shape)} differ in size")
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    k = 1
    for d in dims_a:
        k *= a.shape[d]
    left = a.permute(free_a + dims_a).reshape(-1, k)
    right = b.permute(dims_b + free_b).reshape(k, -1)
    return matmul(left, right).reshape([a.shape[d] for d in free_a] + [b.shape[d] for d in free_b])


@tensor_method()
def inner(input, other):
    """The sum of products over the last dims of input and other (a product when either is 0-d)."""
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    return tensordot(input, other, ([-1], [-1]))


@tensor_method()
def vdot(input, other):
    """The dot product of two 1-d tensors (real: no conjugation)."""
    if input.ndim != 1 or other.ndim != 1 or input.shape != other.shape:
        raise ShapeMismatchError(f"vdot: expected two 1-d tensors of one length, got {list(input.shape)} and "
                                 f"{list(other.shape)}")
    return tensordot(input, other, 1)


@tensor_method()
def kron(input, other):
    """The Kronecker product: block (i, j, ...) is input[i, j, ...] * other."""
    n = max(input.ndim, other.ndim)
    a = input.reshape((1,) * (n - input.ndim) + tuple(input.shape))
    b = other.reshape((1,) * (n - other.ndim) + tuple(other.shape))
    # a's dims at even positions, b's at odd ones: the product's dims interleave, then merge in pairs
    a_shape = sum(((s, 1) for s in a.shape), ())
    b_shape = sum(((1, s) for s in b.shape), ())
    return (a.reshape(a_shape) * b.reshape(b_shape)).reshape(tuple(x * y for x, y in zip(a.shape, b.shape)))


@tensor_method()
def cross(input, other, dim=None):
    """The cross product of 3-vectors along dim (the first dim of size 3 when None, as torch.cross), broadcasting."""
    if dim is None:
        sizes = [d for d in range(input.ndim) if input.shape[d] == 3]
        if not sizes:
            raise ShapeMismatchError(f"cross: no dimension of size 3 in {list(input.shape)}")
        dim = sizes[0]
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"cross(): argument 'dim' must be int, not {type(dim).__name__}")
    for x in (input, other):
        if not -x.ndim <= dim < x.ndim:
            raise IndexError(f"cross: dim {dim} is out of range for an input of shape {list(x.shape)}")
    if input.shape[dim] != 3 or other.shape[dim] != 3:
        raise ShapeMismatchError(f"cross: dimension {dim} must have size 3, got {list(input.shape)} and "
                                 f"{list(other.shape)}")
    a = [input.narrow(dim, i, 1) for i in range(3)]
    b = [other.narrow(dim, i, 1) for i in range(3)]
    parts = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    return cat(parts, dim)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distances between the rows of x1 [..., P, M] and of x2 [..., R, M]: [..., P, R]. Differences
    are taken directly (never |a|^2 + |b|^2 - 2ab, which cancels in f16), and normed in f32."""
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise ShapeMismatchError(f"cdist: expected [..., P, M] and [..., R, M], got {list(x1.shape)} and "
                                 f"{list(x2.shape)}")
    if p < 0:
        raise ValueError(f"cdist: p must be non-negative, got {p}")
    return (x1.unsqueeze(-2) - x2.unsqueeze(-3)).norm(p, -1)


__all__ = ["tensordot", "inner", "vdot", "kron", "cross", "cdist"]
