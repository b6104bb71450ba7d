"""RAdam (Adam with a rectified adaptive learning rate) with torch.optim.RAdam's arguments, defaults, formula
and state names (float32 state on the host: see host.py)."""
import math

import numpy as np

from .host import AdamLike


class RAdam(AdamLike):
    """RAdam with torch.optim.RAdam's arguments, defaults, formula and state names ('exp_avg', 'exp_avg_sq'): plain
    momentum steps while the variance estimate is unreliable (rho_t <= 5), rectified Adam steps after; the update
    runs in float32 on the host and is written back to the f16 parameters."""

    _update_state = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))

    def _update(self, group, state, weight, grad):
        if "exp_avg" not in state:
            state["exp_avg"] = np.zeros(weight.shape, np.float32)
            state["exp_avg_sq"] = np.zeros(weight.shape, np.float32)
        (beta1, beta2), lr, step = group["betas"], group["lr"], state["step"]
        weight, grad = self._decayed(group, weight, grad)
        state["exp_avg"] += (grad - state["exp_avg"]) * np.float32(1 - beta1)
        state["exp_avg_sq"] = state["exp_avg_sq"] * np.float32(beta2) + np.float32(1 - beta2) * grad * grad
        bias_correction2 = 1 - beta2**step
        corrected = state["exp_avg"] / np.float32(1 - beta1**step)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * beta2**step / bias_correction2
        if rho_t <= 5.0:
            return weight - np.float32(lr) * corrected
        rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        adaptive = np.float32(math.sqrt(bias_correction2)) / (np.sqrt(state["exp_avg_sq"]) + np.float32(group["eps"]))
        return weight - corrected * np.float32(lr) * adaptive * np.float32(rect)


__all__ = ["RAdam"]
