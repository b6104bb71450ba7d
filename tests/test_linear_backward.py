"""linear's weight and bias gradients from one native call (_core.linear_weight_bias_grad: on CUDA with
TL_CUDA_BGRAD=1 or auto the bias's column sum runs in the weight GEMM's cuBLASLt epilogue, BGRADB), on every
device, against PyTorch's float64 gradients on the same f16 inputs: 1-d, 2-d and batched inputs, strided and
transposed output gradients, with and without a bias, only some gradients wanted; second derivatives through
it (create_graph) against PyTorch and gradcheck; and on CUDA, that the fused path runs no reduction kernel of
ours."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
import tensorlogic.nn.functional as F
from oracle import F16_ULP, assert_grad_close, f16_randn, host
from tensorlogic import _core
from tensorlogic.errors import ShapeMismatchError
from tensorlogic.tensor import _wrap

RTOL = 5e-3  # sums of up to ~600 f16 products in f32, rounded once


def _leaves(arrays, device, lib):
    if lib is torch:
        return [torch.tensor(a.astype(np.float64), requires_grad=True) for a in arrays]
    return [tl.tensor(a, device=device, requires_grad=True) for a in arrays]


@pytest.mark.parametrize("x_shape", [(7,), (33, 24), (4, 150, 40), (2, 3, 5, 16)])
@pytest.mark.parametrize("out_features", [1, 40, 96])
@pytest.mark.parametrize("wanted", ["x,w,b", "w,b", "w", "b"])
def test_gradients_match_torch(device, rng, x_shape, out_features, wanted):
    x, w, b = f16_randn(rng, x_shape), f16_randn(rng, (out_features, x_shape[-1]), 0.3), f16_randn(rng, (out_features,))
    g = f16_randn(rng, x_shape[:-1] + (out_features,))
    names = wanted.split(",")
    ours, theirs = _leaves((x, w, b), device, tl), _leaves((x, w, b), None, torch)
    pick = lambda leaves: [leaves["xwb".index(n)] for n in names]  # noqa: E731
    got = tl.autograd.grad(F.linear(*ours), pick(ours), tl.tensor(g, device=device))
    want = torch.autograd.grad(torch.nn.functional.linear(*theirs), pick(theirs), torch.tensor(g.astype(np.float64)))
    for name, a, e in zip(names, got, want):
        assert_grad_close(a, e, RTOL, f"d{name}")


def test_without_bias(device, rng):
    x, w, g = f16_randn(rng, (3, 20, 24)), f16_randn(rng, (16, 24)), f16_randn(rng, (3, 20, 16))
    (tx, tw), (ox, ow) = _leaves((x, w), device, tl), _leaves((x, w), None, torch)
    F.linear(tx, tw).backward(tl.tensor(g, device=device))
    torch.nn.functional.linear(ox, ow).backward(torch.tensor(g.astype(np.float64)))
    assert_grad_close(tw.grad, ow.grad, RTOL, "dw")
    assert_grad_close(tx.grad, ox.grad, RTOL, "dx")


@pytest.mark.parametrize("activation", ["none", "gelu_tanh"])
def test_transposed_and_strided_output_gradient(device, rng, activation, bgrad):
    """The output gradient arrives as a transposed view ([M, N] with unit stride down the rows) or as every
    other column of a wider array; fused activations hand the gradient through their derivative first."""
    x, w, b = f16_randn(rng, (70, 24)), f16_randn(rng, (48, 24), 0.3), f16_randn(rng, (48,))
    g_t = f16_randn(rng, (48, 70))
    g_wide = f16_randn(rng, (70, 96))
    for g_np, view in ((g_t, lambda t: t.mT), (g_wide, lambda t: t[:, ::2])):
        ours, theirs = _leaves((x, w, b), device, tl), _leaves((x, w, b), None, torch)
        out = tl.ops.linalg.linear(*ours, activation=activation)
        ref = torch.nn.functional.linear(*theirs)
        if activation == "gelu_tanh":
            ref = torch.nn.functional.gelu(ref, approximate="tanh")
        got = tl.autograd.grad(out, ours, view(tl.tensor(g_np, device=device)))
        want = torch.autograd.grad(ref, theirs, view(torch.tensor(g_np.astype(np.float64))))
        for name, a, e in zip("xwb", got, want):
            assert_grad_close(a, e, 1e-2, f"d{name} ({activation})")


@pytest.fixture(params=["default", "epilogue"])
def bgrad(request, monkeypatch):
    """The CUDA backend's setting (cuda/gemm.cpp): by default the GEMM then the column sum; TL_CUDA_BGRAD=1 the
    sum in the GEMM's epilogue wherever cuBLASLt has an algorithm. Other devices ignore it."""
    if request.param == "epilogue":
        monkeypatch.setenv("TL_CUDA_BGRAD", "1")
    return request.param


@pytest.mark.parametrize("layout", ["contiguous", "g transposed", "x transposed", "both strided"])
def test_native_call_matches_numpy(device, rng, layout, bgrad):
    m, n, k = 300, 40, 56
    g_np, x_np = f16_randn(rng, (m, n)), f16_randn(rng, (m, k))
    g, x = tl.tensor(g_np, device=device), tl.tensor(x_np, device=device)
    if layout in ("g transposed", "both strided"):
        g = tl.tensor(np.ascontiguousarray(g_np.T), device=device).mT
    if layout in ("x transposed", "both strided"):
        x = tl.tensor(np.ascontiguousarray(x_np.T), device=device).mT
    if layout == "both strided":
        g = tl.tensor(np.repeat(g_np, 2, axis=1), device=device)[:, ::2]
    gw, gb = [_wrap(a) for a in _core.linear_weight_bias_grad(g._a, x._a)]
    g64, x64 = g_np.astype(np.float64), x_np.astype(np.float64)
    assert_grad_close(gw, torch.tensor(g64.T @ x64), RTOL, "gw")
    assert_grad_close(gb, torch.tensor(g64.sum(0)), RTOL, "gb")


def test_equals_the_composed_form(device, rng, bgrad):
    """The fused call against matmul + sum (the unfused backward's ops): equal on devices that compose it; on
    CUDA, whose epilogue sums the same f32 values in another order, within one f16 step (or an f32 sum's error
    near zero)."""
    g_np, x_np = f16_randn(rng, (2048, 192)), f16_randn(rng, (2048, 64))
    g, x = tl.tensor(g_np, device=device), tl.tensor(x_np, device=device)
    gw, gb = [host(_wrap(a)).astype(np.float64) for a in _core.linear_weight_bias_grad(g._a, x._a)]
    cw, cb = host(tl.matmul(g.mT, x)).astype(np.float64), host(g.sum(0)).astype(np.float64)
    for name, a, c in (("gw", gw, cw), ("gb", gb, cb)):
        if device == "cpu":
            np.testing.assert_array_equal(a, c, err_msg=name)
        else:
            bound = F16_ULP * np.abs(c) + 1e-4 * np.abs(c).max()
            assert (np.abs(a - c) <= bound).all(), f"{name}: largest difference {np.abs(a - c).max()}"


def test_shapes_and_errors(device, rng):
    # no rows: zero gradients, as the sums over nothing are
    gw, gb = [host(_wrap(a)) for a in _core.linear_weight_bias_grad(tl.zeros(0, 5, device=device)._a,
                                                                    tl.zeros(0, 3, device=device)._a)]
    assert gw.shape == (5, 3) and gb.shape == (5,) and not gw.any() and not gb.any()
    gw, gb = _core.linear_weight_bias_grad(tl.zeros(4, 0, device=device)._a, tl.zeros(4, 3, device=device)._a)
    assert tuple(gw.shape) == (0, 3) and tuple(gb.shape) == (0,)
    with pytest.raises(ShapeMismatchError, match="leading shape"):
        _core.linear_weight_bias_grad(tl.zeros(4, 5, device=device)._a, tl.zeros(3, 2, device=device)._a)
    with pytest.raises(ShapeMismatchError):
        _core.linear_weight_bias_grad(tl.zeros(2, 4, 5, device=device)._a, tl.zeros(8, 2, device=device)._a)


def test_second_derivatives_match_torch(device, rng, bgrad):
    """create_graph through the fused gradients: (gw, gb) depend on g (here a function of x, w and b through a
    loss) and on x; a second backward of a weighted sum of them reaches x, w and b as in PyTorch."""
    x, w, b = f16_randn(rng, (2, 9, 12)), f16_randn(rng, (10, 12), 0.4), f16_randn(rng, (10,), 0.5)
    cw, cb = f16_randn(rng, (10, 12)), f16_randn(rng, (10,))
    results = []
    for lib in (tl, torch):
        leaves = _leaves((x, w, b), device, lib)
        func = F if lib is tl else torch.nn.functional
        loss = (func.linear(*leaves) ** 2).sum() * 0.25
        gw, gb = lib.autograd.grad(loss, leaves[1:], create_graph=True)
        const = (lambda a: tl.tensor(a, device=device)) if lib is tl else (lambda a: torch.tensor(a.astype(np.float64)))
        results.append((gw, gb, lib.autograd.grad((gw * const(cw)).sum() + (gb * const(cb)).sum(), leaves)))
    (gw, gb, second), (rgw, rgb, rsecond) = results
    assert gw.grad_fn.name == "_LinearWeightBiasGrad"  # the fused path recorded its node
    assert_grad_close(gw, rgw, 1e-2, "gw")
    assert_grad_close(gb, rgb, 1e-2, "gb")
    for name, a, e in zip("xwb", second, rsecond):
        assert_grad_close(a, e, 2e-2, f"second derivative d{name}")


@pytest.mark.parametrize("used", ["both", "gw", "gb"])
def test_gradcheck(device, rng, used):
    g = tl.tensor(f16_randn(rng, (2, 5, 4)), device=device, requires_grad=True)
    x = tl.tensor(f16_randn(rng, (2, 5, 3)), device=device, requires_grad=True)
    pick = {"both": lambda o: o, "gw": lambda o: o[:1], "gb": lambda o: o[1:]}[used]

    def fn(g, x):
        return tuple(pick(tl.ops.linalg._LinearWeightBiasGrad.apply(g, x)))

    def reference(g, x):
        g2, x2 = g.reshape(-1, 4), x.reshape(-1, 3)
        return pick((g2.T @ x2, g2.sum(0)))

    assert tl.autograd.gradcheck(fn, (g, x), reference=reference)


@pytest.mark.skipif("cuda" not in tl.available_devices() or not torch.cuda.is_available(),
                    reason="needs a CUDA device visible to PyTorch's profiler")
def test_cuda_fused_path_runs_no_reduction_kernel(rng, monkeypatch):
    """Under PyTorch's CUPTI profiler (which records every kernel of the process): the weight and bias
    gradients at a GPT-2 MLP shape launch cuBLASLt's kernels only, while matmul + sum also launch our column
    reduction, whose second read of g the epilogue saves. TL_CUDA_BGRAD=1 takes the epilogue wherever cuBLASLt
    has an algorithm; unset (or 0) never takes it."""
    g = tl.tensor(f16_randn(rng, (2048, 768)), device="cuda")
    x = tl.tensor(f16_randn(rng, (2048, 3072)), device="cuda")
    monkeypatch.setenv("TL_CUDA_BGRAD", "1")

    def kernels(fn):
        fn()
        tl.cuda.synchronize()
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU,
                                                torch.profiler.ProfilerActivity.CUDA]) as prof:
            fn()
            tl.cuda.synchronize()
        return [e.name for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]

    fused = kernels(lambda: _core.linear_weight_bias_grad(g._a, x._a))
    composed = kernels(lambda: (tl.matmul(g.mT, x), g.sum(0)))
    ours = lambda names: [k for k in names if "tensorlogic" in k]  # noqa: E731
    assert ours(composed), f"the profiler saw none of our kernels: {composed}"
    assert not ours(fused), f"the fused path launched {ours(fused)}"
    launches = lambda names: [k for k in names if not k.startswith("Memset")]  # noqa: E731 (cuBLASLt's zeroing)
    assert len(launches(fused)) < len(launches(composed)), (fused, composed)
    monkeypatch.delenv("TL_CUDA_BGRAD")
    assert ours(kernels(lambda: _core.linear_weight_bias_grad(g._a, x._a)))
