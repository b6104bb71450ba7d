"""Adafactor (Shazeer and Stern, 2018) with torch.optim.Adafactor's arguments, defaults, formula and state names
(torch 2.5's; float32 state on the host: see host.py)."""
import math

import numpy as np

from .host import HostOptimizer
from .optimizer import _check


class Adafactor(HostOptimizer):
    """Adafactor with torch.optim.Adafactor's arguments and defaults (lr 1e-2, beta2_decay -0.8, eps (None, 1e-3),
    d 1.0, weight_decay 0): the second moment of a matrix (of each matrix of a batch) is kept factored as row and
    column means ('row_var' [..., R, 1], 'col_var' [..., 1, C]), of a vector as 'variance'; beta2 is 1 - t ** beta2_decay,
    the step min(lr, 1 / sqrt(t)) times max(eps[1], RMS(param)), the update clipped to RMS d. eps[0] None means
    float32's eps (the update runs in float32 on the host; PyTorch takes the parameter dtype's, float32's for float32
    parameters); weight decay multiplies the parameter by 1 - lr * weight_decay first."""

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *, foreach=None,
                 maximize=False):
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay,
                                      maximize=maximize))

    def _validate(self, group):
        _check(group["lr"] >= 0.0, f"Learning rate should be >= 0 but is: {group['lr']}")
        _check(group["beta2_decay"] <= 0.0, f"beta2_decay should be <= 0 but is: {group['beta2_decay']}")
        eps1, eps2 = group["eps"]
        _check(eps1 is None or eps1 >= 0.0, f"epsilon1 should be >= 0 but is: {eps1}")
        _check(eps2 >= 0.0, f"epsilon2 should be >= 0 but is: {eps2}")
        _check(group["d"] >= 1.0, f"Clipping threshold d should be >= 1 but is: {group['d']}")
        _check(group["weight_decay"] >= 0.0, f"weight_decay should be >= 0 but is: {group['weight_decay']}")

    def _state_names(self, p):
        return ("row_var", "col_var") if p.ndim > 1 else ("variance",)

    def _state_form(self, name, p):
        shape = tuple(p.shape)
        if name == "row_var":
            return shape[:-1] + (1,)
        return shape[:-2] + (1,) + shape[-1:] if name == "col_var" else super()._state_form(name, p)

    def _update(self, group, state, weight, grad):
        eps1, eps2 = group["eps"]
        eps1 = np.finfo(np.float32).eps if eps1 is None else eps1
        factored = grad.ndim > 1
        if factored and "row_var" not in state:
            state["row_var"] = np.zeros(grad.shape[:-1] + (1,), np.float32)
            state["col_var"] = np.zeros(grad.shape[:-2] + (1, grad.shape[-1]), np.float32)
        elif not factored and "variance" not in state:
            state["variance"] = np.zeros(grad.shape, np.float32)
        t, lr = state["step"], group["lr"]
        weight_ = 1.0 - t ** group["beta2_decay"]  # beta2_t; its complement is the new moment's weight
        rho = min(lr, 1.0 / math.sqrt(t))
        rms = float(np.sqrt(np.mean(weight.astype(np.float64) ** 2))) if weight.size else 0.0
        alpha = max(eps2, rms) * rho
        if group["weight_decay"]:
            weight = weight * np.float32(1.0 - lr * group["weight_decay"])
        blend = np.float32(1.0 - weight_)
        square = grad * grad
        if factored:
            state["row_var"] += (square.mean(-1, keepdims=True) - state["row_var"]) * blend
            state["col_var"] += (square.mean(-2, keepdims=True) - state["col_var"]) * blend
            variance = state["row_var"] @ state["col_var"]
            variance = variance / np.maximum(state["row_var"].mean(-2, keepdims=True), np.float32(eps1))
        else:
            state["variance"] += (square - state["variance"]) * blend
            variance = state["variance"]
        update = grad / np.sqrt(np.maximum(variance, np.float32(eps1 * eps1)))
        update_rms = float(np.sqrt(np.mean(update.astype(np.float64) ** 2))) if update.size else 0.0
        return weight - np.float32(alpha / max(1.0, update_rms / group["d"])) * update


__all__ = ["Adafactor"]
