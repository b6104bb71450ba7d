"""tl.linalg's factorisations against torch.linalg in float64 on the same f16 inputs (fresh seeds, every device): lu,
solve, inv, det, slogdet, eigh, svd, qr, pinv, matrix_rank, lstsq and the spectral matrix norms; values, gradients
(PyTorch's from one random upstream gradient, gradcheck's finite differences, second derivatives), batches and
broadcasting, and the errors of singular, non-finite and misshapen input.

Tolerances: each result is float64 rounded once to f16, so values are held to two f16 ulps (assert_close_f16) on
well-conditioned inputs (condition number below ~10). A gradient is a short chain of f16 tensor ops (matmuls summed
in f32, each rounded once), with factors of the matrix's condition number: 2e-2 of its scale."""
import math

import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16, assert_grad_close, f16, f16_randn, host, t64, to_tl

GRAD_RTOL = 2e-2


def _rounded(x):
    """x rounded to f16, as float64: the exact values both libraries see."""
    return np.asarray(x).astype(np.float16).astype(np.float64)


def _general(rng, *shape):
    """Square matrices [*shape, n, n] with eigenvalues in the disc |z - 2| <= 0.8 (2 I plus a perturbation of
    spectral norm 0.8; a Gaussian one scaled by 0.8 / sqrt(n) alone had an eigenvalue of 0.005 at seed 1103421587):
    condition numbers of a few."""
    n = shape[-1]
    g = rng.standard_normal(shape + (n,))
    return _rounded(g / np.linalg.norm(g, 2, axis=(-2, -1), keepdims=True) * 0.8 + 2 * np.eye(n))


def _orthogonal(rng, *shape):
    q, r = np.linalg.qr(rng.standard_normal(shape + (shape[-1],)))
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def _spectrum(rng, batch, k):
    """k values per matrix, descending, 0.5 apart or more (f16 rounding moves them by ~1e-3): gaps that keep the
    vectors' gradients well defined."""
    return 1.0 + 0.6 * np.arange(k)[::-1] + rng.uniform(0, 0.1, batch + (k,))


def _symmetric(rng, *shape):
    """Symmetric [*shape, n, n] with separated eigenvalues of either sign."""
    n, batch = shape[-1], shape[:-1]
    q = _orthogonal(rng, *shape)
    w = _spectrum(rng, batch, n) - 1.3
    a = (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)
    return _rounded((a + np.swapaxes(a, -1, -2)) / 2)


def _separated(rng, *shape):
    """[*batch, m, n] with separated singular values."""
    *batch, m, n = shape
    k = min(m, n)
    u, v = _orthogonal(rng, *batch, m)[..., :k], _orthogonal(rng, *batch, n)[..., :k]
    return _rounded((u * _spectrum(rng, tuple(batch), k)[..., None, :]) @ np.swapaxes(v, -1, -2))


def _as_tuple(out):
    return tuple(out) if isinstance(out, tuple) else (out,)


def _column_signs(ours, theirs):
    """+-1 per column making our vectors (columns) point as PyTorch's: each is defined up to its sign."""
    return np.sign((host(ours).astype(np.float64) * theirs.detach().numpy()).sum(axis=-2, keepdims=True))


def _compare(ours, theirs, arrays, device, rng, signs=None, grad_rtol=GRAD_RTOL, atol=2e-3):
    """ours(*tl tensors) against theirs(*float64 torch tensors), output by output (each multiplied by signs(got,
    want)[k] when given: a sign-fixed form of a vector output), then every input's gradient from one random
    upstream gradient per float output."""
    ts = [t64(a).requires_grad_() for a in arrays]
    xs = [to_tl(a.astype(np.float16), device).requires_grad_() for a in arrays]
    want, got = _as_tuple(theirs(*ts)), _as_tuple(ours(*xs))
    assert len(got) == len(want)
    fixes = signs(got, want) if signs else [None] * len(got)
    theirs_loss, ours_loss = 0, 0
    for k, (g, w, s) in enumerate(zip(got, want, fixes)):
        assert tuple(g.shape) == tuple(w.shape), f"output {k}: {tuple(g.shape)} != {tuple(w.shape)}"
        s = np.ones(()) if s is None else s
        if not w.dtype.is_floating_point:
            assert (host(g) == w.numpy()).all(), f"output {k}"
            continue
        scale = max(1.0, float(np.abs(w.detach().numpy()).max(initial=0)))
        assert_close_f16(host(g) * s, w.detach().numpy(), rtol=3e-3, atol=atol * scale)
        if w.requires_grad:
            up = f16_randn(rng, tuple(w.shape))
            theirs_loss = theirs_loss + (w * t64(up)).sum()
            ours_loss = ours_loss + (g * tl.tensor((up * s).astype(np.float16), device=device)).sum()
    if isinstance(theirs_loss, torch.Tensor) and theirs_loss.requires_grad:
        theirs_loss.backward()
    if isinstance(ours_loss, tl.Tensor) and ours_loss.requires_grad:
        ours_loss.backward()
    for k, (x, t) in enumerate(zip(xs, ts)):
        assert_grad_close(x.grad, t.grad if t.grad is not None else torch.zeros_like(t), grad_rtol, f"input {k}")


# ---- LU: solve, inv, det, slogdet, lu_factor, lu, lu_solve -------------------------------------------------
@pytest.mark.parametrize("shape", [(1, 1), (4, 4), (3, 5, 5), (2, 1, 3, 3)])
def test_inv(device, rng, shape):
    a = _general(rng, *shape[:-1])
    _compare(tl.linalg.inv, torch.linalg.inv, [a], device, rng)
    _compare(lambda x: x.inverse(), torch.inverse, [a], device, rng)


@pytest.mark.parametrize("a_shape, b_shape, left", [
    ((4, 4), (4, 2), True), ((4, 4), (4,), True), ((2, 3, 3), (2, 3), True), ((2, 1, 3, 3), (4, 3, 2), True),
    ((3, 3), (2, 3, 1), True), ((2, 4, 4), (2, 3, 4), False), ((4, 4), (5, 4), False), ((3, 3), (3, 0), True)])
def test_solve(device, rng, a_shape, b_shape, left):
    a, b = _general(rng, *a_shape[:-1]), f16(rng, *b_shape)
    _compare(lambda x, y: tl.linalg.solve(x, y, left=left), lambda x, y: torch.linalg.solve(x, y, left=left),
             [a, b], device, rng)


@pytest.mark.parametrize("shape", [(1, 1), (4, 4), (3, 5, 5), (0, 0), (2, 0, 0)])
def test_det_and_slogdet(device, rng, shape):
    a = _general(rng, *shape[:-1]) if shape[-1] else np.zeros(shape)
    if shape[-1]:
        a[..., 0, :] *= -1  # determinants of both signs
    _compare(tl.linalg.det, torch.linalg.det, [a], device, rng)
    _compare(tl.linalg.slogdet, torch.linalg.slogdet, [a], device, rng)
    _compare(tl.logdet, torch.logdet, [a], device, rng)


def test_det_of_large_values_keeps_its_logarithm(device, rng):
    """det beyond f16's range is inf (the float64 value rounded once); slogdet's logarithm is exact."""
    a = _general(rng, 6) * 8
    assert host(tl.linalg.det(to_tl(a.astype(np.float16), device))).item() in (math.inf, -math.inf)
    _compare(tl.linalg.slogdet, torch.linalg.slogdet, [a], device, rng)


def test_det_gradient_of_a_singular_matrix_is_the_cofactor_matrix(device, rng):
    """det's gradient det(A) A^-T is the cofactor matrix, defined where A^-1 is not (PyTorch's first-order formula
    gives 0 there; its create_graph path gives the cofactors, as here)."""
    a = rng.integers(-4, 5, (2, 4, 4)).astype(np.float64)  # small integers: exact in f16, and so are their sums
    a[:, :, 3] = a[:, :, 0] + a[:, :, 1]  # rank 3 at most: singular, with (generically) nonzero cofactors
    t = t64(a).requires_grad_()
    (want,) = torch.autograd.grad(torch.linalg.det(t).sum(), t, create_graph=True)
    ours = to_tl(a.astype(np.float16), device).requires_grad_()
    tl.linalg.det(ours).sum().backward()
    # integer cofactors (|c| < 2^11), computed in float64 and rounded once: exact
    assert (host(ours.grad) == np.round(want.detach().numpy())).all(), (host(ours.grad), want)


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (5, 3), (3, 5), (2, 4, 2), (2, 2, 4)])
def test_lu_factor_and_lu(device, rng, shape):
    a = f16(rng, *shape)
    _compare(tl.linalg.lu_factor, torch.linalg.lu_factor, [a], device, rng)
    _compare(tl.linalg.lu, torch.linalg.lu, [a], device, rng)


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (5, 3), (2, 3, 5)])
def test_lu_unpack(device, rng, shape):
    """torch.lu_unpack of lu_factor's factors: P, L and U, the gradient flowing from L and U into LU; the parts it
    is told not to unpack are empty tensors; pivots that are not lu_factor's are refused."""
    a = f16(rng, *shape)
    lu, pivots = torch.linalg.lu_factor(t64(a))
    piv = tl.tensor(pivots.numpy(), device=device)
    _compare(lambda x: tl.lu_unpack(x, piv), lambda x: torch.lu_unpack(x, pivots), [_rounded(lu.numpy())], device, rng)
    x = to_tl(_rounded(lu.numpy()).astype(np.float16), device)
    assert [tuple(t.shape) for t in tl.lu_unpack(x, piv, unpack_data=False)] == \
        [tuple(t.shape) for t in torch.lu_unpack(lu, pivots, unpack_data=False)]
    assert [tuple(t.shape) for t in tl.lu_unpack(x, piv, unpack_pivots=False)] == \
        [tuple(t.shape) for t in torch.lu_unpack(lu, pivots, unpack_pivots=False)]
    with pytest.raises(TypeError, match="int32"):
        tl.lu_unpack(x, piv.long())
    with pytest.raises(ValueError, match="between 1 and"):
        tl.lu_unpack(x, piv * 0)
    with pytest.raises(ValueError, match="shape"):
        tl.lu_unpack(x, piv[..., :1])


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
def test_lu_solve(device, rng, left, adjoint):
    """B (3, n, 2) against LU (2, 1, n, n): batch dimensions broadcast; gradients reach LU and B."""
    n = 4
    a = _general(rng, 2, 1, n)
    lu, pivots = torch.linalg.lu_factor(t64(a))
    b = f16(rng, 3, n, 2) if left else f16(rng, 3, 2, n)
    piv = tl.tensor(pivots.numpy().astype(np.int32), device=device)
    _compare(lambda x, y: tl.linalg.lu_solve(x, piv, y, left=left, adjoint=adjoint),
             lambda x, y: torch.linalg.lu_solve(x, pivots, y, left=left, adjoint=adjoint),
             [_rounded(lu.numpy()), b], device, rng)


def test_views_and_devices_of_inputs(device, rng):
    """Transposed and broadcast (stride 0) views are read as their values; results are on the input's device."""
    a = _general(rng, 4)
    x = to_tl(np.ascontiguousarray(a.T).astype(np.float16), device).mT
    assert not x.is_contiguous()
    want = torch.linalg.inv(t64(a)).numpy()
    for got in (tl.linalg.inv(x), tl.linalg.solve(x, tl.eye(4, device=device)), tl.linalg.pinv(x)):
        assert got.device == x.device
        assert_close_f16(got, want, atol=2e-3)
    y = x.expand(3, 4, 4)
    assert_close_f16(tl.linalg.det(y), np.full(3, np.linalg.det(a)), atol=2e-3)


# ---- eigh, svd, qr ------------------------------------------------------------------------------------------
def _eigh_signs(got, want):
    return [None, _column_signs(got[1], want[1])]


@pytest.mark.parametrize("shape", [(1, 1), (4, 4), (3, 5, 5)])
@pytest.mark.parametrize("UPLO", ["L", "U"])
def test_eigh(device, rng, shape, UPLO):
    a = _symmetric(rng, *shape[:-1])
    junk = np.triu(f16(rng, *shape), 1) if UPLO == "L" else np.tril(f16(rng, *shape), -1)
    a = a + junk  # the other triangle is not read: PyTorch's gradient is still symmetric
    _compare(lambda x: tl.linalg.eigh(x, UPLO), lambda x: torch.linalg.eigh(x, UPLO), [a], device, rng,
             signs=_eigh_signs)
    _compare(lambda x: tl.linalg.eigvalsh(x, UPLO), lambda x: torch.linalg.eigvalsh(x, UPLO), [a], device, rng)


def _svd_signs(got, want):
    s = _column_signs(got[0], want[0])
    return [s, None, np.swapaxes(s, -1, -2)]


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (2, 4, 3), (2, 1, 3, 4), (1, 1)])
def test_svd(device, rng, shape):
    a = _separated(rng, *shape)
    _compare(lambda x: tl.linalg.svd(x, full_matrices=False), lambda x: torch.linalg.svd(x, full_matrices=False),
             [a], device, rng, signs=_svd_signs)
    _compare(tl.linalg.svdvals, torch.linalg.svdvals, [a], device, rng)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5)])
def test_svd_full_matrices(device, rng, shape):
    """The completing vectors are any orthonormal basis of the rest: orthonormality is checked, and the gradient of
    the first k, which is PyTorch's."""
    a = _separated(rng, *shape)
    U, S, Vh = tl.linalg.svd(to_tl(a.astype(np.float16), device))
    m, n = shape
    assert U.shape == (m, m) and Vh.shape == (n, n)
    for q in (host(U), host(Vh)):
        np.testing.assert_allclose(q.astype(np.float64) @ q.T.astype(np.float64), np.eye(len(q)), atol=3e-3)
    k = min(shape)
    _compare(lambda x: (lambda u, s, vh: (u[:, :k], s, vh[:k]))(*tl.linalg.svd(x)),
             lambda x: (lambda u, s, vh: (u[:, :k], s, vh[:k]))(*torch.linalg.svd(x)), [a], device, rng,
             signs=_svd_signs)


def _qr_signs(got, want):
    """Q's columns and R's rows flip together (LAPACK's Householder signs should agree; this keeps the test about
    the factorisation)."""
    d = np.sign(np.diagonal(host(got[1]).astype(np.float64), axis1=-2, axis2=-1)
                * np.diagonal(want[1].detach().numpy(), axis1=-2, axis2=-1))
    d = np.where(d == 0, 1.0, d)
    k = d.shape[-1]
    q = np.ones(want[0].shape[:-1] + (want[0].shape[-1],))
    q[..., :k] = d[..., None, :].repeat(q.shape[-2], -2) if q.shape[-2] else q[..., :k]
    return [q, d[..., :, None]]


@pytest.mark.parametrize("shape, mode", [((5, 3), "reduced"), ((3, 5), "reduced"), ((4, 4), "reduced"),
                                         ((2, 5, 3), "reduced"), ((3, 5), "complete"), ((2, 2, 4), "complete")])
def test_qr(device, rng, shape, mode):
    """Tall inputs with singular values 1 to 3; wide ones with a well-conditioned leading square (the gradient
    solves with its R)."""
    *batch, m, n = shape
    a = _separated(rng, *shape) if m >= n else np.concatenate([_general(rng, *batch, m), f16(rng, *batch, m, n - m)],
                                                               -1)
    _compare(lambda x: tl.linalg.qr(x, mode), lambda x: torch.linalg.qr(x, mode), [a], device, rng,
             signs=_qr_signs)


def test_qr_modes_without_a_gradient(device, rng):
    """mode 'r' (Q empty) and 'complete' of a tall matrix: values as PyTorch's; backward raises its errors."""
    a = f16(rng, 5, 3)
    x = to_tl(a.astype(np.float16), device).requires_grad_()
    Q, R = tl.linalg.qr(x, "r")
    assert Q.shape == (0,)
    assert_close_f16(np.abs(host(R)), np.abs(torch.linalg.qr(t64(a), "r").R.numpy()), atol=2e-3)
    with pytest.raises(RuntimeError, match="mode='r'"):
        R.sum().backward()
    Q, R = tl.linalg.qr(x, "complete")
    assert Q.shape == (5, 5) and R.shape == (5, 3)
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete'"):
        R.sum().backward()


# ---- pinv, matrix_rank, lstsq, norms ------------------------------------------------------------------------
@pytest.mark.parametrize("shape, hermitian", [((5, 3), False), ((3, 5), False), ((2, 4, 4), False),
                                             ((2, 4, 4), True)])
def test_pinv(device, rng, shape, hermitian):
    a = _symmetric(rng, *shape[:-1]) if hermitian else _separated(rng, *shape)
    _compare(lambda x: tl.linalg.pinv(x, hermitian=hermitian), lambda x: torch.linalg.pinv(x, hermitian=hermitian),
             [a], device, rng)


def test_pinv_of_a_rank_deficient_matrix(device, rng):
    """A rank-2 product rounded to f16: its third singular value is rounding noise (~1e-3 of the largest), cut by the
    default tolerance of f16's eps as PyTorch's rule gives for that tolerance; the gradient of the rank-2 pinv."""
    a = _rounded(f16(rng, 5, 2) @ f16(rng, 2, 4))
    rtol = torch.finfo(torch.float16).eps * 5
    assert host(tl.linalg.matrix_rank(to_tl(a.astype(np.float16), device))) == 2
    assert torch.linalg.matrix_rank(t64(a)).item() > 2  # float64's eps counts the noise
    _compare(tl.linalg.pinv, lambda x: torch.linalg.pinv(x, rtol=rtol), [a], device, rng, grad_rtol=5e-2)
    _compare(lambda x: tl.pinverse(x, rcond=0.5), lambda x: torch.pinverse(x, rcond=0.5), [a], device, rng,
             grad_rtol=5e-2)


@pytest.mark.parametrize("kwargs", [{}, {"atol": 1.0}, {"rtol": 0.3}, {"atol": 0.5, "rtol": 0.2}, {"tol": 1.5},
                                    {"hermitian": True}])
def test_matrix_rank(device, rng, kwargs):
    """Singular values 0.5 to 3 (the default and explicit tolerances cut between them) and a rank-2 matrix."""
    a = _symmetric(rng, 3, 4) if kwargs.get("hermitian") else _separated(rng, 3, 4, 4)
    a = np.concatenate([a, _rounded(f16(rng, 1, 4, 2) @ f16(rng, 1, 2, 4))]) if not kwargs.get("hermitian") else a
    want = torch.linalg.matrix_rank(t64(a), **kwargs)
    if not kwargs:
        want = torch.linalg.matrix_rank(t64(a), rtol=torch.finfo(torch.float16).eps * 4)
    got = tl.linalg.matrix_rank(to_tl(a.astype(np.float16), device), **kwargs)
    assert got.dtype == tl.int64 and (host(got) == want.numpy()).all()


@pytest.mark.parametrize("a_shape, b_shape", [((6, 3), (6, 2)), ((6, 3), (6,)), ((2, 5, 3), (2, 5)),
                                              ((1, 5, 3), (2, 5, 2)), ((3, 5), (3, 2)), ((4, 4), (4, 1))])
@pytest.mark.parametrize("driver", [None, "gelsd"])
def test_lstsq(device, rng, a_shape, b_shape, driver):
    """Solution and residuals (values and gradients) against PyTorch's same driver (gels for None: PyTorch's CPU
    default gelsy gives the same solution of a full-rank matrix, without residuals)."""
    a, b = _separated(rng, *a_shape), f16(rng, *b_shape)
    theirs_driver = "gels" if driver is None else driver

    def ours(x, y):
        out = tl.linalg.lstsq(x, y, driver=driver)
        return out.solution, out.residuals, out.singular_values

    def theirs(x, y):
        out = torch.linalg.lstsq(x, y, driver=theirs_driver)
        return out.solution, out.residuals, out.singular_values

    _compare(ours, theirs, [a, b], device, rng)
    rank = tl.linalg.lstsq(to_tl(a.astype(np.float16), device), to_tl(b.astype(np.float16), device), driver=driver)
    assert (host(rank.rank) == torch.linalg.lstsq(t64(a), t64(b), driver=theirs_driver).rank.numpy()).all()


def test_lstsq_rank_deficient_is_the_minimum_norm_solution(device, rng):
    a = _rounded(f16(rng, 6, 2) @ f16(rng, 2, 3))
    b = f16(rng, 6, 2)
    got = tl.linalg.lstsq(to_tl(a.astype(np.float16), device), to_tl(b.astype(np.float16), device), driver="gelsy")
    want = torch.linalg.pinv(t64(a), rtol=6 * torch.finfo(torch.float16).eps) @ t64(b)
    assert host(got.rank).item() == 2
    assert_close_f16(got.solution, want.numpy(), atol=3e-3 * np.abs(want.numpy()).max())


@pytest.mark.parametrize("ord", [2, -2, "nuc"])
@pytest.mark.parametrize("dim, keepdim", [((-2, -1), False), ((0, 2), True), ((2, 0), False)])
def test_spectral_matrix_norms(device, rng, ord, dim, keepdim):
    a = _separated(rng, 3, 4, 5).transpose(1, 0, 2)  # [4, 3, 5]
    _compare(lambda x: tl.linalg.matrix_norm(x, ord, dim, keepdim),
             lambda x: torch.linalg.matrix_norm(x, ord, dim, keepdim), [a], device, rng)
    _compare(lambda x: tl.linalg.norm(x[0], ord), lambda x: torch.linalg.norm(x[0], ord), [a], device, rng)


def test_matrix_power(device, rng):
    a = _general(rng, 2, 3) / 2
    for n in (0, 1, 2, 5, -1, -3):
        _compare(lambda x: tl.linalg.matrix_power(x, n), lambda x: torch.linalg.matrix_power(x, n), [a], device,
                 rng, grad_rtol=3e-2)


def test_top_level_forms(device, rng):
    """torch.svd's V (not Vh) and compute_uv, torch.qr's some, torch.cholesky, Tensor methods."""
    a = _separated(rng, 4, 3)
    x = to_tl(a.astype(np.float16), device)
    U, S, V = tl.svd(x)
    assert_close_f16((host(U).astype(np.float64) * host(S)) @ host(V).T, a, atol=5e-3)
    U, S, V = x.svd(compute_uv=False)
    assert U.shape == (4, 4) and V.shape == (3, 3) and not host(U).any()
    assert tl.qr(x, some=False).Q.shape == (4, 4) and x.qr().Q.shape == (4, 3)
    spd = _rounded(a.T @ a + np.eye(3))
    assert_close_f16(tl.cholesky(to_tl(spd.astype(np.float16), device)),
                     torch.linalg.cholesky(t64(spd)).numpy(), atol=4e-3)
    sq = to_tl(_general(rng, 3).astype(np.float16), device)
    assert_close_f16(sq.det(), host(tl.linalg.det(sq)))
    assert_close_f16(sq.slogdet().logabsdet, host(sq.logdet()))


# ---- gradcheck and second derivatives -----------------------------------------------------------------------
def _np(fn):
    return lambda *arrays: [np.asarray(o.detach()) for o in _as_tuple(fn(*[torch.tensor(a) for a in arrays]))]


@pytest.mark.parametrize("name", ["inv", "det", "slogdet", "solve", "eigh", "svd", "qr", "pinv", "lstsq", "lu_factor"])
def test_gradcheck(device, rng, name):
    """Finite differences of PyTorch's float64 functions at our f16 inputs (an oracle for the formulas themselves);
    vectors enter as sign-free forms (V V^T-like products, squares)."""
    a, b = _general(rng, 3), f16(rng, 3, 2)
    cases = {
        "inv": (tl.linalg.inv, torch.linalg.inv, [a]),
        "det": (tl.linalg.det, torch.linalg.det, [a]),
        "slogdet": (lambda x: tl.linalg.slogdet(x)[1], lambda x: torch.linalg.slogdet(x)[1], [a]),
        "solve": (tl.linalg.solve, torch.linalg.solve, [a, b]),
        # symmetrised: the reference reads one triangle, so a perturbation of the other would not move it
        "eigh": (lambda x: (lambda w, v: (w, v * v))(*tl.linalg.eigh((x + x.mT) / 2)),
                 lambda x: (lambda w, v: (w, v * v))(*torch.linalg.eigh((x + x.mT) / 2)), [_symmetric(rng, 4)]),
        "svd": (lambda x: (lambda u, s, vh: (s, u * u, vh[..., :1, :] * u[..., :1, :1]))(*tl.linalg.svd(x, False)),
                lambda x: (lambda u, s, vh: (s, u * u, vh[..., :1, :] * u[..., :1, :1]))(*torch.linalg.svd(x, False)),
                [_separated(rng, 4, 3)]),
        "qr": (lambda x: tuple(tl.linalg.qr(x)), lambda x: tuple(torch.linalg.qr(x)), [f16(rng, 4, 3)]),
        "pinv": (tl.linalg.pinv, torch.linalg.pinv, [_separated(rng, 3, 4)]),
        "lstsq": (lambda x, y: tl.linalg.lstsq(x, y)[:2], lambda x, y: torch.linalg.lstsq(x, y, driver="gels")[:2],
                  [_separated(rng, 5, 3), f16(rng, 5, 2)]),
        "lu_factor": (lambda x: tl.linalg.lu_factor(x)[0], lambda x: torch.linalg.lu_factor(x)[0], [f16(rng, 4, 3)]),
    }
    ours, theirs, arrays = cases[name]
    inputs = [to_tl(x.astype(np.float16), device).requires_grad_() for x in arrays]
    assert tl.autograd.gradcheck(ours, inputs, reference=_np(theirs))


@pytest.mark.parametrize("name", ["inv", "det", "slogdet", "solve", "eigh", "svd", "qr", "lu_factor", "pinv"])
def test_second_derivatives(device, rng, name):
    """grad(loss, A, create_graph=True) differentiated again, against PyTorch's: the backward formulas are tensor ops
    whose solves and factorisations are these functions again."""
    a = _symmetric(rng, 3) if name == "eigh" else _separated(rng, 4, 3) if name in ("svd", "qr", "pinv") else \
        _general(rng, 3)
    funcs = {
        "inv": lambda lib, x: lib.linalg.inv(x),
        "det": lambda lib, x: lib.linalg.det(x),
        "slogdet": lambda lib, x: lib.linalg.slogdet(x)[1],
        "solve": lambda lib, x: lib.linalg.solve(x, x[..., :1] * 2 + 1),
        "eigh": lambda lib, x: (lambda w, v: w * 2 + (v * v)[..., 0, :])(*lib.linalg.eigh(x)),
        "svd": lambda lib, x: (lambda u, s, vh: s + (u * u)[..., 1, :])(*lib.linalg.svd(x, full_matrices=False)),
        "qr": lambda lib, x: (lambda q, r: q.sum(-2) + r[..., 1, :])(*lib.linalg.qr(x)),
        "lu_factor": lambda lib, x: lib.linalg.lu_factor(x)[0],
        "pinv": lambda lib, x: lib.linalg.pinv(x),
    }
    t = t64(a).requires_grad_()
    out = funcs[name](torch, t)
    up, w = f16_randn(rng, tuple(out.shape)), f16_randn(rng, a.shape)
    (g_want,) = torch.autograd.grad((out * t64(up)).sum(), t, create_graph=True)
    (want,) = torch.autograd.grad((g_want * t64(w)).sum(), t)
    x = to_tl(a.astype(np.float16), device).requires_grad_()
    (g,) = tl.autograd.grad((funcs[name](tl, x) * tl.tensor(up, device=device)).sum(), x, create_graph=True)
    assert_grad_close(g, g_want, GRAD_RTOL, "first derivative")
    (got,) = tl.autograd.grad((g * tl.tensor(w, device=device)).sum(), x)
    assert_grad_close(got, want, 5e-2, "second derivative")


def test_det_second_derivative_at_a_singular_matrix_is_not_implemented(device):
    x = tl.tensor([[1.0, 2.0], [2.0, 4.0]], device=device, requires_grad=True)
    (g,) = tl.autograd.grad(tl.linalg.det(x), x, create_graph=True)
    assert host(g).tolist() == [[4.0, -2.0], [-2.0, 1.0]]
    with pytest.raises(NotImplementedError, match="singular"):
        g.sum().backward()


# ---- errors -------------------------------------------------------------------------------------------------
SINGULAR = [[1.0, 2.0], [2.0, 4.0]]


def _batch(device):
    return tl.tensor([[[1.0, 0.0], [0.0, 1.0]], SINGULAR], device=device)


def test_singular_matrices_raise_pytorchs_linalg_errors(device):
    with pytest.raises(tl.linalg.LinAlgError, match=r"linalg.inv: The diagonal element 2 is zero, the inversion "
                                                    "could not be completed because the input matrix is singular"):
        tl.linalg.inv(tl.tensor(SINGULAR, device=device))
    with pytest.raises(tl.linalg.LinAlgError, match=r"linalg.inv: \(Batch element 1\): The diagonal element 2"):
        tl.inverse(_batch(device))
    with pytest.raises(tl.linalg.LinAlgError, match=r"linalg.solve: \(Batch element 1\): The solver failed because "
                                                    "the input matrix is singular"):
        tl.linalg.solve(_batch(device), tl.ones(2, 2, device=device))
    with pytest.raises(tl.linalg.LinAlgError, match=r"lu_factor: \(Batch element 1\): U\[2,2\] is zero"):
        tl.linalg.lu_factor(_batch(device))
    with pytest.raises(tl.linalg.LinAlgError, match="inv_ex"):
        tl.linalg.inv_ex(_batch(device), check_errors=True)


def test_ex_forms_return_info(device):
    """info names the zero pivot (0 for a regular matrix) and the singular matrix's result holds inf or NaN, as
    PyTorch's; det is 0 and slogdet (0, -inf); lu of a singular matrix is fine."""
    inverse, info = tl.linalg.inv_ex(_batch(device))
    want = torch.linalg.inv_ex(torch.tensor([[[1.0, 0.0], [0.0, 1.0]], SINGULAR], dtype=torch.float64))
    assert host(info).tolist() == want.info.tolist() == [0, 2]
    assert (host(inverse)[0] == np.eye(2)).all() and not np.isfinite(host(inverse)[1]).all()
    result, info = tl.linalg.solve_ex(_batch(device), tl.ones(2, 2, device=device))
    assert host(info).tolist() == [0, 2] and info.dtype == tl.int32
    LU, pivots, info = tl.linalg.lu_factor_ex(_batch(device))
    assert host(info).tolist() == [0, 2] and host(pivots).tolist() == [[1, 2], [2, 2]]
    assert host(tl.linalg.det(_batch(device))).tolist() == [1.0, 0.0]
    sign, logabsdet = tl.linalg.slogdet(_batch(device))
    assert host(sign).tolist() == [1.0, 0.0] and host(logabsdet).tolist() == [0.0, -math.inf]
    P, L, U = tl.linalg.lu(_batch(device))
    assert_close_f16(tl.matmul(tl.matmul(P, L), U), host(_batch(device)))
    L, info = tl.linalg.cholesky_ex(tl.tensor([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]]], device=device))
    assert host(info).tolist() == [0, 2] and host(L)[0].tolist() == [[1.0, 0.0], [0.0, 1.0]]


@pytest.mark.parametrize("call, match", [
    (lambda x: tl.linalg.eigh(x), r"linalg.eigh: \(Batch element 1\): The algorithm failed to converge"),
    (lambda x: tl.linalg.eigvalsh(x), "linalg.eigvalsh: .*failed to converge"),
    (lambda x: tl.linalg.svd(x), r"linalg.svd: \(Batch element 1\): .*non-finite values"),
    (lambda x: tl.linalg.svdvals(x), "linalg.svdvals: .*non-finite"),
    (lambda x: tl.linalg.pinv(x), "linalg.pinv: .*non-finite"),
    (lambda x: tl.linalg.matrix_rank(x), "linalg.matrix_rank: .*non-finite"),
    (lambda x: tl.linalg.matrix_norm(x, 2), "linalg.svdvals: .*non-finite"),
])
def test_non_finite_input_fails_to_converge(device, call, match):
    x = tl.tensor([[[1.0, 0.0], [0.0, 1.0]], [[math.nan, 0.0], [0.0, 1.0]]], device=device)
    with pytest.raises(tl.linalg.LinAlgError, match=match):
        call(x)


@pytest.mark.parametrize("call, error, match", [
    (lambda d: tl.linalg.inv(tl.ones(2, 3, device=d)), tl.ShapeMismatchError, "square"),
    (lambda d: tl.linalg.det(tl.ones(3, device=d)), tl.ShapeMismatchError, "square"),
    (lambda d: tl.linalg.inv(tl.ones(2, 2, dtype=tl.int64, device=d)), TypeError, "floating point"),
    (lambda d: tl.linalg.solve(tl.eye(3, device=d), tl.ones(2, device=d)), tl.ShapeMismatchError,
     r"Incompatible shapes of A and B for the equation AX = B \(3x3 and 2x1\)"),
    (lambda d: tl.linalg.solve(tl.eye(3, device=d), tl.ones(3, device=d), left=False), tl.ShapeMismatchError,
     r"XA = B \(3x3 and 3x1\)"),
    (lambda d: tl.linalg.solve(tl.eye(3, device=d).expand(2, 3, 3), tl.ones(4, 3, 1, device=d)),
     tl.ShapeMismatchError, "linalg.solve: the batch dimensions of \\[2, 3, 3\\] and \\[4, 3, 1\\] do not broadcast"),
    (lambda d: tl.linalg.eigh(tl.eye(2, device=d), UPLO="X"), ValueError, "UPLO"),
    (lambda d: tl.linalg.qr(tl.eye(2, device=d), mode="foo"), ValueError, "mode"),
    (lambda d: tl.linalg.qr(tl.ones(2, device=d)), tl.ShapeMismatchError, "at least 2"),
    (lambda d: tl.linalg.svd(tl.eye(2, device=d), driver="foo"), ValueError, "driver"),
    (lambda d: tl.linalg.lstsq(tl.ones(3, 2, device=d), tl.ones(4, 1, device=d)), tl.ShapeMismatchError, "rows"),
    (lambda d: tl.linalg.lstsq(tl.ones(2, 3, 2, device=d), tl.ones(4, 3, 1, device=d)), tl.ShapeMismatchError,
     "linalg.lstsq: the batch dimensions"),
    (lambda d: tl.linalg.lstsq(tl.ones(3, 2, device=d), tl.ones(3, 1, device=d), driver="foo"), ValueError,
     "driver"),
    (lambda d: tl.linalg.lu_factor(tl.eye(2, device=d), pivot=False), NotImplementedError, "without pivoting"),
    (lambda d: tl.linalg.lu_solve(tl.eye(2, device=d), tl.ones(2, device=d), tl.ones(2, 1, device=d)), TypeError,
     "pivots"),
    (lambda d: tl.linalg.matrix_power(tl.eye(2, device=d), 1.5), TypeError, "int"),
    (lambda d: tl.linalg.matrix_rank(tl.eye(2, device=d), tol=1.0, atol=1.0), ValueError, "tol"),
    (lambda d: tl.linalg.matrix_norm(tl.ones(2, 0, device=d), -2), IndexError, "no identity"),
    (lambda d: tl.linalg.inv([[1.0]]), TypeError, "Tensor"),
    (lambda d: tl.linalg.pinv(tl.eye(2, device=d), atol="big"), TypeError, "atol"),
    (lambda d: tl.linalg.lstsq(tl.eye(2, device=d), tl.eye(2, device=d), rcond="x"), TypeError, "rcond"),
    (lambda d: tl.linalg.svd(tl.eye(2, device=d), full_matrices="yes"), TypeError, "bool"),
    (lambda d: tl.linalg.solve(tl.eye(2, device=d), tl.eye(2, device=d), left=1), TypeError, "bool"),
])
def test_bad_arguments_raise_typed_errors(device, call, error, match):
    with pytest.raises(error, match=match):
        call(device)


@pytest.mark.parametrize("name", ["svd", "qr", "eigh", "pinv", "lu_factor", "inv", "det"])
def test_empty_matrices_are_torch(device, name):
    shape = {"eigh": (2, 0, 0), "inv": (2, 0, 0), "det": (2, 0, 0), "lu_factor": (0, 3)}.get(name, (2, 0, 3))
    theirs = _as_tuple(getattr(torch.linalg, name)(torch.zeros(shape, dtype=torch.float64)))
    ours = _as_tuple(getattr(tl.linalg, name)(tl.zeros(shape, device=device)))
    for g, w in zip(ours, theirs):
        assert tuple(g.shape) == tuple(w.shape) and (host(g) == w.numpy()).all()


def test_namespace():
    """The factorisations are in tl.linalg with torch's names; the top-level forms are PyTorch's."""
    for name in ["inv", "inv_ex", "det", "slogdet", "solve", "solve_ex", "lu_factor", "lu_factor_ex", "lu", "lu_solve",
                 "qr", "eigh", "eigvalsh", "svd", "svdvals", "pinv", "matrix_rank", "lstsq", "cholesky_ex",
                 "matrix_power"]:
        assert name in tl.linalg.__all__ and callable(getattr(tl.linalg, name))
    for name in ["inverse", "det", "logdet", "slogdet", "pinverse", "svd", "qr", "cholesky", "matrix_power"]:
        assert callable(getattr(tl, name)) and callable(getattr(tl.Tensor, name))
