"""einsum against numpy.einsum in float64 on the same f16-rounded inputs: traces, diagonals, outer
products, batches, ellipsis, 3-5 operands, size-0 and size-1 axes, non-contiguous views, errors; torch's sublist
form."""
import numpy as np
import pytest

import tensorlogic as tl
from oracle import assert_close_f16, assert_close_to_scale, f16, f16_tensor, host

# (equation, operand shapes)
CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("ii->", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("ii->i", [(5, 5)]),
    ("iij->ij", [(3, 3, 2)]),
    ("ijji->ij", [(2, 3, 3, 2)]),
    ("ij->ji", [(3, 5)]),
    ("ij->", [(3, 5)]),
    ("ij->j", [(3, 5)]),
    ("ijk->kij", [(2, 3, 4)]),
    ("i,j->ij", [(3,), (4,)]),
    ("i,i->", [(6,), (6,)]),
    ("i,i->i", [(6,), (6,)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("ij,ij->", [(3, 4), (3, 4)]),
    ("ij,kl->ijkl", [(2, 3), (4, 2)]),
    ("bij,bjk->bik", [(4, 3, 5), (4, 5, 2)]),
    ("bij,bkj->bik", [(4, 3, 5), (4, 2, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 8), (2, 3, 5, 8)]),
    ("ij,j->i", [(4, 6), (6,)]),
    ("i,ij,j->", [(3,), (3, 4), (4,)]),
    ("ij,jk,kl->il", [(3, 4), (4, 5), (5, 2)]),
    ("ab,bc,cd,de->ae", [(2, 3), (3, 4), (4, 5), (5, 2)]),
    ("ab,bc,cd,de,ef->af", [(2, 3), (3, 4), (4, 2), (2, 5), (5, 3)]),
    ("ab,ac,ad->bcd", [(3, 2), (3, 4), (3, 5)]),
    ("ijk,jl,kl->il", [(2, 3, 4), (3, 5), (4, 5)]),
    ("a,b,c->abc", [(2,), (3,), (4,)]),
    ("abc,c,b,a->", [(2, 3, 4), (4,), (3,), (2,)]),
    ("...ij,...jk->...ik", [(2, 3, 4, 5), (2, 3, 5, 2)]),
    ("...ij,...jk", [(3, 4, 5), (5, 2)]),
    ("i...->...", [(3, 2, 4)]),
    ("...ii->...i", [(2, 3, 3)]),
    ("...,...->...", [(2, 3), (3,)]),
    ("ij...,jk...->ik...", [(2, 3, 4), (3, 5, 4)]),
    ("b...i,b...i->b...", [(2, 3, 4, 5), (2, 1, 4, 5)]),
    ("ij,jk->ik", [(3, 1), (4, 5)]),  # size-1 broadcast of a contracted index
    ("ij,ij->ij", [(3, 1), (1, 4)]),
    ("ij,jk->ik", [(0, 4), (4, 5)]),
    ("ij,jk->ik", [(3, 0), (0, 5)]),
    ("ij->", [(0, 5)]),
    ("i,j->ij", [(0,), (3,)]),
    ("ijk,ikl,lm->jm", [(3, 4, 2), (3, 2, 5), (5, 6)]),
    ("Ab,bC->AC", [(2, 3), (3, 4)]),
    ("ba,a", [(3, 4), (4,)]),  # implicit output sorted alphabetically
    (" i j , j k -> i k ", [(2, 3), (3, 2)]),
    ("ij,ji->", [(4, 4), (4, 4)]),
    ("iij,jk->ik", [(3, 3, 4), (4, 2)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
]


@pytest.mark.parametrize("equation,shapes", CASES)
def test_einsum_matches_numpy(device, rng, equation, shapes):
    values = [f16(rng, *s) for s in shapes]
    got = tl.einsum(equation, *[f16_tensor(v, device) for v in values])
    ref = np.einsum(equation.replace(" ", ""), *values)
    # Each pairwise product of the plan rounds to f16, an error relative to the terms it sums, which can cancel
    # far below their size (a chain of five once summed to 0.19 and was off by 0.021, seed 939065983): the slack
    # is two f16 ulps of the sum of |terms| per product.
    magnitude = float(np.einsum(equation.replace(" ", ""), *[np.abs(v.astype(np.float64)) for v in values]).max(initial=0.0))
    assert_close_f16(got, np.asarray(ref), atol=1e-3 * max(1, len(values) - 1) * max(1.0, magnitude))


def test_einsum_accepts_a_list_and_returns_fresh_memory(device, rng):
    a = f16(rng, 3, 4)
    ta = f16_tensor(a, device)
    out = tl.einsum("ij->ji", [ta])
    assert_close_to_scale(out, a.T)
    assert out.is_contiguous()
    assert out._a.storage_ptr() != ta._a.storage_ptr()



def test_einsum_sublist_form(device, rng):
    """torch.einsum(op1, sublist1, op2, sublist2, ..., [sublist_out]): labels are ints in [0, 52) or Ellipsis, an
    implicit output keeps the labels in their numeric order (as PyTorch's letters A-Z then a-z sort them); it raised
    TypeError (the equation must be a string)."""
    a, b, c = f16(rng, 2, 3), f16(rng, 3, 4), f16(rng, 5, 2, 3)
    ta, tb, tc = (f16_tensor(x, device) for x in (a, b, c))
    assert_close_to_scale(tl.einsum(ta, [0, 1], tb, [1, 2], [0, 2]), a @ b)
    assert_close_to_scale(tl.einsum(ta, [0, 1], tb, [1, 2]), a @ b)
    assert_close_to_scale(tl.einsum(ta, [27, 3]), a.T)  # 3 (D) before 27 (b)
    assert_close_to_scale(tl.einsum(tc, [Ellipsis, 30, 1], tb, [1, 2]), np.einsum("...ij,jk->...ki", c, b))
    assert_close_to_scale(tl.einsum(tc, [Ellipsis, 0, 1], [Ellipsis, 1, 0]), np.swapaxes(c, -1, -2))
    with pytest.raises(ValueError, match="valid range"):
        tl.einsum(ta, [0, 52])
    with pytest.raises(TypeError, match="equation"):
        tl.einsum(ta, ta)

def test_einsum_non_contiguous_operands(device, rng):
    a, b = f16(rng, 6, 8), f16(rng, 5, 8, 3)
    ta = f16_tensor(a, device).T[:, ::2]  # [8, 3] with steps
    tb = f16_tensor(b, device).permute(2, 1, 0)        # [3, 8, 5]
    got = tl.einsum("ij,jik->k", ta, tb)
    assert_close_to_scale(got, np.einsum("ij,jik->k", a.T[:, ::2], np.transpose(b, (2, 1, 0))))


def test_einsum_many_operands_greedy_order(device, rng):
    # A chain whose left-to-right order would build a large intermediate; any order gives the same result.
    # Each of the four pairwise products rounds to f16, so the slack is four roundings of the largest value.
    shapes = [(64, 2), (2, 64), (64, 2), (2, 64), (64, 3)]
    values = [f16(rng, *s, scale=0.5) for s in shapes]
    got = tl.einsum("ab,bc,cd,de,ef->af", *[f16_tensor(v, device) for v in values])
    assert_close_to_scale(got, np.einsum("ab,bc,cd,de,ef->af", *values), atol_scale=1e-2)


@pytest.mark.parametrize(
    "equation,shapes,message",
    [
        ("ij,jk->ik", [(3, 4)], "operand"),
        ("ij,jk->ik", [(3, 4), (5, 6)], "'j'"),
        ("ijk->i", [(3, 4)], "names 3 indices"),
        ("ij->k", [(3, 4)], "'k'"),
        ("ij->ii", [(3, 3)], "more than once"),
        ("i1->i", [(3, 4)], "invalid character '1'"),
        ("i..j->i", [(3, 4)], "ellipsis"),
        ("...i...->i", [(3, 4)], "more than one ellipsis"),
        ("ij->i->j", [(3, 4)], "'->'"),
        ("ii->i", [(3, 4)], "repeated index"),
        ("...i,...i->...", [(2, 3), (4, 3)], "size"),
    ],
)
def test_einsum_errors(device, rng, equation, shapes, message):
    values = [f16(rng, *s) for s in shapes]
    operands = [f16_tensor(v, device) for v in values]
    with pytest.raises(tl.EinsumError, match=message):
        tl.einsum(equation, *operands)
    assert issubclass(tl.EinsumError, ValueError)
    for t, v in zip(operands, values):
        np.testing.assert_array_equal(host(t), v)


def test_einsum_sums_ellipsis_axes_missing_from_the_output(device, rng):
    x = f16(rng, 2, 3, 4)
    assert_close_to_scale(tl.einsum("...ij->ij", f16_tensor(x, device)), x.sum(axis=0))


def test_einsum_random_equations(device, rng):
    """Random valid equations (diagonals, sums, broadcasting of size-1 axes, 1-4 operands) vs numpy."""
    letters = "abcdeXY"
    for _ in range(40):
        sizes = {c: int(rng.integers(1, 5)) for c in letters}
        terms, arrays = [], []
        for _ in range(int(rng.integers(1, 5))):
            term = "".join(rng.choice(list(letters), size=int(rng.integers(0, 4))))
            shape = [1 if rng.random() < 0.1 else sizes[c] for c in term]
            # a repeated index must have one size within its operand
            shape = [sizes[c] if term.count(c) > 1 else s for c, s in zip(term, shape)]
            terms.append(term)
            arrays.append(f16(rng, *shape, scale=0.7))
        used = sorted(set("".join(terms)))
        out = "".join(c for c in used if rng.random() < 0.5)
        equation = ",".join(terms) + "->" + "".join(rng.permutation(list(out)))
        ref = np.einsum(equation, *arrays)
        got = tl.einsum(equation, *[f16_tensor(a, device) for a in arrays])
        try:
            assert_close_to_scale(got, np.asarray(ref), atol_scale=2e-3)
        except AssertionError as error:
            raise AssertionError(f"{equation} with shapes {[a.shape for a in arrays]}") from error
