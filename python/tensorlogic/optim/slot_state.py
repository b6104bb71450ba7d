"""SlotState: one parameter's state in a native optimizer (SGD, Adam, AdamW, RMSprop, Lion), seen as the dict that
torch.optim keeps in `optimizer.state[p]`, with PyTorch's key names ('step', 'exp_avg', 'exp_avg_sq',
'max_exp_avg_sq', 'momentum_buffer', 'square_avg', 'grad_avg').

The kernels keep the state as float32 words in int32-typed native arrays (see optim.h) and a compensation slot that
PyTorch has no name for; a float16 tensor cannot view float32 words, so reading a slot gives a float16 copy of its
live values (made at each read), and writing a slot stores the values given. The step count is kept as a Python
int, or as an int32 tensor on the parameter's device once a GradScaler drives the optimizer."""
import collections.abc
import weakref

import numpy as np

from .. import _core
from ..dtypes import int64
from ..tensor import Tensor, _wrap

_STEP = "step"


def host_f32(slot):
    """The float32 values of a slot (a copy on the host when the slot is on a device, else a view)."""
    host = slot if slot.device == "cpu" else _core.to_device(slot, "cpu")
    return np.asarray(host).view(np.float32)


def slot_from_f32(values, p):
    """A slot (an int32-typed array of float32 words) holding `values`, on p's device."""
    words = np.ascontiguousarray(values, dtype=np.float32).view(np.int32).copy()
    array = _core.from_numpy(words)
    return array if p._a.device == "cpu" else _core.to_device(array, p._a.device)


def step_count(value, key, name="step"):
    """A step count (or another count, `name`) as an int (a tensor's included); anything else names the parameter
    `key`."""
    what = "the step count" if name == "step" else f"'{name}'"
    try:
        step = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{what} of parameter {key} must be a non-negative int, got {value!r}") from None
    if step < 0 or step >= 2**31:
        raise ValueError(f"{what} of parameter {key} must be in [0, 2^31), got {step}")
    return step


def _on(array, device):
    return array if array.device == device else _core.to_device(array, device)


def _rebuild(param, names, step, slots, extra, listed_step):
    arrays = [_on(_core.from_numpy(np.array(words)), device) for words, device in slots]
    return SlotState(param, names, step, arrays, extra, listed_step)


class SlotState(collections.abc.MutableMapping):
    """optimizer.state[p] of a native optimizer: a mapping with torch.optim's keys.

    - state['step'] (not for SGD, as in torch.optim): the number of updates, a 0-d int64 tensor on the CPU (a copy; PyTorch's is a float32 tensor),
      or, once a GradScaler has driven the optimizer, the live int32 tensor on the parameter's device that the
      kernels count in.
    - state[slot] ('exp_avg', 'momentum_buffer', ...): a float16 copy of the live float32 state, on the parameter's
      device, made at each read. Values beyond f16's range read as inf and values below its smallest subnormal
      (6e-8; exp_avg_sq of gradients under 2e-4) as 0; optimizer.state_dict() has the exact float32 values.
      Changing the copy in place does not change the optimizer; assigning does (state['exp_avg'] = t stores t's
      values, state['step'] = n sets the count), except that assigning the copy last read, unchanged, keeps the
      exact slot: the checkpoint idiom `for k, v in state.items(): state[k] = v.to(device)` (a copy moved to the
      device it is already on is the same tensor) loses nothing to f16.
    - any other key holds whatever is assigned to it, as a plain dict would.

    The Kahan compensation that keeps sub-ulp updates of the f16 weight (no PyTorch name) is not listed; it is in
    state_dict() as 'compensation'. The step and slots cannot be deleted: `optimizer.state.pop(p)` (or
    `optimizer.state[p] = {}`) forgets a parameter's state, which then starts again at its next update."""

    def __init__(self, param, names, step, slots, extra=None, listed_step=True):
        self.param = param
        self.names = list(names)  # names[0] is the compensation, slots[i] is names[i]
        self.step = step
        self.slots = slots
        self.extra = dict(extra or {})
        # False where torch.optim's state has no 'step' (SGD's): the count is kept for the kernels but not listed,
        # and 'step' is then an ordinary key.
        self.listed_step = listed_step
        self._read = {}  # slot name -> (weakref to the copy last read, its version then)

    # ---- the mapping -------------------------------------------------------------------------------------
    def __getitem__(self, key):
        if key == _STEP and self.listed_step:
            if isinstance(self.step, Tensor):
                return self.step
            return _wrap(_core.full([], self.step, int64.name, "cpu"))
        if key in self.names[1:]:
            values = host_f32(self.slots[self.names.index(key)]).astype(np.float16)  # overflow to inf, as f16 rounds
            copy = _wrap(_on(_core.from_numpy(np.asarray(values, order="C")), self.param._a.device))
            self._read[key] = (weakref.ref(copy), copy._version)
            return copy
        return self.extra[key]

    def __setitem__(self, key, value):
        if key == _STEP and self.listed_step:
            self.step = step_count(value, "in optimizer.state")
        elif key in self.names[1:]:
            read = self._read.pop(key, None)
            if read is not None and read[0]() is value and value._version == read[1]:
                self._read[key] = read
                return  # the copy last read, as it was read: the exact float32 slot stays
            values = np.asarray(value.detach().cpu().numpy() if isinstance(value, Tensor) else value, np.float32)
            if values.shape != tuple(self.param.shape):
                raise ValueError(f"optimizer.state: '{key}' must have the parameter's shape {tuple(self.param.shape)}, "
                                 f"got {values.shape}")
            self.slots[self.names.index(key)] = slot_from_f32(values, self.param)
        elif key == self.names[0]:
            raise KeyError(f"'{key}' is internal to the optimizer (see state_dict()); it cannot be set here")
        else:
            self.extra[key] = value

    def __delitem__(self, key):
        if (key == _STEP and self.listed_step) or key in self.names:
            raise TypeError(f"optimizer.state: '{key}' cannot be deleted; forget the parameter's whole state with "
                            "optimizer.state.pop(p) instead")
        del self.extra[key]

    def __iter__(self):
        if self.listed_step:
            yield _STEP
        yield from self.names[1:]
        yield from self.extra

    def __len__(self):
        return self.listed_step + len(self.names) - 1 + len(self.extra)

    def __contains__(self, key):
        return (key == _STEP and self.listed_step) or key in self.names[1:] or key in self.extra

    def clear(self):
        raise TypeError("optimizer.state[p].clear(): the step and slots cannot be deleted; forget the parameter's "
                        "whole state with optimizer.state.pop(p) instead")

    def __repr__(self):
        return "{" + ", ".join(f"{k!r}: {v!r}" for k, v in self.items()) + "}"

    # ---- copies ------------------------------------------------------------------------------------------
    def __reduce__(self):
        """Pickles (and deep-copies) the slots' raw words on the host with the device they return to, so
        copy.deepcopy(optimizer) and pickle.dumps(optimizer) work as PyTorch's do."""
        slots = [(np.array(_on(s, "cpu")), s.device) for s in self.slots]
        return _rebuild, (self.param, self.names, self.step, slots, self.extra, self.listed_step)
