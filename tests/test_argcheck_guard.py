"""The guard around public ops (_argcheck.guard, native as _core.Guard) behaves as the function it wraps: it binds as
a method, keeps the op's name, docstring, signature and module, passes arguments through unchanged, and replaces an
internal error by the explained one without chaining; a call that used NumPy's names for arguments is made again with
PyTorch's."""
import inspect

import pytest
import torch

import tensorlogic as tl
from tensorlogic._argcheck import guard


def _scale(input, dim=0, *, factor=1.0):
    """input times factor (dim is only checked; factor -1 stands for an internal failure)."""
    if factor == -1.0:
        raise AttributeError("'Tensor' object has no attribute '_a'")  # an internal error
    return input * factor


def test_guard_is_the_function_it_wraps():
    g = guard(_scale)
    assert g.__name__ == "_scale" and g.__doc__ == _scale.__doc__ and g.__wrapped__ is _scale
    assert g.__module__ == __name__ and inspect.signature(g) == inspect.signature(_scale)
    assert repr(g) == repr(_scale)
    x = tl.ones((2,))
    assert g(x, factor=3.0).tolist() == [3.0, 3.0] and g(input=x, dim=1).tolist() == [1.0, 1.0]


def test_guard_binds_as_a_method():
    class Holder:
        scale = guard(_scale)

    h = Holder()
    with pytest.raises(TypeError):  # h is passed as input, as a function would pass it
        h.scale(0, factor=2.0)
    assert Holder.scale is Holder.__dict__["scale"]
    x = tl.ones((3,))
    assert x.view(3).tolist() == tl.Tensor.view(x, 3).tolist() == [1.0, 1.0, 1.0]


def test_tensor_in_an_int_slot_and_internal_errors_are_explained():
    g = guard(_scale)
    with pytest.raises(TypeError, match=r"argument 'dim'") as info:
        g(tl.ones((2,)), tl.tensor([1.5]))
    with pytest.raises(TypeError, match=r"argument 'dim'"):
        g(tl.ones((2,)), dim=tl.tensor([1.5]))
    with pytest.raises(TypeError, match=r"_scale\(\) received an invalid combination of arguments") as internal:
        g(tl.ones((2,)), factor=-1.0)
    assert internal.value.__cause__ is None and internal.value.__suppress_context__
    assert "_a" not in str(internal.value) and info.value is not None


def test_numpy_names_of_arguments_are_taken_as_pytorch_takes_them(device, rng):
    """PyTorch's native functions and Tensor methods take NumPy's names for four parameters (axis for dim, keepdims
    for keepdim, x/a/x1 for input, x2 for other): makemore's counts.sum(1, keepdims=True) raised TypeError. Results
    against PyTorch's on the same f16 values; a name given twice, or one the op does not have, stays a TypeError."""
    values = rng.standard_normal((3, 4)).astype("float16")
    a, t = tl.tensor(values, device=device), torch.tensor(values.astype("float32"))
    calls = [lambda m, x: x.sum(1, keepdims=True), lambda m, x: m.sum(x, axis=0), lambda m, x: m.cat([x, x], axis=1),
             lambda m, x: x.max(axis=1)[0], lambda m, x: m.amax(x, axis=(0, 1), keepdims=True),
             lambda m, x: x.softmax(axis=0), lambda m, x: x.std(axis=0, keepdims=True), lambda m, x: m.add(x=x, other=x),
             lambda m, x: m.maximum(x1=x, x2=x * 2), lambda m, x: x.cumsum(axis=1), lambda m, x: x.argmax(axis=1)]
    for call in calls:
        got, want = call(tl, a), call(torch, t)
        assert tuple(got.shape) == tuple(want.shape)
        assert abs(got.cpu().numpy().astype("float64") - want.numpy()).max() <= 2e-3 * (1 + abs(want.numpy()).max())
    with pytest.raises(TypeError):
        a.sum(1, axis=1)
    with pytest.raises(TypeError):
        a.sum(axis=1, dim=1)
    with pytest.raises(TypeError):
        a.sum(axes=1)
    g = guard(_scale)
    assert g(x=tl.ones((2,)), axis=0, factor=2.0).tolist() == [2.0, 2.0]
