"""tl.testing against torch.testing: assert_close's verdicts, tolerances and messages (PyTorch's, on the same
values), and make_tensor's shapes, ranges and options."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from torch.testing._comparison import default_tolerances, make_scalar_mismatch_msg, make_tensor_mismatch_msg


def _message(fn, *args, **kwargs):
    with pytest.raises(AssertionError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def _pairs(rng):
    """(tl pair, torch pair) of inputs that assert_close rejects, f16 values on both sides."""
    a = rng.standard_normal((3, 4)).astype(np.float16)
    b = a.copy()
    b[1, 2] += np.float16(0.5)
    b[2, 3] *= np.float16(1.01)
    ints = np.arange(6).reshape(2, 3)
    return [((tl.tensor(a), tl.tensor(b)), (torch.tensor(a), torch.tensor(b))),
            ((tl.tensor(ints), tl.tensor(ints + np.eye(2, 3, dtype=np.int64))),
             (torch.tensor(ints), torch.tensor(ints + np.eye(2, 3, dtype=np.int64)))),
            ((tl.tensor(np.float16(1.0)), tl.tensor(np.float16(1.5))),
             (torch.tensor(np.float16(1.0)), torch.tensor(np.float16(1.5)))),
            ((1.0, 1.5), (1.0, 1.5)), ((2, 3), (2, 3)),
            ((np.array([1.0, 2.0]), np.array([1.0, 2.1])), (np.array([1.0, 2.0]), np.array([1.0, 2.1])))]


def _torch_message(actual, expected):
    """PyTorch's message for the pair, from the functions torch.testing.assert_close builds it with (its first call
    imports torch.distributed, seconds on a small machine; these do not)."""
    # Python floats compare as float64, as assert_close takes them
    actual, expected = (torch.as_tensor(v, dtype=torch.float64 if isinstance(v, float) else None)
                        for v in (actual, expected))
    rtol, atol = default_tolerances(actual, expected)
    if actual.ndim == 0:
        return make_scalar_mismatch_msg(actual.item(), expected.item(), rtol=rtol, atol=atol)
    matches = torch.isclose(actual, expected, rtol=rtol, atol=atol)
    return make_tensor_mismatch_msg(actual, expected, matches, rtol=rtol, atol=atol)


def test_messages_follow_torch(rng):
    for ours, theirs in _pairs(rng):
        mine = _message(tl.testing.assert_close, *ours).splitlines()
        reference = _torch_message(*theirs).splitlines()
        assert len(mine) == len(reference) and mine[:3] == reference[:3], (mine, reference)
        for m, r in zip(mine[3:], reference[3:]):  # the differences: PyTorch's are computed in the inputs' dtype
            words, ref_words = m.split(), r.split()
            assert [w for w in words if not _number(w)] == [w for w in ref_words if not _number(w)], (m, r)
            for w, rw in zip(words, ref_words):
                if _number(w):
                    assert float(w) == pytest.approx(float(rw), rel=2e-3), (m, r)


def _number(word):
    try:
        float(word)
        return True
    except ValueError:
        return False


def test_verdicts_and_tolerances(device, rng):
    x = tl.tensor(rng.standard_normal(5).astype(np.float16), device=device)
    tl.testing.assert_close(x, x.clone())
    tl.testing.assert_close(x, x * (1 + 5e-4))  # within float16's rtol 1e-3
    with pytest.raises(AssertionError):
        tl.testing.assert_close(x, x * 1.01)
    tl.testing.assert_close(x, x * 1.01, rtol=0.02, atol=0.0)
    nan = tl.tensor([1.0, float("nan"), float("inf")], device=device)
    with pytest.raises(AssertionError):
        tl.testing.assert_close(nan, nan.clone())
    tl.testing.assert_close(nan, nan.clone(), equal_nan=True)
    with pytest.raises(AssertionError, match="attribute 'dtype'"):
        tl.testing.assert_close(tl.tensor([1, 2], device=device), tl.tensor([1.0, 2.0], device=device))
    tl.testing.assert_close(tl.tensor([1, 2], device=device), tl.tensor([1.0, 2.0], device=device), check_dtype=False)
    with pytest.raises(AssertionError, match="attribute 'shape'"):
        tl.testing.assert_close(x, x[:3])
    z = tl.complex(x, x)
    tl.testing.assert_close(z, z.clone())
    with pytest.raises(AssertionError, match="Tensor-likes are not close"):
        tl.testing.assert_close(z, z * (1 + 0.01j))
    with pytest.raises(ValueError, match="'rtol' and 'atol'"):
        tl.testing.assert_close(x, x, rtol=1e-3)
    with pytest.raises(TypeError, match="No comparison pair"):
        tl.testing.assert_close(x, x.numpy())
    with pytest.raises(TypeError):
        tl.testing.assert_close(x, 1.0)


def test_containers_paths_and_msg(rng):
    a, b = tl.tensor([1.0, 2.0]), tl.tensor([1.0, 3.0])
    tl.testing.assert_close([a, {"k": (a, 2)}], [a.clone(), {"k": (a.clone(), 2)}])
    assert _message(tl.testing.assert_close, [a, a], [a, b]).endswith("The failure occurred for item [1]")
    assert _message(tl.testing.assert_close, {"w": [a]}, {"w": [b]}).endswith("item ['w'][0]")
    assert _message(tl.testing.assert_close, [a], [a, b]) == "The length of the sequences mismatch: 1 != 2"
    assert "Missing keys" in _message(tl.testing.assert_close, {"a": a}, {"b": a})
    assert _message(tl.testing.assert_close, a, b, msg="custom") == "custom"
    assert _message(tl.testing.assert_close, a, b, msg=lambda m: "X" + m).startswith("XTensor-likes are not close!")


@pytest.mark.parametrize("dtype", [tl.float16, tl.float32, tl.int32, tl.int64, tl.bool, tl.cfloat])
def test_make_tensor(device, dtype):
    tl.manual_seed(5)
    t = tl.testing.make_tensor(4, 6, dtype=dtype, device=device)
    tl.manual_seed(5)
    again = tl.testing.make_tensor((4, 6), dtype=dtype, device=device)
    tl.testing.assert_close(t, again)
    assert t.shape == (4, 6) and t.device == tl.device(device)
    values = tl.view_as_real(t).cpu().numpy() if dtype is tl.cfloat else t.cpu().numpy()
    if dtype is tl.bool:
        assert t.dtype == tl.bool
    elif dtype in (tl.int32, tl.int64):
        assert t.dtype == dtype and values.min() >= -9 and values.max() < 10
    else:
        assert values.min() >= -9 and values.max() <= 9
    if dtype is not tl.bool:
        small = tl.testing.make_tensor(50, dtype=dtype, device=device, low=-2, high=3, exclude_zero=True)
        parts = tl.view_as_real(small).cpu().numpy() if dtype is tl.cfloat else small.cpu().numpy()
        assert parts.min() >= -2 and parts.max() <= 3
        assert (np.abs(small.cpu().numpy()) > 0).all()
    strided = tl.testing.make_tensor(3, 5, dtype=dtype, device=device, noncontiguous=True)
    assert not (tl.view_as_real(strided) if dtype is tl.cfloat else strided).is_contiguous()
    tl.testing.assert_close(strided, strided.contiguous() if dtype is not tl.cfloat else strided.clone())


def test_make_tensor_errors_and_grad():
    assert tl.testing.make_tensor(3, dtype=tl.float16, requires_grad=True).requires_grad
    with pytest.raises(ValueError):
        tl.testing.make_tensor(3, dtype=tl.int64, requires_grad=True)
    with pytest.raises(ValueError):
        tl.testing.make_tensor(3, dtype=tl.float16, low=2, high=1)
    with pytest.raises(ValueError):
        tl.testing.make_tensor(3, dtype=tl.float16, low=float("nan"))
    with pytest.raises(TypeError):
        tl.testing.make_tensor(3, dtype="no such dtype")
