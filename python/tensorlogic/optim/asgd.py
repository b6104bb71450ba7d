"""ASGD (averaged stochastic gradient descent) with torch.optim.ASGD's arguments, defaults, formula and state
names (float32 state on the host: see host.py)."""
import numpy as np

from .host import HostOptimizer


class ASGD(HostOptimizer):
    """ASGD with torch.optim.ASGD's arguments, defaults, formula and state names ('eta', 'mu', 'ax': the running
    average of the parameters, from step t0 on); the update runs in float32 on the host and is written back to the
    f16 parameters."""

    _update_state = ("eta", "mu", "ax")
    _scalar_state = ("eta", "mu")

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      maximize=maximize))

    def _update(self, group, state, weight, grad):
        if "ax" not in state:
            state["eta"], state["mu"] = float(group["lr"]), 1.0
            state["ax"] = np.zeros(weight.shape, np.float32)
        if group["weight_decay"]:
            grad = grad + np.float32(group["weight_decay"]) * weight
        eta = state["eta"]
        weight = weight * np.float32(1 - group["lambd"] * eta) - np.float32(eta) * grad
        if state["mu"] != 1:
            state["ax"] += (weight - state["ax"]) * np.float32(state["mu"])
        else:
            state["ax"] = weight.copy()
        step = state["step"]
        with np.errstate(all="ignore"):  # in float64, as PyTorch's tensor math: a hostile lambd gives inf or NaN, not
            # Python's ZeroDivisionError or a complex power
            state["eta"] = float(np.float64(group["lr"]) / (np.float64(1 + group["lambd"] * group["lr"] * step)
                                                             ** group["alpha"]))
        state["mu"] = 1 / max(1, step - group["t0"])
        return weight


__all__ = ["ASGD"]
