"""Argument validation of tl.distributions on by default, as in PyTorch: invalid parameters and values outside the
support raise PyTorch's ValueError (shapes that do not fit a ShapeMismatchError, a ValueError too);
Distribution.set_default_validate_args(False) and validate_args=False turn it off. The default validation reads the
values of CPU tensors only: on a GPU it makes the host wait for nothing (validate_args=True reads them there too)."""
import pytest
import torch

import tensorlogic as tl
import tensorlogic.distributions as D
import torch.distributions as TD
from tensorlogic import _core

# (name, constructor arguments): each breaks a constraint of its distribution
_INVALID = [("Normal", (0.0, -1.0)), ("Normal", ([0.0, 1.0], [1.0, -0.5])), ("Bernoulli", ([0.5, 1.5],)),
            ("Exponential", ([-1.0],)), ("Gamma", ([1.0], [0.0])), ("Beta", ([-1.0], [1.0])),
            ("Uniform", ([1.0], [0.0])), ("Laplace", (0.0, [-2.0])), ("Poisson", ([-1.0],)),
            ("Dirichlet", ([[1.0, -1.0]],)), ("Categorical", ([[-0.5, 1.0]],))]
# (name, constructor arguments, a value outside the support)
_OUTSIDE = [("Bernoulli", ([0.3],), [0.5]), ("Exponential", ([1.0],), [-1.0]), ("Poisson", ([2.0],), [1.5]),
            ("Uniform", ([0.0], [1.0]), [1.5]), ("Categorical", ([[0.2, 0.8]],), [2]), ("Beta", ([2.0], [2.0]), [1.5])]


def _args(tensor_lib, args):
    return [tensor_lib.tensor(a) if isinstance(a, list) else a for a in args]


@pytest.fixture
def restore_default():
    yield
    D.Distribution.set_default_validate_args(True)
    TD.Distribution.set_default_validate_args(True)


@pytest.mark.parametrize("name,args", _INVALID)
def test_invalid_parameters_raise_by_default_as_in_torch(name, args):
    for lib, tensor_lib in ((TD, torch), (D, tl)):
        with pytest.raises(ValueError):
            getattr(lib, name)(*_args(tensor_lib, args))
        getattr(lib, name)(*_args(tensor_lib, args), validate_args=False)


@pytest.mark.parametrize("name,args,value", _OUTSIDE)
def test_values_outside_the_support_raise_by_default_as_in_torch(name, args, value):
    for lib, tensor_lib in ((TD, torch), (D, tl)):
        dist = getattr(lib, name)(*_args(tensor_lib, args))
        with pytest.raises(ValueError, match="support"):
            dist.log_prob(tensor_lib.tensor(value))
        lenient = getattr(lib, name)(*_args(tensor_lib, args), validate_args=False)
        if name != "Categorical":  # (an index beyond the categories fails in the gather, in either library)
            lenient.log_prob(tensor_lib.tensor(value))  # no check: NaN, -inf or a number


def test_set_default_validate_args_turns_it_off(restore_default):
    for lib, tensor_lib in ((TD, torch), (D, tl)):
        lib.Distribution.set_default_validate_args(False)
        assert lib.Normal(0.0, tensor_lib.tensor(-1.0)).batch_shape == ()
        assert not lib.Exponential(tensor_lib.tensor([1.0]))._validate_args
        with pytest.raises(ValueError):  # an explicit validate_args=True still checks
            lib.Normal(0.0, tensor_lib.tensor(-1.0), validate_args=True)
        lib.Distribution.set_default_validate_args(True)
        with pytest.raises(ValueError):
            lib.Normal(0.0, tensor_lib.tensor(-1.0))
    with pytest.raises(TypeError):
        D.Distribution.set_default_validate_args(1)


def test_value_shapes_are_checked_by_default():
    dist = D.Normal(tl.zeros(3), tl.ones(3))
    with pytest.raises(tl.ShapeMismatchError):
        dist.log_prob(tl.zeros(2))
    with pytest.raises(ValueError):
        TD.Normal(torch.zeros(3), torch.ones(3)).log_prob(torch.zeros(2))


@pytest.mark.skipif("cuda" not in tl.available_devices(), reason="needs a CUDA device")
def test_default_validation_never_waits_for_a_gpu():
    loc, scale = tl.zeros(64, device="cuda"), tl.full((64,), -1.0, device="cuda")
    value = tl.full((64,), 0.5, device="cuda")
    before = _core.host_reads("cuda")
    for name, args, v in (("Normal", (loc, scale.abs()), value), ("Bernoulli", (value,), value),
                          ("Categorical", (tl.ones(4, 3, device="cuda"),), tl.zeros(4, dtype=tl.int64, device="cuda")),
                          ("Normal", (loc, scale), value)):  # invalid, unchecked on the GPU by default
        getattr(D, name)(*args).log_prob(v)  # (sampling is left out: some samplers draw on the host)
    assert _core.host_reads("cuda") == before
    with pytest.raises(ValueError):  # asked for: the values are read there too
        D.Normal(loc, scale, validate_args=True)
