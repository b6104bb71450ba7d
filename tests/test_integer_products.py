"""Products of integer tensors are exact (ops/integer_products.py), against PyTorch's CPU integer products on the
same values: matmul in every operand form, the products composed of it (mm, bmm, mv, dot, tensordot, inner, addmm),
einsum, the result dtype (int32 stays int32, int64 wins, a bool beside an integer counts as an integer), wrap-around
past int64 as PyTorch's, results on the operands' device, and typed shape errors. (The f16 GEMM rounded 3001 + 2 to
3002.)"""
import numpy as np
import pytest
import torch

import tensorlogic as tl


def ints(rng, shape, bound, dtype=np.int64):
    return rng.integers(-bound, bound, shape).astype(dtype)


def both(x, device):
    return tl.tensor(x, device=device), torch.tensor(x)


def same(ours, theirs):
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], (ours.dtype, theirs.dtype)
    np.testing.assert_array_equal(ours.cpu().numpy(), theirs.numpy())


@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)),
                                    ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (3, 4, 2)), ((0, 4), (4, 3))])
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_matmul_is_exact(device, rng, shapes, dtype):
    (a, ta), (b, tb) = (both(ints(rng, s, 50_000, dtype), device) for s in shapes)
    out = a @ b
    assert out.device == a.device
    same(out, ta @ tb)


def test_composed_products_and_einsum(device, rng):
    (m, tm), (n, tn) = both(ints(rng, (5, 6), 3000), device), both(ints(rng, (6, 4), 3000), device)
    (v, tv), (w, tw) = both(ints(rng, (6,), 3000), device), both(ints(rng, (6,), 3000), device)
    (b1, tb1), (b2, tb2) = both(ints(rng, (2, 5, 6), 3000), device), both(ints(rng, (2, 6, 4), 3000), device)
    (c, tc) = both(ints(rng, (5, 4), 3000), device)
    same(tl.mm(m, n), torch.mm(tm, tn))
    same(tl.bmm(b1, b2), torch.bmm(tb1, tb2))
    same(tl.mv(m, v), torch.mv(tm, tv))
    same(tl.dot(v, w), torch.dot(tv, tw))
    same(tl.inner(v, w), torch.inner(tv, tw))
    same(tl.tensordot(b1, n, 1), torch.tensordot(tb1, tn, 1))
    same(tl.addmm(c, m, n), torch.addmm(tc, tm, tn))
    same(tl.einsum("bij,bjk->bik", b1, b2), torch.einsum("bij,bjk->bik", tb1, tb2))
    same(tl.einsum("ij,j->i", m, v), torch.einsum("ij,j->i", tm, tv))
    same(tl.einsum("ii", m[:5, :5]), torch.einsum("ii", tm[:5, :5]))


def test_result_dtypes_and_wrap_around(device, rng):
    a32, t32 = both(ints(rng, (3, 4), 1000, np.int32), device)
    a64, t64 = both(ints(rng, (4, 2), 1000), device)
    assert (a32 @ a32.mT).dtype == tl.int32
    assert (a32 @ a64).dtype == tl.int64
    np.testing.assert_array_equal((a32 @ a64).cpu().numpy(), t32.long() @ t64)  # torch refuses mixed ints
    flags = rng.integers(0, 2, (4, 2)).astype(bool)
    np.testing.assert_array_equal((a32 @ tl.tensor(flags, device=device)).cpu().numpy(), t32 @ torch.tensor(flags).int())
    big, tbig = both(ints(rng, (2, 3), 2**62), device)
    same(big @ big.mT, tbig @ tbig.mT)  # past int64: both wrap around


def test_floats_keep_the_f16_product(device):
    assert (tl.tensor([1.5], device=device) @ tl.tensor([2], device=device)).dtype == tl.float16


def test_shape_errors_are_typed(device):
    a = tl.tensor([[1, 2]], device=device)
    with pytest.raises(tl.ShapeMismatchError, match="cannot be multiplied"):
        a @ tl.tensor([[1, 2, 3]], device=device)
    with pytest.raises(tl.ShapeMismatchError, match="at least one dimension"):
        a @ tl.tensor(3, device=device)
    with pytest.raises(tl.ShapeMismatchError, match="cannot be broadcast"):
        tl.zeros((2, 3, 4), dtype=tl.int64, device=device) @ tl.zeros((3, 4, 5), dtype=tl.int64, device=device)
    with pytest.raises(tl.EinsumError, match="einsum"):
        tl.einsum("ij,jk->ik", a, tl.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]], device=device))
