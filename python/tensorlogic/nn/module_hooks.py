"""Module hooks: the entry Module keeps for each registered hook, the list of the hooks every module runs (which
tl.nn.modules.module's register_module_* functions fill), and the machinery of full backward hooks, after
torch.utils.hooks.BackwardHook: a module's positional tensor inputs and its output tensors each pass
through an identity Function. In backward the outputs' node runs first, with the gradients w.r.t. the outputs
(which the backward pre-hooks may replace), and the inputs' node last, once the module's own nodes have run, with the
gradients w.r.t. the inputs (which the backward hooks may replace)."""
import warnings

from ..autograd.function import Function
from ..autograd.grad_mode import grad_enabled
from ..autograd.tensor_methods import RemovableHandle
from ..creation import zeros
from ..tensor import Tensor

FORWARD_PRE, FORWARD, BACKWARD_PRE, BACKWARD = "forward_pre", "forward", "backward_pre", "backward"


class _Hook:
    """A registered hook: the callable, how Module.__call__ calls it (with_kwargs, always_call: forward hooks) and,
    for a global hook, which of the four kinds it is. Each registration is its own entry, so a handle removes
    exactly the hook it registered."""
    __slots__ = ("fn", "with_kwargs", "always_call", "kind")

    def __init__(self, fn, with_kwargs=False, always_call=False, kind=None):
        self.fn, self.with_kwargs, self.always_call, self.kind = fn, with_kwargs, always_call, kind


def add_hook(hooks, entry, prepend=False):
    """Registers entry in the list hooks (first with prepend); returns the RemovableHandle that unregisters it."""
    if not callable(entry.fn):
        raise TypeError(f"hook must be callable, got {type(entry.fn).__name__}")
    hooks.insert(0 if prepend else len(hooks), entry)
    return RemovableHandle(hooks, entry)


# The global hooks of every kind in one list, so that Module.__call__'s check for hooks reads one name.
global_hooks = []


def global_of(kind):
    """The global hooks of one kind, in registration order (a new list: hooks registered while a call runs wait for
    the next call)."""
    return [h for h in global_hooks if h.kind == kind] if global_hooks else []


class BackwardHookFunction(Function):
    """The identity through which the hooked tensors of one module call pass (torch's BackwardHookFunction): its
    backward hands the gradients to the call's BackwardHook. Its outputs share their inputs' memory, so an in-place
    op on one raises (autograd.inplace.inplace), as on PyTorch's."""
    multi_output = True
    returns_inputs = True

    @staticmethod
    def forward(ctx, *tensors, hook, of_outputs):
        ctx.hook, ctx.of_outputs = hook, of_outputs
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return ctx.hook.outputs_backward(grads) if ctx.of_outputs else ctx.hook.inputs_backward(grads)


class BackwardHook:
    """One module call's full backward hooks and pre-hooks, and what its two identity nodes share: the gradients
    w.r.t. the outputs, kept from the outputs' node until the inputs' node hands them to the hooks."""

    def __init__(self, module, hooks, pre_hooks):
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.grad_outputs = None
        self.n_inputs = self.n_outputs = 0
        # (position, shape, dtype, device) of each positional tensor input; None when none requires grad, and then
        # the hooks run at the outputs' node. hooked_*: (position, shape) of each tensor through an identity.
        self.inputs, self.hooked_inputs, self.hooked_outputs = None, (), ()

    def setup_input_hook(self, args):
        """args with each positional tensor that requires grad replaced by its identity through the inputs' node."""
        self.n_inputs = len(args)
        args, hooked = self._through(args, of_outputs=False)
        if hooked is not None:
            self.hooked_inputs = hooked
            self.inputs = [(i, tuple(a.shape), a.dtype, a.device) for i, a in enumerate(args) if isinstance(a, Tensor)]
        return args

    def setup_output_hook(self, result):
        """result (a tensor or a tuple) with each tensor that requires grad replaced by its identity through the
        outputs' node; any other result is returned as it is, and then no backward hook runs."""
        if not isinstance(result, (Tensor, tuple)):
            warnings.warn("For backward hooks to be called, module output should be a Tensor or a tuple of Tensors "
                          f"but received {type(result)}", stacklevel=3)
        single = not isinstance(result, tuple)
        values = (result,) if single else result
        self.n_outputs = len(values)
        values, hooked = self._through(values, of_outputs=True)
        if hooked is not None:
            self.hooked_outputs = hooked
        return values[0] if single else values

    def _through(self, values, of_outputs):
        """(values with their tensors that require grad passed through one BackwardHookFunction, the (position, shape)
        of each), or (values, None) where none requires grad or grad mode is off."""
        hooked = [(i, tuple(v.shape)) for i, v in enumerate(values) if isinstance(v, Tensor) and v.requires_grad]
        if not hooked or not grad_enabled():
            return values, None
        through = BackwardHookFunction.apply(*(values[i] for i, _ in hooked), hook=self, of_outputs=of_outputs)
        new = list(values)
        for (i, _), t in zip(hooked, through):
            new[i] = t
        return (tuple(new) if type(values) is tuple else type(values)(*new)), hooked

    # ---- backward -----------------------------------------------------------------------------------------
    def outputs_backward(self, grads):
        """The outputs' node: the gradients w.r.t. the outputs (None where none arrived or for a non-tensor) go
        through the pre-hooks; where no input requires grad, the hooks run here with grad_input all None."""
        grad_outputs = [None] * self.n_outputs
        for (i, _), g in zip(self.hooked_outputs, grads):
            grad_outputs[i] = g
        self.grad_outputs = tuple(grad_outputs)
        for hook in self.pre_hooks:
            result = hook(self.module, self.grad_outputs)
            if result is None:
                continue
            self.grad_outputs = _checked_count(result, len(self.grad_outputs), "Backward pre hook", "grad_output")
        given = self.grad_outputs
        if self.inputs is None:
            warnings.warn("Full backward hook is firing when gradients are computed with respect to module outputs "
                          "since no inputs require gradients. See the documentation of "
                          "Module.register_full_backward_hook for more details.", stacklevel=2)
            grad_inputs = (None,) * self.n_inputs
            for hook in self.hooks:
                result = hook(self.module, grad_inputs, self.grad_outputs)
                if result is not None and not (isinstance(result, tuple) and all(r is None for r in result)):
                    raise RuntimeError("Backward hook for Modules where no input requires gradient should always "
                                       "return None or None for all gradients.")
            self.grad_outputs = None
        return _at(given, self.hooked_outputs, "a backward pre-hook")

    def inputs_backward(self, grads):
        """The inputs' node: the gradients w.r.t. the positional inputs go through the hooks with the gradients
        w.r.t. the outputs. Gradients that did not arrive are zeros there, and a tensor input that does not require
        grad gets zeros of its dtype, as PyTorch's materialised gradients. A gradient that reaches the inputs without
        passing the outputs (a double backward) runs no hook."""
        arrived = {i: g for (i, _), g in zip(self.hooked_inputs, grads)}
        grad_inputs = [None] * self.n_inputs
        for i, shape, dtype, device in self.inputs:
            g = arrived.get(i)
            grad_inputs[i] = g if g is not None else zeros(shape, dtype=dtype, device=device)
        grad_inputs = tuple(grad_inputs)
        if self.grad_outputs is not None:
            for hook in self.hooks:
                result = hook(self.module, grad_inputs, self.grad_outputs)
                if result is not None:
                    grad_inputs = _checked_count(result, len(grad_inputs), "Backward hook", "grad_input")
            self.grad_outputs = None
        return _at(grad_inputs, self.hooked_inputs, "a backward hook")


def _checked_count(result, expected, who, what):
    if not isinstance(result, (tuple, list)):
        raise TypeError(f"{who} must return None or a tuple of {what}, but returned a {type(result).__name__}")
    if len(result) != expected:
        raise RuntimeError(f"{who} returned an invalid number of {what}, got {len(result)}, but expected {expected}")
    return tuple(result)


def _at(values, hooked, who):
    """The gradients of the hooked tensors, each a float16 Tensor of the tensor's shape or None."""
    out = []
    for i, shape in hooked:
        g = values[i]
        if g is not None:
            if not isinstance(g, Tensor):
                raise TypeError(f"expected a Tensor or None as gradient {i}, but {who} returned a {type(g).__name__}")
            if tuple(g.shape) != shape or not g.is_floating_point():
                raise RuntimeError(f"{who} changed gradient {i} from shape {shape} float16 to shape "
                                   f"{tuple(g.shape)} {g.dtype}")
        out.append(g)
    return tuple(out)
