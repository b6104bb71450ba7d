"""PyTorch's process switches and legacy spellings that programs touch: tl.jit, autograd.Variable,
set_detect_anomaly, the float32 matmul precision and deterministic algorithms (against PyTorch's own answers)."""
import warnings

import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16, f16_randn


# ---- tl.jit ------------------------------------------------------------------------------------------
def test_jit_script_returns_its_argument_and_the_markers_are_identities():
    def f(x):
        return x * 2

    model = tl.nn.Linear(3, 2)
    assert tl.jit.script(f) is f and tl.jit.script(model) is model
    assert tl.jit.ignore(f) is f and tl.jit.ignore(drop=True)(f) is f
    assert tl.jit.unused(f) is f and tl.jit.export(f) is f
    assert tl.jit.annotate(list, [1]) == [1] and tl.jit.Final is torch.jit.Final
    assert not tl.jit.is_scripting() and not tl.jit.is_tracing()


def test_jit_trace_compiles_and_follows_other_shapes(device, rng):
    x = tl.tensor(f16_randn(rng, (4, 3)), device=device)
    model = tl.nn.Sequential(tl.nn.Linear(3, 5), tl.nn.ReLU()).to(device)
    traced = tl.jit.trace(model, x)
    assert traced._orig_mod is model and set(traced.state_dict()) == set(model.state_dict())
    with tl.no_grad():
        for rows in (4, 7):  # a TorchScript trace would be frozen to 4 rows only in its Python-level checks
            y = tl.tensor(f16_randn(rng, (rows, 3)), device=device)
            assert tl.equal(traced(y), model(y))
    fn = tl.jit.trace(lambda a, b: a * b + 1, (x, x))
    assert tl.equal(fn(x, x), x * x + 1)
    with pytest.raises(ValueError, match="example_inputs"):
        tl.jit.trace(model)
    with pytest.raises(TypeError):
        tl.jit.trace(model, 3)


def test_jit_archives_are_refused_with_the_way_to_save_weights(tmp_path):
    path = tmp_path / "m.pt"
    with pytest.raises(tl.SerializationError, match="state_dict"):
        tl.jit.save(tl.nn.Linear(2, 2), path)
    with pytest.raises(tl.SerializationError, match="m.pt.*TorchScript"):
        tl.jit.load(path)
    assert not path.exists()


# ---- autograd's legacy names -------------------------------------------------------------------------
def test_variable_is_a_detached_alias_with_requires_grad(device):
    a = tl.ones(3, device=device, requires_grad=True) * 2
    v = tl.autograd.Variable(a)
    assert not v.requires_grad and v.grad_fn is None and v.data_ptr() == a.data_ptr()
    w = tl.autograd.Variable(a, requires_grad=True)
    assert w.is_leaf and w.requires_grad
    (w * w).sum().backward()
    assert w.grad.tolist() == [4.0] * 3
    assert isinstance(a, tl.autograd.Variable) and not isinstance(3, tl.autograd.Variable)
    assert tl.autograd.Variable().shape == (0,) == torch.autograd.Variable().shape
    with pytest.warns(UserWarning, match="volatile"):
        tl.autograd.Variable(a, volatile=True)
    with pytest.raises(TypeError, match="has to be a tensor"):
        tl.autograd.Variable(3)
    with pytest.raises(RuntimeError):
        tl.autograd.Variable(tl.tensor([1, 2], device=device), requires_grad=True)


def test_set_detect_anomaly_as_a_call_and_as_a_context(device):
    try:
        tl.autograd.set_detect_anomaly(True)
        assert tl.autograd.is_anomaly_enabled()
        with pytest.raises(RuntimeError, match="log produced inf or NaN in forward"):
            tl.log(tl.tensor([-1.0], device=device))
        with tl.autograd.set_detect_anomaly(False):
            assert not tl.autograd.is_anomaly_enabled()
            tl.log(tl.tensor([-1.0], device=device))
        assert tl.autograd.is_anomaly_enabled()
        with tl.autograd.set_detect_anomaly(True, check_nan=False):
            assert not tl.autograd.is_anomaly_enabled()  # its checks are all anomaly mode does here
    finally:
        tl.autograd.set_detect_anomaly(False)
    assert not tl.autograd.is_anomaly_enabled()


# ---- matmul precision ---------------------------------------------------------------------------------
def test_float32_matmul_precision_is_stored_and_mirrored_as_pytorch_does():
    before = torch.get_float32_matmul_precision()
    try:
        for precision in ("medium", "high", "highest"):
            tl.set_float32_matmul_precision(precision)
            torch.set_float32_matmul_precision(precision)
            assert tl.get_float32_matmul_precision() == precision
            assert tl.backends.cuda.matmul.allow_tf32 == torch.backends.cuda.matmul.allow_tf32
            assert tl.backends.cuda.matmul.fp32_precision == torch.backends.cuda.matmul.fp32_precision
        with pytest.raises(ValueError, match="'low'"):
            tl.set_float32_matmul_precision("low")
        with pytest.raises(TypeError):
            tl.set_float32_matmul_precision(3)
        assert tl.get_float32_matmul_precision() == "highest"
    finally:
        tl.set_float32_matmul_precision("highest")
        torch.set_float32_matmul_precision(before)


# ---- deterministic algorithms -------------------------------------------------------------------------
@pytest.fixture
def deterministic():
    """Restores the switch after the test."""
    yield
    tl.use_deterministic_algorithms(False)


# (enabled, warn_only, debug mode) after set_deterministic_debug_mode(mode), as PyTorch answers (its own switch
# imports its compiler on first use, seconds of a test's time)
DEBUG_MODES = {0: (False, False, 0), 1: (True, True, 1), 2: (True, False, 2), "warn": (True, True, 1),
               "error": (True, False, 2), "default": (False, False, 0)}


def test_deterministic_switches_answer_as_pytorch_does(deterministic):
    for mode, want in DEBUG_MODES.items():
        tl.set_deterministic_debug_mode(mode)
        assert (tl.are_deterministic_algorithms_enabled(), tl.is_deterministic_algorithms_warn_only_enabled(),
                tl.get_deterministic_debug_mode()) == want
    tl.use_deterministic_algorithms(True, warn_only=True)
    assert tl.get_deterministic_debug_mode() == 1
    for bad, error in ((5, ValueError), ("x", ValueError), (1.5, TypeError)):
        with pytest.raises(error):
            tl.set_deterministic_debug_mode(bad)
    with pytest.raises(TypeError):
        tl.use_deterministic_algorithms("yes")


def _scatter_cases(device):
    """Calls that reach the accumulating f16 scatter (repeated positions), each with PyTorch's result."""
    x = tl.zeros(4, device=device)
    idx = tl.tensor([0, 1, 1, 3, 1], device=device)
    src = tl.tensor([1.0, 2.0, 3.0, 4.0, 5.0], device=device)
    leaf = tl.tensor([1.0, 2.0, 3.0, 4.0], device=device, requires_grad=True)

    def gather_grad():
        leaf.grad = None
        leaf.gather(0, idx).sum().backward()
        return leaf.grad

    def index_grad():
        leaf.grad = None
        leaf[idx].sum().backward()
        return leaf.grad

    return [(lambda: x.scatter_add(0, idx, src), [1.0, 10.0, 0.0, 4.0]),
            (lambda: tl.index_add(x, 0, idx, src), [1.0, 10.0, 0.0, 4.0]),
            (lambda: x.clone().index_put_((idx,), src, accumulate=True), [1.0, 10.0, 0.0, 4.0]),
            (gather_grad, [1.0, 3.0, 0.0, 1.0]), (index_grad, [1.0, 3.0, 0.0, 1.0])]


def test_accumulating_scatters_raise_on_cuda_only(device, deterministic):
    tl.use_deterministic_algorithms(True)
    for call, want in _scatter_cases(device):
        if device.startswith("cuda"):
            with pytest.raises(RuntimeError, match="does not have a deterministic implementation"):
                call()
        else:
            assert call().tolist() == want
    tl.use_deterministic_algorithms(True, warn_only=True)
    for call, want in _scatter_cases(device):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert call().tolist() == want
        assert any("deterministic" in str(w.message) for w in caught) == device.startswith("cuda")
    ints = tl.zeros(3, dtype=tl.int64, device=device)  # integer sums are exact in any order
    tl.use_deterministic_algorithms(True)
    assert ints.scatter_add(0, tl.tensor([2, 2], device=device), tl.tensor([1, 1], device=device)).tolist() == [0, 0, 2]


def test_attention_backward_is_repeatable_with_the_switch_on(device, rng, deterministic):
    q, k, v = (f16_randn(rng, (2, 3, 33, 64)) for _ in range(3))

    def grads():
        ts = [tl.tensor(a, device=device, requires_grad=True) for a in (q, k, v)]
        tl.nn.functional.scaled_dot_product_attention(*ts, is_causal=True).sum().backward()
        return [t.grad.cpu().numpy() for t in ts]

    fused = grads()
    tl.use_deterministic_algorithms(True)
    first, second = grads(), grads()
    ref = [torch.from_numpy(a).double().requires_grad_() for a in (q, k, v)]
    torch.nn.functional.scaled_dot_product_attention(*ref, is_causal=True).sum().backward()
    for a, b, c, r in zip(first, second, fused, ref):
        assert np.array_equal(a, b)
        assert_close_f16(a, r.grad.numpy(), atol=2e-3)
        assert_close_f16(c, r.grad.numpy(), atol=2e-3)
