"""Elementwise ops against a float64 PyTorch oracle on the same f16 inputs, rounded to f16: unary ops on
every f16 bit pattern (contiguous, and strided: gathered runs) within 1 f16 ulp, binary
ops with broadcasting, scalars, int32 and in-place forms."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from tensorlogic import _core
from tensorlogic.tensor import _wrap
from opinfo import BINARY, UNARY, cases, kernel_cases
from oracle import assert_ulp, host, t64, to_tl, torch_of, ulp_distance

U, B = _core.UnaryOp, _core.BinaryOp
ALL_F16 = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16)
KERNEL_CASES, KERNEL_IDS = cases([op for op in UNARY if op.kernel is not None])


def test_every_kernel_has_a_database_entry():
    """A native kernel without an entry in tests/opinfo.py would go untested by every file that reads it."""
    assert set(kernel_cases(UNARY)) == set(U.__members__)
    assert {op.kernel for op in BINARY if op.kernel is not None} == set(B.__members__)


@pytest.mark.parametrize("op,variant", KERNEL_CASES, ids=KERNEL_IDS)
def test_unary_every_f16_value(device, op, variant):
    name, kernel, params = op.name + variant.suffix, getattr(U, op.kernel_of(variant)), variant.params
    ref_fn = lambda t: op.reference(t, variant=variant)  # noqa: E731
    expected = ref_fn(t64(ALL_F16.astype(np.float64))).numpy()
    a = to_tl(ALL_F16, device)
    out = _wrap(_core.unary(kernel, a._a, *params))
    assert_ulp(host(out), expected, ALL_F16, label=name)
    # the strided path (runs gathered for the vector kernel; the portable loop without one) on a sample
    sample = ALL_F16[::7].copy()
    wide = np.stack([sample, sample], axis=1)
    view = _wrap(_core.select(to_tl(wide, device)._a, 1, 0))
    assert not view.is_contiguous()
    assert_ulp(host(_wrap(_core.unary(kernel, view._a, *params))), ref_fn(t64(sample)).numpy(), sample, label=name + " strided")


@pytest.mark.parametrize("n", [1, 7, 8, 15, 16, 17, 33, 100, 70001])
def test_unary_tails_and_inplace(device, n):
    rng = np.random.default_rng(n)
    x = (rng.standard_normal(n) * 3).astype(np.float16)
    t = to_tl(x, device)
    assert_ulp(host(_wrap(_core.unary(U.exp, t._a))), np.exp(x.astype(np.float64)), x)
    _core.unary_(U.tanh, t._a)
    assert_ulp(host(t), np.tanh(x.astype(np.float64)), x)


SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 65504, 6e-8, 2.5], dtype=np.float16)


def binary_inputs(rng, shape):
    x = (rng.standard_normal(shape) * 4).astype(np.float16)
    flat = x.reshape(-1)
    flat[: min(flat.size, SPECIAL.size)] = SPECIAL[: flat.size]
    return x


@pytest.mark.parametrize("op", [op for op in BINARY if op.kernel is not None], ids=lambda op: op.name)
@pytest.mark.parametrize("shapes", [((37,), (37,)), ((3, 1, 5), (4, 5)), ((2, 40), (1,)), ((), (6,))])
def test_binary_matches_torch(device, op, shapes):
    name, ref_fn = op.name, op.reference
    rng = np.random.default_rng(abs(hash((name, shapes))) % 2**32)
    a, b = binary_inputs(rng, shapes[0]), np.array(np.flip(binary_inputs(rng, shapes[1])))
    # floor_divide/remainder round a/b first: use float32 like the kernel to avoid ties in the oracle
    cast = torch_of if op.f32_oracle else t64
    expected = ref_fn(cast(a), cast(b)).double().numpy()
    kernel = getattr(B, op.kernel)
    ta, tb = to_tl(a, device), to_tl(b, device)
    got = host(_wrap(_core.binary(kernel, ta._a, tb._a)))
    assert got.dtype == (np.bool_ if op.kernel in ("eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or") else np.float16)
    if name in ("gelu_backward", "gelu_tanh_backward", "silu_backward"):
        # an infinite gradient times a derivative that float64 still holds but f32 rounds to 0 (far left,
        # x < -9): -inf against 0 * inf = NaN says nothing about the kernel, so those cells are not compared
        underflow = np.isinf(np.broadcast_to(a, expected.shape)) & (np.broadcast_to(b, expected.shape) < -9)
        got, expected = np.where(underflow, 0, got), np.where(underflow, 0, expected)
    assert_ulp(got, expected, np.broadcast_to(a, expected.shape), label=name)
    np.testing.assert_array_equal(host(ta), a)  # inputs unchanged
    # scalar on either side (-0.0 checks that the scalar keeps its sign: x / -0.0 is -inf)
    for s in (1.75, -0.0):
        ref = ref_fn(cast(a), torch.tensor(s).to(cast(a).dtype)).double().numpy()
        assert_ulp(host(_wrap(_core.binary_scalar(kernel, ta._a, s))), ref, a, label=f"{name} scalar {s}")
        ref = ref_fn(torch.tensor(s).to(cast(b).dtype), cast(b)).double().numpy()
        assert_ulp(host(_wrap(_core.rbinary_scalar(kernel, s, tb._a))), ref, b, label=f"{name} rscalar {s}")


_DERIVATIVES = {  # kernel: PyTorch's float64 backward
    "gelu_backward": lambda g, x: torch.ops.aten.gelu_backward(g, x),
    "gelu_tanh_backward": lambda g, x: torch.ops.aten.gelu_backward(g, x, approximate="tanh"),
    "silu_backward": lambda g, x: torch.ops.aten.silu_backward(g, x),
}


@pytest.mark.parametrize("kernel", sorted(_DERIVATIVES))
def test_activation_backward_every_f16_input(device, rng, kernel):
    """grad * f'(x) for every finite f16 x, the gradients random (wide magnitudes), contiguous so that CUDA takes
    its vector kernel (its own erfc and exp: cuda/elementwise.cu): within 1 ulp of float64 PyTorch, also next to
    the roots of f' (near -0.752 and -1.278), where the derivative's terms cancel (cpp/kernels/elementwise.h)."""
    x = ALL_F16[np.isfinite(ALL_F16)]
    g = (rng.standard_normal(x.size) * 10.0 ** rng.integers(-3, 3, x.size)).astype(np.float16)
    expected = _DERIVATIVES[kernel](t64(g), t64(x)).numpy()
    got = host(_wrap(_core.binary(getattr(B, kernel), to_tl(g, device)._a, to_tl(x, device)._a)))
    assert_ulp(got, expected, x, label=kernel)


def test_binary_strided_and_inplace(device):
    rng = np.random.default_rng(1)
    a = (rng.standard_normal((6, 10)) * 2).astype(np.float16)
    b = (rng.standard_normal((10, 6)) * 2).astype(np.float16)
    ta, tb = to_tl(a, device), to_tl(b, device)
    got = host(ta + tb.T)
    assert_ulp(got, a.astype(np.float64) + b.T.astype(np.float64), a)
    _core.binary_(B.mul, ta._a, tb.T._a)
    assert_ulp(host(ta), a.astype(np.float64) * b.T.astype(np.float64), a)
    _core.binary_scalar_(B.sub, ta._a, 1.0)
    assert_ulp(host(ta), (a * b.T).astype(np.float64) - 1.0, a)
    with pytest.raises(ValueError):
        _core.binary_(B.add, to_tl(np.ones(3, np.float16), device)._a, to_tl(np.ones((2, 3), np.float16), device)._a)


@pytest.mark.parametrize("op", [op for op in BINARY if op.kernel is not None], ids=lambda op: op.name)
def test_binary_strided_operands_every_op(device, op):
    """A transposed operand and a strided output (runs gathered and scattered around the vector kernels),
    against a broadcast column (constant along each run) and rows longer than one block of work."""
    rng = np.random.default_rng(abs(hash(op.name)) % 2**32)
    a, b = binary_inputs(rng, (5, 700)), binary_inputs(rng, (700, 5))
    column = binary_inputs(rng, (5, 1))
    cast = torch_of if op.f32_oracle else t64
    kernel = getattr(B, op.kernel)
    ta, tb, tc = to_tl(a, device), to_tl(b, device), to_tl(column, device)
    for x, y, tx, ty in ((a, b.T, ta, tb.T), (b.T, column, tb.T, tc)):
        expected = op.reference(cast(np.ascontiguousarray(x)), cast(np.ascontiguousarray(y))).double().numpy()
        got = host(_wrap(_core.binary(kernel, tx._a, ty._a)))
        if op.kernel in ("gelu_backward", "gelu_tanh_backward", "silu_backward"):
            skip = np.isinf(np.broadcast_to(x, expected.shape)) & (np.broadcast_to(y, expected.shape) < -9)
            got, expected = np.where(skip, 0, got), np.where(skip, 0, expected)
        assert_ulp(got, expected, np.broadcast_to(x, expected.shape), label=op.name)


@pytest.mark.parametrize("itype", [np.int32, np.int64])
@pytest.mark.parametrize("op", [op for op in BINARY if op.int32], ids=lambda op: op.name)
def test_int_paths(device, op, itype, rng):
    if device == "metal" and itype == np.int64:
        pytest.skip("metal has no int64 elementwise kernels")
    name = op.name
    big = 1000 if itype == np.int32 else 1 << 40  # int64 values f16 (and int32) cannot hold
    a = rng.integers(-big, big, (4, 9), dtype=itype)
    b = rng.integers(1, 50, (9,), dtype=itype) * rng.choice([-1, 1], 9).astype(itype)
    a[0, 0] = np.iinfo(itype).max
    got = host(_wrap(_core.binary(getattr(B, name), to_tl(a, device)._a, to_tl(b, device)._a)))
    assert got.dtype == itype
    np.testing.assert_array_equal(got, op.reference(torch.from_numpy(a), torch.from_numpy(b)).numpy())  # wraps like C
    cmp = host(_wrap(_core.binary(B.lt, to_tl(a, device)._a, to_tl(b, device)._a)))
    assert cmp.dtype == np.bool_
    np.testing.assert_array_equal(cmp, a < b)
    near = a + 1  # exact comparisons where f16 would round both sides to one value
    np.testing.assert_array_equal(host(_wrap(_core.binary(B.eq, to_tl(a, device)._a, to_tl(near, device)._a))), a == near)
    if name in ("floor_divide", "remainder"):
        with pytest.raises(ValueError):
            _core.binary(getattr(B, name), to_tl(a, device)._a, to_tl(np.zeros(9, itype), device)._a)
    np.testing.assert_array_equal(host(_wrap(_core.unary(U.abs, to_tl(a, device)._a))), np.abs(a))


_ISA_SCRIPT = """
import sys, numpy as np
from tensorlogic import _core
x = _core.from_numpy(np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16))
out = {}
for name in sys.argv[2:]:
    op, *params = name.split(":")
    out[name] = np.asarray(_core.unary(getattr(_core.UnaryOp, op), x, *map(float, params))).copy()
y = _core.from_numpy(np.linspace(-9, 9, 1001).astype(np.float16))
for op in ("add", "mul", "div", "maximum", "eq", "logical_or"):
    out[op] = np.asarray(_core.binary(getattr(_core.BinaryOp, op), y, _core.unary(_core.UnaryOp.exp, y))).copy()
np.savez(sys.argv[1], **out)
"""


def _isa_outputs(target, cap):
    """The kernels' outputs computed in a process whose instruction set TL_CPU_SIMD caps ("": the best)."""
    names = [":".join([op.kernel_of(v)] + [repr(p) for p in v.params]) for op, v in KERNEL_CASES]
    subprocess.run([sys.executable, "-c", _ISA_SCRIPT, str(target), *names], env=dict(os.environ, TL_CPU_SIMD=cap),
                   check=True)
    return dict(np.load(target))


@pytest.fixture(scope="module")
def best_isa_outputs(tmp_path_factory):
    """This machine's best path, computed once for every capped level to meet."""
    return _isa_outputs(tmp_path_factory.mktemp("isa") / "out_best.npz", "")


@pytest.mark.parametrize("isa", ["avx2", "none"])
def test_every_instruction_set_agrees(tmp_path, isa, best_isa_outputs):
    """The AVX2 kernels and the portable path (forced by TL_CPU_SIMD) match this machine's best path."""
    capped = _isa_outputs(tmp_path / f"out_{isa}.npz", isa)
    for key, best in best_isa_outputs.items():
        d = ulp_distance(best, capped[key])
        assert d.max() <= 1, (key, int(d.max()))
