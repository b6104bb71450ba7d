"""The dtypes of SPEC §1 against PyTorch: names, inference, conversions, promotion, comparisons giving
bool, exact int64 reductions and the interop of bool and int64 data, on every device."""
import numpy as np
import pytest
import torch

import tensorlogic as tl

COMPARE = ["eq", "ne", "lt", "le", "gt", "ge"]
KEEP_INT = ["add", "sub", "mul", "maximum", "minimum"]
TORCH_OF = {"float16": torch.float16, "int32": torch.int32, "int64": torch.int64, "bool": torch.bool}


def sample(rng, name, shape):
    if name == "bool":
        return rng.random(shape) < 0.5
    if name == "float16":
        return rng.integers(-4, 5, shape).astype(np.float16)  # small integers: ties and exact sums
    info = np.iinfo(name)
    return rng.integers(info.min // 4, info.max // 4, shape, dtype=name)


def tl_dtype(t):
    return t.dtype.name


def torch_dtype_name(t):
    name = str(t.dtype).replace("torch.", "")
    return "float16" if t.dtype.is_floating_point else name


@pytest.mark.parametrize("name,want", [
    ("float32", "float16"), ("float", "float16"), ("float64", "float16"), ("double", "float16"),
    ("bfloat16", "float16"), ("half", "float16"), ("int64", "int64"), ("long", "int64"), ("int32", "int32"),
    ("int", "int32"), ("bool", "bool")])
def test_pytorch_dtype_names(name, want):
    assert getattr(tl, name).name == want
    assert tl.zeros(2, dtype=getattr(torch, name)).dtype.name == want
    assert tl.zeros(2, dtype=name).dtype.name == want
    assert tl.zeros(2, dtype=f"torch.{name}").dtype.name == want


def test_python_and_numpy_dtypes():
    assert tl.zeros(1, dtype=float).dtype == tl.float16 and tl.zeros(1, dtype=int).dtype == tl.int64
    assert tl.zeros(1, dtype=bool).dtype == tl.bool and tl.zeros(1, dtype=np.float32).dtype == tl.float16
    assert tl.zeros(1, dtype=np.int64).dtype == tl.int64
    assert tl.zeros(1, dtype="complex64").dtype is tl.complex32  # complex names make complex tensors
    with pytest.raises(TypeError):
        tl.zeros(1, dtype="uint16")
    with pytest.raises(TypeError):
        tl.arange(1, dtype="complex64")  # a real-only function


NARROW = [("uint8", "byte", "ByteTensor"), ("int8", "char", "CharTensor"), ("int16", "short", "ShortTensor")]


@pytest.mark.parametrize("name,method,legacy", NARROW)
def test_narrow_integer_dtypes_are_names_that_every_conversion_refuses(device, rng, name, method, legacy):
    """uint8, int8 and int16, and their legacy tensor types (tl.ByteTensor ...), exist as names (code that mentions
    them imports; no tensor has them, so comparisons of dtypes and isinstance say False) and every way to make such
    a tensor raises a TypeError naming int32 instead: an int32 in their place would not wrap around as PyTorch's
    uint8 does. Arrays of them become int32 of the same values."""
    narrow = getattr(tl, name)
    info = np.iinfo(name)
    data = rng.integers(info.min, info.max + 1, 6, dtype=name)
    t = tl.tensor(data, device=device)
    assert narrow.name == name and t.dtype != narrow and not tl.uint8.is_signed and tl.int8.is_signed
    np.testing.assert_array_equal(t.cpu().numpy(), torch.from_numpy(data).int().numpy())
    assert tl.from_numpy(data).dtype == tl.int32
    for make in (lambda: t.to(narrow), lambda: t.to(device, narrow), lambda: t.to(getattr(torch, name)),
                 lambda: getattr(t, method)(), lambda: t.type(narrow), lambda: tl.zeros(2, dtype=name),
                 lambda: tl.tensor([1, 2], dtype=np.dtype(name)), lambda: tl.arange(3, dtype=f"torch.{name}"),
                 lambda: getattr(tl, legacy)(2, 3), lambda: getattr(tl, legacy)([1, 2]),
                 lambda: t.type(getattr(tl, legacy))):
        with pytest.raises(TypeError, match=f"no narrow integer dtypes.*{name}.*tl.int32"):
            make()
    assert not isinstance(t, getattr(tl, legacy)) and str(getattr(tl, legacy)) == f"torch.{legacy}"


def test_inference_follows_pytorch(device):
    for data in ([1, 2, 3], [True, False], [1.5, 2], [[1], [2]], 7, True):
        assert tl.tensor(data, device=device).dtype.name == torch_dtype_name(torch.tensor(data))
    assert tl.arange(4, device=device).dtype == tl.int64 and tl.full((2,), 3).dtype == tl.int64
    assert tl.tensor(np.array([1, 2], np.int32)).dtype == tl.int32


def test_conversion_methods(device, rng):
    x = rng.standard_normal(12).astype(np.float16) * 50
    x[:3] = 0
    t, ref = tl.tensor(x, device=device), torch.from_numpy(x)
    for method in ("long", "int", "bool", "float", "half", "double", "bfloat16"):
        got = getattr(t, method)()
        want = getattr(ref, method)()
        assert got.dtype.name == torch_dtype_name(want), method
        if want.is_floating_point():
            want = ref  # every float dtype is float16 here: the values stay as they are (bfloat16 would round)
        np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())
    assert t.type() == ("torch.cuda.HalfTensor" if device == "cuda" else "torch.HalfTensor")
    assert t.long().type().endswith("LongTensor") and t.bool().type().endswith("BoolTensor")
    assert t.type(torch.int64).dtype == tl.int64 and t.to(torch.bool).dtype == tl.bool and t.to("long").dtype == tl.int64
    assert t.long().float().dtype == tl.float16


@pytest.mark.parametrize("src", list(TORCH_OF))
@pytest.mark.parametrize("dst", list(TORCH_OF))
def test_every_conversion_matches_torch(device, rng, src, dst):
    data = sample(rng, src, (5, 7))
    if src != "float16" and dst == "float16":
        data = data % 2000 if src != "bool" else data  # values f16 holds exactly
    t = tl.tensor(data, device=device)
    view = t.T[1:, ::2]  # strided source
    want = torch.from_numpy(np.ascontiguousarray(data)).T[1:, ::2].to(TORCH_OF[dst])
    got = view.to(getattr(tl, dst))
    assert got.dtype.name == dst
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


@pytest.mark.parametrize("src", list(TORCH_OF))
@pytest.mark.parametrize("dst", list(TORCH_OF))
def test_contiguous_conversions_match_torch(device, rng, src, dst):
    """Contiguous conversions take a blocked path on the CPU: sizes across its 512-element blocks and
    f16's special values (signed zeros, subnormals, inf, NaN, values that round to integers)."""
    n = int(rng.integers(1, 3000))
    if src == "float16":
        special = np.array([0.0, -0.0, 6e-8, -6e-8, np.inf, -np.inf, 0.5, -0.99, 2.5, 65504.0], np.float16)
        data = (rng.standard_normal(n) * 300).astype(np.float16)
        data[rng.integers(0, n, 12)] = rng.choice(special, 12)
        if dst == "bool":
            data[rng.integers(0, n, 3)] = np.nan  # NaN converts to True; to integers it is undefined
    else:
        data = sample(rng, src, (n,))
        if dst == "float16" and src != "bool":
            data = data % 140000 - 70000  # rounded to f16, and beyond its range (inf)
    want = torch.from_numpy(data).to(TORCH_OF[dst])
    got = tl.tensor(data, device=device).to(getattr(tl, dst))
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


@pytest.mark.parametrize("a_name", list(TORCH_OF))
@pytest.mark.parametrize("b_name", list(TORCH_OF))
def test_promotion_and_comparisons(device, rng, a_name, b_name):
    a, b = sample(rng, a_name, (3, 4)), sample(rng, b_name, (4,))
    if "float16" in (a_name, b_name):  # integers f16 holds exactly beside floats
        a, b = (x % 1000 if x.dtype.kind == "i" else x for x in (a, b))
    ta, tb = tl.tensor(a, device=device), tl.tensor(b, device=device)
    pa, pb = torch.from_numpy(a), torch.from_numpy(b)
    for name in COMPARE + KEEP_INT:
        if name == "sub" and "bool" in (a_name, b_name):
            with pytest.raises(TypeError):
                tl.sub(ta, tb)
            continue
        got, want = getattr(tl, name)(ta, tb), getattr(torch, name)(pa, pb)
        assert tl_dtype(got) == torch_dtype_name(want), name
        np.testing.assert_array_equal(got.cpu().numpy(), want.to(torch.float16 if want.is_floating_point() else want.dtype).numpy(), err_msg=name)
    assert (ta / 2).dtype == tl.float16 and (tl.tensor([3, 4], device=device) / 2).tolist() == [1.5, 2.0]


def test_scalars_keep_integer_types(device):
    i32 = tl.tensor([1, 2], dtype=tl.int32, device=device)
    assert (i32 + 1).dtype == tl.int32 and (i32 * 1.5).dtype == tl.float16 and (i32 > 1).dtype == tl.bool
    b = tl.tensor([True, False], device=device)
    assert (b + 1).dtype == tl.int64 and (b * 2.5).dtype == tl.float16 and (b + b).dtype == tl.bool
    assert (b & b).dtype == tl.bool and (~b).tolist() == [False, True] and (b | ~b).all().item()
    big = tl.tensor([2 ** 40, 2 ** 40 + 1], device=device)
    assert (big + 1).tolist() == [2 ** 40 + 1, 2 ** 40 + 2] and (big == 2 ** 40).tolist() == [True, False]


@pytest.mark.parametrize("name", ["bool", "int32", "int64"])
def test_exact_integer_reductions(device, rng, name):
    data = sample(rng, name, (6, 5, 7))
    t, ref = tl.tensor(data, device=device), torch.from_numpy(data)
    for dim in (None, 0, 1, 2, (0, 2)):
        kw = {} if dim is None else {"dim": dim}
        for op in ("sum", "prod", "amax", "amin"):
            if op == "prod" and isinstance(dim, tuple):
                continue  # torch.prod takes one dim
            if op in ("amax", "amin") and dim is None:
                kw_op = {"dim": (0, 1, 2)}
            else:
                kw_op = kw
            got, want = getattr(tl, op)(t, **kw_op), getattr(torch, op)(ref, **kw_op)
            assert tl_dtype(got) == torch_dtype_name(want), (op, dim)
            np.testing.assert_array_equal(got.cpu().numpy(), want.numpy(), err_msg=f"{op} {dim}")
        if not isinstance(dim, tuple) and name != "bool":
            for op in ("argmax", "argmin"):
                got, want = getattr(tl, op)(t, **kw), getattr(torch, op)(ref, **kw)
                assert got.dtype == tl.int64
                np.testing.assert_array_equal(got.cpu().numpy(), want.numpy(), err_msg=f"{op} {dim}")
    values, indices = tl.max(t, 1)
    ref_values, ref_indices = torch.max(ref.long() if name == "bool" else ref, 1)
    np.testing.assert_array_equal(values.long().cpu().numpy(), ref_values.long().numpy())
    np.testing.assert_array_equal(indices.cpu().numpy(), ref_indices.numpy())


def test_counts_beyond_f16(device):
    """The issue's example: counting more than 2,048 items must be exact."""
    assert (tl.arange(5001, device=device) >= 0).sum().item() == 5001
    pred = tl.tensor(np.arange(70001) % 7, device=device)
    y = tl.tensor(np.arange(70001) % 5, device=device)
    assert (pred == y).sum().item() == int(((np.arange(70001) % 7) == (np.arange(70001) % 5)).sum())
    assert isinstance((pred == y).sum().item(), int)
    assert tl.tensor([True] * 3000, device=device).sum(dtype=tl.float32).dtype == tl.float16


def test_float_reductions_of_ints_and_argmax_int64(device, rng):
    x = rng.standard_normal((4, 9)).astype(np.float16)
    t = tl.tensor(x, device=device)
    assert t.argmax(1).dtype == tl.int64 and t.argmin().dtype == tl.int64
    np.testing.assert_array_equal(t.argmax(1).cpu().numpy(), torch.from_numpy(x).argmax(1).numpy())
    ints = tl.tensor([1, 2, 3, 4], device=device)
    assert ints.float().mean().item() == 2.5 and ints.mean().dtype == tl.float16


def test_masks_index_fill_and_where(device, rng):
    x = rng.standard_normal((5, 6)).astype(np.float16)
    t, ref = tl.tensor(x, device=device), torch.from_numpy(x)
    mask = t > 0
    assert mask.dtype == tl.bool
    np.testing.assert_array_equal(t[mask].cpu().numpy(), ref[ref > 0].numpy())
    np.testing.assert_array_equal(t.masked_fill(mask, -1.0).cpu().numpy(), ref.masked_fill(ref > 0, -1.0).numpy())
    np.testing.assert_array_equal(tl.where(mask, t, 0.0).cpu().numpy(), torch.where(ref > 0, ref, 0.0).numpy())
    np.testing.assert_array_equal((mask * t).cpu().numpy(), ((ref > 0) * ref).numpy())
    labels = tl.tensor([3, 1, 4, 1, 0], device=device)
    np.testing.assert_array_equal(t[labels].cpu().numpy(), ref[torch.tensor([3, 1, 4, 1, 0])].numpy())
    with pytest.raises(IndexError):
        t[t]  # float tensors are not indices (PyTorch neither)
    w = tl.where(mask, 1, 0)
    assert w.dtype == tl.int64


def test_integer_index_ops(device, rng):
    x = rng.standard_normal((6, 4)).astype(np.float16)
    t, ref = tl.tensor(x, device=device), torch.from_numpy(x)
    for itype in (tl.int32, tl.int64):
        idx = tl.tensor([[0, 2, 1, 3]], dtype=itype, device=device)
        np.testing.assert_array_equal(t.gather(1, idx.expand(6, 4)).cpu().numpy(),
                                      ref.gather(1, torch.tensor([[0, 2, 1, 3]]).expand(6, 4)).numpy())
        rows = tl.tensor([5, 0, 5], dtype=itype, device=device)
        np.testing.assert_array_equal(t.index_select(0, rows).cpu().numpy(), ref[[5, 0, 5]].numpy())
        np.testing.assert_array_equal(tl.nn.functional.embedding(rows, t).cpu().numpy(), ref[[5, 0, 5]].numpy())
        logits = t.float()
        target = tl.tensor([0, 1, 2, 3, 0, 1], dtype=itype, device=device)
        want = torch.nn.functional.cross_entropy(ref.float(), torch.tensor([0, 1, 2, 3, 0, 1]))
        assert abs(tl.nn.functional.cross_entropy(logits, target).item() - want.item()) < 2e-3
    assert tl.nonzero(t > 0).dtype == tl.int64


def test_interop_of_bool_and_int64(device):
    for data in (np.array([True, False, True]), np.array([1, -(2 ** 40), 3], np.int64)):
        t = tl.from_numpy(data)
        assert t.data_ptr() == data.ctypes.data  # shared, not copied
        back = torch.from_dlpack(t)
        assert back.dtype == torch.from_numpy(data).dtype and back.tolist() == data.tolist()
        again = tl.from_dlpack(torch.from_numpy(data))
        assert again.dtype.name == ("bool" if data.dtype == bool else "int64") and again.tolist() == data.tolist()
        moved = t.to(device)
        assert moved.cpu().numpy().tolist() == data.tolist() and np.asarray(moved.cpu()).dtype == data.dtype
