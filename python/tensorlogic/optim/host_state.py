"""HostState: one parameter's state in a host optimizer (host.py: Adagrad, NAdam, ...), seen as the dict that
torch.optim keeps in `optimizer.state[p]`, with tensors where PyTorch has tensors.

The update computes with float32 numpy arrays (and Python numbers for the scalar entries), kept in `raw`; f16 cannot
hold them (a squared gradient of 1e-4 is 1e-8). Reading an entry gives a tensor copy: a 0-d int64 count for 'step',
a float16 tensor on the parameter's device for an array or a scalar entry. Assigning stores the values given, except
that the copy last read for that entry, unchanged, changes nothing: so the checkpoint idiom
`for k, v in state.items(): state[k] = v.to(device)` keeps the exact float32 state (the copy moved to the device it
is already on is the same tensor)."""
import collections.abc
import weakref

import numpy as np

from .. import _core
from ..dtypes import int64
from ..tensor import Tensor, _wrap
from .slot_state import step_count

_STEP, _COMPENSATION = "step", "compensation"


class HostState(collections.abc.MutableMapping):
    """optimizer.state[p] of a host optimizer: a mapping with torch.optim's keys.

    - state['step']: the number of updates, a 0-d int64 tensor on the CPU (a copy; PyTorch's is a float32 tensor).
    - the optimizer's entries ('sum', 'exp_avg', 'mu_product', ...): float16 copies, on the parameter's device, of the
      float32 values the update keeps (values below f16's smallest subnormal read as 0; optimizer.state_dict() has
      the exact ones). Changing a copy in place does not change the optimizer; assigning a tensor, an array or a
      number of the entry's shape does (but see the module docstring for the copy last read).
    - any other key holds whatever is assigned to it, as a plain dict would.

    The rounding residual of the f16 weight that the next update adds ('compensation', no PyTorch name) is not
    listed; it is in state_dict()."""

    def __init__(self, param, forms, entries=()):
        self.param = param
        self.forms = dict(forms)  # the optimizer's entries: name -> shape of its array (() for a number)
        self.raw = {}  # what the update computes with
        self._read = {}  # name -> (weakref to the copy last read, its version then)
        for key, value in dict(entries).items():  # (a loaded state's residual among them)
            if key == _COMPENSATION:
                self.raw[key] = value
            else:
                self[key] = value

    def __getitem__(self, key):
        if key == _COMPENSATION:
            raise KeyError(key)
        value = self.raw[key]
        if key == _STEP:
            return _wrap(_core.full([], value, int64.name, "cpu"))
        if key not in self.forms:
            return value
        values = np.asarray(value, dtype=np.float32).astype(np.float16)  # (beyond f16's range: inf, as f16 rounds)
        array = _core.from_numpy(np.ascontiguousarray(values).reshape(values.shape))
        copy = _wrap(array if self.param._a.device == "cpu" else _core.to_device(array, self.param._a.device))
        self._read[key] = (weakref.ref(copy), copy._version)
        return copy

    def __setitem__(self, key, value):
        if key == _COMPENSATION:
            raise KeyError(f"'{key}' is internal to the optimizer (see state_dict()); it cannot be set here")
        read = self._read.get(key)
        if read is not None and read[0]() is value and value._version == read[1]:
            return  # the copy last read, as it was read: the exact values stay
        if key == _STEP:
            self.raw[key] = step_count(value, "in optimizer.state")
        elif key in self.forms:
            self.raw[key] = self._values(key, value)
        else:
            self.raw[key] = value
        self._read.pop(key, None)

    def _values(self, key, value):
        values = np.asarray(value.detach().cpu().numpy() if isinstance(value, Tensor) else value, np.float32)
        form = self.forms[key]
        if values.shape != form:
            raise ValueError(f"optimizer.state: '{key}' must have shape {form}, got {values.shape}")
        return float(values) if form == () else values.copy()

    def __delitem__(self, key):
        if key == _COMPENSATION:
            raise KeyError(key)
        del self.raw[key]
        self._read.pop(key, None)

    def __iter__(self):
        return (key for key in list(self.raw) if key != _COMPENSATION)

    def __len__(self):
        return len(self.raw) - (_COMPENSATION in self.raw)

    def __contains__(self, key):
        return key != _COMPENSATION and key in self.raw

    def __repr__(self):
        return "{" + ", ".join(f"{k!r}: {v!r}" for k, v in self.items()) + "}"

    def __reduce__(self):
        """pickle and copy.deepcopy (of the optimizer too): the raw state, without the copies handed out."""
        return _rebuild, (self.param, self.forms, self.raw)


def _rebuild(param, forms, raw):
    state = HostState(param, forms)
    state.raw = dict(raw)
    return state
