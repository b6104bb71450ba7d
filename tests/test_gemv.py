"""Linear layers with a few rows (the decoding path of language models: weights read as f16 without a
widened copy, on the CPU) against numpy, across row counts on both sides of the direct path's limit,
odd inner sizes, strided weight rows, batch-shared weights and the fused epilogue."""
import numpy as np
import pytest
from oracle import assert_close_f16, f16_randn

import tensorlogic as tl


@pytest.mark.parametrize("rows", [1, 2, 5, 8, 9])
@pytest.mark.parametrize("k", [7, 64, 300])
def test_few_rows_linear(rows, k, device, rng):
    x = f16_randn(rng, (rows, k))
    w = f16_randn(rng, (33, k), 1 / np.sqrt(k))
    expected = x.astype(np.float32) @ w.astype(np.float32).T
    assert_close_f16(tl.linear(tl.tensor(x, device=device), tl.tensor(w, device=device)), expected, rtol=3e-3,
                     atol=3e-3)


def test_few_rows_with_epilogue_batches_and_strided_weights(device, rng):
    x = f16_randn(rng, (2, 3, 40))
    wide = f16_randn(rng, (24, 50), 0.2)
    w = wide[:, :40]  # rows 50 apart
    bias, residual = f16_randn(rng, (24,)), f16_randn(rng, (2, 3, 24))
    z = x.astype(np.float32) @ w.astype(np.float32).T + bias + residual
    expected = z / (1 + np.exp(-z))
    out = tl.linear(tl.tensor(x, device=device), tl.tensor(wide, device=device)[:, :40], tl.tensor(bias, device=device),
                    "silu", tl.tensor(residual, device=device))
    assert_close_f16(out, expected, rtol=3e-3, atol=3e-3)
