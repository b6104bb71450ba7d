"""tl.fused: each fused op against its composition computed by PyTorch in float64 on the same f16 inputs
(forward, gradients and second derivatives), on contiguous and strided inputs, size 0 and 1, broadcasting,
and the error paths (typed, inputs unchanged)."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
import tensorlogic.nn.functional as F
from opinfo import ACTIVATIONS
from oracle import assert_close_f16, f16_randn, host, strided, t64, transposed
from test_autograd import check

TF = torch.nn.functional


# ---- forward: one rounding of the exact composition ------------------------------------------------------
@pytest.mark.parametrize("shapes", [((3, 5), (3, 5)), ((2, 3, 4), (4,)), ((0, 4), (4,)), ((1,), (1,)),
                                    ((4, 1), (1, 6))])
def test_add_mul_relu(shapes, device, rng):
    a, b = f16_randn(rng, shapes[0]), f16_randn(rng, shapes[1])
    for ta in (tl.tensor(a, device=device), strided(a, device)):
        tb = tl.tensor(b, device=device)
        assert_close_f16(tl.fused.add_relu(ta, tb), torch.relu(t64(a) + t64(b)).numpy())
        assert_close_f16(tl.fused.mul_relu(ta, tb), torch.relu(t64(a) * t64(b)).numpy())
    assert_close_f16(tl.fused.add_relu(tl.tensor(a, device=device), 0.25), torch.relu(t64(a) + 0.25).numpy())


@pytest.mark.parametrize("shapes", [((3, 5), (3, 5), (3, 5)), ((2, 3, 4), (4,), (3, 1)), ((0, 3), (3,), (3,)),
                                    ((1,), (), ())])
def test_affine(shapes, device, rng):
    x, a, b = (f16_randn(rng, s) for s in shapes)
    out = tl.fused.affine(strided(x, device), tl.tensor(a, device=device), tl.tensor(b, device=device))
    assert_close_f16(out, (t64(x) * t64(a) + t64(b)).numpy())
    assert_close_f16(tl.fused.affine(tl.tensor(x, device=device), 2.0, -1.5), (t64(x) * 2.0 - 1.5).numpy())


ACTS = {None if name == "none" else name: ref for name, ref in ACTIVATIONS.items()}  # tl.fused takes None


@pytest.mark.parametrize("activation", list(ACTS))
@pytest.mark.parametrize("xshape", [(5, 8), (2, 3, 8), (0, 8), (1, 8)])
def test_linear_act(activation, xshape, device, rng):
    x, w, b = f16_randn(rng, xshape), f16_randn(rng, (6, 8), 0.3), f16_randn(rng, (6,))
    ref = ACTS[activation](t64(x) @ t64(w).T + t64(b)).numpy()
    assert_close_f16(tl.fused.linear_act(tl.tensor(x, device=device), tl.tensor(w, device=device),
                                         tl.tensor(b, device=device), activation), ref)
    ref_nb = ACTS[activation](t64(x) @ t64(w).T).numpy()
    assert_close_f16(tl.fused.linear_act(strided(x, device), transposed(w, device), None, activation), ref_nb)


def test_linear_residual_relu(device, rng):
    x, w, b, r = f16_randn(rng, (2, 4, 8)), f16_randn(rng, (6, 8), 0.3), f16_randn(rng, (6,)), f16_randn(rng, (4, 6))
    out = tl.fused.linear_residual_relu(tl.tensor(x, device=device), tl.tensor(w, device=device),
                                        tl.tensor(b, device=device), strided(r, device))
    assert_close_f16(out, torch.relu(t64(x) @ t64(w).T + t64(b) + t64(r)).numpy())


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_linear(approximate, device, rng):
    x, w, b = f16_randn(rng, (3, 7)), f16_randn(rng, (5, 7), 0.3), f16_randn(rng, (5,))
    out = tl.fused.gelu_linear(tl.tensor(x, device=device), tl.tensor(w, device=device), tl.tensor(b, device=device),
                               approximate=approximate)
    # composed: gelu's output is rounded to f16 before the GEMM, as the oracle does too
    h = TF.gelu(t64(x), approximate=approximate).numpy().astype(np.float16)
    assert_close_f16(out, (t64(h) @ t64(w).T + t64(b)).numpy())


@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_linear(affine, device, rng):
    x, w, b = f16_randn(rng, (2, 3, 16), 2.0), f16_randn(rng, (5, 16), 0.3), f16_randn(rng, (5,))
    nw, nb = (f16_randn(rng, (16,)), f16_randn(rng, (16,))) if affine else (None, None)
    dev = (lambda v: None if v is None else tl.tensor(v, device=device))
    out = tl.fused.layer_norm_linear(tl.tensor(x, device=device), dev(nw), dev(nb), dev(w), dev(b), eps=1e-5)
    h = TF.layer_norm(t64(x), (16,), None if nw is None else t64(nw), None if nb is None else t64(nb), 1e-5)
    h = h.numpy().astype(np.float16)  # composed: two roundings
    assert_close_f16(out, (t64(h) @ t64(w).T + t64(b)).numpy(), rtol=4e-3, atol=4e-3)


def test_attention(device, rng):
    q, k, v = f16_randn(rng, (2, 3, 4, 8)), f16_randn(rng, (2, 3, 5, 8)), f16_randn(rng, (2, 3, 5, 6))
    out = tl.fused.attention(tl.tensor(q, device=device), tl.tensor(k, device=device), tl.tensor(v, device=device),
                             is_causal=True)
    ref = TF.scaled_dot_product_attention(t64(q), t64(k), t64(v), is_causal=True)
    assert_close_f16(out, ref.numpy())


def _targets(rng, shape, classes, ignore=-100, ignored=0.2):
    t = rng.integers(0, classes, shape).astype(np.int32)
    t[rng.uniform(size=shape) < ignored] = ignore
    return t


@pytest.mark.parametrize("shape", [(6, 10), (2, 5, 3, 4), (7,), (0, 4), (1, 1), (3, 1000), (5, 1003)])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_softmax_cross_entropy(shape, smoothing, device, rng):
    x = f16_randn(rng, shape, 3.0)
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    t = _targets(rng, tshape, shape[0] if len(shape) == 1 else shape[1], ignored=0.0 if len(shape) == 1 else 0.2)
    tt = tl.tensor(t, device=device)
    for reduction in ("none", "sum", "mean"):
        ref = TF.cross_entropy(t64(x), torch.tensor(t.astype(np.int64)), reduction=reduction,
                               label_smoothing=smoothing).numpy()
        out = tl.fused.softmax_cross_entropy(tl.tensor(x, device=device), tt, reduction, label_smoothing=smoothing)
        assert_close_f16(out, ref, rtol=4e-3, atol=2e-3)
        # F.cross_entropy takes the fused path with these arguments
        assert_close_f16(F.cross_entropy(tl.tensor(x, device=device), tt, reduction=reduction,
                                         label_smoothing=smoothing), ref, rtol=4e-3, atol=2e-3)
    if len(shape) == 2 and shape[0] > 1:  # classes strided / transposed views
        ref = TF.cross_entropy(t64(x), torch.tensor(t.astype(np.int64)), reduction="none").numpy()
        assert_close_f16(tl.fused.softmax_cross_entropy(strided(x, device), tt, "none"), ref, rtol=4e-3, atol=2e-3)
        assert_close_f16(tl.fused.softmax_cross_entropy(transposed(x, device), tt, "none"), ref, rtol=4e-3,
                         atol=2e-3)


def test_softmax_cross_entropy_edge_values(device):
    x = np.array([[0.0, -np.inf, 1.0], [-np.inf, -np.inf, -np.inf], [60000.0, -60000.0, 0.0]], np.float16)
    t = np.array([0, 1, 1], np.int32)
    out = tl.fused.softmax_cross_entropy(tl.tensor(x, device=device), tl.tensor(t, device=device), "none")
    ref = TF.cross_entropy(t64(x), torch.tensor(t.astype(np.int64)), reduction="none").numpy()
    assert_close_f16(out, ref)
    t_all_ignored = tl.tensor(np.full(3, -100, np.int32), device=device)
    assert np.isnan(host(tl.fused.softmax_cross_entropy(tl.tensor(x, device=device), t_all_ignored)))
    assert host(tl.fused.softmax_cross_entropy(tl.tensor(x, device=device), t_all_ignored, "sum")) == 0


@pytest.mark.parametrize("classes", [16, 19])
def test_softmax_cross_entropy_infinite_leading_logits(classes, device, rng):
    # the GPU's online max/sum starts from a group (of 8, or 1) of -inf values, or of -inf and NaN
    x = f16_randn(rng, (3, classes), 3.0)
    x[0, :8] = -np.inf
    x[1] = -np.inf
    x[2, :8] = -np.inf
    x[2, 1] = np.nan
    t = np.array([9, 3, 10], np.int32)
    out = tl.fused.softmax_cross_entropy(tl.tensor(x, device=device), tl.tensor(t, device=device), "none")
    assert_close_f16(out, TF.cross_entropy(t64(x), torch.tensor(t.astype(np.int64)), reduction="none").numpy())


@pytest.mark.parametrize("classes", [3, 16, 37, 64])
def test_softmax_cross_entropy_nan_anywhere_in_the_row(classes, device, rng):
    x = np.repeat(f16_randn(rng, (1, classes)), classes, 0)
    x[np.arange(classes), np.arange(classes)] = np.nan  # row r holds a NaN in column r
    t = tl.tensor(np.zeros(classes, np.int32), device=device)
    assert np.isnan(host(tl.fused.softmax_cross_entropy(tl.tensor(x, device=device), t, "none"))).all()


def test_out_of_range_target_raises_index_error_by_the_first_read(device, rng):
    # The CPU raises at the call; CUDA checks on the device without waiting and raises the same error at the
    # latest when the loss, or anything computed from it, is read. Either way the next call works.
    x = tl.tensor(f16_randn(rng, (6, 5)), device=device, requires_grad=True)
    bad = tl.tensor(np.array([0, 1, 7, 2, -100, 4]), device=device)  # int64; -100 is ignored
    with pytest.raises(IndexError, match=r"softmax_cross_entropy: target 7 is out of bounds for 5 classes "
                                         r"\(ignore_index -100\)"):
        (F.cross_entropy(x, bad) * 2).numpy()
    # int64 targets are checked as given: 2^32 + 1 does not wrap to the class 1
    with pytest.raises(IndexError, match="target 4294967297 is out of bounds"):
        tl.fused.softmax_cross_entropy(x, tl.tensor(np.array([0, 1, 2, 3, 4, 2**32 + 1]), device=device)).item()
    good = np.array([0, 1, 4, 2, 3, 4])
    loss = F.cross_entropy(x, tl.tensor(good, device=device))
    ref = TF.cross_entropy(t64(host(x.detach())), torch.tensor(good)).item()
    assert loss.item() == pytest.approx(ref, rel=4e-3)


@pytest.mark.skipif(not tl.cuda.is_available(), reason="needs CUDA")
def test_cuda_target_check_does_not_wait_for_the_device(rng):
    x = tl.tensor(f16_randn(rng, (6, 5)), device="cuda", requires_grad=True)
    bad = tl.tensor(np.array([0, 1, 2, 3, 4, 5]), device="cuda")
    loss = F.cross_entropy(x, bad)  # no error yet: raising here would need the host to read the targets
    loss.backward()
    with pytest.raises(IndexError, match="target 5 is out of bounds for 5 classes"):
        x.grad.numpy()  # any read from the device raises it, once
    assert np.isfinite(host(x.grad)).all()
    F.cross_entropy(x, bad)
    with pytest.raises(IndexError, match="target 5 is out of bounds"):
        tl.cuda.synchronize()
    tl.cuda.synchronize()


def test_cross_entropy_large_batch_mean_does_not_overflow(device, rng):
    x = f16_randn(rng, (20000, 4), 8.0)
    t = rng.integers(0, 4, (20000,)).astype(np.int32)
    ref = TF.cross_entropy(t64(x), torch.tensor(t.astype(np.int64))).numpy()
    assert_close_f16(F.cross_entropy(tl.tensor(x, device=device), tl.tensor(t, device=device)), ref)


# ---- gradients and second derivatives against torch autograd in float64 -------------------------------
def f16u(rng, *shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, shape).astype(np.float16)


def test_grad_add_mul_relu_affine(device, rng):
    a, b = f16u(rng, 3, 4), f16u(rng, 4)
    check(tl.fused.add_relu, lambda x, y: torch.relu(x + y), [a, b], [0, 1], device, rng=rng)
    check(tl.fused.mul_relu, lambda x, y: torch.relu(x * y), [a, b], [0, 1], device, rng=rng)
    c = f16u(rng, 3, 1)
    check(tl.fused.affine, lambda x, y, z: x * y + z, [a, b, c], [0, 1, 2], device, rng=rng)


@pytest.mark.parametrize("activation", list(ACTS))
def test_grad_linear_act(activation, device, rng):
    x, w, b = f16u(rng, 2, 3, 5), f16u(rng, 4, 5, low=-0.5, high=0.5), f16u(rng, 4)
    check(lambda x, w, b: tl.fused.linear_act(x, w, b, activation),
          lambda x, w, b: ACTS[activation](x @ w.T + b), [x, w, b], [0, 1, 2], device, rng=rng)


def test_grad_linear_residual_relu(device, rng):
    x, w, b, r = f16u(rng, 3, 5), f16u(rng, 4, 5, low=-0.5, high=0.5), f16u(rng, 4), f16u(rng, 3, 4)
    check(tl.fused.linear_residual_relu, lambda x, w, b, r: torch.relu(x @ w.T + b + r), [x, w, b, r],
          [0, 1, 2, 3], device, rng=rng)


def test_grad_gelu_linear_and_layer_norm_linear(device, rng):
    x, w, b = f16u(rng, 3, 6), f16u(rng, 4, 6, low=-0.5, high=0.5), f16u(rng, 4)
    check(tl.fused.gelu_linear, lambda x, w, b: TF.gelu(x) @ w.T + b, [x, w, b], [0, 1, 2], device, rng=rng)
    nw, nb = f16u(rng, 6, low=0.5, high=1.5), f16u(rng, 6)
    check(tl.fused.layer_norm_linear, lambda x, nw, nb, w, b: TF.layer_norm(x, (6,), nw, nb, 1e-5) @ w.T + b,
          [x, nw, nb, w, b], [0, 1, 2, 3, 4], device, rtol=1e-2, rtol2=4e-2, rng=rng)


def test_grad_attention(device, rng):
    q, k, v = f16u(rng, 2, 3, 4), f16u(rng, 2, 5, 4), f16u(rng, 2, 5, 3)
    check(lambda q, k, v: tl.fused.attention(q, k, v),
          lambda q, k, v: torch.softmax(q @ k.mT / 2.0, -1) @ v, [q, k, v], [0, 1, 2], device, rng=rng)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_grad_softmax_cross_entropy(reduction, smoothing, device, rng):
    x = f16u(rng, 5, 7, low=-3.0, high=3.0)
    t = _targets(rng, (5,), 7, ignore=3, ignored=0.3)
    t[0] = 1  # at least one counted target
    check(lambda x, t: tl.fused.softmax_cross_entropy(x, t, reduction, ignore_index=3, label_smoothing=smoothing),
          lambda x, t: TF.cross_entropy(x, t, reduction=reduction, ignore_index=3, label_smoothing=smoothing),
          [x, t], [0], device, rng=rng)
    x4 = f16u(rng, 2, 4, 3)
    t4 = rng.integers(0, 4, (2, 3)).astype(np.int32)
    check(lambda x, t: F.cross_entropy(x, t, reduction=reduction, label_smoothing=smoothing),
          lambda x, t: TF.cross_entropy(x, t, reduction=reduction, label_smoothing=smoothing), [x4, t4], [0], device,
          rng=rng)


# ---- error paths: typed errors, inputs unchanged ---------------------------------------------------------
def test_errors(device, rng):
    x = f16_randn(rng, (4, 5))
    tx = tl.tensor(x, device=device)
    t = tl.tensor(np.array([0, 1, 2, 3], np.int32), device=device)
    with pytest.raises(tl.ShapeMismatchError, match="softmax_cross_entropy"):
        tl.fused.softmax_cross_entropy(tx, tl.tensor(np.zeros(3, np.int32), device=device))
    with pytest.raises(IndexError, match="out of bounds"):  # on CUDA by the time the loss is read
        tl.fused.softmax_cross_entropy(tx, tl.tensor(np.array([0, 5, 1, 1], np.int32), device=device)).item()
    with pytest.raises(IndexError, match="out of bounds"):
        tl.fused.softmax_cross_entropy(tx, tl.tensor(np.array([0, -1, 1, 1], np.int32), device=device)).item()
    with pytest.raises(TypeError, match="int32"):
        tl.fused.softmax_cross_entropy(tx, tl.tensor(np.zeros(4, np.float16), device=device))
    with pytest.raises(TypeError):
        tl.fused.softmax_cross_entropy(tx, [0, 1, 2, 3])
    with pytest.raises(ValueError, match="label_smoothing"):
        tl.fused.softmax_cross_entropy(tx, t, label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction"):
        tl.fused.softmax_cross_entropy(tx, t, reduction="avg")
    with pytest.raises(tl.ShapeMismatchError):
        tl.fused.softmax_cross_entropy(tl.tensor(np.float16(1.0), device=device), t)
    w = tl.tensor(f16_randn(rng, (3, 5)), device=device)
    with pytest.raises(ValueError, match="activation"):
        tl.fused.linear_act(tx, w, None, "tanh")
    with pytest.raises(ValueError, match="residual"):
        tl.fused.linear_residual_relu(tx, w, None, None)
    with pytest.raises(tl.ShapeMismatchError):
        tl.fused.linear_act(tx, tl.tensor(f16_randn(rng, (3, 4)), device=device))
    with pytest.raises(tl.ShapeMismatchError):
        tl.fused.add_relu(tx, tl.tensor(f16_randn(rng, (3,)), device=device))
    with pytest.raises(tl.ShapeMismatchError):
        tl.fused.affine(tx, tl.tensor(f16_randn(rng, (2,)), device=device), 1.0)
    with pytest.raises(tl.ShapeMismatchError):
        tl.fused.layer_norm_linear(tx, tl.tensor(f16_randn(rng, (4,)), device=device), None, w)
    with pytest.raises(TypeError):
        tl.fused.add_relu(1.0, tx)
    np.testing.assert_array_equal(host(tx), x)
    np.testing.assert_array_equal(host(t), [0, 1, 2, 3])


def test_exported():
    for name in tl.fused.__all__:
        assert callable(getattr(tl.fused, name)) and getattr(tl.fused, name).__doc__


@pytest.mark.skipif(not tl.cuda.is_available(), reason="needs CUDA")
def test_cuda_embedding_reads_its_indices_on_the_device(rng):
    # the rows are gathered by indices read on the device (no host wait, so a CUDA graph can hold an
    # embedding); an index out of range gives zeros until its error comes at the next read
    w = f16_randn(rng, (7, 5))
    idx = rng.integers(0, 7, (3, 4))
    for dtype in (np.int32, np.int64):
        out = tl.embedding(tl.tensor(w, device="cuda"), tl.tensor(idx.astype(dtype), device="cuda"))
        np.testing.assert_array_equal(host(out), w[idx])
    bad = tl.embedding(tl.tensor(w, device="cuda"), tl.tensor(np.array([1, 7, 2]), device="cuda"))
    with pytest.raises(IndexError, match="embedding: index 7 is out of bounds for dimension 0 with size 7"):
        bad.numpy()
    np.testing.assert_array_equal(host(bad), np.stack([w[1], np.zeros(5, np.float16), w[2]]))
