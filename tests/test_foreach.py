"""torch._foreach_* over lists of tensors (as EMA and optimizer code call them) against PyTorch on random f16 lists
(fresh seeds): list, scalar and shared-tensor operands, alpha, in-place forms returning None."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16

SHAPES = [(3, 4), (5,), (2, 2, 2)]


def _lists(rng, device, k=2, positive=False):
    arrays = [[(np.abs(a) + 0.5 if positive else a).astype(np.float16)
               for a in (rng.standard_normal(s) for s in SHAPES)] for _ in range(k)]
    return ([[tl.tensor(a, device=device) for a in group] for group in arrays],
            [[torch.tensor(a.astype(np.float32)) for a in group] for group in arrays])


def _same(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert_close_f16(a.cpu().numpy(), b.numpy(), atol=2e-3)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum", "minimum", "pow"])
def test_binary_forms_match_torch(device, rng, op):
    (xs, ys), (txs, tys) = _lists(rng, device, positive=op == "pow")
    calls = [((ys,), (tys,)), ((0.5,), (0.5,)), (([1.5, -2.0, 0.25],), ([1.5, -2.0, 0.25],))]
    if op in ("add", "sub"):
        calls.append(((ys,), (tys,), {"alpha": 0.3}))
    for call in calls:
        ours_args, their_args, kwargs = call if len(call) == 3 else call + ({},)
        _same(getattr(tl, f"_foreach_{op}")(xs, *ours_args, **kwargs),
              getattr(torch, f"_foreach_{op}")(txs, *their_args, **kwargs))
        ours, theirs = [x.clone() for x in xs], [x.clone() for x in txs]
        assert getattr(tl, f"_foreach_{op}_")(ours, *ours_args, **kwargs) is None
        getattr(torch, f"_foreach_{op}_")(theirs, *their_args, **kwargs)
        _same(ours, theirs)


def test_ema_lerp_addcmul_norm_and_unary_match_torch(device, rng):
    (ema, params, other), (t_ema, t_params, t_other) = _lists(rng, device, k=3, positive=True)
    tl._foreach_lerp_(ema, params, 0.1)
    torch._foreach_lerp_(t_ema, t_params, 0.1)
    _same(ema, t_ema)
    _same(tl._foreach_lerp(ema, params, other), torch._foreach_lerp(t_ema, t_params, t_other))
    _same(tl._foreach_addcmul(ema, params, other, value=0.5), torch._foreach_addcmul(t_ema, t_params, t_other, value=0.5))
    _same(tl._foreach_addcdiv(ema, params, other, [0.1, 0.2, 0.3]),
          torch._foreach_addcdiv(t_ema, t_params, t_other, [0.1, 0.2, 0.3]))
    _same(tl._foreach_norm(params), torch._foreach_norm(t_params))
    for op in ("sqrt", "neg", "exp", "reciprocal"):
        _same(getattr(tl, f"_foreach_{op}")(params), getattr(torch, f"_foreach_{op}")(t_params))
    tl._foreach_sqrt_(params)
    torch._foreach_sqrt_(t_params)
    _same(params, t_params)
    tl._foreach_copy_(ema, params)
    _same(ema, t_params)
    tl._foreach_zero_(ema)
    assert all(not e.cpu().numpy().any() for e in ema)


def test_bad_lists_raise_typed_errors(device):
    xs = [tl.ones(2, device=device), tl.ones(3, device=device)]
    with pytest.raises(ValueError, match="same length"):
        tl._foreach_add(xs, [tl.ones(2, device=device)])
    with pytest.raises(TypeError, match="list of tensors"):
        tl._foreach_mul_([1.0, 2.0], 2.0)
    with pytest.raises(TypeError, match="keyword"):
        tl._foreach_mul(xs, 2.0, alpha=2)
