"""The guard around public ops (_argcheck.guard, native as _core.Guard) behaves as the function it wraps: it binds as
a method, keeps the op's name, docstring, signature and module, passes arguments through unchanged, and replaces an
internal error by the explained one without chaining."""
import inspect

import pytest

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
