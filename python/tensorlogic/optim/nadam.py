"""NAdam (Adam with Nesterov momentum) with torch.optim.NAdam's arguments, defaults, formula and state names
(float32 state on the host: see host.py)."""
import numpy as np

from .host import AdamLike
from .optimizer import _check


class NAdam(AdamLike):
    """NAdam with torch.optim.NAdam's arguments, defaults (momentum_decay 4e-3, decoupled_weight_decay False),
    formula and state names ('mu_product', 'exp_avg', 'exp_avg_sq'); the update runs in float32 on the host and
    is written back to the f16 parameters."""

    _update_state = ("mu_product", "exp_avg", "exp_avg_sq")
    _scalar_state = ("mu_product",)

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def _validate(self, group):
        super()._validate(group)
        _check(group["momentum_decay"] >= 0.0, f"Invalid momentum_decay value: {group['momentum_decay']}")

    def _update(self, group, state, weight, grad):
        if "exp_avg" not in state:
            state["mu_product"] = 1.0
            state["exp_avg"] = np.zeros(weight.shape, np.float32)
            state["exp_avg_sq"] = np.zeros(weight.shape, np.float32)
        (beta1, beta2), lr, step = group["betas"], group["lr"], state["step"]
        weight, grad = self._decayed(group, weight, grad)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * group["momentum_decay"]))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * group["momentum_decay"]))
        state["mu_product"] *= mu
        state["exp_avg"] += (grad - state["exp_avg"]) * np.float32(1 - beta1)
        state["exp_avg_sq"] = state["exp_avg_sq"] * np.float32(beta2) + np.float32(1 - beta2) * grad * grad
        denom = np.sqrt(state["exp_avg_sq"] / np.float32(1 - beta2**step)) + np.float32(group["eps"])
        weight = weight - np.float32(lr * (1.0 - mu) / (1.0 - state["mu_product"])) * grad / denom
        return weight - np.float32(lr * mu_next / (1.0 - state["mu_product"] * mu_next)) * state["exp_avg"] / denom


__all__ = ["NAdam"]
