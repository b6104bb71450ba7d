"""HostOptimizer: the base of the optimizers that have no fused native kernel (Adagrad, Adadelta). Their
update runs in float32 on the host with torch.optim's formulas; the state (PyTorch's names) holds float32
numpy arrays, so squared gradients of 1e-4 (1e-8) and eps=1e-10 are not lost to f16. Each parameter keeps
the rounding residual of its last update ("compensation") and adds it to the next one, so updates below
half an f16 ulp accumulate instead of vanishing (SPEC §5)."""
import numpy as np

from .. import _core
from .optimizer import Optimizer


def host_f32(t):
    return np.asarray(t.numpy(), dtype=np.float32)


def write_f16(p, values):
    """Stores float32 values into the f16 parameter in place; returns the rounding residual."""
    rounded = values.astype(np.float16)
    array = _core.from_numpy(np.ascontiguousarray(rounded))
    _core.copy_(p._a, array if p._a.device == "cpu" else _core.to_device(array, p._a.device))
    p._version += 1
    return values - rounded.astype(np.float32)


class HostOptimizer(Optimizer):
    """Subclasses define _update(group, state, weight, grad) -> new weight (all float32 numpy arrays)."""

    def _step_group(self, group):
        for p in group["params"]:
            if p.grad is None:
                continue
            st = self.state[p]
            weight = host_f32(p) + st.get("compensation", 0.0)
            grad = host_f32(p.grad) * np.float32(self._grad_scale)
            if group.get("maximize", False):
                grad = -grad
            st["step"] = st.get("step", 0) + 1
            st["compensation"] = write_f16(p, self._update(group, st, weight, grad))

    def _update(self, group, state, weight, grad):
        raise NotImplementedError
