"""The optimizer step of a list of parameters in one native call (_core.optimizer_step with lists; CUDA's
multi-tensor kernel): the same bits as one call per parameter on the CPU, torch.optim's trajectories for a
model's worth of parameters of mixed sizes, per-parameter step counts, and typed errors that leave every
parameter unchanged."""
import functools

import numpy as np
import pytest
import torch

import tensorlogic as tl
from tensorlogic import _core
from oracle import assert_close_f16, assert_same_bits

K = _core.OptimizerKind

# Kinds with the options that change their state slots (0 to 3 slots after the compensation).
OPTIONS = [
    (K.sgd, dict(lr=0.05)),
    (K.sgd, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (K.adam, dict(lr=0.01, weight_decay=0.1)),
    (K.adamw, dict(lr=0.01, weight_decay=0.5, amsgrad=True, grad_scale=0.5)),
    (K.rmsprop, dict(lr=0.01, momentum=0.9, centered=True)),
    (K.lion, dict(lr=0.01, beta1=0.9, beta2=0.99, weight_decay=0.1)),
]

# Sizes around CUDA's chunk (4,096 elements per block) and table (48 parameters per launch): 53 parameters,
# some of them several chunks long, one empty.
SHAPES = [(7, 5), (4096,), (4097,), (3, 4099), (0, 3), (1,)] + [(int(n),) for n in range(1, 48)]


def _native(options, step):
    params = _core.OptimizerParams()
    for name, value in options.items():
        setattr(params, name, value)
    params.step = step
    return params


def _arrays(rng, kind, options, device, offset=0):
    """Fresh f16 parameters and zeroed state slots on `device` (each `offset` elements into a buffer of its
    own), with the f16 gradients of three steps."""
    slots = _core.optimizer_state_slots(kind, _native(options, 1))
    params = [rng.standard_normal(s).astype(np.float16) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(np.float16) for s in SHAPES] for _ in range(3)]
    arrays = [_to(p, device, offset) for p in params]
    state = [[_at(_core.full([int(np.prod(s)) + offset], 0.0, _slot_dtype(k), device), s, offset) for k in range(slots)]
             for s in SHAPES]
    return params, grads, arrays, state


def _slot_dtype(k):
    """State slot k's word type: the compensation's 16-bit counts, then f32 words (optim.h)."""
    return "float16" if k == 0 else "int32"


def _at(flat, shape, offset):
    """The contiguous view of `shape` that starts `offset` elements into the 1-d `flat`."""
    return _core.view(_core.slice(flat, 0, offset, offset + int(np.prod(shape)), 1), list(shape))


def _to(values, device, offset=0):
    flat = np.zeros(values.size + offset, np.float16)
    flat[offset:] = values.reshape(-1)
    return _at(_core.to_device(_core.from_numpy(flat), device), values.shape, offset)


# offset 1: parameters and state off the 16-byte boundaries of CUDA's 4-wide accesses
@pytest.mark.parametrize("offset", [0, 1])
@pytest.mark.parametrize("kind,options", OPTIONS, ids=[f"{k.name}-{i}" for i, (k, _) in enumerate(OPTIONS)])
def test_list_step_gives_the_bits_of_one_call_per_parameter_on_the_cpu(kind, options, device, offset, rng):
    _, grads, listed, listed_state = _arrays(rng, kind, options, device, offset)
    single = [_to(np.array(_core.to_device(a, "cpu")), "cpu") for a in listed]  # copies
    single_state = [[_core.full(list(s), 0.0, _slot_dtype(k), "cpu") for k in range(len(st))]
                    for s, st in zip(SHAPES, listed_state)]
    for step, gs in enumerate(grads, 1):
        native = _native(options, step)
        _core.optimizer_step(kind, native, listed, [_to(g, device) for g in gs], listed_state)
        for p, g, st in zip(single, gs, single_state):
            _core.optimizer_step(kind, native, p, _core.from_numpy(g), st)
    for got, want, got_state, want_state in zip(listed, single, listed_state, single_state):
        assert_same_bits(np.asarray(_core.to_device(got, "cpu")), np.asarray(want))
        for a, b in zip(got_state, want_state):
            np.testing.assert_array_equal(np.asarray(_core.to_device(a, "cpu")).view(np.uint8),
                                          np.asarray(b).view(np.uint8))  # bytes: int16 counts read as f16


_close = functools.partial(assert_close_f16, atol=2e-3)

TORCH_CASES = [
    (tl.optim.AdamW, torch.optim.AdamW, dict(lr=0.01, weight_decay=0.1)),
    (tl.optim.Adam, torch.optim.Adam, dict(lr=0.01, amsgrad=True)),
    (tl.optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
]


@pytest.mark.parametrize("tl_cls,torch_cls,kwargs", TORCH_CASES, ids=[c[0].__name__ for c in TORCH_CASES])
def test_many_parameters_follow_torch(tl_cls, torch_cls, kwargs, device, rng):
    # A model's worth of parameters of mixed sizes in one group (one native call per step), against
    # torch.optim on the same f16 starts and gradients in float32; one parameter skips steps without a
    # gradient, so it keeps a step count of its own (its own native call, as torch's per-parameter step).
    shapes = [s for s in SHAPES if 0 not in s]
    starts = [rng.standard_normal(s).astype(np.float16) for s in shapes]
    ours = [tl.Tensor(x, device=device).requires_grad_() for x in starts]
    theirs = [torch.tensor(x.astype(np.float32), requires_grad=True) for x in starts]
    opt, topt = tl_cls(ours, **kwargs), torch_cls(theirs, **kwargs)
    for step in range(8):
        for i, (p, tp) in enumerate(zip(ours, theirs)):
            if i == 2 and step % 3 == 1:
                p.grad, tp.grad = None, None
                continue
            g = rng.standard_normal(p.shape).astype(np.float16)
            p.grad = tl.Tensor(g, device=device)
            tp.grad = torch.tensor(g.astype(np.float32))
        opt.step()
        topt.step()
    counts = opt.state_dict()["state"]  # (state_dict, since SGD's state[p], as torch.optim's, lists no step)
    assert counts[2]["step"] == 5 and counts[0]["step"] == 8
    for p, tp in zip(ours, theirs):
        _close(p.numpy().astype(np.float32), tp.detach().numpy())


def test_a_bad_parameter_leaves_every_parameter_unchanged(device, rng):
    params = [_to(rng.standard_normal(5).astype(np.float16), device) for _ in range(3)]
    before = [np.asarray(_core.to_device(p, "cpu")).copy() for p in params]
    grads = [_to(np.ones(5, np.float16), device) for _ in range(3)]
    state = [[_core.full([5], 0.0, "float16", device)] for _ in range(3)]
    native = _native(dict(lr=0.1), 1)
    with pytest.raises(tl.ShapeMismatchError):
        _core.optimizer_step(K.sgd, native, params, grads[:2] + [_to(np.ones(4, np.float16), device)], state)
    with pytest.raises(ValueError, match="one gradient and one state list per parameter"):
        _core.optimizer_step(K.sgd, native, params, grads[:2], state)
    with pytest.raises(ValueError, match="must not overlap"):  # a parameter given twice would race on CUDA
        _core.optimizer_step(K.sgd, native, params + params[:1], grads + grads[:1],
                             state + [[_core.full([5], 0.0, "float16", device)]])
    with pytest.raises(ValueError, match="must not overlap"):  # a state array shared by two parameters
        _core.optimizer_step(K.sgd, native, params, grads, state[:2] + [state[0]])
    for p, b in zip(params, before):
        np.testing.assert_array_equal(np.asarray(_core.to_device(p, "cpu")), b)


@pytest.mark.skipif(tl.cuda.device_count() == 0, reason="needs a CUDA device beside the CPU")
def test_parameters_on_two_devices_in_one_group(rng):
    # One call groups the parameters by device: each device's update is the one it gives alone.
    starts = [rng.standard_normal(s).astype(np.float16) for s in [(6, 7), (5000,), (3,)]]
    grads = [rng.standard_normal(x.shape).astype(np.float16) for x in starts]
    devices = ["cpu", "cuda", "cpu"]
    mixed = [tl.Tensor(x, device=d).requires_grad_() for x, d in zip(starts, devices)]
    alone = [tl.Tensor(x, device=d).requires_grad_() for x, d in zip(starts, devices)]
    opt = tl.optim.AdamW(mixed, lr=0.01)
    for p, g, d in zip(mixed, grads, devices):
        p.grad = tl.Tensor(g, device=d)
    opt.step()
    for p, g, d in zip(alone, grads, devices):
        p.grad = tl.Tensor(g, device=d)
        tl.optim.AdamW([p], lr=0.01).step()
    for a, b in zip(mixed, alone):
        assert_same_bits(a.numpy(), b.numpy())


def test_check_finite_finds_one_inf_or_nan_among_many_arrays(device, rng):
    """_core.check_finite_and_unscale (the loss scaler's check) without scaling: arrays of many sizes (the
    16-byte path, odd tails, views at odd offsets, more arrays than one CUDA launch's table), one bad value
    anywhere in them, against numpy."""
    sizes = [int(n) for n in rng.integers(1, 5000, 170)] + [4096 * 3 + 5, 16384 * 2 + 9, 1]  # CUDA: chunks of 16,384
    values = [rng.standard_normal(n).astype(np.float16) for n in sizes]
    arrays = [_to(v, device, offset=int(rng.integers(0, 3))) for v in values]
    ints = _core.to_device(_core.from_numpy(np.array([7, 2**20], np.int32)), device)
    assert _core.check_finite_and_unscale(arrays + [ints, _to(np.zeros(0, np.float16), device)])
    for bad in (np.inf, -np.inf, np.nan):
        for which in (0, int(rng.integers(1, len(sizes) - 2)), len(sizes) - 2):
            position = int(rng.integers(0, sizes[which])) if sizes[which] > 1 else 0
            for where in (position, sizes[which] - 1):
                spoiled = values[which].copy()
                spoiled[where] = bad
                listed = arrays[:which] + [_to(spoiled, device, int(rng.integers(0, 3)))] + arrays[which + 1:]
                assert not _core.check_finite_and_unscale(listed), (bad, which, where)
    assert _core.check_finite_and_unscale([])


def test_check_finite_and_unscale_scales_in_place(device, rng):
    """With inv_scale, every f16 value (contiguous, at odd offsets, strided views) is multiplied in place and
    rounded once, as numpy's f32 product; the check sees the values before scaling, and int arrays stay."""
    values = [(rng.standard_normal(n) * 1000).astype(np.float16) for n in (16384 * 2 + 3, 17, 8, 1)]
    arrays = [_to(v, device, offset=k % 3) for k, v in enumerate(values)]
    wide = (rng.standard_normal((5, 6)) * 1000).astype(np.float16)
    strided_view = _core.slice(_core.to_device(_core.from_numpy(wide.copy()), device), 1, 0, 6, 2)
    ints = _core.to_device(_core.from_numpy(np.array([3, 4], np.int32)), device)
    inv = 1.0 / 1024
    assert _core.check_finite_and_unscale(arrays + [strided_view, ints], inv)
    for got, v in zip(arrays + [strided_view], values + [wide[:, ::2]]):
        want = (v.astype(np.float32) * np.float32(inv)).astype(np.float16)
        assert_same_bits(np.asarray(_core.to_device(got, "cpu")), want)
    np.testing.assert_array_equal(np.asarray(_core.to_device(ints, "cpu")), [3, 4])
    bad = values[1].copy()
    bad[5] = np.inf
    spoiled = _to(bad, device, 1)
    assert not _core.check_finite_and_unscale([spoiled], 0.5)
    want = (bad.astype(np.float32) * np.float32(0.5)).astype(np.float16)
    assert_same_bits(np.asarray(_core.to_device(spoiled, "cpu")), want)
