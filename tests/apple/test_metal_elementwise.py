"""metal/elementwise.metal and metal/copy.metal on the CPU harness, against the CPU backend (_core)."""
import numpy as np
import pytest

from metal_harness import elementwise_params
import opinfo
from oracle import assert_same_bits, assert_ulp
from tensorlogic import _core

APPROXIMATE = opinfo.approximate_kernels()  # within one f16 ulp of the CPU backend; every other kernel bit for bit
UNARY_KERNELS = opinfo.kernel_cases(opinfo.UNARY)  # each kernel's op entry and the parameters of its first variant

UNARY = [op for op in _core.UnaryOp.__members__]
BINARY = [op for op in _core.BinaryOp.__members__]


def strided_input(rng, shape, dtype=np.float16, low=-4.0, high=4.0):
    """A non-contiguous view (a transposed, step-2 slice) of fresh random data, with its base buffer."""
    big = tuple(reversed([2 * s for s in shape]))
    base = rng.uniform(low, high, size=big).astype(dtype) if dtype == np.float16 else \
        rng.integers(-50, 50, size=big).astype(np.int32)
    view = base.T[tuple(slice(None, None, 2) for _ in shape)]
    strides = [st // base.itemsize for st in view.strides]
    return base, view, strides


def cpu(x):
    return _core.from_numpy(np.ascontiguousarray(x))


def kernel_form(result):
    """The CPU backend's result as the Metal kernel writes it: comparisons and logical ops give bool in the
    core, which the kernels write as f16 0/1 first (the core converts)."""
    out = np.asarray(result)
    return out.astype(np.float16) if out.dtype == np.bool_ else out


def run_grid(lib, name, buffers, numel, constants):
    lib.run(name, buffers, groups=[max(1, (numel + 63) // 64)], threads=[64], constants=constants)


def _check_strided_f16(lib, kernel, buffers, out, op, name, want):
    """Runs an f16 elementwise kernel in its strided form into `out` and checks it against the CPU
    backend's `want` (bit-exact but for the APPROXIMATE formulas), naming the op when it fails."""
    run_grid(lib, kernel, buffers, out.size, {"OP": int(op), "CONTIGUOUS": 0, "A_SCALAR": 0, "B_SCALAR": 0})
    try:
        # beside a root (lgamma near 1 and 2) f32 math is accurate to its absolute error, a few f32 ulps of the
        # terms, not to the tiny result's f16 ulp (seed 3637314066: -0.000412 for -0.0004125)
        assert_ulp(out, want, atol=2.0**-20) if name in APPROXIMATE else assert_same_bits(out, want)
    except AssertionError as e:
        raise AssertionError(f"{kernel} {name}") from e


@pytest.mark.parametrize("shape", [(1,), (7, 5), (3, 4, 6)])
def test_unary_matches_cpu_backend(metal_lib, rng, shape):
    lib = metal_lib("elementwise.metal")
    base, view, strides = strided_input(rng, shape)
    view[tuple(0 for _ in shape)] = np.nan
    for name in UNARY:
        op = _core.UnaryOp.__members__[name]
        info, variant = UNARY_KERNELS[name]
        p0, p1 = (variant.params + (0.0, 0.0))[:2]
        src, in_strides = base, strides
        if info.domain.low >= 0:
            src = np.ascontiguousarray(np.abs(view))
            in_strides = [s // 2 for s in src.strides]
        want = kernel_form(_core.unary(op, cpu(view if src is base else src), p0, p1))
        out = np.zeros(shape, np.float16)
        p = elementwise_params(shape, {0: in_strides, 3: [s // 2 for s in out.strides]}, pa=p0, pb=p1)
        _check_strided_f16(lib, "unary_f16", {0: src, 1: out, 2: p}, out, op, name, want)


def test_unary_int32_ops(metal_lib, rng):
    lib = metal_lib("elementwise.metal")
    x = rng.integers(-1000, 1000, size=(5, 9)).astype(np.int32)
    x[0, 0] = np.iinfo(np.int32).min
    for name in [kernel for kernel, (info, _) in UNARY_KERNELS.items() if info.int32]:
        op = _core.UnaryOp.__members__[name]
        want = kernel_form(_core.unary(op, cpu(x), -7.0, 300.0))
        out = np.zeros_like(x)
        p = elementwise_params(x.shape, {0: [9, 1], 3: [9, 1]}, pa=-7.0, pb=300.0)
        run_grid(lib, "unary_i32", {0: x, 1: out, 2: p}, x.size,
                 {"OP": int(op), "CONTIGUOUS": 1, "A_SCALAR": 0, "B_SCALAR": 0})
        assert_same_bits(out, want)


@pytest.mark.parametrize("shape_a,shape_b", [((4, 1, 5), (3, 1)), ((6,), (6,)), ((2, 3, 1, 4), (1, 5, 1))])
def test_binary_broadcast_matches_cpu_backend(metal_lib, rng, shape_a, shape_b):
    lib = metal_lib("elementwise.metal")
    shape = np.broadcast_shapes(shape_a, shape_b)
    a = rng.uniform(-3, 3, shape_a).astype(np.float16)
    b = rng.uniform(-3, 3, shape_b).astype(np.float16)
    b.flat[0] = 0.0
    ea, eb = np.broadcast_to(a, shape), np.broadcast_to(b, shape)
    for name in BINARY:
        op = _core.BinaryOp.__members__[name]
        want = kernel_form(_core.binary(op, cpu(a), cpu(b)))
        out = np.zeros(shape, np.float16)
        p = elementwise_params(shape, {0: [s // 2 for s in ea.strides], 1: [s // 2 for s in eb.strides],
                                       3: [s // 2 for s in out.strides]})
        _check_strided_f16(lib, "binary_f16", {0: a, 1: b, 2: out, 3: p}, out, op, name, want)


def test_binary_scalar_operands(metal_lib, rng):
    lib = metal_lib("elementwise.metal")
    a = rng.uniform(-3, 3, (33,)).astype(np.float16)
    for name in BINARY:
        op = _core.BinaryOp.__members__[name]
        for scalar_side in ("b", "a"):
            if scalar_side == "b":
                want = kernel_form(_core.binary_scalar(op, cpu(a), 1.25))
                consts = {"A_SCALAR": 0, "B_SCALAR": 1}
                p = elementwise_params(a.shape, {0: [1], 3: [1]}, scalar_b=1.25)
            else:
                want = kernel_form(_core.rbinary_scalar(op, 1.25, cpu(a)))
                consts = {"A_SCALAR": 1, "B_SCALAR": 0}
                p = elementwise_params(a.shape, {1: [1], 3: [1]}, scalar_a=1.25)
            out = np.zeros_like(a)
            run_grid(lib, "binary_f16", {0: a, 1: a, 2: out, 3: p}, a.size, {"OP": int(op), "CONTIGUOUS": 1, **consts})
            assert_ulp(out, want, atol=2.0**-20) if name in APPROXIMATE else assert_same_bits(out, want)


def test_binary_int32_and_divide_by_zero_flag(metal_lib, rng):
    lib = metal_lib("elementwise.metal")
    a = rng.integers(-100, 100, (40,)).astype(np.int32)
    b = rng.integers(1, 9, (40,)).astype(np.int32) * rng.choice([-1, 1], 40).astype(np.int32)
    for name in ("add", "sub", "mul", "maximum", "minimum", "floor_divide", "remainder", "pow", "eq", "lt", "ge"):
        op = _core.BinaryOp.__members__[name]
        want = kernel_form(_core.binary(op, cpu(a), cpu(b)))
        out = np.zeros(40, np.int32)
        flags = np.zeros(1, np.uint32)
        p = elementwise_params(a.shape, {0: [1], 1: [1], 3: [1]})
        run_grid(lib, "binary_i32", {0: a, 1: b, 2: out, 3: out, 4: flags, 5: p}, 40,
                 {"OP": int(op), "CONTIGUOUS": 1, "A_SCALAR": 0, "B_SCALAR": 0})
        got = out.view(np.float16)[:40] if want.dtype == np.float16 else out
        assert_same_bits(got, want)
        assert flags[0] == 0
    b[3] = 0
    out, flags = np.zeros(40, np.int32), np.zeros(1, np.uint32)
    run_grid(lib, "binary_i32", {0: a, 1: b, 2: out, 3: out, 4: flags, 5: elementwise_params(a.shape, {0: [1], 1: [1], 3: [1]})},
             40, {"OP": int(_core.BinaryOp.floor_divide), "CONTIGUOUS": 1, "A_SCALAR": 0, "B_SCALAR": 0})
    assert flags[0] == 1


def test_ternary_where_and_affine(metal_lib, rng):
    lib = metal_lib("elementwise.metal")
    shape = (3, 4, 5)
    c = (rng.uniform(size=(4, 1)) > 0.5).astype(np.float16)
    x = rng.uniform(-2, 2, (5,)).astype(np.float16)
    y = rng.uniform(-2, 2, shape).astype(np.float16)
    ec, ex = np.broadcast_to(c, shape), np.broadcast_to(x, shape)
    st = lambda v: [s // v.itemsize for s in v.strides]  # noqa: E731
    for op, want in ((0, _core.where(cpu(c), cpu(x), cpu(y))), (1, _core.affine(cpu(c), cpu(x), cpu(y)))):
        out = np.zeros(shape, np.float16)
        p = elementwise_params(shape, {0: st(ec), 1: st(ex), 2: st(y), 3: st(out)})
        run_grid(lib, "ternary_f16", {0: c, 1: x, 2: y, 3: out, 4: p}, out.size,
                 {"OP": op, "CONTIGUOUS": 0, "A_SCALAR": 0, "B_SCALAR": 0})
        assert_same_bits(out, np.asarray(want))
    xi = rng.integers(-9, 9, (5,)).astype(np.int32)
    yi = rng.integers(-9, 9, shape).astype(np.int32)
    out = np.zeros(shape, np.int32)
    p = elementwise_params(shape, {0: st(ec), 1: st(np.broadcast_to(xi, shape)), 2: st(yi), 3: st(out)})
    run_grid(lib, "where_i32", {0: c, 1: xi, 2: yi, 3: out, 4: p}, out.size, {"CONTIGUOUS": 0})
    assert_same_bits(out, np.asarray(_core.where(cpu(c), cpu(xi), cpu(yi))))


# ---- int64 (the tuple engine's keys) ----------------------------------------------------------------
def int64_values(rng, shape):
    """Random int64 values, the extremes among them, so that sums, products and negation wrap."""
    x = rng.integers(-2**40, 2**40, shape, dtype=np.int64)
    x.flat[:4] = [np.iinfo(np.int64).min, np.iinfo(np.int64).max, -1, 0][: x.size]
    return x


def test_unary_int64_ops(metal_lib, rng):
    lib = metal_lib("elementwise.metal")
    x = int64_values(rng, (5, 9))
    for name in [kernel for kernel, (info, _) in UNARY_KERNELS.items() if info.int32]:
        op = _core.UnaryOp.__members__[name]
        want = kernel_form(_core.unary(op, cpu(x), -7.0, 2e9))  # bounds below 2^31 keep int64
        out = np.zeros_like(x)
        p = elementwise_params(x.shape, {0: [9, 1], 3: [9, 1]}, pa=-7.0, pb=2e9)
        run_grid(lib, "unary_i64", {0: x, 1: out, 2: p}, x.size,
                 {"OP": int(op), "CONTIGUOUS": 1, "A_SCALAR": 0, "B_SCALAR": 0})
        assert_same_bits(out, want)


INT_BINARY = ("add", "sub", "mul", "maximum", "minimum", "floor_divide", "remainder", "eq", "ne", "lt", "le", "gt", "ge")


def test_binary_int64_broadcast_scalars_and_divide_by_zero_flag(metal_lib, rng):
    lib = metal_lib("elementwise.metal")
    a = int64_values(rng, (4, 1, 6))
    a[a == 0] = 5  # a divides the scalar too
    b = rng.integers(1, 2**33, (3, 1), dtype=np.int64) * rng.choice([-1, 1], (3, 1))
    shape = np.broadcast_shapes(a.shape, b.shape)
    ea, eb = np.broadcast_to(a, shape), np.broadcast_to(b, shape)
    st = lambda v: [s // v.itemsize for s in v.strides]  # noqa: E731
    scalar = -(2**41) - 3  # both 32-bit halves matter
    word = np.array([scalar], np.int64).view(np.int32)
    for name in INT_BINARY:
        op = _core.BinaryOp.__members__[name]
        cases = (("arrays", _core.binary(op, cpu(a), cpu(b)), {0: a, 1: b}, {0: st(ea), 1: st(eb)}, (0, 0)),
                 ("b scalar", _core.binary_scalar(op, cpu(a), scalar), {0: a, 1: a}, {0: st(a)}, (0, 1)),
                 ("a scalar", _core.rbinary_scalar(op, scalar, cpu(a)), {0: a, 1: a}, {1: st(a)}, (1, 0)))
        for label, want, inputs, strides, (a_scalar, b_scalar) in cases:
            want = kernel_form(want)
            out = np.zeros(want.shape, np.int64)
            flags = np.zeros(1, np.uint32)
            p = elementwise_params(want.shape, {**strides, 3: st(out)}, iscalar_a=int(word[0]), iscalar_b=int(word[1]))
            run_grid(lib, "binary_i64", {**inputs, 2: out, 3: out, 4: flags, 5: p}, out.size,
                     {"OP": int(op), "CONTIGUOUS": 0, "A_SCALAR": a_scalar, "B_SCALAR": b_scalar})
            got = out.view(np.float16).reshape(-1)[: out.size].reshape(out.shape) if want.dtype == np.float16 else out
            try:
                assert_same_bits(got, want)
            except AssertionError as e:
                raise AssertionError(f"{name} with {label}") from e
            assert flags[0] == 0
    b[1, 0] = 0
    out, flags = np.zeros(shape, np.int64), np.zeros(1, np.uint32)
    p = elementwise_params(shape, {0: st(ea), 1: st(eb), 3: st(out)})
    run_grid(lib, "binary_i64", {0: a, 1: b, 2: out, 3: out, 4: flags, 5: p}, out.size,
             {"OP": int(_core.BinaryOp.remainder), "CONTIGUOUS": 0, "A_SCALAR": 0, "B_SCALAR": 0})
    assert flags[0] == 1


@pytest.mark.parametrize("dtype,kernel", [(np.int64, "where_i64"), (np.bool_, "where_b8")])
def test_where_of_int64_and_bool_values(metal_lib, rng, dtype, kernel):
    lib = metal_lib("elementwise.metal")
    shape = (3, 4, 5)
    c = (rng.uniform(size=(4, 1)) > 0.5).astype(np.float16)
    x = int64_values(rng, (5,)).astype(dtype)
    y = int64_values(rng, shape).astype(dtype)
    ec, ex = np.broadcast_to(c, shape), np.broadcast_to(x, shape)
    st = lambda v: [s // v.itemsize for s in v.strides]  # noqa: E731
    out = np.zeros(shape, dtype)
    p = elementwise_params(shape, {0: st(ec), 1: st(ex), 2: st(y), 3: st(out)})
    run_grid(lib, kernel, {0: c, 1: x, 2: y, 3: out, 4: p}, out.size, {"CONTIGUOUS": 0})
    assert_same_bits(out, np.asarray(_core.where(cpu(c), cpu(x), cpu(y))))
