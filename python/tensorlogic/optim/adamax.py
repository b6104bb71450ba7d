"""Adamax with torch.optim.Adamax's arguments, defaults, formula and state names (float32 state on the host:
see host.py)."""
import numpy as np

from .host import AdamLike


class Adamax(AdamLike):
    """Adamax (Adam with the infinity norm) with torch.optim.Adamax's arguments, defaults, formula and state names
    ('exp_avg', 'exp_inf'); the update runs in float32 on the host and is written back to the f16 parameters
    (foreach, differentiable and capturable are accepted and ignored)."""

    _update_state = ("exp_avg", "exp_inf")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def _update(self, group, state, weight, grad):
        if "exp_avg" not in state:
            state["exp_avg"] = np.zeros(weight.shape, np.float32)
            state["exp_inf"] = np.zeros(weight.shape, np.float32)
        beta1, beta2 = (np.float32(b) for b in group["betas"])
        weight, grad = self._decayed(group, weight, grad)
        state["exp_avg"] += (grad - state["exp_avg"]) * (1 - beta1)
        state["exp_inf"] = np.maximum(state["exp_inf"] * beta2, np.abs(grad) + np.float32(group["eps"]))
        clr = group["lr"] / (1 - group["betas"][0] ** state["step"])
        return weight - np.float32(clr) * state["exp_avg"] / state["exp_inf"]


__all__ = ["Adamax"]
