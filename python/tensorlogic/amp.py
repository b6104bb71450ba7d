"""GradScaler: dynamic loss scaling for f16 training, with torch.amp.GradScaler's defaults and rules.

The loss is multiplied by the scale before backward so small gradients stay representable in f16. step()
checks the gradients for inf/NaN: if any, the update is skipped and the scale multiplied by backoff_factor;
after growth_interval clean steps it is multiplied by growth_factor. Unscaling happens inside the fused
optimizer kernel (in f32), so unscaled gradients are never rounded to f16; unscale_() exists for gradient
clipping and rounds them to f16 in place.

Why pure-f16 training needs it: a gradient element below f16's smallest subnormal (6e-8) rounds to zero. The
cross-entropy gradient (softmax - one_hot) / N over a vocabulary of 50,304 averaged over N = 8,192 tokens is
about 2e-9 for every non-target class: without scaling all of it vanishes and a GPT's loss rises instead of
falling (measured on an H100 and on the CPU: benchmarks/results notes of 2026-12-05).

The default init_scale is 2**15, not PyTorch's 2**16: 65,536 is beyond f16's largest finite value (65,504),
so a backward seeded with it is inf from the start. The scaled loss itself may read inf (loss * scale in f16)
while its gradients are finite: backward through the scaling multiplies by the scale without reading the
product.

Nothing here waits for the device (PyTorch's fused AdamW with its GradScaler): the scale, its inverse, the
growth tracker and each step's inf/NaN flag are device arrays; the optimizers with a native kernel read the
flag there and skip the whole update (step counts included) when it is set, and update() computes the next
scale on the device. Only get_scale(), state_dict(), update() given a tensor and optimizers without a native
kernel read values back.
The scale and its inverse are float32 words (f16 cannot hold 2^16); the loss is multiplied by the scale's f16
copy."""
import enum
import numbers
from collections import abc, defaultdict

import numpy as np

from . import _core
from .autocast_mode import autocast, is_autocast_available  # noqa: F401  (tl.amp.autocast, as torch.amp's)
from .tensor import Tensor, _wrap


class _Stage(enum.Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _fresh_state():
    return {"stage": _Stage.READY, "found_inf_per_device": {}}


def _words(arrays):
    """The one-element int32 arrays' values, read back in one copy (one wait)."""
    packed = _core.cat([_core.reshape(a, [1]) for a in arrays], 0)
    return np.asarray(packed if packed.device == "cpu" else _core.to_device(packed, "cpu"))


def _as_float(word):
    return float(np.asarray(word, np.int32).view(np.float32))


def _on(array, device):
    return array if array.device == device else _core.to_device(array, device)


def _real(value, name):
    """value as a float (a number or a one-element tensor: PyTorch saves and takes both); a TypeError otherwise."""
    if isinstance(value, Tensor) or (hasattr(value, "numel") and hasattr(value, "item")):
        if value.numel() != 1:
            raise ValueError(f"GradScaler: {name} should be a float or a 1-element tensor.")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"GradScaler: {name} must be a real number, got {type(value).__name__}")
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"GradScaler: {name} is beyond a double's range") from None


def _growth_factor(value):
    value = _real(value, "growth_factor")
    if not value > 1.0:
        raise ValueError("The growth factor must be > 1.0.")
    return value


def _backoff_factor(value):
    value = _real(value, "backoff_factor")
    if not 0.0 < value < 1.0:
        raise ValueError("The backoff factor must be < 1.0.")
    return value


def _count(value, name, low, high):
    """An int in [low, high) (the device keeps the growth tracker as an int32 and the interval as an int64)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"GradScaler: {name} must be an int, got {type(value).__name__}")
    if not low <= value < high:
        raise ValueError(f"GradScaler: {name} must be in [{low}, {high}), got {value}")
    return int(value)


def _checked_optimizer(optimizer):
    if not isinstance(getattr(optimizer, "param_groups", None), (list, tuple)):
        raise TypeError(f"GradScaler: expected an optimizer (with param_groups), got {type(optimizer).__name__}")
    return optimizer


def _growth_interval(value):
    return _count(value, "growth_interval", -2 ** 63, 2 ** 63)


class GradScaler:
    """Dynamic loss scaling for f16 training, with torch.amp.GradScaler's defaults and rules:
    scaler.scale(loss).backward(); scaler.step(optimizer); scaler.update(). Gradients are unscaled inside the fused
    optimizer kernel in f32, never rounded to f16 unscaled; a step whose gradients hold inf/NaN is skipped and the
    scale backs off. None of it waits for the device (the module's docstring says how); an optimizer without a
    native kernel (Adagrad, the host optimizers) costs one read of the flag per step. enabled=False makes every
    method a pass-through."""
    def __init__(self, device="cpu", init_scale=2.0**15, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                 enabled=True):
        self._enabled = enabled
        self._init_scale = _real(init_scale, "init_scale")
        self._init_growth_tracker = 0
        self._growth_factor = _growth_factor(growth_factor)
        self._backoff_factor = _backoff_factor(backoff_factor)
        self._growth_interval = _growth_interval(growth_interval)
        self._loss_scale = None  # _core.LossScale, made on the device of the first scaled output or gradient
        self._per_optimizer = defaultdict(_fresh_state)  # id(optimizer) -> stage and inf/NaN flags per device

    def _lazy_init(self, device):
        if self._loss_scale is None:
            self._loss_scale = _core.LossScale(self._init_scale, self._init_growth_tracker, device)

    def is_enabled(self):
        """Whether scaling is on (the constructor's enabled)."""
        return self._enabled

    def get_scale(self):
        """The current scale as a Python float (1.0 when disabled); reads it back from its device."""
        if not self._enabled:
            return 1.0
        if self._loss_scale is None:
            return self._init_scale
        return _as_float(_words([self._loss_scale.scale])[0])

    def get_growth_factor(self):
        """The factor the scale grows by after growth_interval clean steps."""
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        """Sets the growth factor."""
        self._growth_factor = _growth_factor(new_factor)

    def get_backoff_factor(self):
        """The factor the scale is multiplied by on a step with inf/NaN gradients."""
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        """Sets the backoff factor."""
        self._backoff_factor = _backoff_factor(new_factor)

    def get_growth_interval(self):
        """How many clean steps in a row make the scale grow."""
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        """Sets the growth interval."""
        self._growth_interval = _growth_interval(new_interval)

    def scale(self, outputs):
        """outputs (a tensor, or a list or tuple of them, or another iterable: a lazy map, as PyTorch's) multiplied by
        the scale (its f16 value, on their device)."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        if not isinstance(outputs, Tensor):
            if isinstance(outputs, abc.Iterable) and not isinstance(outputs, (str, bytes)):
                return map(self.scale, outputs)
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")
        device = outputs._a.device
        self._lazy_init(device)
        return outputs * _wrap(_on(self._loss_scale.scale_f16, device))

    def _check_grads(self, optimizer, unscale):
        """{device: int32 flag array}: 1 where some gradient of the optimizer on that device holds inf/NaN. The
        gradients are multiplied in place by 1 / scale when `unscale`."""
        by_device = {}
        for group in _checked_optimizer(optimizer).param_groups:
            for p in group["params"]:
                if (grad := p.grad) is not None:  # read once: another thread may clear it meanwhile
                    by_device.setdefault(grad._a.device, []).append(grad)
        found = {}
        for device, grads in by_device.items():
            self._lazy_init(device)
            found[device] = _core.full([], 0.0, "int32", device)
            _core.amp_non_finite_check_and_unscale([g._a for g in grads], found[device],
                                                   self._loss_scale.inv_scale if unscale else None)
            if unscale:
                for g in grads:
                    g._version += 1
        return found

    def _found_inf(self, flags):
        """The sum of the flags on the scale's device (one array: no work for a single device)."""
        device = self._loss_scale.scale.device
        total = None
        for flag in flags:
            flag = _wrap(_on(flag, device))
            total = flag if total is None else total + flag
        return total._a

    def unscale_(self, optimizer):
        """Divides the optimizer's gradients by the scale in place (rounding them to f16) and records whether any is
        inf/NaN, for gradient clipping before step(); once per optimizer per update()."""
        if not self._enabled:
            return
        st = self._per_optimizer[id(_checked_optimizer(optimizer))]
        if st["stage"] is _Stage.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if st["stage"] is _Stage.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        st["found_inf_per_device"] = self._check_grads(optimizer, unscale=True)
        st["stage"] = _Stage.UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """optimizer.step(*args, **kwargs) with the gradients unscaled inside the kernel, skipped (on the device)
        if some gradient is inf/NaN. An optimizer without a native kernel is stepped after one read of the flag,
        and then returns None on a skipped step, as in PyTorch; the host optimizers unscale in their f32 update,
        other optimizers (users' own) get their gradients unscaled in place first (unscale_), as in PyTorch."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        st = self._per_optimizer[id(_checked_optimizer(optimizer))]
        if st["stage"] is _Stage.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if st["stage"] is _Stage.READY:
            unscales = getattr(optimizer, "_step_supports_amp_scaling", False) or getattr(optimizer,
                                                                                          "_unscales_in_step", False)
            if unscales:
                st["found_inf_per_device"] = self._check_grads(optimizer, unscale=False)
            else:  # an optimizer written in Python (a user's): its step sees unscaled gradients, as with PyTorch
                self.unscale_(optimizer)
        if not st["found_inf_per_device"]:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        found_inf = self._found_inf(st["found_inf_per_device"].values())
        inv_scale = None if st["stage"] is _Stage.UNSCALED else self._loss_scale.inv_scale
        st["stage"] = _Stage.STEPPED
        if getattr(optimizer, "_step_supports_amp_scaling", False):
            optimizer._amp_flags = (found_inf, inv_scale)
            try:
                return optimizer.step(*args, **kwargs)
            finally:
                optimizer._amp_flags = None
        values = _words([found_inf] if inv_scale is None else [found_inf, inv_scale])
        if values[0]:
            return None
        previous = optimizer._grad_scale
        optimizer._grad_scale = 1.0 if inv_scale is None else _as_float(values[1])
        try:
            return optimizer.step(*args, **kwargs)
        finally:
            optimizer._grad_scale = previous

    def update(self, new_scale=None):
        """Updates the scale on its device: times backoff_factor if a step found inf/NaN, times growth_factor after
        growth_interval clean steps in a row, or new_scale if given (a float, or a one-element tensor, read back).
        Call once per iteration, after step()."""
        if not self._enabled:
            return
        if self._loss_scale is None:
            raise AssertionError("Attempted update but _scale is None. This may indicate your script did not use "
                                 "scaler.scale(loss or outputs) earlier in the iteration.")
        if new_scale is not None:
            if getattr(new_scale, "requires_grad", False):
                raise ValueError("new_scale should not require grad.")
            self._loss_scale.set_scale(_real(new_scale, "new_scale"))
        else:
            flags = [f for st in self._per_optimizer.values() for f in st["found_inf_per_device"].values()]
            if not flags:
                raise AssertionError("No inf checks were recorded prior to update.")
            _core.amp_update_scale(self._loss_scale, self._found_inf(flags), self._growth_factor,
                                   self._backoff_factor, self._growth_interval)
        self._per_optimizer = defaultdict(_fresh_state)

    def state_dict(self):
        """The scale and its growth settings as a dict (empty when disabled), as PyTorch saves them (reads the scale
        and growth tracker back)."""
        if not self._enabled:
            return {}
        if self._loss_scale is None:
            scale, tracker = self._init_scale, self._init_growth_tracker
        else:
            words = _words([self._loss_scale.scale, self._loss_scale.growth_tracker])
            scale, tracker = _as_float(words[0]), int(words[1])
        return {"scale": scale, "growth_factor": self._growth_factor, "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": tracker}

    def load_state_dict(self, state_dict):
        """Restores the scale and its settings from state_dict()."""
        if not self._enabled:
            return
        if not isinstance(state_dict, abc.Mapping):
            raise TypeError(f"GradScaler.load_state_dict: expected a dict (from GradScaler.state_dict()), got "
                            f"{type(state_dict).__name__}")
        if not state_dict:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled instance "
                               "of GradScaler.")
        missing = [k for k in ("scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker")
                   if k not in state_dict]
        if missing:
            raise KeyError(f"GradScaler.load_state_dict: the state dict has no {missing[0]!r}")
        # (all checked before anything changes)
        scale = _real(state_dict["scale"], "scale")
        growth, backoff = _growth_factor(state_dict["growth_factor"]), _backoff_factor(state_dict["backoff_factor"])
        interval = _growth_interval(state_dict["growth_interval"])
        tracker = state_dict["_growth_tracker"]
        tracker = _count(tracker.item() if isinstance(tracker, Tensor) else tracker, "_growth_tracker", 0, 2 ** 31)
        self._init_scale, self._growth_factor, self._backoff_factor = scale, growth, backoff
        self._growth_interval, self._init_growth_tracker = interval, tracker
        if self._loss_scale is not None:
            device = self._loss_scale.scale.device
            self._loss_scale = None
            self._lazy_init(device)
