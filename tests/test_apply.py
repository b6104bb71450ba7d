"""Tensor.apply_ against PyTorch's on the same data (fresh seeds): each dtype's values as the function sees them
and as they are stored, the element order, writes through views, and the errors; on a GPU, PyTorch's TypeError."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import f16_randn

# (our dtype, torch's, data from a seeded numpy Generator)
DTYPES = [
    (tl.float16, torch.float16, lambda rng, shape: f16_randn(rng, shape, 3.0)),
    (tl.int64, torch.int64, lambda rng, shape: rng.integers(-50, 50, shape)),
    (tl.int32, torch.int32, lambda rng, shape: rng.integers(-50, 50, shape).astype(np.int32)),
    (tl.bool, torch.bool, lambda rng, shape: rng.integers(0, 2, shape).astype(bool)),
]
# Functions as programs write them: arithmetic returning floats, a lookup table, a branch on the value.
FUNCTIONS = [lambda v: v * 1.7 - 0.3, lambda v: {True: 5, False: -2}.get(v > 0, 0), lambda v: -v if v < 1 else v // 2]


@pytest.mark.parametrize("dtypes", DTYPES, ids=[d[0].name for d in DTYPES])
@pytest.mark.parametrize("function", range(len(FUNCTIONS)))
def test_apply_matches_torch(device, rng, dtypes, function):
    ours_dtype, torch_dtype, make = dtypes
    data = make(rng, (3, 4))
    fn = FUNCTIONS[function]
    x = tl.tensor(data, dtype=ours_dtype, device=device)
    if device != "cpu":
        with pytest.raises(TypeError, match="only implemented on CPU tensors"):
            x.apply_(fn)
        return
    seen, tseen = [], []
    t = torch.tensor(data, dtype=torch_dtype)
    out = x.apply_(lambda v: seen.append(v) or fn(v))
    t.apply_(lambda v: tseen.append(v) or fn(v))
    assert out is x and x.dtype is ours_dtype
    assert seen == tseen and [type(v) for v in seen] == [type(v) for v in tseen]  # the same Python values, in order
    # float16: Python's double result rounded to f16 once (PyTorch's may round through float32 first: an ulp apart)
    np.testing.assert_allclose(x.numpy().astype(np.float64), t.numpy().astype(np.float64), rtol=2.0 ** -10)


def test_apply_writes_through_views_and_counts_as_a_change(rng):
    data = f16_randn(rng, (4, 6))
    base, tbase = tl.tensor(data), torch.tensor(data)
    view, tview = base[1:, ::2].transpose(0, 1), tbase[1:, ::2].transpose(0, 1)
    version = base._version
    view.apply_(lambda v: v + 1.0)
    tview.apply_(lambda v: v + 1.0)
    np.testing.assert_array_equal(base.numpy(), tbase.numpy())
    assert base._version > version
    assert tl.zeros(0).apply_(lambda v: 1 / 0).shape == (0,)  # no element: the function is never called
    assert tl.tensor(2.0).apply_(lambda v: tl.tensor(v * 3)).item() == 6.0  # a 0-d tensor is a number


def test_apply_errors_in_pytorchs_words():
    def both(make, fn):
        errors = []
        for lib in (tl, torch):
            with pytest.raises(Exception) as error:
                make(lib).apply_(fn)
            errors.append(error)
        assert errors[0].type is errors[1].type and str(errors[0].value) == str(errors[1].value), errors

    both(lambda lib: lib.ones(2, requires_grad=True), lambda v: v)
    both(lambda lib: lib.ones(2, requires_grad=True) * 2, lambda v: v)
    for bad in ("a", None, 1j, [1]):
        both(lambda lib: lib.ones(2), lambda v, bad=bad: bad)
    both(lambda lib: lib.ones(2), 3)  # not callable: Python's own TypeError
    both(lambda lib: lib.ones(2), lambda v: {}[v])  # the function's own errors reach the caller as they are
    both(lambda lib: lib.ones(2), lambda v: None.missing)
    both(lambda lib: lib.arange(2), lambda v: 2 ** 70)
    both(lambda lib: lib.arange(2, dtype=lib.int32), lambda v: 2 ** 40)
    both(lambda lib: lib.arange(2), lambda v: float("nan"))
    with pytest.raises(tl.PrecisionOverflowError):  # SPEC: finite data beyond f16's range (PyTorch's float16: inf)
        tl.ones(2).apply_(lambda v: 1e6)


@pytest.mark.parametrize("dtypes", DTYPES[:3], ids=[d[0].name for d in DTYPES[:3]])
def test_map_and_map2_match_torch(device, rng, dtypes):
    """map_(other, f) and map2_(x, y, f): f given the element and the operands' elements there, the operands broadcast
    to the tensor's shape; the same Python values in the same order as PyTorch's, the same results."""
    ours_dtype, torch_dtype, make = dtypes
    data, row, column = make(rng, (3, 4)), make(rng, (4,)), make(rng, (3, 1))
    x, r, c = (tl.tensor(a, dtype=ours_dtype, device=device) for a in (data, row, column))
    if device != "cpu":
        with pytest.raises(TypeError, match="only implemented on CPU tensors"):
            x.map_(r, lambda v, w: v)
        return
    t, tr, tc = (torch.tensor(a, dtype=torch_dtype) for a in (data, row, column))
    seen, tseen = [], []
    assert x.map_(r, lambda v, w: seen.append((v, w)) or v * 2 - w) is x
    t.map_(tr, lambda v, w: tseen.append((v, w)) or v * 2 - w)
    assert seen == tseen
    assert x.map2_(r, c, lambda v, a, b: max(v, a) + b) is x
    t.map2_(tr, tc, lambda v, a, b: max(v, a) + b)
    np.testing.assert_allclose(x.numpy().astype(np.float64), t.numpy().astype(np.float64), rtol=2.0 ** -10)


def test_map_errors_in_pytorchs_words():
    def both(make, *args):
        errors = []
        for lib in (tl, torch):
            with pytest.raises(Exception) as error:
                make(lib, *args)
            errors.append(error)
        assert errors[0].type is errors[1].type, errors
        return errors

    first = lambda v, *rest: v  # noqa: E731
    for make in (lambda lib: lib.ones(2, requires_grad=True).map_(lib.ones(2), first),
                 lambda lib: lib.ones(2).map_(lib.ones(2, requires_grad=True), first),
                 lambda lib: lib.ones(2).map_([1, 2], first),
                 lambda lib: lib.ones(2).map_(lib.ones(2), lambda v, w: "a")):
        errors = both(make)
        assert str(errors[0].value) == str(errors[1].value)
    both(lambda lib: lib.ones(2).map2_(lib.ones(2), lib.ones(2, dtype=lib.int64), first))
    both(lambda lib: lib.ones(2).map2_(lib.ones(2), lib.ones(3), first))
    both(lambda lib: lib.ones(3).map_(lib.ones(2, 3), first))


def test_apply_callable_that_resizes_the_tensor():
    """A callable that shrinks the tensor it is applied to: a clear RuntimeError, the tensor left as the callable
    made it."""
    t = tl.tensor([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match=r"changed the tensor's shape from \[3\] to \[1\]"):
        t.apply_(lambda v: (t.resize_(1), v)[1])
    assert t.tolist() == [1.0]
