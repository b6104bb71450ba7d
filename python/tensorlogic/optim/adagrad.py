"""Adagrad and Adadelta with torch.optim's arguments, defaults, formulas and state names (float32 state
on the host: see host.py)."""
import numpy as np

from .host import HostOptimizer
from .optimizer import _check


class Adagrad(HostOptimizer):
    """Adagrad with torch.optim.Adagrad's arguments, defaults, formulas and state names ('sum'); the update runs in
    float32 on the host and is written back to the f16 parameters (foreach, differentiable and fused are accepted
    and ignored)."""

    _update_state = ("sum",)
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group):
        super()._validate(group)
        _check(group["lr_decay"] >= 0.0, f"Invalid lr_decay value: {group['lr_decay']}")
        _check(group["initial_accumulator_value"] >= 0.0,
               f"Invalid initial_accumulator_value value: {group['initial_accumulator_value']}")
        _check(group["eps"] >= 0.0, f"Invalid epsilon value: {group['eps']}")

    def _update(self, group, state, weight, grad):
        if "sum" not in state:
            state["sum"] = np.full(weight.shape, group["initial_accumulator_value"], np.float32)
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * weight
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += grad * grad
        return weight - clr * grad / (np.sqrt(state["sum"]) + np.float32(group["eps"]))


class Adadelta(HostOptimizer):
    """Adadelta with torch.optim.Adadelta's arguments, defaults, formulas and state names ('square_avg',
    'acc_delta'); the update runs in float32 on the host and is written back to the f16 parameters."""

    _update_state = ("square_avg", "acc_delta")
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def _validate(self, group):
        super()._validate(group)
        _check(0.0 <= group["rho"] <= 1.0, f"Invalid rho value: {group['rho']}")
        _check(group["eps"] >= 0.0, f"Invalid epsilon value: {group['eps']}")

    def _update(self, group, state, weight, grad):
        if "square_avg" not in state:
            state["square_avg"] = np.zeros(weight.shape, np.float32)
            state["acc_delta"] = np.zeros(weight.shape, np.float32)
        rho, eps = np.float32(group["rho"]), np.float32(group["eps"])
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * weight
        state["square_avg"] = rho * state["square_avg"] + (1 - rho) * grad * grad
        delta = np.sqrt(state["acc_delta"] + eps) / np.sqrt(state["square_avg"] + eps) * grad
        state["acc_delta"] = rho * state["acc_delta"] + (1 - rho) * delta * delta
        return weight - np.float32(group["lr"]) * delta
