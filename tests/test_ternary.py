"""The ternary kernel (where, tl.fused.affine) bit for bit on every operand form its vector path meets:
contiguous arrays, scalars, operands broadcast along the run, strided views (the portable path), lengths
around the vector width and above the parallel grain, and special values (NaN and -0 conditions, inf)."""
import numpy as np
import pytest

import tensorlogic as tl
from oracle import assert_equal, f16_randn, strided
from tensorlogic import _core
from tensorlogic.tensor import _wrap

LENGTHS = [1, 7, 16, 17, 33, 1000, 70001]


def operand(kind, x, device):
    if kind == "strided":
        return strided(x, device)
    return tl.tensor(x, device=device)


def kernel_where(condition, a, b):
    """The ternary kernel itself, which also takes float16 conditions (non-zero is true); tl.where refuses them, as
    PyTorch does."""
    return _wrap(_core.where(condition._a, *(v._a if isinstance(v, tl.Tensor) else v for v in (a, b))))


def affine_oracle(x, a, b):
    """a * b + c in float32 (the product of two f16 values is exact there, so this is one rounding, as a
    fused multiply-add gives) and then float16."""
    f = np.float32
    return (np.asarray(x, f) * np.asarray(a, f) + np.asarray(b, f)).astype(np.float16)


@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("kind", ["contiguous", "strided"])
def test_affine_all_operand_forms(n, kind, device, rng):
    x, a, b = f16_randn(rng, (n,)), f16_randn(rng, (n,)), f16_randn(rng, (n,))
    tx = operand(kind, x, device)
    assert_equal(tl.fused.affine(tx, tl.tensor(a, device=device), tl.tensor(b, device=device)),
                 affine_oracle(x, a, b))
    assert_equal(tl.fused.affine(tx, 1.5, tl.tensor(b, device=device)), affine_oracle(x, np.float16(1.5), b))
    assert_equal(tl.fused.affine(tx, tl.tensor(a, device=device), -0.25), affine_oracle(x, a, np.float16(-0.25)))
    assert_equal(tl.fused.affine(tx, 3.0, 0.5), affine_oracle(x, np.float16(3.0), np.float16(0.5)))


@pytest.mark.parametrize("rows,cols", [(3, 17), (40, 1000), (9, 8001)])
def test_affine_broadcast_along_and_across_the_run(rows, cols, device, rng):
    x = f16_randn(rng, (rows, cols))
    col, row = f16_randn(rng, (rows, 1)), f16_randn(rng, (cols,))
    tx, tcol, trow = (tl.tensor(v, device=device) for v in (x, col, row))
    assert_equal(tl.fused.affine(tx, tcol, trow), affine_oracle(x, col, row))
    assert_equal(tl.fused.affine(tcol, trow, tx), affine_oracle(col, row, x))
    col_t, row_t = row.reshape(cols, 1), col.reshape(1, rows)
    assert_equal(tl.fused.affine(tx.T, tl.tensor(col_t, device=device), tl.tensor(row_t, device=device)),
                 affine_oracle(x.T, col_t, row_t))


@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("kind", ["contiguous", "strided"])
def test_where_all_operand_forms(n, kind, device, rng):
    cond = (rng.uniform(size=n) > 0.5).astype(np.float16)
    specials = np.array([np.nan, -0.0, 0.0, np.inf, -np.inf, 2.0], np.float16)
    cond[: min(n, 6)] = specials[: min(n, 6)]
    a, b = f16_randn(rng, (n,)), f16_randn(rng, (n,))
    a[: min(n, 2)] = [np.inf, np.nan][: min(n, 2)]
    take = cond != 0  # NaN counts as true, as in PyTorch and C
    tc = operand(kind, cond, device)
    ta, tb = tl.tensor(a, device=device), tl.tensor(b, device=device)
    assert_equal(kernel_where(tc, ta, tb), np.where(take, a, b))
    assert_equal(kernel_where(tc, 0.5, tb), np.where(take, np.float16(0.5), b))
    assert_equal(kernel_where(tc, ta, -2.0), np.where(take, a, np.float16(-2.0)))
    assert_equal(kernel_where(tc, operand(kind, a, device), tb), np.where(take, a, b))
    assert_equal(tl.where(tc != 0, ta, tb), np.where(take, a, b))
    with pytest.raises(RuntimeError, match="boolean"):
        tl.where(tc, ta, tb)


def test_where_condition_broadcast_along_the_run(device, rng):
    cond = (rng.uniform(size=(50, 1)) > 0.5).astype(np.float16)
    a, b = f16_randn(rng, (50, 333)), f16_randn(rng, (333,))
    got = kernel_where(tl.tensor(cond, device=device), tl.tensor(a, device=device), tl.tensor(b, device=device))
    assert_equal(got, np.where(cond != 0, a, b))
    got = tl.where(tl.tensor(cond != 0, device=device), tl.tensor(a, device=device), tl.tensor(b, device=device))
    assert_equal(got, np.where(cond != 0, a, b))


def test_tensor_where_takes_the_condition_second(device, rng):
    """x.where(c, y) is where(c, x, y), as PyTorch's Tensor.where (it was where(x, c, y): the tensor read as the
    condition), with gradients reaching x where c holds."""
    a, b = f16_randn(rng, (7,)), f16_randn(rng, (7,))
    cond = rng.uniform(size=7) > 0.5
    ta = tl.tensor(a, device=device, requires_grad=True)
    got = ta.where(tl.tensor(cond, device=device), tl.tensor(b, device=device))
    assert_equal(got, np.where(cond, a, b))
    assert_equal(ta.where(tl.tensor(cond, device=device), 0.0), np.where(cond, a, np.float16(0)))
    got.sum().backward()
    assert_equal(ta.grad, cond.astype(np.float16))
