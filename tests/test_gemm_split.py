"""CPU products above sgemm_f32's threshold (gemm.cpp: 4M multiply-adds) are split into row or column blocks
over the pool, with OpenBLAS held to one thread: results against numpy float32 at 1 and 2 threads, for
transposed operands, tall, wide and batched shapes."""
import numpy as np
import pytest

import tensorlogic as tl
from oracle import f16_randn


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("m, k, n", [(700, 96, 130), (9, 300, 2100), (1, 4100, 1200)])
@pytest.mark.parametrize("trans", [(False, False), (True, False), (False, True)])
def test_split_products_match_numpy(rng, threads, m, k, n, trans):
    before = tl.get_num_threads()
    tl.set_num_threads(threads)
    try:
        a = f16_randn(rng, (k, m) if trans[0] else (m, k))
        b = f16_randn(rng, (n, k) if trans[1] else (k, n))
        ta, tb = tl.tensor(a), tl.tensor(b)
        got = (ta.T if trans[0] else ta) @ (tb.T if trans[1] else tb)
        want = (a.T if trans[0] else a).astype(np.float32) @ (b.T if trans[1] else b).astype(np.float32)
        np.testing.assert_allclose(got.numpy().astype(np.float32), want, rtol=2e-3, atol=2e-3 * np.sqrt(k))
        batched = tl.stack([ta, ta * 0.5]) @ tl.stack([tb, tb]) if not any(trans) else None
        if batched is not None:
            np.testing.assert_allclose(batched[1].numpy().astype(np.float32), want * 0.5, rtol=2e-3,
                                       atol=2e-3 * np.sqrt(k))
    finally:
        tl.set_num_threads(before)
