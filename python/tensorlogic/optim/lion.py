"""Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"): sign of an interpolated momentum,
decoupled weight decay. torch.optim has no Lion; the formulas are the paper's Algorithm 2."""
from .. import _core
from .optimizer import Optimizer, _check, _native


class Lion(Optimizer):
    """Lion (Chen et al. 2023): the update is the sign of an interpolation of momentum and gradient, with decoupled
    weight decay; defaults lr=1e-4, betas=(0.9, 0.99). torch.optim has no Lion; the formulas are the paper's
    Algorithm 2. The update runs natively, one fused call for all the parameters of a group, with float32 state and
    a Kahan compensation that keeps updates smaller than an f16 ulp of the weight."""
    _kind = _core.OptimizerKind.lion

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, *, maximize=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), weight_decay=weight_decay, maximize=maximize))

    def _validate(self, group):
        super()._validate(group)
        b1, b2 = group["betas"]
        _check(0.0 <= b1 < 1.0, f"Invalid beta parameter at index 0: {b1}")
        _check(0.0 <= b2 < 1.0, f"Invalid beta parameter at index 1: {b2}")

    def _slot_names(self, group):
        return ["compensation", "exp_avg"]

    def _native_params(self, g):
        b1, b2 = g["betas"]
        return _native(dict(lr=g["lr"], beta1=b1, beta2=b2, weight_decay=g["weight_decay"], maximize=g["maximize"]))
