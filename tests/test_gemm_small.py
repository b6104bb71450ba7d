"""Small products (each of m, n, k at most 64: on x86 CPUs the engine's own kernel rather than OpenBLAS) against
numpy in float64: every operand layout (row-major, transposed view, strided slice), sizes at the vector
widths' edges and across the limit, attention's split-head batches, a batch-shared operand, the fused
epilogue, and every instruction set level agreeing."""
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import tensorlogic as tl
from oracle import assert_close_to_scale, f16, f16_tensor

SIZES = [(1, 1, 1), (16, 16, 16), (3, 5, 7), (17, 33, 9), (64, 64, 64), (65, 16, 16), (16, 65, 16), (16, 16, 65),
         (8, 24, 40), (1, 64, 63)]


def operand(rng, rows, cols, layout, device):
    """A [rows, cols] operand stored row-major, as a transposed view, or as a slice of every other column;
    returns the float64 values and the tensor."""
    if layout == "transposed":
        x = f16(rng, cols, rows)
        return x.T, f16_tensor(x, device).T
    if layout == "strided":
        x = f16(rng, rows, 2 * cols)
        return x[:, ::2], f16_tensor(x, device)[:, ::2]
    x = f16(rng, rows, cols)
    return x, f16_tensor(x, device)


@pytest.mark.parametrize("m,n,k", SIZES)
@pytest.mark.parametrize("layout_a", ["rows", "transposed", "strided"])
@pytest.mark.parametrize("layout_b", ["rows", "transposed", "strided"])
def test_small_product_layouts(device, rng, m, n, k, layout_a, layout_b):
    a, ta = operand(rng, m, k, layout_a, device)
    b, tb = operand(rng, k, n, layout_b, device)
    assert_close_to_scale(ta @ tb, a @ b)


def test_attention_batches(device, rng):
    """q @ k^T and att @ v on heads split from one [B, T, 3C] projection (batch axes that do not merge)."""
    x = f16(rng, 8, 16, 3 * 64)
    tx = f16_tensor(x, device)

    def heads(t, i):
        return t[..., 64 * i:64 * (i + 1)].reshape(8, 16, 4, 16).swapaxes(1, 2)

    q, k, v = (heads(tx, i) for i in range(3))
    nq, nk, nv = (heads(x, i) for i in range(3))
    att = q @ k.transpose(-2, -1)
    assert_close_to_scale(att, nq @ nk.swapaxes(-2, -1))
    assert_close_to_scale(att @ v, (nq @ nk.swapaxes(-2, -1)).astype(np.float16).astype(np.float64) @ nv)
    assert_close_to_scale(att.transpose(-2, -1) @ q, np.asarray(att.numpy(), np.float64).swapaxes(-2, -1) @ nq)


def test_shared_operand_and_broadcast_batches(device, rng):
    a, b = f16(rng, 5, 12, 7), f16(rng, 7, 9)
    ta, tb = f16_tensor(a, device), f16_tensor(b, device)
    assert_close_to_scale(ta.transpose(1, 2).transpose(1, 2) @ tb, a @ b)
    at = f16(rng, 5, 7, 12)  # a transposed left side against a shared right side (no folding into rows)
    assert_close_to_scale(f16_tensor(at, device).transpose(1, 2) @ tb, at.swapaxes(1, 2) @ b)
    c, d = f16(rng, 2, 1, 6, 5), f16(rng, 1, 3, 5, 4)
    assert_close_to_scale(f16_tensor(c, device) @ f16_tensor(d, device), c @ d)


@pytest.mark.parametrize("act", ["none", "relu", "gelu"])
def test_small_linear_epilogue(device, rng, act):
    x, w, bias, residual = f16(rng, 12, 20), f16(rng, 24, 20, scale=0.3), f16(rng, 24), f16(rng, 12, 24)
    z = x @ w.T + bias + residual
    expected = {"none": z, "relu": np.maximum(z, 0), "gelu": z * 0.5 * (1 + np.vectorize(math.erf)(z / np.sqrt(2)))}
    out = tl.nn.functional.linear(f16_tensor(x, device), f16_tensor(w, device), f16_tensor(bias, device))
    got = tl.linear(f16_tensor(x, device), f16_tensor(w, device), f16_tensor(bias, device), act,
                    f16_tensor(residual, device))
    assert_close_to_scale(out, x @ w.T + bias)
    assert_close_to_scale(got, expected[act], atol_scale=3e-3)


def products(seed):
    """Small products in every layout on one input, as nested lists (the instruction set comparison)."""
    rng = np.random.default_rng(seed)
    out = []
    for layout_a in ("rows", "transposed", "strided"):
        for layout_b in ("rows", "transposed", "strided"):
            _, ta = operand(rng, 19, 33, layout_a, "cpu")
            _, tb = operand(rng, 33, 21, layout_b, "cpu")
            out.append((ta @ tb).numpy().astype(float).tolist())
    return out


def test_every_simd_level_agrees():
    """AVX2 and the portable path (OpenBLAS), forced by TL_CPU_SIMD, against this process's best level."""
    seed = int.from_bytes(os.urandom(4), "little")
    script = ("import sys; sys.path.insert(0, %r); from test_gemm_small import products; print(products(%d))"
              % (os.path.dirname(__file__), seed))
    best = np.array(products(seed))
    for level in ("avx2", "none"):
        run = subprocess.run([sys.executable, "-c", script], env={**os.environ, "TL_CPU_SIMD": level},
                             capture_output=True, text=True, check=True)
        np.testing.assert_allclose(np.array(eval(run.stdout)), best, rtol=2e-3, atol=2e-3 * np.abs(best).max())
