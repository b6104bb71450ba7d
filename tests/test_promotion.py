"""Type promotion against PyTorch (CPU), read from the op database: every public binary op of opinfo.BINARY
and the ops of opinfo.PROMOTING (where, clamp, lerp, addcmul, ...) on operands of every dtype (bool, int32,
int64, float16) in each role that PyTorch's result_type tells apart: a tensor with dimensions, a 0-d tensor
(which counts only by its category: bool < integer < float), and a Python bool, int or float (whose kind
counts, not its value: `arange(6) * 1.0` is a float tensor), in every order; as functions, Python operators,
in-place methods and augmented assignments (`a += 1.5` on an integer tensor raises, as in PyTorch). The
result's dtype and its values must be PyTorch's.

Where TensorLogic differs from PyTorch by design, stated once here:
- every float dtype is float16 (SPEC §1): where PyTorch gives float32 (its default, for an integer tensor
  with a Python float) or float64, we give float16, with PyTorch's values rounded to float16. The oracle
  holds our float16 inputs as float64 (all values in the tests are small halves, exact in float16).
- where PyTorch raises a RuntimeError for a dtype combination (subtracting bools, a float result written
  into an integer tensor, integers to negative integer powers), TensorLogic raises its dtype error (a
  TypeError) or, for a bad value, a ValueError.
- where PyTorch has no kernel for a dtype (NotImplementedError: logaddexp of integers) or refuses a kind of
  argument (TypeError: torch.maximum(t, 2)), nothing is compared: we may compute it (in float16).
- an integer tensor compared with a float number is compared exactly, not in the float type they promote to
  (PyTorch's float32 agrees below 2^24): test_integers_compare_exactly_with_floats."""
import itertools
import operator

import numpy as np
import pytest
import torch

import tensorlogic as tl
from opinfo import BINARY, PROMOTING
from oracle import assert_close_f16

DTYPES = ("bool", "int32", "int64", "float16")
NUMBERS = {"bool": bool, "int64": int, "float16": float}  # the dtype a Python number stands beside
ORACLE_DTYPE = {"bool": torch.bool, "int32": torch.int32, "int64": torch.int64, "float16": torch.float64}
# (role, dtype) of an operand: a tensor with dimensions, a 0-d tensor, a Python number
ROLES = [("tensor", d) for d in DTYPES] + [("0-d", d) for d in DTYPES] + [("number", d) for d in NUMBERS]
GRID = np.arange(-8, 9) / 2  # -4 to 4 in halves: exact in float16, small enough for exact float results

OPS = [op for op in BINARY if op.public and op.method is not None] + PROMOTING
CASES = [(op, v) for op in OPS for v in op.variants]


def candidates(dtype, domain):
    """The values of `dtype` inside the op's domain (open interval, nonzero, integral) from GRID."""
    values = GRID if dtype == "float16" else np.array([0.0, 1.0]) if dtype == "bool" else np.arange(-4.0, 5.0)
    keep = (values > domain.low) & (values < domain.high)
    if domain.nonzero:
        keep &= values != 0
    if domain.integral:
        keep &= values == np.round(values)
    return values[keep]


def operand(rng, role, dtype, domain, shape, device):
    """(ours, PyTorch's, description) for one operand, or None where the dtype has no value in the domain."""
    values = candidates(dtype, domain)
    if values.size == 0:
        return None
    if role == "number":
        x = NUMBERS[dtype](rng.choice(values))
        return x, x, f"{dtype.replace('64', '').replace('16', '')} {x!r}"
    data = rng.choice(values, () if role == "0-d" else shape).astype(dtype.replace("float16", "float64"))
    ours = tl.tensor(data.astype(np.float16) if dtype == "float16" else data, device=device)
    return ours, torch.from_numpy(np.asarray(data)).to(ORACLE_DTYPE[dtype]), f"{role} {dtype}"


def run(fn):
    try:
        return fn(), None
    except Exception as err:  # noqa: BLE001 -- the kind of error is what is compared
        return None, err


def brief(x):
    return f"{x.dtype.name} {x.tolist()}" if isinstance(x, tl.Tensor) else repr(x)


def mismatch(got, err, want, torch_err):
    """Why our outcome differs from PyTorch's, or None (also None where PyTorch has no such call or kernel)."""
    if isinstance(torch_err, (TypeError, NotImplementedError)):
        return None
    if torch_err is not None:
        if isinstance(err, (TypeError, ValueError)):
            return None
        ours = f"we raise {type(err).__name__}: {err}" if err is not None else f"we give {brief(got)}"
        return f"PyTorch raises ({torch_err}), {ours}"
    if err is not None:
        return f"we raise {type(err).__name__}: {err}; PyTorch gives {want.dtype}"
    if not isinstance(got, tl.Tensor):
        return f"we give {type(got).__name__}, PyTorch a tensor"
    floating = want.dtype.is_floating_point
    want_dtype = "float16" if floating else str(want.dtype).replace("torch.", "")
    if got.dtype.name != want_dtype:
        return f"dtype {got.dtype.name}, PyTorch {want.dtype}"
    if tuple(got.shape) != tuple(want.shape):
        return f"shape {tuple(got.shape)}, PyTorch {tuple(want.shape)}"
    ours, theirs = got.cpu().numpy(), want.numpy()
    if floating:
        try:
            assert_close_f16(ours, theirs)
        except AssertionError as e:
            return f"values {ours.tolist()}, PyTorch {theirs.tolist()}: {e}"
    elif not np.array_equal(ours, theirs):
        return f"values {ours.tolist()}, PyTorch {theirs.tolist()}"
    return None


def forms(op, variant):
    """(name, call) for each way of calling op: call(lib, operands) on one library's operands; in-place forms
    act on a copy of the first operand."""
    kw = variant.kwargs
    out = [("function", lambda lib, xs: (op.fn or getattr(lib, op.name))(*xs, **kw) if lib is tl
            else op.ref(*xs, **kw))]
    if op.operator is not None:
        out.append(("operator", lambda lib, xs: op.operator(*xs)))
        augmented = getattr(operator, "i" + op.operator.__name__, None)
        if augmented is not None:
            out.append(("augmented", lambda lib, xs: augmented(xs[0].clone(), *xs[1:])))
    if op.fn is None and hasattr(torch.Tensor, op.name + "_"):  # (an entry with fn of its own says its call)
        out.append(("in-place", lambda lib, xs: getattr(xs[0].clone(), op.name + "_")(*xs[1:], **kw)))
    return out


@pytest.mark.parametrize("op,variant", CASES, ids=[op.name + v.suffix for op, v in CASES])
def test_promotion_matches_torch(device, rng, op, variant):
    shapes = [(3, 4)] + [(4,)] * (len(op.domains) - 1)  # dimensioned operands broadcast against the first
    pool = [{(role, dtype): operand(rng, role, dtype, domain, shape, device) for role, dtype in ROLES}
            for domain, shape in zip(op.domains, shapes)]  # each position's operands, made once (none is written)
    problems = []
    for roles in itertools.product(ROLES, repeat=len(op.domains)):
        if all(role == "number" for role, _ in roles):
            continue  # Python's own arithmetic (where of two numbers: test_where_of_numbers)
        made = [operands[key] for operands, key in zip(pool, roles)]
        if None in made:
            continue
        ours, theirs, desc = zip(*made)
        for name, call in forms(op, variant):
            if name in ("in-place", "augmented") and roles[0][0] != "tensor":
                continue  # in place into a 0-d tensor or a number: broadcasting or Python, not promotion
            want, torch_err = run(lambda: call(torch, theirs))
            got, err = run(lambda: call(tl, ours))
            problem = mismatch(got, err, want, torch_err)
            if problem:
                problems.append(f"{name} {op.name}{variant.suffix}({', '.join(desc)}): {problem}")
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems[:40])


def test_every_inplace_form_exists():
    """The in-place forms PyTorch has of these ops are all ours too (else the sweep would not reach them)."""
    missing = [op.name + "_" for op in OPS
               if op.fn is None and hasattr(torch.Tensor, op.name + "_") and not hasattr(tl.Tensor, op.name + "_")]
    missing += [name for name in ("__iadd__", "__isub__", "__imul__", "__itruediv__", "__ifloordiv__", "__imod__",
                                  "__ipow__") if not hasattr(tl.Tensor, name)]
    assert not missing


@pytest.mark.parametrize("a,b", [(1, 0), (1.0, 0), (True, 0), (True, False), (2, 0.5)])
def test_where_of_numbers(device, a, b):
    """Two numbers: the result's dtype comes from their kinds alone."""
    cond = [True, False, True]
    got, want = tl.where(tl.tensor(cond, device=device), a, b), torch.where(torch.tensor(cond), a, b)
    assert got.dtype.name == ("float16" if want.dtype.is_floating_point else str(want.dtype)[6:])
    assert got.tolist() == want.tolist()


@pytest.mark.parametrize("dtype", ["int32", "int64", "bool"])
def test_integers_compare_exactly_with_floats(device, rng, dtype):
    """An integer tensor against a float number is compared exactly (float16, their result type, would round
    integers beyond 2048: 2049 > 2048.5 would be false); the oracle is Python's own int-float comparison, which
    is exact, as PyTorch's (in float32) is below 2^24."""
    low, high = {"int32": (-2**31, 2**31), "int64": (-2**63, 2**63), "bool": (0, 2)}[dtype]
    x = rng.integers(low, high, 50, dtype=np.int64)
    if dtype != "bool":
        x[:10] = rng.integers(2000, 70000, 10)
    x = x.astype(dtype)
    t = tl.tensor(x, device=device)
    numbers = [float(x[1]) + 0.5, float(x[2]), float(x[3]), -0.5, 2048.5, 2.0**63, -2.0**63, 1e30, float("inf"),
               -float("inf"), float("nan"), 0.25]
    for s in numbers:
        for name in ("eq", "ne", "lt", "le", "gt", "ge"):
            want = np.array([getattr(operator, name)(int(v), s) for v in x])
            got = getattr(operator, name)(t, s)
            assert got.dtype == tl.bool
            np.testing.assert_array_equal(got.cpu().numpy(), want, err_msg=f"{name} {s}")
            mirrored = getattr(operator, {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}.get(name, name))
            np.testing.assert_array_equal(mirrored(s, t).cpu().numpy(), want, err_msg=f"{s} {name} reflected")


def test_numbers_keep_their_kind():
    """Python's and numpy's bools, ints and floats promote by kind; an int beyond int64 and a complex number
    raise as in PyTorch (OverflowError; a TypeError, since TensorLogic has no complex dtype). numpy's bool is
    a bool here (PyTorch reads it as a float: int32 * np.bool_(True) is float32 there)."""
    i32, i64 = tl.tensor([1, 2], dtype=tl.int32), tl.tensor([2**40, 3])
    assert (i32 * np.bool_(True)).dtype == tl.int32
    for number in (1.0, np.float64(1.0), np.float32(1.0), np.float16(1.0), 2, np.int64(2), np.int32(2), True):
        want = torch.tensor([1, 2], dtype=torch.int32) * number
        assert (i32 * number).dtype.name == ("float16" if want.dtype.is_floating_point else str(want.dtype)[6:])
        assert (i32 * number).tolist() == want.tolist()
    assert (i64 + (2**62 + 1)).tolist() == [2**62 + 2**40 + 1, 2**62 + 4]  # beyond a double's 53 bits, exact
    assert (i64 * 2**62 == 0).tolist() == (torch.tensor([2**40, 3]) * 2**62 == 0).tolist()  # wraps as PyTorch's
    with pytest.raises(OverflowError):
        i64 + 2**64
    with pytest.raises(TypeError):
        i64 * 1j
    with pytest.raises(ValueError):
        i64 ** -1  # PyTorch: integers to negative integer powers are not allowed


@pytest.mark.parametrize("a", ROLES, ids=lambda r: " ".join(r))
def test_result_type_promote_types_can_cast(a):
    """tl.result_type, promote_types and can_cast against PyTorch's (every float dtype is float16)."""
    def make(lib, role, dtype):
        if role == "number":
            return NUMBERS[dtype](1)
        shape = () if role == "0-d" else (2,)
        return lib.ones(shape, dtype=ORACLE_DTYPE[dtype] if lib is torch else getattr(tl, dtype))

    name = lambda d: "float16" if d.is_floating_point else str(d).replace("torch.", "")  # noqa: E731
    for b in ROLES:
        want = torch.result_type(make(torch, *a), make(torch, *b))
        assert tl.result_type(make(tl, *a), make(tl, *b)).name == name(want), b
    if a[0] == "tensor":
        for b in DTYPES:
            assert tl.promote_types(getattr(tl, a[1]), b).name == name(torch.promote_types(ORACLE_DTYPE[a[1]],
                                                                                             ORACLE_DTYPE[b]))
            assert tl.can_cast(a[1], getattr(tl, b)) == torch.can_cast(ORACLE_DTYPE[a[1]], ORACLE_DTYPE[b])


@pytest.mark.parametrize("name", ["and_", "or_", "xor"])
def test_bitwise_operators_take_bools_and_integers(device, rng, name):
    """& | ^ (and ~, &= |= ^=) on bools are PyTorch's logical results in any role, on integers its bitwise ones
    (ops/bitwise.py); on floats PyTorch refuses them, and so does TensorLogic (a TypeError; they were once logical
    on any dtype, so 3 & 5 was True)."""
    a, b = rng.random((3, 4)) < 0.5, rng.random(4) < 0.5
    ta, tb, pa, pb = tl.tensor(a, device=device), tl.tensor(b, device=device), torch.from_numpy(a), torch.from_numpy(b)
    fn, inplace = getattr(operator, name), getattr(operator, "i" + name.rstrip("_"))
    for x, y, px, py in ((ta, tb, pa, pb), (ta, True, pa, True), (False, tb, False, pb), (ta, tb[0], pa, pb[0])):
        assert fn(x, y).tolist() == fn(px, py).tolist()
    assert inplace(ta.clone(), tb).tolist() == inplace(pa.clone(), pb).tolist()
    assert (~ta).tolist() == (~pa).tolist()
    ints, pints = tl.tensor([3, 5], device=device), torch.tensor([3, 5])
    assert fn(ints, ints).tolist() == fn(pints, pints).tolist() and (~ints).tolist() == (~pints).tolist()
    assert fn(ta[0], 1).tolist() == fn(pa[0], 1).tolist() and fn(ta[0], 1).dtype == tl.int64
    for bad in (lambda: fn(ints.float(), ta[0, :2]), lambda: ~ints.float(),
                lambda: inplace(ta.clone(), ints[0])):  # an int64 result cannot be written into bools
        with pytest.raises(TypeError):
            bad()
