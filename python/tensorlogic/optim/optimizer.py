"""Optimizer: param groups and state around the backend's fused update of a list of parameters
(tensorlogic/optim.h).

State per parameter is a step count and the kernel's slots (see optim.h): slot 0 is the Kahan compensation that
keeps sub-ulp updates of f16 weights, a float16-typed native array of int16 counts of 2^-15 of the weight's f16
ulp; the others int32-typed native arrays holding float32 words. The native kinds keep them in a SlotState
(slot_state.py), which reads as torch.optim's dict ('step', 'exp_avg', ...). state_dict() gives every slot as
float32 values (the compensation as the residual `exact weight - f16 weight`), as before the compensation had 16
bits. `state` is a defaultdict(dict) keyed by parameter, as in torch.optim, so optimizers written in Python
(this package's host.py ones and users' own subclasses) keep whatever they like in `self.state[p]`.

Driven by tl.amp.GradScaler, the native kinds take the scaler's inf/NaN flag and inverse scale as device
arrays and skip the whole update on the device when the flag is set (PyTorch's fused AdamW): their step
counts then live on the device too (an int32 tensor in state["step"]), since the host does not know whether
a step happened."""
import copy
import numbers
from collections import defaultdict

import numpy as np

from .. import _core
from ..autograd.grad_mode import enable_grad
from ..autograd.tensor_methods import RemovableHandle
from ..nn.utils import zero_grads
from ..tensor import Tensor, _wrap
from .slot_state import SlotState, host_f32 as _host_f32, slot_from_f32 as _from_f32, step_count
from .step_hooks import (POST, PRE, hooked_step, hooks_of, register_optimizer_step_post_hook,  # noqa: F401 (torch's home)
                         register_optimizer_step_pre_hook)


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


def _check(condition, message):
    if not condition:
        raise ValueError(message)


# The options that are numbers (or tuples of numbers: betas, etas, step_sizes, Adafactor's eps), checked before any
# comparison or the native kernel sees them: a string there gave Python's "'>=' not supported" or pybind11's cast
# message at step().
_NUMBER_OPTIONS = {"lr", "momentum", "dampening", "weight_decay", "eps", "betas", "alpha", "lr_decay",
                   "initial_accumulator_value", "lambd", "t0", "momentum_decay", "rho", "etas", "step_sizes",
                   "max_iter", "max_eval", "tolerance_grad", "tolerance_change", "history_size", "beta2_decay", "d"}


# The options that are pairs (Adafactor's eps is one, with None allowed in it).
_TUPLE_OPTIONS = {"betas", "etas", "step_sizes", "eps"}
# Switches the native kernels take as bools (pybind11's cast message reached the user for a tuple).
_BOOL_OPTIONS = {"amsgrad", "nesterov", "maximize", "centered", "decoupled_weight_decay"}


def _is_number(value):
    return isinstance(value, numbers.Real) or (isinstance(value, Tensor) and value.numel() == 1)


def _check_option_types(group, owner):
    for name in _NUMBER_OPTIONS & group.keys():
        value = group[name]
        if _is_number(value):
            continue
        pair = name in _TUPLE_OPTIONS and isinstance(value, (tuple, list))
        if pair and all(v is None or _is_number(v) for v in value):
            continue
        raise TypeError(f"{owner}: option '{name}' must be a number (or a tuple of numbers), got "
                        f"{type(value).__name__}")
    for name in _BOOL_OPTIONS & group.keys():
        if not isinstance(group[name], (bool, np.bool_)):
            raise TypeError(f"{owner}: option '{name}' must be a bool, got {type(group[name]).__name__}")


class Optimizer:
    """The base of the optimizers, as torch.optim.Optimizer: param_groups, state, step, zero_grad, state_dict and
    load_state_dict. `state` is a defaultdict keyed by parameter; for the native kinds (SGD, Adam, AdamW, RMSprop,
    Lion) each entry reads as torch.optim's, with its key names ('step', 'exp_avg', 'exp_avg_sq', 'momentum_buffer',
    'square_avg', ...): each slot a float16 copy of the live float32 state, made at each read (state_dict() gives
    the exact values; assigning an entry stores into the optimizer). Subclasses with a native kernel set `_kind` and
    `_slot_names(group)` and map a group to OptimizerParams; others (host.py's) keep their own entries."""

    _kind = None
    _listed_step = True  # whether state[p] lists 'step' (torch.optim's SGD keeps no count)

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = defaultdict(dict)  # param -> a SlotState for the native kinds, a dict for the others
        self.param_groups = []
        self._grad_scale = 1.0  # the gradient's scale for optimizers without a native kernel (GradScaler sets it)
        self._amp_flags = None  # (found_inf, inv_scale or None): native arrays GradScaler.step passes to the kernel
        # param -> the float32 compensation load_state_dict() restored, kept until the parameter's next update: its
        # 16-bit form counts units of the parameter's f16 ulp, so it is encoded against the weight that update
        # starts from (loading the optimizer before the model's weights must work as well as after).
        self._loaded_compensation = {}
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of tensors or of dicts, got a Tensor")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in vars(cls):  # every class's own step runs the step hooks, as torch.optim's
            cls.step = hooked_step(cls.step)

    def register_step_pre_hook(self, hook):
        """hook(optimizer, args, kwargs) runs before each step (args starts with the optimizer, as PyTorch's); a
        non-None result must be (new_args, new_kwargs), which the step then gets. Returns a handle whose remove()
        unregisters it."""
        return _add_step_hook(self, PRE, hook)

    def register_step_post_hook(self, hook):
        """hook(optimizer, args, kwargs) runs after each step. Returns a handle whose remove() unregisters it."""
        return _add_step_hook(self, POST, hook)

    def __getstate__(self):
        """pickle and copy.deepcopy of an optimizer (as PyTorch's allow): the native arrays of its state (the
        slots, a step count kept on the device) travel as host copies and are made native again by __setstate__
        (a native array cannot be pickled: deepcopy after a step raised TypeError naming _core.Array). Step hooks
        stay behind, as PyTorch's do."""
        return {k: _host_copies(v) for k, v in self.__dict__.items() if k not in (PRE, POST)}

    def __setstate__(self, state):
        self.__dict__.update({k: _native_again(v) for k, v in state.items()})

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"

    def add_param_group(self, param_group):
        """Adds a group: a dict with 'params' (float16 leaf tensors not already optimized) and any options, the
        others taken from the optimizer's defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"add_param_group: expected a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("add_param_group: a parameter group needs a 'params' entry (the tensors it optimizes)")
        group = dict(param_group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__} can only optimize Tensors, got {type(p).__name__}")
            if p.dtype.name != "float16":
                raise TypeError(f"{type(self).__name__}: parameters must be float16 tensors, got {p.dtype}")
            if not p.is_leaf:
                raise ValueError(f"{type(self).__name__} can only optimize leaf tensors (this one has a grad_fn)")
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            group.setdefault(name, default)
        _check_option_types(group, type(self).__name__)
        self._validate(group)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]) or len({id(p) for p in group["params"]}) != len(group["params"]):
            raise ValueError("some parameters appear in more than one parameter group (or twice in one)")
        self.param_groups.append(group)

    def _validate(self, group):
        _check(group.get("lr", 0.0) >= 0.0, f"Invalid learning rate: {group.get('lr')}")
        _check(group.get("weight_decay", 0.0) >= 0.0, f"Invalid weight_decay value: {group.get('weight_decay')}")

    # ---- the update ------------------------------------------------------------------------------------
    @property
    def _step_supports_amp_scaling(self):
        """torch's flag for GradScaler: step() honours the scaler's device flags itself (the native kinds), so the
        scaler need not read them back."""
        return self._kind is not None

    def _native_params(self, group):
        raise NotImplementedError

    def _group_kind(self, group):
        return self._kind

    def _state_names(self, p):
        """The entries an update of parameter p reads from its state once it has one (optimizers without a native
        kind); load_state_dict refuses a state that has some of them but not all."""
        return ()

    def _state_form(self, name, p):
        """What state entry `name` of parameter p holds, which load_state_dict converts it to and checks it against
        (optimizers without a native kind): "count" (an int), the shape of an array (() a number), [shape] for a list of
        such arrays, or None: taken as given."""
        return None

    def _slot_names(self, group):
        raise NotImplementedError

    def _wrapped_state(self, p, entries):
        """state[p] holding the entries (optimizers without a native kind): the dict itself, or a mapping over it."""
        return entries

    def _saved_entries(self, state):
        """The (name, value) pairs of state[p] that state_dict() saves (optimizers without a native kind)."""
        return state.items()

    def step(self, closure=None):
        """One update of every parameter that has a gradient, after `closure` (if given) recomputes
        the loss it returns."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group):
        """The update of one param group: one native call for all its parameters that share a step count
        (normally all of them; a parameter that missed steps without a gradient has its own count), and one for
        those whose counts live on the device (every one, once a GradScaler has driven the optimizer)."""
        kind = self._group_kind(group)
        native = self._native_params(group)
        n_slots = len(self._slot_names(group))
        by_step, on_device = {}, []
        loaded = self._loaded_compensation
        for p in group["params"]:
            grad = p.grad  # read once: another thread's zero_grad may clear it while this step runs
            if grad is None:
                continue
            st = self.state[p]
            if not isinstance(st, SlotState):  # a first update (or a state the user replaced by a dict)
                st = self.state[p] = self._fresh_state(p, group, st)
            if loaded and p in loaded:
                st.slots[0] = _compensation_array(loaded.pop(p), p)
            if self._amp_flags is not None and not isinstance(st.step, Tensor):
                st.step = _wrap(_core.full([], st.step, "int32", p._a.device))
            if isinstance(st.step, Tensor):
                on_device.append((p, grad))
            else:
                by_step.setdefault(st.step + 1, []).append((p, grad))
        if on_device:
            found_inf, inv_scale = self._amp_flags or (None, None)
            _core.optimizer_step(kind, native, [p._a for p, _ in on_device], [g._a for _, g in on_device],
                                 [self.state[p].slots for p, _ in on_device],
                                 [self.state[p].step._a for p, _ in on_device], found_inf, inv_scale)
            for p, _ in on_device:
                p._version += 1
        for step, pairs in by_step.items():
            native.step = step
            _core.optimizer_step(kind, native, [p._a for p, _ in pairs], [g._a for _, g in pairs],
                                 [self.state[p].slots for p, _ in pairs])
            for p, _ in pairs:  # counted once the update is done: a rejected step leaves the state as it was
                self.state[p].step = step
                p._version += 1

    def _fresh_state(self, p, group, entries):
        """The zeroed state of p's first update, with the entries a user put in its dict before (slot values and a
        step count among them) written over it."""
        names = self._slot_names(group)
        state = SlotState(p, names, 0, [_zeros(p, "float16")] + [_zeros(p) for _ in names[1:]],
                          listed_step=self._listed_step)
        for key, value in entries.items():
            state[key] = value
        return state

    def zero_grad(self, set_to_none=True):
        """Clears the gradients of every parameter: sets them to None (set_to_none=True, the default) or to zeros."""
        zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    # ---- checkpoints -----------------------------------------------------------------------------------
    def state_dict(self):
        """{"state": {index: {"step", slot name: float32 numpy array}}, "param_groups": [... "params": [index]]},
        as torch.optim lays it out (a snapshot: arrays are copies). Optimizers without a native kind store
        their own state entries (copied)."""
        index, groups = {}, []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state.get(p)
                if st is None or (not st and not isinstance(st, SlotState)):  # (SGD's state lists no key)
                    continue
                if self._kind is None:
                    state[index[id(p)]] = {k: _copied(v) for k, v in self._saved_entries(st)}
                    continue
                if not isinstance(st, SlotState):  # entries a user set before the first update: kept till then
                    continue
                names = self._slot_names(group)
                entry = {"step": int(st.step)}  # a device count is read back
                loaded = self._loaded_compensation.get(p)
                entry[names[0]] = loaded.copy() if loaded is not None else _compensation_values(st.slots[0], p)
                for name, slot in zip(names[1:], st.slots[1:]):
                    entry[name] = _host_f32(slot).copy()
                entry.update((k, _copied(v)) for k, v in st.extra.items())
                state[index[id(p)]] = entry
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restores the state and group options saved by state_dict(), or by torch.optim's state_dict() (its tensors
        read as float32; without a compensation entry the f16 weights count as exact); the groups must have the same
        numbers of parameters."""
        groups, saved_state = _checked_layout(state_dict)
        if len(groups) != len(self.param_groups):
            raise ValueError(f"load_state_dict: the state has {len(groups)} parameter groups, the optimizer has "
                             f"{len(self.param_groups)}")
        for mine, theirs in zip(self.param_groups, groups):
            if len(mine["params"]) != len(theirs["params"]):
                raise ValueError("load_state_dict: a parameter group has a different number of parameters than the "
                                 "one in the state")
        for mine, theirs in zip(self.param_groups, groups):  # options checked before anything changes
            merged = {**mine, **{k: v for k, v in theirs.items() if k != "params"}}
            _check_option_types(merged, f"{type(self).__name__}.load_state_dict")
            self._validate(merged)
        state, loaded = defaultdict(dict), {}
        for mine, theirs in zip(self.param_groups, groups):
            if self._kind is not None:
                names = self._slot_names({**mine, **{k: v for k, v in theirs.items() if k != "params"}})
            for p, key in zip(mine["params"], theirs["params"]):
                entry = saved_state.get(key, saved_state.get(str(key)))
                if entry is None:
                    continue
                if not isinstance(entry, dict):
                    raise TypeError(f"load_state_dict: the state of parameter {key} must be a dict, got "
                                    f"{type(entry).__name__}")
                if self._kind is None:
                    state[p] = self._wrapped_state(
                        p, {k: _host_entry(k, v, key, self._state_form(k, p)) for k, v in entry.items()})
                    names = self._state_names(p)
                    missing = [n for n in names if n not in state[p]]
                    if missing and len(missing) < len(names):  # (none: a state its first update will make)
                        raise ValueError(f"load_state_dict: the state of parameter {key} has no '{missing[0]}' (a "
                                         f"state saved by another optimizer or with other options?)")
                    continue
                slots = []
                for name in names:
                    if name not in entry and name == names[0]:  # torch.optim's state: the f16 weights taken as exact
                        slots.append(np.zeros(tuple(p.shape), np.float32))
                        continue
                    if name not in entry:
                        raise ValueError(f"load_state_dict: the state of parameter {key} has no '{name}' (a state "
                                         f"saved by another optimizer or with other options?)")
                    try:
                        values = np.asarray(entry[name], dtype=np.float32)
                    except (TypeError, ValueError):
                        raise TypeError(f"load_state_dict: '{name}' of parameter {key} must be an array of numbers, "
                                        f"got {type(entry[name]).__name__}") from None
                    if values.shape != tuple(p.shape):
                        raise ValueError(f"load_state_dict: '{name}' of parameter {key} has shape {values.shape}, "
                                         f"the parameter has shape {tuple(p.shape)}")
                    slots.append(values.copy() if not slots else _from_f32(values, p))
                loaded[p] = slots[0]
                slots[0] = _zeros(p, "float16")  # replaced at the parameter's next update
                # (torch.optim's SGD keeps no count: its state exists once a first step was taken)
                extra = {k: _copied(v) for k, v in entry.items() if k != "step" and k not in names}
                state[p] = SlotState(p, names, _step_count(entry.get("step", 1), key), slots, extra, self._listed_step)
        for mine, theirs in zip(self.param_groups, groups):
            mine.update({k: v for k, v in theirs.items() if k != "params"})
        self.state, self._loaded_compensation = state, loaded


Optimizer.step = hooked_step(Optimizer.step)


def _add_step_hook(optimizer, kind, hook):
    if not callable(hook):
        raise TypeError(f"{type(optimizer).__name__}: a step hook must be callable, got {type(hook).__name__}")
    hooks = hooks_of(optimizer, kind)
    hooks.append(hook)
    return RemovableHandle(hooks, hook)


class _HostArray:
    """A native array of an optimizer's state while it is pickled or deep-copied: its values and device."""

    def __init__(self, array):
        self.values = np.array(array if array.device == "cpu" else _core.to_device(array, "cpu"))
        self.device = array.device

    def native(self):
        array = _core.from_numpy(self.values)
        return array if self.device == "cpu" else _core.to_device(array, self.device)


def _walked(value, leaf):
    """value with leaf(x) in place of each x that is not a dict, list or tuple inside it (a defaultdict keeps its
    default_factory; every container is a new one, so the original is left as it was)."""
    if isinstance(value, dict):
        out = type(value)(value.default_factory) if isinstance(value, defaultdict) else {}
        out.update((k, _walked(v, leaf)) for k, v in value.items())
        return out
    if isinstance(value, (list, tuple)):
        return type(value)(_walked(v, leaf) for v in value)
    return leaf(value)


def _host_copies(value):
    """value with each native array inside it (dicts, lists, tuples) as a _HostArray."""
    return _walked(value, lambda v: _HostArray(v) if isinstance(v, _core.Array) else v)


def _native_again(value):
    """_host_copies undone."""
    return _walked(value, lambda v: v.native() if isinstance(v, _HostArray) else v)


def _checked_layout(state_dict):
    """(param_groups, state) of a state dict, after checking the layout torch.optim's has: a dict whose
    'param_groups' is a list of dicts each with a 'params' list, and whose 'state' is a dict."""
    if not isinstance(state_dict, dict):
        raise TypeError(f"load_state_dict: expected a dict (from Optimizer.state_dict()), got "
                        f"{type(state_dict).__name__}")
    missing = [k for k in ("state", "param_groups") if k not in state_dict]
    if missing:
        raise ValueError(f"load_state_dict: the state dict has no {' or '.join(repr(k) for k in missing)} entry (is it "
                         f"an optimizer's state dict?)")
    groups, state = state_dict["param_groups"], state_dict["state"]
    if not isinstance(state, dict):
        raise TypeError(f"load_state_dict: 'state' must be a dict, got {type(state).__name__}")
    if not isinstance(groups, (list, tuple)) or not all(isinstance(g, dict) for g in groups):
        raise TypeError("load_state_dict: 'param_groups' must be a list of dicts")
    for group in groups:
        if not isinstance(group.get("params"), (list, tuple)):
            raise TypeError(f"load_state_dict: every parameter group needs a 'params' list, got "
                            f"{type(group.get('params')).__name__}")
    return groups, state


def _step_count(value, key, name="step"):
    """A saved step (or other) count as an int (a tensor's included); anything else names the parameter."""
    try:
        return step_count(value, key, name)
    except ValueError as error:
        raise ValueError(f"load_state_dict: {error}") from None


def _host_entry(name, value, key, form):
    """A state entry of an optimizer without a native kind (host.py, LBFGS), in the form its update computes with
    (`form`, from _state_form): a count an int, and an array (torch.optim's state holds its arrays and its scalars,
    such as NAdam's mu_product, as tensors) float32, or a float when 0-d, of the shape `form` gives; a list of them
    (None items kept, as in LBFGS's 'al') where form is [shape]; with form None, other values are taken as given
    (copied), as PyTorch takes them."""
    if name == "step" or form == "count":
        return _step_count(value, key, name)
    if isinstance(form, list):
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"load_state_dict: '{name}' of parameter {key} must be a list, got {type(value).__name__}")
        return [None if v is None else _host_entry(name, v, key, form[0]) for v in value]
    if not (isinstance(value, np.ndarray) or hasattr(value, "__array__")):
        if form is None:
            return _copied(value)
        value = np.asarray(value) if isinstance(value, numbers.Real) else value
        if not isinstance(value, np.ndarray):
            raise TypeError(f"load_state_dict: '{name}' of parameter {key} must be a number or an array, got "
                            f"{type(value).__name__}")
    values = np.asarray(value)  # a numpy array, or a tensor of ours or of another library (torch's) through __array__
    if not (np.issubdtype(values.dtype, np.floating) or np.issubdtype(values.dtype, np.integer)
            or values.dtype == np.bool_):
        raise TypeError(f"load_state_dict: '{name}' of parameter {key} must hold real numbers, got {values.dtype}")
    if form is not None and values.shape != form:
        raise ValueError(f"load_state_dict: '{name}' of parameter {key} has shape {values.shape}, "
                         f"{'a number' if form == () else f'the optimizer keeps shape {form}'} for it")
    if values.ndim == 0:  # a number: kept as saved (our state_dict's numbers are doubles: LBFGS's ro and H_diag)
        return float(values)
    return values.astype(np.float32)


def _copied(value):
    """A state value detached from the optimizer that held it (tensors and arrays are copied)."""
    if isinstance(value, Tensor):
        return value.detach().clone()
    return copy.deepcopy(value)


def _zeros(p, dtype="int32"):
    return _core.full(list(p._a.shape), 0.0, dtype, p._a.device)


def _compensation_unit(p):
    """2^-15 of the f16 ulp at each element of parameter p (kernels::compensation_unit: 2^-39 below the f16
    normals; unused where p is inf or NaN, whose count is 0), float32."""
    host = p._a if p._a.device == "cpu" else _core.to_device(p._a, "cpu")
    biased = (np.asarray(host).view(np.uint16) >> 10) & 31
    return np.ldexp(np.float32(1), np.maximum(biased, 1).astype(np.int32) - 40).astype(np.float32)


def _compensation_values(slot, p):
    """The residuals (float32) that the compensation slot's int16 counts stand for."""
    host = slot if slot.device == "cpu" else _core.to_device(slot, "cpu")
    return np.asarray(host).view(np.int16).astype(np.float32) * _compensation_unit(p)


def _compensation_array(values, p):
    """The compensation slot (float16-typed, int16 counts) for float32 residuals of parameter p: rounded half to
    even to the unit as the kernels round (exact for residuals they wrote), non-finite ones 0, the rest clipped to
    int16."""
    counts = np.rint(values.astype(np.float32) / _compensation_unit(p))
    counts = np.where(np.isfinite(counts), counts, 0.0)
    words = np.clip(counts, -32768, 32767).astype(np.int16).reshape(values.shape).view(np.float16)
    array = _core.from_numpy(np.ascontiguousarray(words))
    return array if p._a.device == "cpu" else _core.to_device(array, p._a.device)


def _native(kind_fields):
    params = _core.OptimizerParams()
    for name, value in kind_fields.items():
        setattr(params, name, value)
    return params
