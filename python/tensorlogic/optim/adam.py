"""Adam (with amsgrad and optional decoupled weight decay) and AdamW, with torch.optim's formulas."""
from .. import _core
from .optimizer import Optimizer, _check, _native


class Adam(Optimizer):
    """Adam with torch.optim.Adam's formulas and defaults (betas, eps, L2 weight_decay, amsgrad, maximize;
    decoupled_weight_decay=True is AdamW). The update runs natively, one fused call for all the parameters of a
    group, with float32 state and a Kahan compensation that keeps updates smaller than an f16 ulp of the weight
    (so foreach, capturable, differentiable and fused, PyTorch's choices of implementation, are accepted and
    ignored)."""
    _kind = _core.OptimizerKind.adam

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _validate(self, group):
        super()._validate(group)
        b1, b2 = group["betas"]
        _check(group["eps"] >= 0.0, f"Invalid epsilon value: {group['eps']}")
        _check(0.0 <= b1 < 1.0, f"Invalid beta parameter at index 0: {b1}")
        _check(0.0 <= b2 < 1.0, f"Invalid beta parameter at index 1: {b2}")

    def _slot_names(self, group):
        return ["compensation", "exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if group["amsgrad"] else [])

    def _native_params(self, g):
        b1, b2 = g["betas"]
        params = _native(dict(lr=g["lr"], beta1=b1, beta2=b2, eps=g["eps"], weight_decay=g["weight_decay"],
                              amsgrad=g["amsgrad"], maximize=g["maximize"]))
        return params

    def _group_kind(self, group):
        return _core.OptimizerKind.adamw if group["decoupled_weight_decay"] else _core.OptimizerKind.adam


class AdamW(Adam):
    """Adam with decoupled weight decay (default 1e-2): the weight is scaled by 1 - lr * weight_decay first."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decoupled_weight_decay=True)
