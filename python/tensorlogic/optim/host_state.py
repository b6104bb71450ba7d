"""HostState: one parameter's state in a host optimizer (host.py: Adagrad, NAdam, ..., LBFGS), seen as the dict
that torch.optim keeps in `optimizer.state[p]`, with tensors where PyTorch has tensors.

The update computes with float32 numpy arrays (and Python numbers for the scalar entries), kept in `raw`; f16 cannot
hold them (a squared gradient of 1e-4 is 1e-8). Reading an entry gives a tensor copy: a 0-d int64 count for 'step',
a float16 tensor on the parameter's device for an array or a scalar entry, a list of them for a list entry (LBFGS's
history; None items stay None). Assigning stores the values given, except that the copy last read for that entry,
unchanged (for a list: each item), changes nothing: so the checkpoint idiom
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
      number of the entry's shape does (but see the module docstring for the copy last read). A list entry (LBFGS's
      'old_dirs', 'ro', ...) reads as a list of such copies and is assigned a list.
    - any other key holds whatever is assigned to it, as a plain dict would.

    The rounding residual of the f16 weight that the next update adds ('compensation', no PyTorch name) is not
    listed; it is in state_dict()."""

    def __init__(self, param, forms, entries=()):
        self.param = param
        # the optimizer's entries: name -> shape of its array (() for a number), or [shape] for a list of them
        self.forms = dict(forms)
        self.raw = {}  # what the update computes with
        self._read = {}  # name -> [(weakref to a copy last read, its version then), or None for a None item]
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
        copies = [None if v is None else self._copy(v) for v in value] if self._listed(key) else self._copy(value)
        self._read[key] = [None if c is None else (weakref.ref(c), c._version)
                           for c in (copies if self._listed(key) else [copies])]
        return copies

    def __setitem__(self, key, value):
        if key == _COMPENSATION:
            raise KeyError(f"'{key}' is internal to the optimizer (see state_dict()); it cannot be set here")
        if self._last_read(key, value):
            return  # the copy last read, as it was read: the exact values stay
        if key == _STEP:
            self.raw[key] = step_count(value, "in optimizer.state")
        elif self._listed(key):
            if not isinstance(value, (list, tuple)):
                raise TypeError(f"optimizer.state: '{key}' must be a list, got {type(value).__name__}")
            self.raw[key] = [None if v is None else self._values(key, v, self.forms[key][0]) for v in value]
        elif key in self.forms:
            self.raw[key] = self._values(key, value, self.forms[key])
        else:
            self.raw[key] = value
        self._read.pop(key, None)

    def _listed(self, key):
        return isinstance(self.forms.get(key), list)

    def _copy(self, value):
        """A float16 tensor on the parameter's device holding an array or a number of the state."""
        values = np.asarray(value, dtype=np.float32).astype(np.float16)  # (beyond f16's range: inf, as f16 rounds)
        array = _core.from_numpy(np.ascontiguousarray(values).reshape(values.shape))
        return _wrap(array if self.param._a.device == "cpu" else _core.to_device(array, self.param._a.device))

    def _last_read(self, key, value):
        """Whether value is what reading `key` last gave (each item of a list), unchanged since."""
        marks = self._read.get(key)
        if marks is None:
            return False
        items = value if self._listed(key) else [value]
        if not isinstance(items, (list, tuple)) or len(items) != len(marks):
            return False
        return all(v is None if m is None else (m[0]() is v and v._version == m[1]) for m, v in zip(marks, items))

    @staticmethod
    def _values(key, value, form):
        values = np.asarray(value.detach().cpu().numpy() if isinstance(value, Tensor) else value)
        if values.shape != form:
            raise ValueError(f"optimizer.state: '{key}' must have shape {form}, got {values.shape}")
        # a number as given (a loaded state's doubles stay exact), an array as the float32 the update keeps
        return float(values) if form == () else values.astype(np.float32)

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
