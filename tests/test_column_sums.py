"""Column sums of tall f16 matrices (the bias gradients of linear layers), on every device, against float64 sums of
the same f16 values. On CUDA these split the rows over several blocks and the last block of each column merges
their partial sums (cuda/column_sums.cuh: a ticket counter per column block, reset by that block): shapes with
one and many splits, calls of several shapes in a row (a counter left set would corrupt the next), the same
bits on every call, the activation backward that sums its own result, more columns than the counters cover
(a separate merge kernel), and sums captured in a CUDA graph and replayed."""
import numpy as np
import pytest

import tensorlogic as tl
import tensorlogic.nn.functional as F
from oracle import f16_randn
from tensorlogic.tensor import _wrap


def _check(got, want, rows, what):
    got = np.asarray(got, np.float64)
    bound = 2e-3 * np.abs(want) + 1e-3 * np.sqrt(rows)  # f32 sums of f16 values, rounded once to f16
    worst = np.max(np.abs(got - want) - bound)
    assert worst <= 0, f"{what}: off by {worst} beyond the bound"


@pytest.mark.parametrize("shape", [(8192, 768), (4096, 2304), (3000, 24), (40, 64), (2, 37, 520)])
def test_column_sums_match_float64(device, rng, shape):
    x = f16_randn(rng, shape)
    got = tl.tensor(x, device=device).sum(0).cpu().numpy()
    _check(got, x.astype(np.float64).sum(0), shape[0], f"sum(0) of {shape}")


def test_sums_of_several_shapes_in_a_row_are_right_and_repeatable(device, rng):
    shapes = [(2048, 256), (512, 3072), (2048, 256), (4096, 40), (700, 3072)]
    inputs = [f16_randn(rng, s) for s in shapes]
    first = [tl.tensor(x, device=device).sum(0).cpu().numpy() for x in inputs]
    again = [tl.tensor(x, device=device).sum(0).cpu().numpy() for x in inputs]
    for x, a, b in zip(inputs, first, again):
        _check(a, x.astype(np.float64).sum(0), x.shape[0], f"sum(0) of {x.shape}")
        np.testing.assert_array_equal(a, b)


def test_activation_backward_column_sums_of_many_rows(device, rng):
    g, x = f16_randn(rng, (4096, 768)), f16_randn(rng, (4096, 768), 2.0)
    got = tl._core.activation_backward_column_sums(tl._core.BinaryOp.gelu_backward,
                                                    tl.tensor(g, device=device)._a, tl.tensor(x, device=device)._a)
    assert got is not None, f"{device}: no fused activation backward"
    dx, sums = (_wrap(a).cpu().numpy() for a in got)
    _check(sums, dx.astype(np.float64).sum(0), 4096, "gelu backward's column sums")
    t = tl.tensor(x, device=device, requires_grad=True)
    F.gelu(t).backward(tl.tensor(g, device=device))
    np.testing.assert_array_equal(dx, t.grad.cpu().numpy())


@pytest.mark.skipif("cuda" not in tl.available_devices(), reason="needs a CUDA device")
def test_more_columns_than_the_counters_cover(rng):
    x = f16_randn(rng, (64, 4097 * 256))
    got = tl.tensor(x, device="cuda").sum(0).cpu().numpy()
    _check(got, x.astype(np.float64).sum(0), 64, "sum(0) of 1 M columns")


@pytest.mark.skipif("cuda" not in tl.available_devices(), reason="needs a CUDA device")
def test_sums_captured_in_a_graph(rng):
    a, b = f16_randn(rng, (3000, 512)), f16_randn(rng, (3000, 512))
    static = tl.tensor(a, device="cuda")
    graph = tl.cuda.CUDAGraph()
    with tl.cuda.graph(graph):
        sums = static.sum(0)
    for x in (a, b, a):
        static.copy_(tl.tensor(x, device="cuda"))
        graph.replay()
        _check(sums.cpu().numpy(), x.astype(np.float64).sum(0), 3000, "replayed sum(0)")
