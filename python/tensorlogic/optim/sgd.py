"""SGD with momentum, dampening, Nesterov, weight decay and maximize (torch.optim.SGD's formulas)."""
from .. import _core
from .optimizer import Optimizer, _check, _native


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, dampening, Nesterov momentum, weight decay and maximize, with
    torch.optim.SGD's formulas and defaults. The update runs natively, one fused call for all the parameters of a
    group, with float32 state and a Kahan compensation that keeps updates smaller than an f16 ulp of the weight (foreach, differentiable and fused are
    accepted and ignored)."""
    _kind = _core.OptimizerKind.sgd
    _listed_step = False

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False,
                 foreach=None, differentiable=False, fused=None):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group):
        super()._validate(group)
        _check(group["momentum"] >= 0.0, f"Invalid momentum value: {group['momentum']}")
        _check(not group["nesterov"] or (group["momentum"] > 0 and group["dampening"] == 0),
               "Nesterov momentum requires a momentum and zero dampening")

    def _slot_names(self, group):
        return ["compensation"] + (["momentum_buffer"] if group["momentum"] != 0 else [])

    def _native_params(self, g):
        return _native(dict(lr=g["lr"], momentum=g["momentum"], dampening=g["dampening"],
                            weight_decay=g["weight_decay"], nesterov=g["nesterov"], maximize=g["maximize"]))
