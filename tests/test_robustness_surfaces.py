"""Regressions of what tests/fuzz_surfaces.py and a hand attack on the newer surfaces found: each bad input ends in
the typed error PyTorch users expect (its base class), state an error meets stays as it was, and the values that
were silently wrong are right (against PyTorch or exact arithmetic)."""
import copy
import io

import numpy as np
import pytest
import torch

import tensorlogic as tl
import tensorlogic.nn as nn
from tensorlogic.optim import lr_scheduler
from tensorlogic.utils.data import (ConcatDataset, DataLoader, RandomSampler, TensorDataset, default_collate,
                                   random_split)


def _sgd():
    return tl.optim.SGD([tl.ones(2, requires_grad=True)], lr=0.1)


# (thunk, the exception class it must raise, a fragment of the message); each was a crash, hang, untyped error, leak
# of internals or a silent wrong result before.
CASES = [
    (lambda: tl._foreach_addcdiv([tl.ones(2)], 0.0, 0.0), TypeError, "tensor1"),  # ZeroDivisionError
    (lambda: tl._foreach_tanh_([tl.ones(2, dtype=tl.int64)]), TypeError, "int64"),  # truncated into the ints
    (lambda: tl._foreach_maximum_([tl.ones(2, dtype=tl.int32)], 1.5), TypeError, "int32"),
    (lambda: tl.special.multigammaln(tl.ones(3), 2**62), MemoryError, "memory"),  # a loop of 2^62 steps: a hang
    (lambda: tl.fft.fft(tl.ones(4), n=-1), ValueError, "-1"),  # ran as n = 4
    (lambda: tl.fft.fft(tl.ones(4), n=2**62), MemoryError, "points"),  # numpy's "array is too big"
    (lambda: tl.fft.fftfreq(2**62), MemoryError, "points"),
    (lambda: tl.optim.SGD([tl.ones(2)], lr="x"), TypeError, "'lr'"),  # "'>=' not supported"
    (lambda: tl.optim.SGD([tl.ones(2)], lr=0.1, momentum=(0.9, 0.99)), TypeError, "'momentum'"),  # pybind11 at step
    (lambda: tl.optim.Adam([tl.ones(2)], amsgrad=(1, 2)), TypeError, "'amsgrad'"),
    (lambda: tl.optim.SGD([{"lr": 0.1}], lr=0.1), ValueError, "'params'"),  # KeyError
    (lambda: _sgd().load_state_dict({}), ValueError, "'state'"),  # KeyError
    (lambda: _sgd().load_state_dict("x"), TypeError, "dict"),  # "string indices must be integers"
    (lambda: _sgd().load_state_dict({"state": "x", "param_groups": [{"params": [0]}]}), TypeError, "'state'"),
    (lambda: _sgd().load_state_dict({"state": {0: "x"}, "param_groups": [{"params": [0]}]}), TypeError, "dict"),
    (lambda: lr_scheduler.StepLR(_sgd(), step_size=0), ValueError, "step_size"),  # ZeroDivisionError at a step
    (lambda: lr_scheduler.CosineAnnealingLR(_sgd(), T_max=0), ValueError, "T_max"),
    (lambda: lr_scheduler.CyclicLR(_sgd(), 0.1, 1.0, step_size_up=0), ValueError, "step_size_up"),
    (lambda: lr_scheduler.CyclicLR(_sgd(), 0.1, 1.0, step_size_down=float("inf")), ValueError, "step_size_down"),
    (lambda: lr_scheduler.OneCycleLR(_sgd(), 1.0, total_steps=5, div_factor=0), ValueError, "div_factor"),
    (lambda: lr_scheduler.PolynomialLR(_sgd(), power=-1.0), ValueError, "power"),
    (lambda: lr_scheduler.ConstantLR(_sgd(), factor=0.0), ValueError, "factor"),  # ZeroDivisionError at total_iters
    (lambda: lr_scheduler.MultiStepLR(_sgd(), milestones="x"), TypeError, "milestones"),
    (lambda: lr_scheduler.ChainedScheduler(["x"]), TypeError, "LRScheduler"),  # AttributeError
    (lambda: lr_scheduler.StepLR(_sgd(), 1).load_state_dict("x"), TypeError, "dict"),
    (lambda: default_collate([]), ValueError, "empty"),  # IndexError "list index out of range"
    (lambda: default_collate([{"a": 1}, {"b": 2}]), ValueError, "keys"),  # KeyError
    (lambda: list(DataLoader(TensorDataset(tl.ones(5, 2)), batch_sampler=[[]])), ValueError, "empty"),
    (lambda: list(DataLoader(TensorDataset(tl.ones(5, 2)), sampler=[1.5])), TypeError, "not an int"),  # row 1
    (lambda: random_split(range(10), [-1, 11]), ValueError, "non-negative"),  # split silently
    (lambda: list(RandomSampler(range(0), replacement=True, num_samples=2)), ValueError, "empty"),  # "high <= 0"
    (lambda: ConcatDataset([range(2), range(3)])[5], IndexError, "ConcatDataset"),
    (lambda: nn.Embedding(3, 3, padding_idx=1.5), TypeError, "padding_idx"),  # pybind11's cast message
    (lambda: nn.Linear(2, 3).load_state_dict(None), TypeError, "dict-like"),
    (lambda: tl.ones([1] * 70).numpy(), ValueError, "64"),  # a 0-d object array
    (lambda: tl.save({"a": 1 + 2j}, io.BytesIO()), TypeError, "complex"),
    (lambda: tl.save({"a": tl.ones(1)}, "/nonexistent-dir/x.pt"), OSError, "cannot write"),  # SafetensorError
    (lambda: tl.ones(2, 3, 4).contiguous(memory_format=tl.channels_last), RuntimeError, "rank 4"),  # ignored
    (lambda: tl.ones(2, 3, 4, 5).to(memory_format=tl.channels_last_3d), RuntimeError, "rank 5"),
    (lambda: tl.full((2,), 2**40, dtype=tl.int32), OverflowError, "int32"),  # -2^31
    (lambda: tl.full((2,), 2**63), OverflowError, "int64"),  # -2^63
    (lambda: tl.zeros(2, dtype=tl.int32).fill_(2**40), OverflowError, "int32"),
    (lambda: tl.bernoulli(tl.tensor([1.5, 0.5])), RuntimeError, "[0, 1]"),  # drew 1
    (lambda: tl.bernoulli(tl.tensor([float("nan")])), RuntimeError, "[0, 1]"),  # drew 0
    (lambda: tl.Generator().manual_seed("x"), TypeError, "int"),
    (lambda: tl.ones(2, requires_grad=True).register_hook("x"), TypeError, "callable"),
    (lambda: setattr(tl.ones(3, requires_grad=True), "grad", tl.ones(4)), RuntimeError, "size"),  # stored
    (lambda: setattr(tl.ones(3, requires_grad=True), "grad", "x"), TypeError, "Tensor or None"),
    (lambda: setattr(tl.ones(3, requires_grad=True), "grad", tl.ones(3, dtype=tl.int32)), RuntimeError, "type"),
    (lambda: setattr(tl.ones(3, dtype=tl.int32), "requires_grad", True), RuntimeError, "float16"),
    (lambda: tl.ones(3).requires_grad_("x"), TypeError, "bool"),
    (lambda: tl.special.round(tl.ones(3), decimals=2**70), OverflowError, "64 bits"),  # "(34, 'Numerical result...')"
    (lambda: tl.round(tl.ones(3), decimals="x"), TypeError, "decimals"),
]


@pytest.mark.parametrize("thunk, error, fragment", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_bad_input_gets_a_typed_error(thunk, error, fragment):
    with pytest.raises(error) as info:
        thunk()
    assert fragment in str(info.value)
    assert "_core" not in str(info.value) and "incompatible function arguments" not in str(info.value)


def test_save_refuses_what_load_would_refuse():
    cycle = []
    cycle.append(cycle)  # a RecursionError before
    with pytest.raises(ValueError, match="contain itself"):
        tl.save(cycle, io.BytesIO())
    for depth, saves in ((150, True), (300, False)):  # a list nested 300 deep saved, then tl.load refused it
        nested = [1]
        for _ in range(depth):
            nested = [nested]
        buffer = io.BytesIO()
        if saves:
            tl.save(nested, buffer)
            buffer.seek(0)
            tl.load(buffer)
        else:
            with pytest.raises(ValueError, match="nests deeper"):
                tl.save(nested, buffer)


def test_a_failed_optimizer_load_changes_nothing():
    p = tl.ones(2, requires_grad=True)
    opt = tl.optim.Adam([p], lr=0.1)
    p.grad = tl.ones(2)
    opt.step()
    before = opt.state_dict()
    for change in (lambda s: s["param_groups"][0].update(lr="x"), lambda s: s["param_groups"][0].update(betas=(2, 0)),
                   lambda s: s["state"][0].update(step="x"), lambda s: s["state"][0].update(exp_avg=np.ones(7))):
        hostile = copy.deepcopy(before)
        change(hostile)
        with pytest.raises((TypeError, ValueError)):
            opt.load_state_dict(hostile)
        assert repr(opt.state_dict()) == repr(before)


def test_polygamma_of_huge_orders_keeps_the_sign_of_its_parity(rng):
    # n >= 2^31 reached the kernel as a negative int and gave digamma; past n = 170, n! is inf in double
    x = tl.tensor(np.float16([0.5, 1.0, 3.0]))
    expected = {n: torch.special.polygamma(n, torch.tensor([0.5, 1.0]).double()).float() for n in (200, 201)}
    for n in (2**31, 2**40, 2**70):
        got = tl.special.polygamma(n, x).numpy()[:2].astype(np.float32)
        np.testing.assert_array_equal(got, expected[200 + n % 2].numpy(), err_msg=f"n = {n}")
    seed = int(rng.integers(2**31))
    small = np.float16(np.random.default_rng(seed).uniform(0.5, 4, 8))
    np.testing.assert_allclose(tl.special.polygamma(3, tl.tensor(small)).numpy().astype(np.float64),
                               torch.special.polygamma(3, torch.tensor(small).double()).numpy(), rtol=3e-3,
                               err_msg=f"seed {seed}")


def test_foreach_addcdiv_rounds_as_addcdiv(rng):
    seed = int(rng.integers(2**31))
    r = np.random.default_rng(seed)
    a, b, c = (np.float16(r.uniform(0.5, 2, 5)) for _ in range(3))
    got = tl._foreach_addcdiv([tl.tensor(a)], [tl.tensor(b)], [tl.tensor(c)], value=3.0)[0]
    np.testing.assert_array_equal(got.numpy(), tl.addcdiv(tl.tensor(a), tl.tensor(b), tl.tensor(c), value=3.0).numpy(),
                                  err_msg=f"seed {seed}")
    want = torch.addcdiv(torch.tensor(a).double(), torch.tensor(b).double(), torch.tensor(c).double(), value=3.0)
    np.testing.assert_allclose(got.numpy().astype(np.float64), want.numpy(), rtol=2e-3, err_msg=f"seed {seed}")


def test_int_fills_are_exact_past_2_to_the_53():
    for value in (2**53 + 1, 2**62 + 1, -(2**63), 2**63 - 1):  # the native fill's float rounded them
        assert tl.full((2,), value).tolist() == [value] * 2
        assert tl.zeros(3, dtype=tl.int64).fill_(value).tolist() == [value] * 3
    assert tl.full((2,), -5.9, dtype=tl.int32).tolist() == [-5, -5]  # truncated toward zero, as PyTorch


def test_grad_assignment_and_deletion():
    x = tl.ones(3, requires_grad=True)
    x.grad = tl.full((3,), 2.0)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.float16([5, 5, 5]))
    del x.grad
    assert x.grad is None


def test_a_tensor_past_numpys_64_dims_prints_and_gives_its_item():
    t = tl.ones([1] * 70)  # numpy() gave a 0-d object array, so repr leaked "_core.Array"
    assert repr(t).startswith("tensor(1., size=(1, 1")
    assert t.item() == 1.0 and float(t.sum()) == 1.0
    assert repr(tl.ones([1] * 30 + [2] + [1] * 40)).startswith("tensor([1., 1.], size=")


def test_weighted_sampler_draws_lazily():
    sampler = tl.utils.data.WeightedRandomSampler([1.0, 3.0], 2**62)  # the whole draw at once: numpy's ValueError
    first = [i for i, _ in zip(iter(sampler), range(100))]
    assert len(first) == 100 and set(first) <= {0, 1}
