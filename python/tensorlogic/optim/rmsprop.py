"""RMSprop with momentum, centering, weight decay and maximize (torch.optim.RMSprop's formulas)."""
from .. import _core
from .optimizer import Optimizer, _check, _native


class RMSprop(Optimizer):
    """RMSprop with torch.optim.RMSprop's formulas and defaults (alpha, eps, weight_decay, momentum, centered,
    maximize). The update runs natively, one fused call for all the parameters of a group, with float32 state and a
    Kahan compensation that keeps updates smaller than an f16 ulp of the weight (foreach, capturable,
    differentiable and fused are accepted and ignored)."""
    _kind = _core.OptimizerKind.rmsprop

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False, fused=None):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group):
        super()._validate(group)
        _check(group["eps"] >= 0.0, f"Invalid epsilon value: {group['eps']}")
        _check(group["momentum"] >= 0.0, f"Invalid momentum value: {group['momentum']}")
        _check(group["alpha"] >= 0.0, f"Invalid alpha value: {group['alpha']}")

    def _slot_names(self, group):
        return (["compensation", "square_avg"] + (["momentum_buffer"] if group["momentum"] > 0 else [])
                + (["grad_avg"] if group["centered"] else []))

    def _native_params(self, g):
        return _native(dict(lr=g["lr"], alpha=g["alpha"], eps=g["eps"], weight_decay=g["weight_decay"],
                            momentum=g["momentum"], centered=g["centered"], maximize=g["maximize"]))
