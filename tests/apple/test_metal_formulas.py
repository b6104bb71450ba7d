"""Edge cases where a hand copy of the scalar math in metal/ had drifted from the CPU backend (PyTorch's
forms): Metal-on-CPU against the CPU backend on the inputs that tell the forms apart. The math now lives
once, in cpp/kernels/, so these guard the sharing."""
import numpy as np

from metal_harness import elementwise_params
from oracle import assert_same_bits, assert_ulp
from tensorlogic import _core


def run_unary(lib, op, x, pa=0.0, pb=0.0):
    out = np.zeros_like(x)
    p = elementwise_params(x.shape, {0: [1], 3: [1]}, pa=pa, pb=pb)
    lib.run("unary_f16", {0: x, 1: out, 2: p}, [-(-x.size // 64)], [64],
            {"OP": int(op), "CONTIGUOUS": 1, "A_SCALAR": 0, "B_SCALAR": 0})
    return out


def test_gelu_of_negative_inputs_does_not_cancel(metal_lib, rng):
    # 0.5 x (1 + erf(x / sqrt 2)) loses all but a few bits of 1 + erf below x = -4; x Phi(x) through erfc
    # keeps them (the CPU form).
    lib = metal_lib("elementwise.metal")
    x = np.concatenate([np.linspace(-5.2, -3.5, 512), rng.uniform(-5.2, -3.5, 256)]).astype(np.float16)
    want = np.asarray(_core.unary(_core.UnaryOp.gelu, _core.from_numpy(x)))
    assert (want != 0).all()
    assert_ulp(run_unary(lib, _core.UnaryOp.gelu, x), want)


def test_floor_divide_is_exact_for_infinite_divisors(metal_lib, rng):
    # PyTorch's div_floor: -1 // inf is -1 (fmod keeps -1, the quotient rounds down), floor(-1 / inf) = -0.
    lib = metal_lib("elementwise.metal")
    a = rng.uniform(-50.0, 50.0, 64).astype(np.float16)
    b = np.where(rng.uniform(size=64) < 0.5, np.inf, -np.inf).astype(np.float16)
    want = np.asarray(_core.binary(_core.BinaryOp.floor_divide, _core.from_numpy(a), _core.from_numpy(b)))
    out = np.zeros_like(a)
    p = elementwise_params(a.shape, {0: [1], 1: [1], 3: [1]})
    lib.run("binary_f16", {0: a, 1: b, 2: out, 3: p}, [1], [64],
            {"OP": int(_core.BinaryOp.floor_divide), "CONTIGUOUS": 1, "A_SCALAR": 0, "B_SCALAR": 0})
    assert_same_bits(out, want)


def test_pow_of_one_half_is_sqrt(metal_lib, rng):
    # x ** 0.5 is sqrt(x) in PyTorch: (-inf) ** 0.5 is NaN and (-0) ** 0.5 is -0, where pow gives inf and +0.
    lib = metal_lib("elementwise.metal")
    x = np.concatenate([[-np.inf, -0.0, 0.0, np.inf], rng.uniform(0.0, 100.0, 60)]).astype(np.float16)
    for exponent in (0.5, -0.5):
        want = np.asarray(_core.unary(_core.UnaryOp.pow, _core.from_numpy(x), exponent, 0.0))
        got = run_unary(lib, _core.UnaryOp.pow, x, pa=exponent)
        assert_same_bits(got[:4], want[:4])
        assert_ulp(got, want)
