"""Elementwise ops against a float64 PyTorch oracle on the same f16 inputs, rounded to f16: unary ops on
every f16 bit pattern (contiguous: vector kernels; strided: the portable path) within 1 f16 ulp, binary
ops with broadcasting, scalars, int32 and in-place forms."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tensorlogic as tl
from tensorlogic import _core
from tensorlogic.tensor import _wrap
from _oracle import host, to_tl

U, B = _core.UnaryOp, _core.BinaryOp
ALL_F16 = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16)


def ulp_distance(a, b):
    """Distance in f16 steps (0 between NaNs and between +0 and -0; large when only one is NaN); bool
    results (comparisons, logical ops) count as 0/1."""
    a, b = (x.astype(np.float16) if x.dtype == np.bool_ else x for x in (np.asarray(a), np.asarray(b)))

    def key(x):
        bits = x.view(np.uint16).astype(np.int32)
        return np.where(bits & 0x8000, -(bits & 0x7FFF), bits)
    d = np.abs(key(a) - key(b))
    na, nb = np.isnan(a), np.isnan(b)
    return np.where(na & nb, 0, np.where(na | nb, 1 << 20, d))


def assert_ulp(actual, expected, inputs, max_ulp=1, label=""):
    with np.errstate(over="ignore"):
        expected = np.asarray(expected, dtype=np.float64).astype(np.float16)
    d = ulp_distance(actual, expected)
    bad = np.flatnonzero(d > max_ulp)
    assert bad.size == 0, (f"{label}: {bad.size} values off by more than {max_ulp} ulp; first inputs "
                           f"{np.asarray(inputs).reshape(-1)[bad[:5]]} -> {np.asarray(actual).reshape(-1)[bad[:5]]}, "
                           f"expected {expected.reshape(-1)[bad[:5]]}")


def t64(x):
    return torch.from_numpy(np.asarray(x, dtype=np.float64))


UNARY = {
    "neg": (U.neg, lambda t: -t, ()),
    "abs": (U.abs, torch.abs, ()),
    "exp": (U.exp, torch.exp, ()),
    "log": (U.log, torch.log, ()),
    "log1p": (U.log1p, torch.log1p, ()),
    "sqrt": (U.sqrt, torch.sqrt, ()),
    "rsqrt": (U.rsqrt, torch.rsqrt, ()),
    "sin": (U.sin, torch.sin, ()),
    "cos": (U.cos, torch.cos, ()),
    "tanh": (U.tanh, torch.tanh, ()),
    "sigmoid": (U.sigmoid, torch.sigmoid, ()),
    "relu": (U.relu, torch.relu, ()),
    "gelu": (U.gelu, F.gelu, ()),
    "gelu_tanh": (U.gelu_tanh, lambda t: F.gelu(t, approximate="tanh"), ()),
    "silu": (U.silu, F.silu, ()),
    "softplus": (U.softplus, lambda t: F.softplus(t, 1.0, 20.0), (1.0, 20.0)),
    "softplus_beta2": (U.softplus, lambda t: F.softplus(t, 2.0, 5.0), (2.0, 5.0)),
    "reciprocal": (U.reciprocal, torch.reciprocal, ()),
    "square": (U.square, torch.square, ()),
    "sign": (U.sign, lambda t: torch.where(torch.isnan(t), t, torch.sign(t)), ()),
    "floor": (U.floor, torch.floor, ()),
    "ceil": (U.ceil, torch.ceil, ()),
    "round": (U.round, torch.round, ()),
    "clamp": (U.clamp, lambda t: torch.clamp(t, -1.5, 2.0), (-1.5, 2.0)),
    "step": (U.step, lambda t: (t > 0).double(), ()),
    "pow2": (U.pow, lambda t: torch.pow(t, 2.0), (2.0,)),
    "pow_half": (U.pow, lambda t: torch.pow(t, 0.5), (0.5,)),
    "pow_m1": (U.pow, lambda t: torch.pow(t, -1.0), (-1.0,)),
    "rpow2": (U.rpow, lambda t: torch.pow(2.0, t), (2.0,)),
    "logical_not": (U.logical_not, lambda t: (t == 0).double(), ()),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_every_f16_value(device, name):
    op, ref_fn, params = UNARY[name]
    expected = ref_fn(t64(ALL_F16.astype(np.float64))).numpy()
    a = to_tl(ALL_F16, device)
    out = _wrap(_core.unary(op, a._a, *params))
    assert_ulp(host(out), expected, ALL_F16, label=name)
    # the strided (portable) path on a sample of the same values
    sample = ALL_F16[::7].copy()
    wide = np.stack([sample, sample], axis=1)
    view = _wrap(_core.select(to_tl(wide, device)._a, 1, 0))
    assert not view.is_contiguous()
    assert_ulp(host(_wrap(_core.unary(op, view._a, *params))), ref_fn(t64(sample)).numpy(), sample, label=name + " strided")


@pytest.mark.parametrize("n", [1, 7, 8, 15, 16, 17, 33, 100, 70001])
def test_unary_tails_and_inplace(device, n):
    rng = np.random.default_rng(n)
    x = (rng.standard_normal(n) * 3).astype(np.float16)
    t = to_tl(x, device)
    assert_ulp(host(_wrap(_core.unary(U.exp, t._a))), np.exp(x.astype(np.float64)), x)
    _core.unary_(U.tanh, t._a)
    assert_ulp(host(t), np.tanh(x.astype(np.float64)), x)


BINARY = {
    "add": (B.add, torch.add), "sub": (B.sub, torch.sub), "mul": (B.mul, torch.mul), "div": (B.div, torch.div),
    "pow": (B.pow, torch.pow), "maximum": (B.maximum, torch.maximum), "minimum": (B.minimum, torch.minimum),
    "eq": (B.eq, torch.eq), "ne": (B.ne, torch.ne), "lt": (B.lt, torch.lt), "le": (B.le, torch.le),
    "gt": (B.gt, torch.gt), "ge": (B.ge, torch.ge),
    "add_relu": (B.add_relu, lambda a, b: torch.relu(a + b)), "mul_relu": (B.mul_relu, lambda a, b: torch.relu(a * b)),
    "logical_and": (B.logical_and, torch.logical_and), "logical_or": (B.logical_or, torch.logical_or),
    "floor_divide": (B.floor_divide, torch.floor_divide), "remainder": (B.remainder, torch.remainder),
}
SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 65504, 6e-8, 2.5], dtype=np.float16)


def binary_inputs(rng, shape):
    x = (rng.standard_normal(shape) * 4).astype(np.float16)
    flat = x.reshape(-1)
    flat[: min(flat.size, SPECIAL.size)] = SPECIAL[: flat.size]
    return x


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((37,), (37,)), ((3, 1, 5), (4, 5)), ((2, 40), (1,)), ((), (6,))])
def test_binary_matches_torch(device, name, shapes):
    op, ref_fn = BINARY[name]
    rng = np.random.default_rng(abs(hash((name, shapes))) % 2**32)
    a, b = binary_inputs(rng, shapes[0]), np.array(np.flip(binary_inputs(rng, shapes[1])))
    # floor_divide/remainder round a/b first: use float32 like the kernel to avoid ties in the oracle
    cast = (lambda x: torch.from_numpy(np.asarray(x, np.float32))) if name in ("floor_divide", "remainder") else t64
    expected = ref_fn(cast(a), cast(b)).double().numpy()
    ta, tb = to_tl(a, device), to_tl(b, device)
    got = host(_wrap(_core.binary(op, ta._a, tb._a)))
    assert got.dtype == (np.bool_ if name in ("eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or")
                         else np.float16)
    assert_ulp(got, expected, np.broadcast_to(a, expected.shape), label=name)
    np.testing.assert_array_equal(host(ta), a)  # inputs unchanged
    # scalar on either side (-0.0 checks that the scalar keeps its sign: x / -0.0 is -inf)
    for s in (1.75, -0.0):
        ref = ref_fn(cast(a), torch.tensor(s).to(cast(a).dtype)).double().numpy()
        assert_ulp(host(_wrap(_core.binary_scalar(op, ta._a, s))), ref, a, label=f"{name} scalar {s}")
        ref = ref_fn(torch.tensor(s).to(cast(b).dtype), cast(b)).double().numpy()
        assert_ulp(host(_wrap(_core.rbinary_scalar(op, s, tb._a))), ref, b, label=f"{name} rscalar {s}")


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


INT_OPS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "maximum": np.maximum, "minimum": np.minimum,
           "floor_divide": np.floor_divide, "remainder": np.remainder}


@pytest.mark.parametrize("itype", [np.int32, np.int64])
@pytest.mark.parametrize("name", sorted(INT_OPS))
def test_int_paths(device, name, itype):
    if device == "metal" and itype == np.int64:
        pytest.skip("metal has no int64 elementwise kernels")
    rng = np.random.default_rng()
    big = 1000 if itype == np.int32 else 1 << 40  # int64 values f16 (and int32) cannot hold
    a = rng.integers(-big, big, (4, 9), dtype=itype)
    b = rng.integers(1, 50, (9,), dtype=itype) * rng.choice([-1, 1], 9).astype(itype)
    a[0, 0] = np.iinfo(itype).max
    got = host(_wrap(_core.binary(getattr(B, name), to_tl(a, device)._a, to_tl(b, device)._a)))
    assert got.dtype == itype
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(got, INT_OPS[name](a, b).astype(itype))
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


@pytest.mark.parametrize("isa", ["avx2", "none"])
def test_every_instruction_set_agrees(tmp_path, isa):
    """The AVX2 kernels and the portable path (forced by TL_CPU_SIMD) match this machine's best path."""
    import os
    import subprocess
    import sys
    names = ["exp", "log", "log1p", "tanh", "sigmoid", "gelu", "gelu_tanh", "silu", "sin", "cos", "sqrt", "rsqrt",
             "floor", "ceil", "round", "relu", "sign", "softplus:1:20", "clamp:-1:2", "logical_not", "reciprocal"]
    paths = {}
    for cap in ("", isa):
        env = dict(os.environ, TL_CPU_SIMD=cap)
        target = tmp_path / f"out_{cap or 'best'}.npz"
        subprocess.run([sys.executable, "-c", _ISA_SCRIPT, str(target), *names], env=env, check=True)
        paths[cap] = np.load(target)
    for key in paths[""].files:
        d = ulp_distance(paths[""][key], paths[isa][key])
        assert d.max() <= 1, (key, int(d.max()))
