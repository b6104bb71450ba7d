"""Module: the base of every layer: registration of parameters, buffers and children, forward and backward hooks
(module_hooks.py holds the global hooks and the backward machinery), traversal, modes, devices, state dicts and
PyTorch-style printing."""
import collections.abc
from collections import OrderedDict, namedtuple

from .. import _core
from ..autograd.grad_mode import no_grad
from ..creation import tensor
from ..device import device_name
from ..errors import ShapeMismatchError
from ..dtypes import as_dtype
from ..memory_formats import check_memory_format
from ..ops.shape import _looks_like_dtype
from ..tensor import Tensor
from .module_hooks import (BACKWARD, BACKWARD_PRE, FORWARD, FORWARD_PRE, BackwardHook, _Hook, add_hook, global_hooks,
                           global_of)
from .parameter import Buffer, Parameter, zero_grads

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


# The state-dict hooks' lists live in the module's __dict__ once one is registered (modules pickled before hooks
# existed have none)
_STATE_DICT_PRE_HOOKS, _LOAD_STATE_DICT_POST_HOOKS = "_state_dict_pre_hooks", "_load_state_dict_post_hooks"


def _post_order(module):
    """The module tree, children before their parent (a shared module once per place, as PyTorch's load visits)."""
    for child in module._modules.values():
        if child is not None:
            yield from _post_order(child)
    yield module


class StateDictError(RuntimeError):
    """load_state_dict(strict=True) found missing or unexpected keys."""


class Module:
    """The base class of every layer, as torch.nn.Module. Assigning a Parameter, a Module or (with register_buffer)
    a tensor to an attribute registers it; parameters(), state_dict(), to() and train()/eval() then reach the whole
    tree. Calling the module calls forward(). Parameters are float16 tensors."""
    training: bool

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", [])
        object.__setattr__(self, "_forward_hooks", [])
        object.__setattr__(self, "_backward_pre_hooks", [])
        object.__setattr__(self, "_backward_hooks", [])
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):
        """The computation of the module, called by module(*args, **kwargs); every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        compiled = self.__dict__.get("_compiled_call_impl")  # set by compile(), as torch's
        if compiled is not None:
            return compiled(*args, **kwargs)
        return self._call_impl(*args, **kwargs)

    def __getstate__(self):
        """pickle and copy.deepcopy: the module's attributes less the compiled call of compile(), as PyTorch's (a copy
        runs uncompiled until compiled itself)."""
        state = self.__dict__.copy()
        state.pop("_compiled_call_impl", None)
        return state

    def _call_impl(self, *args, **kwargs):
        """forward, with the hooks when there are any: what a call runs, and what compile() compiles."""
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or self._backward_pre_hooks
                or global_hooks):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args, kwargs):
        """forward between the pre-hooks (which may replace the arguments) and the hooks (which may replace the
        output), as torch.nn.Module.__call__, the global hooks of each kind before the module's own; hooks registered
        with always_call run even when forward raises. With backward hooks, the positional tensor arguments (after
        the pre-hooks) and the output tensors (after the hooks) pass through the identity nodes of a BackwardHook."""
        for hook in global_of(FORWARD_PRE) + self._forward_pre_hooks:
            if hook.with_kwargs:
                result = hook.fn(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                                           f"but got {result!r}.")
                    args, kwargs = result
            else:
                result = hook.fn(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        backward = global_of(BACKWARD) + self._backward_hooks
        backward_pre = global_of(BACKWARD_PRE) + self._backward_pre_hooks
        tracker = None
        if backward or backward_pre:
            tracker = BackwardHook(self, [h.fn for h in backward], [h.fn for h in backward_pre])
            args = tracker.setup_input_hook(args)
        hooks = global_of(FORWARD) + self._forward_hooks
        try:
            output = self.forward(*args, **kwargs)
        except Exception:
            for hook in hooks:
                if hook.always_call:
                    hook.fn(*((self, args, kwargs, None) if hook.with_kwargs else (self, args, None)))
            raise
        for hook in hooks:
            result = hook.fn(self, args, kwargs, output) if hook.with_kwargs else hook.fn(self, args, output)
            if result is not None:
                output = result
        if tracker is not None:
            output = tracker.setup_output_hook(output)
        return output

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """hook(module, args) runs before each forward; a non-None result replaces args (a non-tuple becomes a
        one-tuple). With with_kwargs, hook(module, args, kwargs) returns None or (args, kwargs). Returns a handle
        whose remove() unregisters it."""
        return add_hook(self._forward_pre_hooks, _Hook(hook, bool(with_kwargs)), prepend)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """hook(module, args, output) runs after each forward; a non-None result replaces the output. With
        with_kwargs, hook(module, args, kwargs, output); with always_call, it also runs (with output None) when
        forward raises. Returns a handle whose remove() unregisters it."""
        return add_hook(self._forward_hooks, _Hook(hook, bool(with_kwargs), bool(always_call)), prepend)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """hook(module, grad_output) runs in backward once the gradients w.r.t. the module's outputs are computed
        (grad_output: a tuple, one entry per output, None for an output that is not a tensor or got no gradient); a
        non-None result (a tuple of the same length) replaces them before they flow into the module. Returns a
        handle whose remove() unregisters it."""
        return add_hook(self._backward_pre_hooks, _Hook(hook), prepend)

    def register_full_backward_hook(self, hook, prepend=False):
        """hook(module, grad_input, grad_output) runs in backward once the gradients w.r.t. the module's positional
        inputs are computed (grad_input: one entry per positional argument, None for a non-tensor; grad_output as
        register_full_backward_pre_hook's); a non-None result (a tuple of the same length) replaces grad_input. When
        no input requires grad it runs at the outputs with grad_input all None (and a warning); when no output
        requires grad it does not run. The inputs and outputs pass through identity nodes, so modifying them in
        place raises, as in PyTorch. Returns a handle whose remove() unregisters it."""
        return add_hook(self._backward_hooks, _Hook(hook), prepend)

    def register_backward_hook(self, hook):
        """PyTorch's deprecated non-full backward hook (whose gradients are those of the last op inside the module) is
        not provided: raises NotImplementedError; register_full_backward_hook is the supported form."""
        raise NotImplementedError("register_backward_hook (the deprecated non-full form) is not supported; use "
                                  "register_full_backward_hook")

    # ---- registration ----------------------------------------------------------------------------------
    def __setattr__(self, name, value):
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError("cannot assign attributes before Module.__init__() is called")
        if isinstance(value, Parameter):
            self._forget(name, keep=self._parameters)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        elif isinstance(value, Buffer) and name not in self._parameters:
            self.register_buffer(name, value, value.persistent)
        elif name in self._parameters:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter '{name}' (Parameter or None expected)")
            self._parameters[name] = None
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer '{name}' (Tensor or None expected)")
            self._buffers[name] = value
        elif name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module '{name}' (Module or None expected)")
            self._modules[name] = None
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name, keep=None):
        """Drops `name` from the attributes and the tables other than `keep`: a name registered again in its own table
        keeps its place there, as in PyTorch (tying a decoder's weight to an embedding leaves the state_dict's and
        parameters()' order as it was)."""
        self.__dict__.pop(name, None)
        for table in (self._parameters, self._buffers, self._modules):
            if table is not keep:
                table.pop(name, None)

    def __getattr__(self, name):
        d = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            if table in d and name in d[table]:
                return d[table][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        if name in self._parameters or name in self._buffers or name in self._modules:
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Registers `param` (a Parameter, or None for a declared but absent one) under `name`."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot register {type(param).__name__} as parameter '{name}' (Parameter or None expected)")
        self._forget(name, keep=self._parameters)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Registers a tensor that is state but not a parameter (running statistics, masks) under `name`; it moves
        with the module and is saved in state_dict unless persistent=False."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot register {type(tensor).__name__} as buffer '{name}' (Tensor or None expected)")
        self._forget(name, keep=self._buffers)
        self._buffers[name] = tensor.plain() if isinstance(tensor, Buffer) else tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        """Registers a child module (or None) under `name`; register_module is the same method."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module")
        self._forget(name, keep=self._modules)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        """The module at the dotted path `target` ("" is this module), as PyTorch's; AttributeError naming the part
        that is missing or is not a module."""
        module = self
        for item in target.split(".") if target else ():
            if not hasattr(module, item):
                raise AttributeError(f"{type(module).__name__} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return module

    def set_submodule(self, target, module, strict=False):
        """Puts `module` at the dotted path `target` (its parent must exist; with strict, the name too), as PyTorch's."""
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        if not target:
            raise ValueError("Cannot set the submodule without a target name!")
        path, _, name = target.rpartition(".")
        parent = self.get_submodule(path)
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{type(parent).__name__} has no attribute `{name}`")
        setattr(parent, name, module)

    def get_parameter(self, target):
        """The parameter at the dotted path `target` ("2.0.weight"), as PyTorch's."""
        return self._get_member(target, "parameter")

    def get_buffer(self, target):
        """The buffer at the dotted path `target` ("bn.running_mean"), as PyTorch's."""
        return self._get_member(target, "buffer")

    def _get_member(self, target, kind):
        """get_parameter's and get_buffer's lookup: the attribute at the dotted path `target`, which must be of
        `kind` ("parameter" or "buffer"); PyTorch's AttributeErrors otherwise."""
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if not hasattr(module, name):
            raise AttributeError(f"{type(module).__name__} has no attribute `{name}`")
        value = getattr(module, name)
        if kind == "parameter" and not isinstance(value, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        if kind == "buffer" and name not in module._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return value

    # ---- traversal ---------------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Yields (name, module) for this module and every descendant, depth first, each module once (this one's
        name is `prefix`; with remove_duplicate=False, a module shared by two parents is yielded under each)."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self):
        """Yields this module and every descendant, each once."""
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """Yields (name, child) for the direct children, each once."""
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        """Yields the direct children, each once."""
        for _, child in self.named_children():
            yield child

    def _named_members(self, table, prefix, recurse, remove_duplicate=True):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, table).items():
                if value is None or id(value) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """Yields (dotted name, parameter) for the parameters of this module and, with recurse, its descendants; a
        shared parameter is yielded once (under each of its names with remove_duplicate=False)."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Yields the parameters of this module and, with recurse, its descendants (each once): what an optimizer is
        given."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """Yields (dotted name, buffer) for the buffers of this module and, with recurse, its descendants."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        """Yields the buffers of this module and, with recurse, its descendants."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn):
        """Calls fn on every child's tree, then on this module (post-order, as PyTorch); returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---- modes and devices -------------------------------------------------------------------------
    def train(self, mode=True):
        """Sets training mode (mode=True) or evaluation mode on this module and every descendant; returns self.
        Dropout and batch norm read it."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        """train(False): evaluation mode for this module and every descendant; returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Sets requires_grad of every parameter (to freeze or unfreeze them); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clears the gradients of every parameter: sets them to None (set_to_none=True, the default) or to zeros."""
        zero_grads(self.parameters(), set_to_none)

    def to(self, *args, device=None, dtype=None, non_blocking=False, memory_format=None):
        """to(device), to(dtype), to(device, dtype), to(tensor), with keywords too. Moves parameters and buffers
        in place (the same Parameter objects, so optimizers stay valid). Every float dtype name means float16,
        so a float dtype changes nothing; integer dtypes are refused, as PyTorch refuses them. memory_format
        (to(memory_format=tl.channels_last)) leaves the data row-major: see tensorlogic.memory_formats."""
        check_memory_format(memory_format, "Module.to")
        for arg in args:
            if isinstance(arg, Tensor):
                device = arg.device
            elif _looks_like_dtype(arg):
                dtype = arg
            else:
                device = arg
        if dtype is not None and not as_dtype(dtype).is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype!r}")
        if device is None:
            return self
        name = device_name(device)
        for t in list(self.parameters()) + list(self.buffers()):
            if t._a.device != name:
                t._a = _core.to_device(t._a, name)
                if t.grad is not None:
                    t.grad._a = _core.to_device(t.grad._a, name)
        return self

    def half(self):
        """Parameters are already float16: returns the module unchanged (so are float(), double(), bfloat16())."""
        return self

    float = half
    double = half
    bfloat16 = half

    def type(self, dst_type):
        """Accepts any float dtype (all float16 here) and returns the module unchanged."""
        return self.to(dtype=dst_type)

    def cuda(self, device=None):
        """to() a CUDA device: `device` is an index, a device or None (the current CUDA device); returns self."""
        return self.to("cuda" if device is None else f"cuda:{device}" if isinstance(device, int) else device)

    def cpu(self):
        """to('cpu'): parameters and buffers move in place; returns self."""
        return self.to("cpu")

    def share_memory(self):
        """Moves parameters, buffers and any gradients into shared memory in place (Tensor.share_memory_), so
        processes of tensorlogic.multiprocessing that receive this module work on the same weights; returns self."""
        for t in list(self.parameters()) + list(self.buffers()):
            t.share_memory_()
            if t.grad is not None:
                t.grad.share_memory_()
        return self

    def to_empty(self, *, device, recurse=True):
        """Gives every parameter, buffer and gradient (only this module's own with recurse=False) fresh,
        uninitialised memory of its shape and dtype on `device`, in place (the same objects), as PyTorch's: for a
        model whose weights a load_state_dict or an init then fills. Returns self."""
        name = device_name(device)
        for t in list(self.parameters(recurse)) + list(self.buffers(recurse)):
            for tensor in (t, t.grad) if t.grad is not None else (t,):
                tensor._a = _core.empty(list(tensor.shape), tensor.dtype.name, name)
        return self

    # ---- state dicts -------------------------------------------------------------------------------
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """This module's parameters and persistent buffers, then each child's (PyTorch's order and keys). Each
        module's state-dict pre-hooks run first, hook(module, prefix, keep_vars), as PyTorch's."""
        out = OrderedDict() if destination is None else destination
        for hook in list(self.__dict__.get(_STATE_DICT_PRE_HOOKS, ())):
            hook.fn(self, prefix, keep_vars)
        self._own_state(out, prefix, keep_vars)
        for name, child in self._modules.items():
            if child is not None:
                child.state_dict(out, prefix + name + ".", keep_vars)
        return out

    def _own_state(self, out, prefix, keep_vars):
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                out[prefix + name] = b if keep_vars else b.detach()

    def register_state_dict_pre_hook(self, hook):
        """hook(module, prefix, keep_vars) runs at the start of each state_dict() that reaches this module (also
        as a child, with its key prefix). Returns a handle whose remove() unregisters it."""
        return add_hook(self.__dict__.setdefault(_STATE_DICT_PRE_HOOKS, []), _Hook(hook))

    def register_load_state_dict_post_hook(self, hook):
        """hook(module, incompatible_keys) runs after each load_state_dict() that reaches this module, children's
        before their parent's; it must return None and may edit incompatible_keys' missing_keys and unexpected_keys
        in place, before strict=True judges them (so the load then happens before that check, as PyTorch's).
        Returns a handle whose remove() unregisters it."""
        return add_hook(self.__dict__.setdefault(_LOAD_STATE_DICT_POST_HOOKS, []), _Hook(hook))

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copies values into the existing parameters and buffers; typed errors name every bad key. A lazy module
        that has not run yet (nn/lazy.py) first makes its parameters in the checkpoint's shapes. With assign=True
        the checkpoint's tensors themselves take the places (a parameter's keeps its requires_grad), as PyTorch's.
        Checked before anything is written, unless load post-hooks are registered (see
        register_load_state_dict_post_hook)."""
        if not isinstance(state_dict, collections.abc.Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
        for name, module in self.named_modules():
            lazy_load = getattr(module, "_lazy_load", None)
            if lazy_load is not None:
                lazy_load(state_dict, name + "." if name else "")
        own = OrderedDict()  # what the load fills, read without the state-dict hooks, as PyTorch's load
        for path, module in self.named_modules(remove_duplicate=False):
            module._own_state(own, path + "." if path else "", True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        keys = IncompatibleKeys(missing, unexpected)
        post_hooks = [(m, h) for m in _post_order(self) for h in m.__dict__.get(_LOAD_STATE_DICT_POST_HOOKS, ())]
        if strict and not post_hooks:
            self._refuse_incompatible(keys)
        pending = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            value = value if isinstance(value, Tensor) else tensor(value, device=target.device)
            if tuple(value.shape) != tuple(target.shape):
                raise ShapeMismatchError(f"load_state_dict for {type(self).__name__}: size mismatch for {key}: the "
                                         f"checkpoint has shape {tuple(value.shape)}, the model has {tuple(target.shape)}")
            pending.append((key, target, value))
        self._write_state(pending, assign)
        for module, hook in post_hooks:
            if hook.fn(module, keys) is not None:  # PyTorch's AssertionError and message
                raise AssertionError("Hooks registered with ``register_load_state_dict_post_hook`` are not expected "
                                     "to return new values, if incompatible_keys need to be modified, it should be "
                                     "done inplace.")
        if strict:
            self._refuse_incompatible(keys)
        return keys

    def _refuse_incompatible(self, keys):
        missing, unexpected = keys
        if missing or unexpected:
            parts = []
            if missing:
                parts.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing))
            if unexpected:
                parts.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected))
            raise StateDictError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(parts))

    def _write_state(self, pending, assign):
        """Writes (key, target, value) entries, every one checked before the first is written: the values
        themselves with assign, else copies."""
        if assign:
            for key, target, value in pending:
                path, _, name = key.rpartition(".")
                module = self.get_submodule(path)
                if name in module._parameters and not isinstance(value, Parameter):
                    value = Parameter(value, requires_grad=target.requires_grad)
                (module._parameters if name in module._parameters else module._buffers)[name] = value
            return
        with no_grad():
            for _, target, value in pending:
                src = value._a if value._a.device == target._a.device else _core.to_device(value._a, target._a.device)
                _core.copy_(target._a, src)
                target._version += 1

    # ---- printing ----------------------------------------------------------------------------------
    def extra_repr(self):
        """The text inside the parentheses of this module's repr (its settings); subclasses override it."""
        return ""

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, child in self._modules.items():
            text = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {text}")
        if not self._modules:
            return f"{type(self).__name__}({extra})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))
