"""Linear layers with weights kept in GGUF block formats (Q8_0, Q4_0, Q4_K, Q6_K), against the gguf
package's own dequantisation and numpy: random blocks (random bytes with random f16 scales) of every format,
row counts on both sides of the few-rows kernels' limits (the CPU's 64 rows, CUDA's 1, 2, 4 and 8; then
dequantised weights through the dense GEMM), the fused epilogue, batch dimensions, each SIMD level of the
CPU, and the errors, on every device with the kernels (CPU and CUDA)."""
import os
import subprocess
import sys

import numpy as np
import pytest
from gguf import GGMLQuantizationType
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize as gguf_dequantize
from oracle import assert_close_to_scale, f16_randn

import tensorlogic as tl
from tensorlogic import _core
from tensorlogic.errors import DeviceError, ShapeMismatchError
from tensorlogic.ops.quantized import KERNEL_DEVICES, QUANT_TYPES, QuantizedWeight, quantized_linear

SCALE_OFFSETS = {"Q8_0": (0,), "Q4_0": (0,), "Q4_K": (0, 2), "Q6_K": (208,)}  # the f16 fields of a block


def random_blocks(rng, qtype, rows, k):
    """uint8 [rows, row bytes]: random bytes, the f16 scales of each block made finite and moderate."""
    elems, nbytes = _core.quant_block(_core.QuantType.__members__[qtype])
    raw = rng.integers(0, 256, (rows, k // elems, nbytes), dtype=np.uint8)
    for at in SCALE_OFFSETS[qtype]:
        scales = (rng.standard_normal((rows, k // elems)) * 0.02).astype(np.float16)
        raw[..., at:at + 2] = scales.view(np.uint8).reshape(rows, k // elems, 2)
    return raw.reshape(rows, -1)


def reference(raw, qtype, k):
    return gguf_dequantize(raw, GGMLQuantizationType[qtype]).reshape(raw.shape[0], k)


def test_the_formats_are_ggufs():
    for name in QUANT_TYPES:
        q = GGMLQuantizationType[name]
        assert _core.quant_block(_core.QuantType.__members__[name]) == GGML_QUANT_SIZES[q]


def needs_kernels(device):
    if device not in KERNEL_DEVICES:
        pytest.skip(f"no quantised kernels on {device}")


@pytest.mark.parametrize("qtype", QUANT_TYPES)
def test_dequantize_is_ggufs_exactly(qtype, device, rng):
    needs_kernels(device)
    k = 512
    raw = random_blocks(rng, qtype, 37, k)
    got = QuantizedWeight(raw, qtype, k, device=device).dequantize().numpy()
    np.testing.assert_array_equal(got, reference(raw, qtype, k).astype(np.float16))


@pytest.mark.parametrize("qtype", QUANT_TYPES)
# k = 768: three Q4_K/Q6_K blocks, row bytes not a multiple of 4 for Q6_K (padded rows); 2304: more Q8_0
# and Q4_0 blocks in a row than a warp has lanes.
@pytest.mark.parametrize("rows,k", [(1, 768), (8, 768), (70, 768), (3, 2304), (5, 2304)])
def test_quantized_linear_against_numpy(qtype, rows, k, device, rng):
    needs_kernels(device)
    raw = random_blocks(rng, qtype, 45, k)
    x = f16_randn(rng, (rows, k))
    expected = x.astype(np.float64) @ reference(raw, qtype, k).T.astype(np.float64)
    out = quantized_linear(tl.tensor(x, device=device), QuantizedWeight(raw, qtype, k, device=device))
    assert out.device.type == device
    assert_close_to_scale(out, expected, rtol=3e-3, atol_scale=2e-3)


@pytest.mark.parametrize("qtype", ["Q4_0", "Q6_K"])
@pytest.mark.parametrize("batch", [(2, 3), (4, 5)])  # 6 and 20 rows: CUDA's GEMV and its GEMM path
def test_epilogue_and_batch_dimensions(qtype, batch, device, rng):
    needs_kernels(device)
    k, n = 256, 40
    raw = random_blocks(rng, qtype, n, k)
    x, bias, residual = f16_randn(rng, (*batch, k)), f16_randn(rng, (n,)), f16_randn(rng, (batch[1], n))
    z = x.astype(np.float64) @ reference(raw, qtype, k).T + bias + residual
    expected = z * 0.5 * (1 + np.tanh(z / 2))  # silu, without exp's overflow
    out = quantized_linear(tl.tensor(x, device=device), QuantizedWeight(raw, qtype, k, device=device),
                           tl.tensor(bias, device=device), "silu", tl.tensor(residual, device=device))
    assert out.shape == (*batch, n)
    assert_close_to_scale(out, expected, rtol=3e-3, atol_scale=2e-3)


# A fresh process runs quantized_linear on saved inputs; it imports only the package (not this file's
# oracles), so each SIMD level costs one interpreter start.
_SIMD_SCRIPT = """
import sys, numpy as np, tensorlogic as tl
from tensorlogic.ops.quantized import QUANT_TYPES, QuantizedWeight, quantized_linear
saved = np.load(sys.argv[1])
x = tl.tensor(saved["x"], device="cpu")
np.savez(sys.argv[2], **{q: quantized_linear(x, QuantizedWeight(saved[q], q, x.shape[1])).numpy() for q in QUANT_TYPES})
"""


def test_every_simd_level_agrees(tmp_path, rng):
    """The portable and AVX2 kernels (TL_CPU_SIMD caps the level a process uses) against this process's
    best level (AVX-512 where the CPU has it), on one input with a random weight of every format."""
    x = f16_randn(rng, (3, 512))
    weights = {q: random_blocks(rng, q, 20, 512) for q in QUANT_TYPES}
    np.savez(tmp_path / "inputs.npz", x=x, **weights)
    best = {q: quantized_linear(tl.tensor(x, device="cpu"), QuantizedWeight(raw, q, 512)).numpy().astype(np.float64)
            for q, raw in weights.items()}
    largest = max(np.abs(out).max() for out in best.values())
    for level in ("none", "avx2"):
        subprocess.run([sys.executable, "-c", _SIMD_SCRIPT, str(tmp_path / "inputs.npz"), str(tmp_path / f"{level}.npz")],
                       env={**os.environ, "TL_CPU_SIMD": level}, check=True)
        capped = np.load(tmp_path / f"{level}.npz")
        for q, want in best.items():
            np.testing.assert_allclose(capped[q].astype(np.float64), want, rtol=4e-3, atol=4e-3 * largest,
                                       err_msg=f"{q} at TL_CPU_SIMD={level}")


def test_errors(rng):
    raw = random_blocks(rng, "Q8_0", 4, 64)
    with pytest.raises(ValueError, match="Q8_0 rows of 96 weights"):
        QuantizedWeight(raw, "Q8_0", 96)
    with pytest.raises(ValueError, match="unknown quantisation"):
        QuantizedWeight(raw, "Q5_1", 64)
    w = QuantizedWeight(raw, "Q8_0", 64)
    with pytest.raises(ShapeMismatchError, match="64 in_features"):
        quantized_linear(tl.zeros(2, 32, device="cpu"), w)
    with pytest.raises(ShapeMismatchError, match="bias"):
        quantized_linear(tl.zeros(2, 64, device="cpu"), w, tl.zeros(5, device="cpu"))
    with pytest.raises(RuntimeError, match="inference"):
        quantized_linear(tl.zeros(2, 64, device="cpu", requires_grad=True), w)


def test_other_devices_say_they_have_no_kernel(device, rng):
    if device in KERNEL_DEVICES:
        pytest.skip(f"{device} has the kernels")
    w = QuantizedWeight(random_blocks(rng, "Q4_0", 8, 64), "Q4_0", 64, device=device)
    with pytest.raises(DeviceError, match="Q4_0 weights have no kernel"):
        quantized_linear(tl.zeros(1, 64, device=device), w)
