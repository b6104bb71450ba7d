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
product."""
import functools

from . import _core


def _grads(optimizer):
    return [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]


def _all_finite(grads, inv_scale=1.0):
    """Whether every gradient is free of inf/NaN, checked before each is multiplied in place by inv_scale (not
    when it is 1): one native call and one read from each device (CUDA checks, and scales, all the gradients
    of a device in one multi-tensor launch)."""
    return _core.check_finite_and_unscale([g._a for g in grads], inv_scale)


class GradScaler:
    """Dynamic loss scaling for f16 training, with torch.amp.GradScaler's defaults and rules:
    scaler.scale(loss).backward(); scaler.step(optimizer); scaler.update(). Gradients are unscaled inside the fused
    optimizer kernel in f32, never rounded to f16 unscaled; a step whose gradients hold inf/NaN is skipped and the
    scale backs off. enabled=False makes every method a pass-through."""
    def __init__(self, device="cpu", init_scale=2.0**15, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                 enabled=True):
        if growth_factor <= 1.0:
            raise ValueError("The growth factor must be > 1.0.")
        if not 0.0 < backoff_factor < 1.0:
            raise ValueError("The backoff factor must be < 1.0.")
        self._enabled = enabled
        self._scale = float(init_scale)
        self._growth_factor = growth_factor
        self._backoff_factor = backoff_factor
        self._growth_interval = growth_interval
        self._growth_tracker = 0
        self._per_optimizer = {}  # id(optimizer) -> {"unscaled": bool, "found_inf": bool}

    def is_enabled(self):
        """Whether scaling is on (the constructor's enabled)."""
        return self._enabled

    def get_scale(self):
        """The current scale (1.0 when disabled)."""
        return self._scale if self._enabled else 1.0

    def scale(self, outputs):
        """outputs (a tensor, or a list or tuple of them) multiplied by the scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        return outputs * self._scale

    def _state(self, optimizer):
        return self._per_optimizer.setdefault(id(optimizer), {"unscaled": False, "found_inf": None})

    def unscale_(self, optimizer):
        """Divides the optimizer's gradients by the scale in place (rounding them to f16) and records whether any is
        inf/NaN, for gradient clipping before step(); once per optimizer per update()."""
        if not self._enabled:
            return
        st = self._state(optimizer)
        if st["unscaled"]:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        grads = _grads(optimizer)
        st["found_inf"] = not _all_finite(grads, 1.0 / self._scale)
        for g in grads:
            g._version += 1
        st["unscaled"] = True

    def step(self, optimizer, *args, **kwargs):
        """optimizer.step(*args, **kwargs) with the gradients unscaled inside the kernel, unless some gradient is
        inf/NaN: then the step is skipped and None returned."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        st = self._state(optimizer)
        if st["found_inf"] is None:
            st["found_inf"] = not _all_finite(_grads(optimizer))
        if st["found_inf"]:
            return None
        previous = optimizer._grad_scale
        optimizer._grad_scale = 1.0 if st["unscaled"] else 1.0 / self._scale
        try:
            return optimizer.step(*args, **kwargs)
        finally:
            optimizer._grad_scale = previous

    def update(self, new_scale=None):
        """Updates the scale: times backoff_factor if a step found inf/NaN, times growth_factor after
        growth_interval clean steps, or new_scale if given. Call once per iteration, after step()."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale.item() if hasattr(new_scale, "item") else new_scale)
        else:
            found = any(st["found_inf"] for st in self._per_optimizer.values())
            if found:
                self._scale *= self._backoff_factor
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    self._scale *= self._growth_factor
                    self._growth_tracker = 0
        self._per_optimizer = {}

    def state_dict(self):
        """The scale and its growth settings as a dict (empty when disabled), as PyTorch saves them."""
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor, "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict):
        """Restores the scale and its settings from state_dict()."""
        if not self._enabled:
            return
        if not state_dict:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled instance "
                               "of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._growth_tracker = state_dict["_growth_tracker"]


class autocast:
    """torch.autocast / torch.amp.autocast, accepted as the identity: every float tensor is already float16,
    so there is nothing to cast. A context manager and a decorator, as in PyTorch; `dtype` may be any
    float name (float16, bfloat16, ...), all meaning float16."""

    def __init__(self, device_type="cuda", dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device_type, self.fast_dtype, self._enabled = device_type, dtype, bool(enabled)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)

        return wrapper


def is_autocast_available(device_type):
    """True for any device type name: autocast is accepted everywhere (as the identity)."""
    return isinstance(device_type, str)
