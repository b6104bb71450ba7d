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


def test_every_simd_level_agrees():
    """The portable and AVX2 kernels (TL_CPU_SIMD caps the level a process uses) against this process's
    best level (AVX-512 where the CPU has it), on one input."""
    seed = int.from_bytes(os.urandom(4), "little")
    script = ("import numpy as np, sys; sys.path.insert(0, %r); from test_quantized import outputs; print(outputs(%d))"
              % (os.path.dirname(__file__), seed))
    best = np.array(outputs(seed))
    for level in ("none", "avx2"):
        run = subprocess.run([sys.executable, "-c", script], env={**os.environ, "TL_CPU_SIMD": level},
                             capture_output=True, text=True, check=True)
        np.testing.assert_allclose(np.array(eval(run.stdout)), best, rtol=4e-3, atol=4e-3 * np.abs(best).max())


def outputs(seed):
    """quantized_linear of one random input with a random weight of every format, as nested lists."""
    rng = np.random.default_rng(seed)
    x = tl.tensor(f16_randn(rng, (3, 512)), device="cpu")
    return [quantized_linear(x, QuantizedWeight(random_blocks(rng, q, 20, 512), q, 512)).numpy().astype(float).tolist()
            for q in QUANT_TYPES]


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
