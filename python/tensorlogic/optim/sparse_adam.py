"""SparseAdam with torch.optim.SparseAdam's arguments, checks, formula and state names. TensorLogic has no sparse
tensors: the gradient of an Embedding(sparse=True) (or EmbeddingBag) weight is dense, and its lookups' backward
records the rows PyTorch's sparse gradient would hold (nn/sparse_rows.py); the lazy update touches those rows alone.
A gradient that no sparse lookup made is dense, and step() raises PyTorch's error for it."""
import math

import numpy as np

from ..nn.sparse_rows import clear_rows, rows_of
from .host import HostOptimizer
from .optimizer import _check


class SparseAdam(HostOptimizer):
    """torch.optim.SparseAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False): Adam's moments and
    update on the rows of the sparse gradient only (the rows the sparse lookups named since the last step), its
    state 'step', 'exp_avg', 'exp_avg_sq' (float32 on the host: see host.py)."""

    _update_state = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))

    def _validate(self, group):
        _check(group["lr"] >= 0.0, f"Invalid learning rate: {group['lr']}")
        _check(group["eps"] >= 0.0, f"Invalid epsilon value: {group['eps']}")
        for i, beta in enumerate(group["betas"]):
            _check(0.0 <= beta < 1.0, f"Invalid beta parameter at index {i}: {beta}")

    def _step_group(self, group):
        params = [p for p in group["params"] if p.grad is not None]
        rows = [rows_of(p) for p in params]
        if any(r is None for r in rows):
            raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam instead")
        for p, r in zip(params, rows):
            if r.any():  # PyTorch's skips a parameter whose sparse gradient holds no values
                self._step_param(group, p, p.grad, rows=r)
            clear_rows(p)

    def _update(self, group, state, weight, grad, rows):
        if "exp_avg" not in state:
            state["exp_avg"] = np.zeros(weight.shape, np.float32)
            state["exp_avg_sq"] = np.zeros(weight.shape, np.float32)
        beta1, beta2 = group["betas"]
        exp_avg, exp_avg_sq, g = state["exp_avg"], state["exp_avg_sq"], grad[rows]
        exp_avg[rows] += (g - exp_avg[rows]) * np.float32(1 - beta1)
        exp_avg_sq[rows] += (g * g - exp_avg_sq[rows]) * np.float32(1 - beta2)
        step = state["step"]
        step_size = group["lr"] * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
        weight[rows] -= np.float32(step_size) * exp_avg[rows] / (np.sqrt(exp_avg_sq[rows]) + np.float32(group["eps"]))
        return weight
