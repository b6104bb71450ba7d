"""Property tests: random ops on random shapes, strides, values and argument types. Every call either
matches the oracle (numpy/PyTorch on the same float16 inputs) or raises a typed error that the oracle
raises too; nothing crashes and inputs never change."""
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tensorlogic as tl
from opinfo import BINARY, UNARY, by_name
from oracle import assert_close_f16, assert_equal

SETTINGS = settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
TYPED = (tl.ShapeMismatchError, IndexError, ValueError, TypeError)

shapes = st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple)


@st.composite
def arrays(draw, shape=None):
    """float16 data (with occasional specials) and how the tensor is laid out: contiguous, strided, transposed."""
    shape = draw(shapes) if shape is None else shape
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    data = (rng.standard_normal(shape) * draw(st.sampled_from([1.0, 10.0]))).astype(np.float16)
    if data.size and draw(st.booleans()):
        specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -2.0], np.float16)
        flat = data.reshape(-1)
        flat[rng.integers(0, flat.size, max(1, flat.size // 4))] = rng.choice(specials, max(1, flat.size // 4))
    layout = draw(st.sampled_from(["contiguous", "strided", "transposed"]))
    return np.asarray(data), layout


def make(data, layout):
    if layout == "strided" and data.ndim:
        wide = np.zeros(data.shape[:-1] + (data.shape[-1] * 2,), np.float16)
        wide[..., ::2] = data
        return tl.tensor(wide)[..., ::2]
    if layout == "transposed" and data.ndim >= 2:
        return tl.tensor(np.ascontiguousarray(np.swapaxes(data, -1, -2))).transpose(-1, -2)
    return tl.tensor(data)


def broadcastable(draw, shape):
    """A shape that broadcasts with `shape` most of the time (and sometimes does not)."""
    out = [draw(st.sampled_from([s, 1, s])) if draw(st.integers(0, 9)) else draw(st.integers(0, 4)) for s in shape]
    return tuple(out[draw(st.integers(0, len(out))):])


def check(fn_tl, fn_oracle, compare, inputs):
    snapshots = [t.numpy().copy() for t in inputs]
    try:
        expected = fn_oracle()
    except (IndexError, ValueError, RuntimeError, TypeError):
        with pytest.raises(TYPED):
            fn_tl()
    else:
        try:
            got = fn_tl()
        except IndexError:
            # PyTorch skips the bounds check when the result is empty; we check every index, like numpy.
            assert np.asarray(expected).size == 0
        else:
            compare(got, expected)
    for t, before in zip(inputs, snapshots):
        np.testing.assert_array_equal(t.numpy(), before)


UNARY_OPS = [op for op in UNARY if op.public and op.method is not None]
BINARY_OPS = [op for op in BINARY if op.public]
OPERATORS = {"add": "__add__", "sub": "__sub__", "mul": "__mul__", "div": "__truediv__"}


def oracle_input(x, op):
    """x as the oracle's input: float64, or float32 for ops that round an inner a / b to f32 first."""
    return torch.from_numpy(np.asarray(x, np.float32 if op.f32_oracle else np.float64))


@SETTINGS
@given(st.data())
def test_fuzz_elementwise(data):
    a, la = data.draw(arrays())
    kind = data.draw(st.sampled_from(["binary", "scalar", "unary"]))
    ta = make(a, la)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if kind == "unary":
            op = data.draw(st.sampled_from(UNARY_OPS), label="op")
            check(lambda: op.call_method(ta), lambda: op.reference(oracle_input(a, op)).double().numpy(),
                  lambda got, want: assert_close_f16(got, want, atol=2e-3), [ta])
        elif kind == "scalar":
            name = data.draw(st.sampled_from(sorted(OPERATORS)))
            op = by_name(BINARY)[name]
            s = data.draw(st.one_of(st.integers(-5, 5), st.floats(-8, 8, allow_nan=False, width=16)))
            reflected = data.draw(st.booleans())
            scalar, x = torch.tensor(float(s), dtype=torch.float64), oracle_input(a, op)
            oracle = lambda: (op.reference(scalar, x) if reflected else op.reference(x, scalar)).numpy()  # noqa: E731
            call = (lambda: getattr(ta, "__r" + OPERATORS[name][2:])(s)) if reflected else \
                (lambda: getattr(ta, OPERATORS[name])(s))
            check(call, oracle, assert_close_f16, [ta])
        else:
            op = data.draw(st.sampled_from(BINARY_OPS), label="op")
            b, lb = data.draw(arrays(broadcastable(data.draw, a.shape)))
            tb = make(b, lb)
            check(lambda: op.call(ta, tb), lambda: op.reference(oracle_input(a, op), oracle_input(b, op)).double().numpy(),
                  assert_close_f16, [ta, tb])


@st.composite
def index_keys(draw, ndim):
    items = []
    for _ in range(draw(st.integers(0, ndim + 1))):
        items.append(draw(st.one_of(
            st.integers(-5, 5),
            st.builds(slice, st.none() | st.integers(-6, 6), st.none() | st.integers(-6, 6), st.none() | st.integers(1, 3)),
            st.just(None),
            st.just(Ellipsis),
            st.lists(st.integers(-5, 5), min_size=0, max_size=4),
        )))
    return tuple(items)


def _several_ellipses(t, key):
    """PyTorch accepts t[..., ...]; numpy and TensorLogic reject it (IndexError)."""
    if sum(k is Ellipsis for k in key) < 2:
        return False
    with pytest.raises(IndexError, match="ellipsis"):
        t[key]
    return True


def _torch_key(key):
    return tuple(torch.tensor(k, dtype=torch.long) if isinstance(k, list) else k for k in key)


@SETTINGS
@given(st.data())
def test_fuzz_getitem(data):
    a, la = data.draw(arrays())
    key = data.draw(index_keys(a.ndim))
    ta = make(a, la)
    if _several_ellipses(ta, key):
        return
    as_tensors = data.draw(st.booleans())
    tl_key = tuple(tl.tensor(np.asarray(k, np.int32), dtype=tl.int32) if as_tensors and isinstance(k, list) else k
                   for k in key)
    check(lambda: ta[tl_key], lambda: torch.from_numpy(a)[_torch_key(key)].numpy(), assert_equal, [ta])


@SETTINGS
@given(st.data())
def test_fuzz_setitem(data):
    a, la = data.draw(arrays())
    key = data.draw(index_keys(a.ndim))
    value = data.draw(st.floats(-100, 100, width=16))
    ta = make(a, la)
    if _several_ellipses(ta, key):
        return
    expected = torch.from_numpy(a.copy())
    try:
        expected[_torch_key(key)] = value
    except (IndexError, ValueError, RuntimeError):
        before = ta.numpy().copy()
        with pytest.raises(TYPED):
            ta[key] = value
        np.testing.assert_array_equal(ta.numpy(), before)
        return
    if any(isinstance(k, list) and len(set(k)) != len(k) for k in key):
        return  # repeated positions: which write wins is unspecified (as in PyTorch)
    try:
        ta[key] = value
    except IndexError:  # PyTorch skips the bounds check when nothing is written; we check every index
        assert expected[_torch_key(key)].numel() == 0
        np.testing.assert_array_equal(ta.numpy(), a)
        return
    assert_equal(ta, expected.numpy())


@SETTINGS
@given(st.data())
def test_fuzz_shape_and_join(data):
    a, la = data.draw(arrays())
    ta = make(a, la)
    ta_torch = torch.from_numpy(a)
    kind = data.draw(st.sampled_from(["reshape", "transpose", "unsqueeze", "squeeze", "flatten", "cat", "pad",
                                      "gather", "index_select"]))
    d0, d1 = data.draw(st.integers(-5, 5)), data.draw(st.integers(-5, 5))
    if kind == "reshape":
        shape = data.draw(st.lists(st.integers(-1, 6), max_size=4))
        check(lambda: ta.reshape(shape), lambda: ta_torch.reshape(shape).numpy(), assert_equal, [ta])
    elif kind == "transpose":
        check(lambda: ta.transpose(d0, d1), lambda: ta_torch.transpose(d0, d1).numpy(), assert_equal, [ta])
    elif kind == "unsqueeze":
        check(lambda: ta.unsqueeze(d0), lambda: ta_torch.unsqueeze(d0).numpy(), assert_equal, [ta])
    elif kind == "squeeze":
        check(lambda: ta.squeeze(d0), lambda: ta_torch.squeeze(d0).numpy(), assert_equal, [ta])
    elif kind == "flatten":
        check(lambda: ta.flatten(d0, d1), lambda: ta_torch.flatten(d0, d1).numpy(), assert_equal, [ta])
    elif kind == "cat":
        b, lb = data.draw(arrays(broadcastable(data.draw, a.shape)))
        tb = make(b, lb)
        check(lambda: tl.cat([ta, tb], d0), lambda: torch.cat([ta_torch, torch.from_numpy(b)], d0).numpy(),
              assert_equal, [ta, tb])
    elif kind == "pad":
        mode = data.draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
        pads = data.draw(st.lists(st.integers(0 if mode != "constant" else -2, 3), min_size=0, max_size=2 * a.ndim))
        if len(pads) % 2:
            pads = pads[:-1]
        if mode != "constant" and (a.size == 0 or not pads or a.ndim not in (len(pads) // 2 + 1, len(pads) // 2 + 2)):
            return  # PyTorch pads only these (ndim, pads) combinations in these modes; ours has no oracle beyond
        import torch.nn.functional as TF

        check(lambda: tl.pad(ta, pads, mode=mode), lambda: TF.pad(ta_torch.float(), pads, mode=mode).half().numpy(),
              assert_equal, [ta])
    else:
        if a.ndim == 0:
            return
        dim = d0 % a.ndim
        n = data.draw(st.integers(0, 5))
        idx = np.asarray(data.draw(st.lists(st.integers(-1, a.shape[dim] + 1), min_size=n, max_size=n)), np.int32)
        if kind == "index_select":
            ti = tl.tensor(idx, dtype=tl.int32)
            oracle = lambda: ta_torch.index_select(dim, torch.from_numpy(idx).long()).numpy()
            check(lambda: tl.index_select(ta, dim, ti), oracle, assert_equal, [ta])
        else:
            shape = list(a.shape)
            shape[dim] = n
            gidx = np.resize(idx, shape).astype(np.int32) if idx.size else np.zeros(shape, np.int32)
            check(lambda: tl.gather(ta, dim, tl.tensor(gidx, dtype=tl.int32)),
                  lambda: torch.gather(ta_torch, dim, torch.from_numpy(gidx).long()).numpy(), assert_equal, [ta])
