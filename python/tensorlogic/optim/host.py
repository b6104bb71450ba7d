"""HostOptimizer: the base of the optimizers that have no fused native kernel (Adagrad, Adadelta, ..., LBFGS). Their
update runs in float32 on the host with torch.optim's formulas; the state (PyTorch's names) holds float32
numpy arrays, so squared gradients of 1e-4 (1e-8) and eps=1e-10 are not lost to f16 (optimizer.state[p], a
HostState, reads them as tensors, as torch.optim's are; state_dict() gives the arrays). Each parameter keeps
the rounding residual of its last update ("compensation") and adds it to the next one, so updates below
half an f16 ulp accumulate instead of vanishing (SPEC §5).

They have no device path for tl.amp.GradScaler: the scaler reads its inf/NaN flag (and inverse scale) back
once per step to decide whether to call step() (as PyTorch's scaler does for its unfused optimizers); the
update itself reads the gradients back anyway."""
import numpy as np

from .. import _core
from .host_state import HostState
from .optimizer import Optimizer, _check


def host_f32(t):
    return np.asarray(t.numpy(), dtype=np.float32)


def write_f16(p, values):
    """Stores float32 values into the f16 parameter in place (beyond f16's range: inf, as PyTorch's float16
    parameters take it); returns the rounding residual (0 where the value is not finite in f16)."""
    with np.errstate(over="ignore", invalid="ignore"):
        rounded = np.asarray(values, dtype=np.float16, order="C")  # (np.ascontiguousarray makes a 0-d array 1-d)
        residual = np.where(np.isfinite(rounded), values - rounded.astype(np.float32), np.float32(0))
    array = _core.from_numpy(rounded)
    _core.copy_(p._a, array if p._a.device == "cpu" else _core.to_device(array, p._a.device))
    p._version += 1
    return residual.astype(np.float32)


class HostOptimizer(Optimizer):
    """Subclasses define _update(group, state, weight, grad) -> new weight (all float32 numpy arrays)."""

    _unscales_in_step = True  # step() multiplies the gradients by _grad_scale in f32 (GradScaler sets it)
    _scalar_state = ()  # the names of the state entries that are numbers, not arrays of the parameter's shape
    _update_state = ()  # the entries an update reads once the state exists (Optimizer._state_names)

    def _state_names(self, p):
        return self._update_state

    def _state_form(self, name, p):
        return () if name in self._scalar_state else tuple(p.shape)

    def _step_group(self, group):
        for p in group["params"]:
            grad = p.grad  # read once: another thread's zero_grad may clear it while this step runs
            if grad is not None:
                self._step_param(group, p, grad)

    def _step_param(self, group, p, grad, **extra):
        """One parameter's update: _update(group, state, weight, grad, **extra) in float32."""
        raw = self._host_state(p).raw
        weight = host_f32(p) + raw.get("compensation", 0.0)
        grad = host_f32(grad) * np.float32(self._grad_scale)
        if group.get("maximize", False):
            grad = -grad
        raw["step"] = raw.get("step", 0) + 1
        raw["compensation"] = write_f16(p, self._update(group, raw, weight, grad, **extra))

    def _host_state(self, p):
        """state[p] as a HostState: made at p's first update over what its dict holds (entries a user put there, or a
        whole dict that replaced the state)."""
        st = self.state[p]
        if not isinstance(st, HostState):
            st = self.state[p] = self._wrapped_state(p, st)
        return st

    def _wrapped_state(self, p, entries):
        return HostState(p, {name: self._state_form(name, p) for name in self._state_names(p)}, entries)

    def _saved_entries(self, state):
        return state.raw.items() if isinstance(state, HostState) else state.items()

    def _update(self, group, state, weight, grad):
        raise NotImplementedError


class AdamLike(HostOptimizer):
    """Host optimizers with Adam's eps and betas (Adamax, NAdam, RAdam): their argument checks and their weight
    decay, L2 on the gradient or (decoupled_weight_decay, AdamW's) on the weight."""

    def _validate(self, group):
        super()._validate(group)
        _check(group["eps"] >= 0.0, f"Invalid epsilon value: {group['eps']}")
        for i, beta in enumerate(group["betas"]):
            _check(0.0 <= beta < 1.0, f"Invalid beta parameter at index {i}: {beta}")

    @staticmethod
    def _decayed(group, weight, grad):
        """(weight, grad) after the group's weight decay."""
        if not group["weight_decay"]:
            return weight, grad
        if group.get("decoupled_weight_decay"):
            return weight * np.float32(1 - group["lr"] * group["weight_decay"]), grad
        return weight, grad + np.float32(group["weight_decay"]) * weight
