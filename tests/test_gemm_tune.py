"""TL_CUDA_GEMM_TUNE=1 (cuda/gemm.cpp: each GEMM shape's algorithm chosen by timing the heuristic's first 16 at
its first run): the products it runs are still right. The variable is read when a shape's plan is built, so each
check runs in a child process that sets it before any GEMM: plain, batched and transposed products, the fused
bias / residual / relu epilogues, a tied weight's gradient accumulated from two uses (the timing runs must not
repeat an accumulation), against float64 products of the same f16 inputs; and a shape first seen inside a CUDA
graph's capture (no timing there: it would wait for the device) is captured, replayed and right. CUDA only."""
import os
import subprocess
import sys
import textwrap

import pytest

import tensorlogic as tl

pytestmark = pytest.mark.skipif("cuda" not in tl.available_devices(), reason="needs a CUDA device")

_PRELUDE = """
import numpy as np
import tensorlogic as tl
import tensorlogic.nn.functional as F

rng = np.random.default_rng(SEED)

def f16(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float16)

def on_gpu(a, grad=False):
    return tl.tensor(a, device="cuda", requires_grad=grad)

def close(name, got, want, rtol=4e-3):
    got = np.asarray(got.cpu().numpy(), np.float64)
    bound = rtol * np.abs(want) + rtol * np.abs(want).max() + 1e-3
    worst = float(np.max(np.abs(got - want) - bound))
    assert worst <= 0, f"{name}: off by {worst} beyond the bound (seed SEED)"
    print("ok", name)
"""


def _run(body, rng):
    """Runs `body` in a child process with tuning on, its numpy generator seeded from the test's."""
    code = (_PRELUDE + textwrap.dedent(body)).replace("SEED", str(int(rng.integers(2**31))))
    env = dict(os.environ, TL_CUDA_GEMM_TUNE="1")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_tuned_products_match_float64(rng):
    out = _run("""
        for m, k, n in [(512, 768, 2304), (256, 3072, 768), (97, 130, 61)]:
            a, b = f16(m, k, scale=0.5), f16(k, n, scale=0.5)
            close(f"mm {m}x{k}x{n}", on_gpu(a) @ on_gpu(b), a.astype(np.float64) @ b.astype(np.float64))
        a, b = f16(6, 64, 128), f16(6, 256, 128)
        close("bmm, b transposed", on_gpu(a) @ on_gpu(b).mT,
              a.astype(np.float64) @ b.astype(np.float64).transpose(0, 2, 1))
    """, rng)
    assert out.count("ok") == 4


def test_tuned_epilogues_match_float64(rng):
    out = _run("""
        x, w, b, r = f16(300, 256), f16(384, 256, scale=0.1), f16(384), f16(300, 384)
        xd, wd, bd, rd = (v.astype(np.float64) for v in (x, w, b, r))
        plain = xd @ wd.T + bd
        close("bias", F.linear(on_gpu(x), on_gpu(w), on_gpu(b)), plain)
        close("bias + relu", tl.ops.linalg.linear(on_gpu(x), on_gpu(w), on_gpu(b), activation="relu"),
              np.maximum(plain, 0))
        close("residual", tl.ops.linalg.linear(on_gpu(x), on_gpu(w), on_gpu(b), residual=on_gpu(r)), plain + rd)
    """, rng)
    assert out.count("ok") == 3


def test_tied_weight_gradient_accumulates_once(rng):
    """An embedding tied to the output layer: its gradient sums the output GEMM's dW and the embedding's rows."""
    out = _run("""
        vocab, width, rows = 1000, 128, 512
        w = f16(vocab, width, scale=0.1)
        h, g = f16(rows, width), f16(rows, vocab, scale=0.01)
        idx = rng.integers(0, vocab, rows)
        gh = f16(rows, width, scale=0.01)
        tw = on_gpu(w, grad=True)
        emb = F.embedding(on_gpu(idx.astype(np.int32)), tw)
        logits = F.linear(on_gpu(h), tw)
        ((logits * on_gpu(g)).sum() + (emb * on_gpu(gh)).sum()).backward()
        want = g.astype(np.float64).T @ h.astype(np.float64)
        np.add.at(want, idx, gh.astype(np.float64))
        close("tied dW", tw.grad, want)
    """, rng)
    assert "ok tied dW" in out


def test_shape_first_seen_in_a_capture(rng):
    out = _run("""
        a, b = f16(200, 136), f16(136, 88)
        sa, sb = on_gpu(a), on_gpu(b)
        graph = tl.cuda.CUDAGraph()
        with tl.cuda.graph(graph):
            product = sa @ sb
        graph.replay()
        close("captured", product, a.astype(np.float64) @ b.astype(np.float64))
        close("after the capture", sa @ sb, a.astype(np.float64) @ b.astype(np.float64))
    """, rng)
    assert out.count("ok") == 2
