"""tl.nn.functional against torch.nn.functional on the same float16 inputs: the namespace, activations,
pad/embedding argument orders, and the losses (which need the reduction and row ops)."""
import importlib

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tensorlogic as tl
from oracle import assert_close_f16, f16_randn
from tensorlogic.nn import functional as F


def _needs(*modules):
    for m in modules:
        try:
            importlib.import_module(f"tensorlogic.ops.{m}")
        except ImportError:
            pytest.skip(f"tensorlogic.ops.{m} is not on this branch")


def test_activations(device, rng):
    x = f16_randn(rng, (3, 7), 3.0)
    t, X = tl.tensor(x, device=device), torch.from_numpy(x).double()
    for name in ("relu", "silu", "sigmoid", "tanh", "softplus"):
        assert_close_f16(getattr(F, name)(t), getattr(TF, name)(X).numpy())
    assert_close_f16(F.gelu(t, approximate="tanh"), TF.gelu(X, approximate="tanh").numpy())
    assert_close_f16(F.gelu(t), TF.gelu(X).numpy())


def test_namespace_takes_each_op_from_its_module():
    with pytest.raises(AttributeError):
        F.no_such_function
    owners = {"softmax": "rows", "log_softmax": "rows", "layer_norm": "rows", "rms_norm": "rows", "linear": "linalg",
              "conv2d": "conv", "max_pool2d": "conv", "avg_pool2d": "conv", "scaled_dot_product_attention": "conv"}
    for name, module in owners.items():
        assert getattr(F, name) is getattr(importlib.import_module(f"tensorlogic.ops.{module}"), name)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss(device, rng, reduction):
    _needs("reduction")
    a, b = f16_randn(rng, (4, 5)), f16_randn(rng, (4, 5))
    got = F.mse_loss(tl.tensor(a, device=device), tl.tensor(b, device=device), reduction=reduction)
    want = TF.mse_loss(torch.from_numpy(a).double(), torch.from_numpy(b).double(), reduction=reduction)
    assert_close_f16(got, want.numpy(), rtol=3e-3, atol=3e-3)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(6, 5), (3, 4, 2), (5,)], ids=str)
def test_nll_and_cross_entropy(device, rng, reduction, weighted, shape):
    _needs("reduction", "rows")
    x = f16_randn(rng, shape)
    classes = shape[0] if len(shape) == 1 else shape[1]
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    target = rng.integers(0, classes, tshape).astype(np.int32)
    if len(shape) > 1:
        target.reshape(-1)[0] = -100  # ignored
    w = (np.abs(f16_randn(rng, (classes,))) + np.float16(0.5)) if weighted else None
    X, T = torch.from_numpy(x).double(), torch.from_numpy(target).long()
    W = None if w is None else torch.from_numpy(w).double()
    t, tt = tl.tensor(x, device=device), tl.tensor(target, device=device)
    tw = None if w is None else tl.tensor(w, device=device)
    for smoothing in (0.0, 0.2):
        got = F.cross_entropy(t, tt, weight=tw, reduction=reduction, label_smoothing=smoothing)
        want = TF.cross_entropy(X, T, weight=W, reduction=reduction, label_smoothing=smoothing)
        assert_close_f16(got, want.numpy(), rtol=5e-3, atol=5e-3)
    logp = TF.log_softmax(X, dim=0 if len(shape) == 1 else 1)
    got = F.nll_loss(tl.tensor(logp.half().numpy(), device=device), tt, weight=tw, reduction=reduction)
    want = TF.nll_loss(logp.half().double(), T, weight=W, reduction=reduction)
    assert_close_f16(got, want.numpy(), rtol=5e-3, atol=5e-3)


def test_cross_entropy_probability_targets(device, rng):
    _needs("reduction", "rows")
    x = f16_randn(rng, (4, 6))
    p = TF.softmax(torch.from_numpy(f16_randn(rng, (4, 6))).double(), 1).half()
    for reduction in ("mean", "sum", "none"):
        got = F.cross_entropy(tl.tensor(x, device=device), tl.tensor(p.numpy(), device=device), reduction=reduction,
                              label_smoothing=0.1)
        want = TF.cross_entropy(torch.from_numpy(x).double(), p.double(), reduction=reduction, label_smoothing=0.1)
        assert_close_f16(got, want.numpy(), rtol=5e-3, atol=5e-3)


def test_loss_argument_errors(device):
    x = tl.zeros(3, 4, device=device)
    with pytest.raises(TypeError):
        F.nll_loss(x, tl.zeros(3, device=device))
    with pytest.raises(tl.ShapeMismatchError):
        F.nll_loss(x, tl.zeros(4, dtype=tl.int32, device=device))
    with pytest.raises(ValueError):
        F.mse_loss(x, x, reduction="avg")
    with pytest.raises(ValueError):
        F.cross_entropy(x, tl.zeros(3, dtype=tl.int32, device=device), label_smoothing=2.0)
