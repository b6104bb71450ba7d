"""tl.linalg against torch.linalg (float64 on the same f16 inputs, fresh seeds, every device): vector_norm,
matrix_norm, norm's dispatch, cross, vecdot, matmul, diagonal, cholesky, solve_triangular, and torch's
cholesky_solve and cholesky_inverse; values, gradients
(PyTorch's and gradcheck's) and the typed errors of bad orders, dims and matrices. The factorisations:
test_linalg_decompositions.py."""
import math

import numpy as np
import pytest
import torch

import tensorlogic as tl
import tensorlogic.linalg
from oracle import assert_close_f16, assert_grad_close, f16, f16_randn, host, t64, to_tl

INF = math.inf
SHAPE = (3, 4, 5)


def _run(ours, theirs, arrays, device, rng, grad_rtol=1e-2, atol=1e-4):
    """ours(*tl tensors) against theirs(*float64 torch tensors): the value, then every input's gradient from one
    random f16 upstream gradient."""
    ts = [t64(a).requires_grad_() for a in arrays]
    xs = [to_tl(a.astype(np.float16), device).requires_grad_() for a in arrays]
    want, got = theirs(*ts), ours(*xs)
    assert tuple(got.shape) == tuple(want.shape)
    assert_close_f16(got, want.detach().numpy(), rtol=3e-3, atol=atol)
    g = f16_randn(rng, tuple(want.shape))
    (want * t64(g)).sum().backward()
    (got * tl.tensor(g, device=device)).sum().backward()
    for k, (x, t) in enumerate(zip(xs, ts)):
        ref = t.grad if t.grad is not None else torch.zeros_like(t)  # ord 0: PyTorch leaves no gradient
        assert_grad_close(x.grad, ref, grad_rtol, f"input {k}")


@pytest.mark.parametrize("ord", [2, 1, INF, -INF, 0, 3, 0.5, -1.5])
@pytest.mark.parametrize("dim", [None, 1, -1, (0, 2), (2, 0, 1), ()])
@pytest.mark.parametrize("keepdim", [False, True])
def test_vector_norm(device, rng, ord, dim, keepdim):
    x = f16(rng, *SHAPE)
    _run(lambda a: tl.linalg.vector_norm(a, ord, dim, keepdim),
         lambda a: torch.linalg.vector_norm(a, ord, dim, keepdim), [x], device, rng)


def _reduced_dims(ord, dim):
    """(dim summed over, dim whose max or min is taken) of matrix_norm's 1 / inf orders."""
    return (dim[0], dim[1]) if abs(ord) == 1 else (dim[1], dim[0])


def _separated(rng, ord, dim):
    """f16 data whose extreme column (ord +-1) or row (+-inf) sum stands 1e-2 clear of the next in every matrix: a
    near tie rounds to a tie in f16, where the gradient is shared (as PyTorch shares an exact tie)."""
    for _ in range(100):
        x = f16(rng, *SHAPE)
        if ord == "fro":
            return x
        summed, extreme = _reduced_dims(ord, dim)
        sums = np.sort(np.abs(x).sum(axis=summed, keepdims=True), axis=extreme)
        n = sums.shape[extreme]
        pair = (n - 2, n - 1) if ord > 0 else (0, 1)
        gap = np.take(sums, pair[1], axis=extreme) - np.take(sums, pair[0], axis=extreme)
        if gap.min() > 1e-2:
            return x
    raise AssertionError("no separated sample in 100 draws")


@pytest.mark.parametrize("ord", ["fro", 1, -1, INF, -INF])
@pytest.mark.parametrize("dim", [(-2, -1), (0, 2), (2, 0)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_matrix_norm(device, rng, ord, dim, keepdim):
    x = _separated(rng, ord, dim)
    _run(lambda a: tl.linalg.matrix_norm(a, ord, dim, keepdim),
         lambda a: torch.linalg.matrix_norm(a, ord, dim, keepdim), [x], device, rng)


@pytest.mark.parametrize("ord, dim, shape", [
    (None, None, SHAPE), (None, 1, SHAPE), (None, (0, 2), SHAPE), ("fro", None, (3, 4)), (1, None, (3, 4)),
    (-INF, None, (3, 4)), (1, None, (7,)), (INF, (0, 2), SHAPE), (3, (1,), SHAPE), (-1, -1, SHAPE), (0.5, None, (6,))])
@pytest.mark.parametrize("keepdim", [False, True])
def test_norm_dispatches_as_torch(device, rng, ord, dim, shape, keepdim):
    x = f16(rng, *shape)
    got = tl.linalg.norm(to_tl(x.astype(np.float16), device), ord, dim, keepdim)
    want = torch.linalg.norm(t64(x), ord, dim, keepdim)
    assert tuple(got.shape) == tuple(want.shape)
    assert_close_f16(got, want.numpy(), rtol=3e-3, atol=1e-4)


def test_dtype_argument_converts_first(device, rng):
    x = rng.integers(-5, 6, (4, 6)).astype(np.int32)
    want = torch.linalg.vector_norm(t64(x), 2, dtype=torch.float64)
    assert_close_f16(tl.linalg.vector_norm(to_tl(x, device), dtype=tl.float32), want.numpy())
    assert_close_f16(tl.linalg.matrix_norm(to_tl(x, device), 1, dtype=tl.float16),
                     torch.linalg.matrix_norm(t64(x), 1).numpy())


@pytest.mark.parametrize("shapes, dim", [(((4, 3), (4, 3)), -1), (((2, 1, 3), (1, 5, 3)), -1), (((3, 6), (3, 1)), 0)])
def test_cross(device, rng, shapes, dim):
    a, b = (f16(rng, *s) for s in shapes)
    # each component is a difference of two products rounded to f16: it errs by ulps of the products, not of itself
    _run(lambda x, y: tl.linalg.cross(x, y, dim=dim), lambda x, y: torch.linalg.cross(x, y, dim=dim), [a, b],
         device, rng, atol=2e-3 * np.abs(a).max() * np.abs(b).max())


@pytest.mark.parametrize("shapes, dim", [(((7,), (7,)), -1), (((3, 1, 5), (4, 5)), -1), (((5, 3), (5, 3)), 0),
                                         (((2, 6, 4), (6, 1)), 1)])
def test_vecdot(device, rng, shapes, dim):
    a, b = (f16(rng, *s) for s in shapes)
    _run(lambda x, y: tl.linalg.vecdot(x, y, dim=dim), lambda x, y: torch.linalg.vecdot(x, y, dim=dim), [a, b],
         device, rng)


def test_matmul(device, rng):
    a, b = f16(rng, 2, 3, 8), f16(rng, 8, 5)
    _run(tl.linalg.matmul, torch.linalg.matmul, [a, b], device, rng)


@pytest.mark.parametrize("offset, dim1, dim2", [(0, -2, -1), (1, -2, -1), (-2, -2, -1), (0, 0, 2), (1, 2, 0)])
def test_diagonal(device, rng, offset, dim1, dim2):
    x = f16(rng, *SHAPE)
    _run(lambda a: tl.linalg.diagonal(a, offset=offset, dim1=dim1, dim2=dim2),
         lambda a: torch.linalg.diagonal(a, offset=offset, dim1=dim1, dim2=dim2), [x], device, rng)


@pytest.mark.parametrize("name, ord, dim", [("vector_norm", 2, (0, 2)), ("vector_norm", 1, 1), ("vector_norm", 3, None),
                                            ("vector_norm", INF, -1), ("matrix_norm", "fro", (-2, -1)),
                                            ("matrix_norm", 1, (0, 2)), ("matrix_norm", -INF, (-2, -1))])
def test_gradcheck(device, rng, name, ord, dim):
    x = _separated(rng, ord, dim) if name == "matrix_norm" else f16(rng, *SHAPE)
    ours, theirs = getattr(tl.linalg, name), getattr(torch.linalg, name)
    t = to_tl(x.astype(np.float16), device).requires_grad_()
    assert tl.autograd.gradcheck(lambda a: ours(a, ord, dim), (t,),
                                 reference=lambda v: theirs(torch.tensor(v, dtype=torch.float64), ord, dim).numpy())


def test_vecdot_gradcheck(device, rng):
    a, b = (to_tl(f16(rng, 3, 6).astype(np.float16), device).requires_grad_() for _ in range(2))
    assert tl.autograd.gradcheck(lambda x, y: tl.linalg.vecdot(x, y), (a, b))


def test_vecdot_sums_in_f32(device):
    """Products beyond f16's range (300 * 300 = 9e4) whose sum is inside it: the sum is taken in f32."""
    x = tl.tensor([300.0, 300.0], device=device)
    assert host(tl.linalg.vecdot(x, tl.tensor([300.0, -299.0], device=device))).item() == 300.0


@pytest.mark.parametrize("call, error", [
    (lambda x: tl.linalg.matrix_norm(x, 3), ValueError),
    (lambda x: tl.linalg.matrix_norm(x, "max"), ValueError),
    (lambda x: tl.linalg.matrix_norm(x, 1, (0, 0)), ValueError),
    (lambda x: tl.linalg.matrix_norm(x, 1, (0, 1, 2)), ValueError),
    (lambda x: tl.linalg.matrix_norm(x, 1, 0), TypeError),
    (lambda x: tl.linalg.matrix_norm(x, 1, (0, 3)), IndexError),
    (lambda x: tl.linalg.matrix_norm(x[0, 0], 1), tl.ShapeMismatchError),
    (lambda x: tl.linalg.vector_norm(x, "fro"), ValueError),
    (lambda x: tl.linalg.vector_norm(x, math.nan), ValueError),
    (lambda x: tl.linalg.vector_norm(x, 2, (1, -2)), ValueError),
    (lambda x: tl.linalg.vector_norm(x, 2, 3), IndexError),
    (lambda x: tl.linalg.vector_norm(x, 2, "a"), TypeError),
    (lambda x: tl.linalg.vector_norm(x.to(tl.int32)), TypeError),
    (lambda x: tl.linalg.norm(x, 1), tl.ShapeMismatchError),
    (lambda x: tl.linalg.norm(x, 2, (0, 1, 2)), ValueError),
    (lambda x: tl.linalg.norm(x, "fro", 1), ValueError),
    (lambda x: tl.linalg.cross(x, x), tl.ShapeMismatchError),
    (lambda x: tl.linalg.cross(x[..., :3], x[0, 0, :3]), tl.ShapeMismatchError),
    (lambda x: tl.linalg.vecdot(x, x[:, :2]), tl.ShapeMismatchError),
    # found by hand: a float dim read as out of range, internal names (broadcast_tensors, permute, cross's tuple
    # index) in the messages
    (lambda x: tl.linalg.vecdot(x, x, dim=0.5), TypeError),
    (lambda x: tl.linalg.vecdot(x, b"x"), TypeError),
    (lambda x: tl.linalg.cross(x[0, 0, 0], x[0, 0, 0]), IndexError),
    (lambda x: tl.linalg.cross(x[..., :3], x[..., :3], dim=3), IndexError),
    (lambda x: tl.linalg.diagonal(x, dim1=0, dim2=0), ValueError),
    (lambda x: tl.linalg.diagonal(x, dim1=5), IndexError),
    (lambda x: tl.linalg.diagonal(x, offset=1.5), TypeError),
])
def test_bad_arguments_raise_typed_errors(device, rng, call, error):
    with pytest.raises(error, match="linalg|cross|vecdot|broadcast|diagonal"):
        call(to_tl(f16_randn(rng, SHAPE), device))


@pytest.mark.parametrize("ord", [0.5, 0.25, -1, -0.5, -2, 1.5, 3])
def test_vector_norm_gradient_at_zeros_is_torch(device, rng, ord):
    """Orders below 1 put |x|^(ord - 1) = inf at a zero x: PyTorch's gradient there is 0 (and 0 everywhere when a
    zero makes the norm of a negative order 0), where 0 * inf gave NaN (and the other elements |x|/1 ^ (ord-1))."""
    x = f16_randn(rng, (3, 5))
    x[0, 1] = x[1, :] = x[2, 0] = x[2, 4] = 0
    ours = to_tl(x, device).requires_grad_()
    theirs = t64(x).requires_grad_()
    tl.linalg.vector_norm(ours, ord, dim=1).sum().backward()
    torch.linalg.vector_norm(theirs, ord, dim=1).sum().backward()
    assert_grad_close(ours.grad, theirs.grad, 1e-2, f"ord {ord}")


@pytest.mark.parametrize("ord", [-1, -0.5, -INF])
def test_vector_norm_of_negative_order_over_nothing_has_no_identity(device, ord):
    """0^(1/ord) of an empty slice: an error as PyTorch's (inf before), as the inf norm's; empty slices not reduced
    are fine."""
    with pytest.raises(IndexError, match="no identity"):
        tl.linalg.vector_norm(tl.zeros(2, 0, device=device), ord, dim=1)
    assert tl.linalg.vector_norm(tl.zeros(2, 0, device=device), ord, dim=0).shape == (0,)


def test_vector_norm_of_order_0_has_no_gradient(device):
    """A count of non-zeros: x.grad stays None, as PyTorch's (zeros before; found by tests/fuzz_autograd.py)."""
    x = tl.tensor([1.0, 0.0, -2.0], device=device, requires_grad=True)
    (tl.linalg.vector_norm(x, 0) + x.sum()).backward()
    assert host(x.grad).tolist() == [1.0, 1.0, 1.0]
    assert tl.autograd.grad(tl.linalg.vector_norm(x, 0) * 2, x, allow_unused=True) == (None,)


@pytest.mark.parametrize("shape", [(3, 0), (0, 3), (2, 0, 3), (0, 0)])
@pytest.mark.parametrize("ord", [1, -1, INF, -INF, "fro"])
def test_matrix_norm_of_empty_matrices_is_torch(device, shape, ord):
    """The largest column (row) sum of no columns is 0 as PyTorch's, the smallest an IndexError as PyTorch's (a max
    over nothing raised where PyTorch gives 0)."""
    try:
        expected = torch.linalg.matrix_norm(torch.zeros(shape), ord)
    except IndexError:
        with pytest.raises(IndexError):
            tl.linalg.matrix_norm(tl.zeros(shape, device=device), ord)
        return
    ours = tl.linalg.matrix_norm(tl.zeros(shape, device=device), ord)
    assert ours.shape == tuple(expected.shape) and (host(ours) == 0).all()


def test_vecdot_of_scalars_is_their_product(device):
    assert host(tl.linalg.vecdot(tl.tensor(2.0, device=device), tl.tensor(3.0, device=device))) == 6.0


def test_namespace():
    """tl.linalg is the module tensorlogic.linalg, and its matmul is tl.matmul (one function, one guard)."""
    assert tl.linalg is tensorlogic.linalg and tl.linalg.matmul is tl.matmul
    assert sorted(tl.linalg.__all__) == sorted(
        ["vector_norm", "matrix_norm", "norm", "cross", "vecdot", "matmul", "diagonal", "cholesky", "cholesky_ex",
         "solve_triangular", "lu_factor", "lu_factor_ex", "lu", "lu_solve", "solve", "solve_ex", "inv", "inv_ex",
         "det", "slogdet", "matrix_power", "eig", "eigvals", "eigh", "eigvalsh", "svd", "svdvals", "qr", "pinv",
         "matrix_rank", "lstsq", "matrix_exp", "householder_product", "multi_dot", "vander", "tensorinv",
         "tensorsolve", "cond", "LinAlgError"])
    assert tl.linalg.LinAlgError is tl.errors.LinAlgError and issubclass(tl.linalg.LinAlgError, RuntimeError)


def _spd(rng, *shape):
    """f16 symmetric positive-definite matrices [*shape, n, n], well conditioned: M M^T / n + I, M normal."""
    m = rng.standard_normal(shape + (shape[-1],))
    return (m @ np.swapaxes(m, -1, -2) / shape[-1] + np.eye(shape[-1])).astype(np.float16).astype(np.float64)


@pytest.mark.parametrize("shape", [(1,), (5,), (3, 4), (2, 1, 6)])
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky(device, rng, shape, upper):
    """Values and the gradient (symmetric, as PyTorch's) against float64; each entry of L is a short sum of
    products rounded once per column step, so errors grow with the size but stay a few f16 ulps."""
    a = _spd(rng, *shape)
    _run(lambda x: tl.linalg.cholesky(x, upper=upper), lambda x: torch.linalg.cholesky(x, upper=upper), [a], device,
         rng, grad_rtol=3e-2, atol=4e-3)


def test_cholesky_reads_the_lower_triangle(device, rng):
    a = _spd(rng, 4)
    junk = a + np.triu(f16(rng, 4, 4), 1)  # the upper triangle is not read
    assert_close_f16(tl.linalg.cholesky(to_tl(junk.astype(np.float16), device)),
                     torch.linalg.cholesky(t64(junk)).numpy(), rtol=3e-3, atol=4e-3)


def test_cholesky_gradcheck(device, rng):
    t = to_tl(_spd(rng, 3).astype(np.float16), device).requires_grad_()
    # the symmetric part: a perturbation of one triangle alone leaves the reference's input non-symmetric
    assert tl.autograd.gradcheck(lambda a: tl.linalg.cholesky((a + a.mT) / 2), (t,), reference=lambda v: (
        torch.linalg.cholesky(torch.tensor((v + v.T) / 2, dtype=torch.float64)).numpy()))


@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unitriangular", [False, True])
def test_solve_triangular(device, rng, upper, left, unitriangular):
    """A (2, 1, n, n) against B (3, n, 2) or (3, 2, n): batch dimensions broadcast. A's diagonal is kept away from
    zero (1 to 2 in size), as a well-conditioned factor's is; the gradient reaches only A's triangle."""
    n = 5
    a = f16(rng, 2, 1, n, n, scale=0.3)
    a[..., range(n), range(n)] = rng.uniform(1, 2, (2, 1, n)) * rng.choice([-1, 1], (2, 1, n))
    a = a.astype(np.float16).astype(np.float64)
    b = f16(rng, 3, n, 2) if left else f16(rng, 3, 2, n)
    kwargs = dict(upper=upper, left=left, unitriangular=unitriangular)
    _run(lambda x, y: tl.linalg.solve_triangular(x, y, **kwargs),
         lambda x, y: torch.linalg.solve_triangular(x, y, **kwargs), [a, b], device, rng, grad_rtol=3e-2, atol=4e-3)


@pytest.mark.parametrize("call, error, match", [
    (lambda d: tl.linalg.cholesky(tl.ones(2, 3, device=d)), tl.ShapeMismatchError, "square"),
    (lambda d: tl.linalg.cholesky(tl.ones(3, device=d)), tl.ShapeMismatchError, "square"),
    (lambda d: tl.linalg.cholesky(tl.ones(2, 2, dtype=tl.int64, device=d)), TypeError, "floating point"),
    (lambda d: tl.linalg.cholesky(tl.tensor([[1.0, 2.0], [2.0, 1.0]], device=d)), tl.linalg.LinAlgError,
     r"not positive-definite \(the leading minor of order 2 is not positive-definite\)"),
    (lambda d: tl.linalg.cholesky(tl.tensor([[[1.0, 0.0], [0.0, 1.0]], [[-1.0, 0.0], [0.0, 1.0]]], device=d)),
     tl.linalg.LinAlgError, r"\(Batch element 1\): .* leading minor of order 1 "),
    (lambda d: tl.linalg.solve_triangular(tl.eye(3, device=d), tl.ones(2, 1, device=d), upper=False),
     tl.ShapeMismatchError, "do not fit"),
    (lambda d: tl.linalg.solve_triangular(tl.eye(3, device=d), tl.ones(3, device=d), upper=False),
     tl.ShapeMismatchError, "at least 2"),
    (lambda d: tl.linalg.solve_triangular(tl.ones(3, 2, device=d), tl.ones(3, 1, device=d), upper=True),
     tl.ShapeMismatchError, "square"),
])
def test_factorization_errors(device, call, error, match):
    with pytest.raises(error, match=match):
        call(device)


def _factor(rng, shape, upper):
    """The Cholesky factor (f16-exact) of well-conditioned SPD matrices; its other triangle holds noise, which
    neither library reads in the value (PyTorch's gradient, the formula we share, reaches it)."""
    L = np.linalg.cholesky(_spd(rng, *shape)) + np.triu(f16(rng, *shape, shape[-1]), 1)
    return _rounded_f16(np.swapaxes(L, -1, -2) if upper else L)


def _rounded_f16(x):
    return x.astype(np.float16).astype(np.float64)


@pytest.mark.parametrize("b_shape,l_shape", [((4, 3), (4,)), ((3, 5, 2), (2, 1, 5)), ((6, 6), (6,))])
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_and_inverse(device, rng, b_shape, l_shape, upper):
    """torch.cholesky_solve (batches broadcast) and cholesky_inverse: values and both inputs' gradients against
    float64, the gradient being PyTorch's formula (the factor's whole matrix gets one)."""
    L, B = _factor(rng, l_shape, upper), f16(rng, *b_shape)
    _run(lambda b, f: tl.cholesky_solve(b, f, upper), lambda b, f: torch.cholesky_solve(b, f, upper), [B, L], device,
         rng, grad_rtol=3e-2, atol=4e-3)
    _run(lambda f: f.cholesky_inverse(upper), lambda f: torch.cholesky_inverse(f, upper), [L], device, rng,
         grad_rtol=3e-2, atol=4e-3)


def test_cholesky_solve_gradcheck_and_errors(device, rng):
    L, B = _factor(rng, (3,), False), f16(rng, 3, 2)
    tensors = [to_tl(a.astype(np.float16), device).requires_grad_() for a in (B, L)]
    # through tril: the solve does not read the upper triangle, whose difference quotients are 0 (PyTorch's formula
    # gives it the gradient of L L^T's, which the lower triangle's entries share with the true derivative)
    assert tl.autograd.gradcheck(lambda b, f: b.cholesky_solve(f.tril()), tensors, reference=lambda b, f: (
        torch.cholesky_solve(torch.tensor(b), torch.tensor(f)).numpy()))
    with pytest.raises(tl.ShapeMismatchError, match="cholesky_solve"):
        tl.cholesky_solve(to_tl(f16(rng, 4, 2), device), tensors[1])
    with pytest.raises(TypeError, match="upper must be a bool"):
        tl.cholesky_solve(tensors[0], tensors[1], "yes")
