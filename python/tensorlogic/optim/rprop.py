"""Rprop (resilient backpropagation) with torch.optim.Rprop's arguments, defaults, formula and state names
(float32 state on the host: see host.py)."""
import numpy as np

from .host import HostOptimizer
from .optimizer import _check


class Rprop(HostOptimizer):
    """Rprop with torch.optim.Rprop's arguments, defaults (etas (0.5, 1.2), step_sizes (1e-6, 50)), formula and
    state names ('prev', 'step_size'): each weight moves by its own step size against the gradient's sign, the
    step growing while the sign holds and shrinking (with that step skipped) when it flips; the update runs in
    float32 on the host and is written back to the f16 parameters."""

    _update_state = ("prev", "step_size")

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes, maximize=maximize))

    def _validate(self, group):
        super()._validate(group)
        etaminus, etaplus = group["etas"]
        _check(0.0 < etaminus < 1.0 < etaplus, f"Invalid eta values: {etaminus}, {etaplus}")

    def _update(self, group, state, weight, grad):
        if "prev" not in state:
            state["prev"] = np.zeros(weight.shape, np.float32)
            state["step_size"] = np.full(weight.shape, group["lr"], np.float32)
        (etaminus, etaplus), (lo, hi) = group["etas"], group["step_sizes"]
        sign = np.sign(grad * state["prev"])
        factor = np.where(sign > 0, np.float32(etaplus), np.where(sign < 0, np.float32(etaminus), np.float32(1)))
        state["step_size"] = np.clip(state["step_size"] * factor, np.float32(lo), np.float32(hi))
        grad = np.where(sign < 0, np.float32(0), grad)
        state["prev"] = grad
        return weight - np.sign(grad) * state["step_size"]


__all__ = ["Rprop"]
