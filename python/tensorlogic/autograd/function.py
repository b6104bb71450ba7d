"""Function: an op with its forward and backward side by side; applying one records a graph Node.

A Node is the `ctx` of one application: it keeps the Function class, one edge per positional argument
(the producing Node, the leaf Tensor itself, or None), the tensors saved for backward with their
in-place versions, and the hooks of the output. A Function has one differentiable output (extra outputs,
such as argmax indices, carry no gradient) unless it sets `multi_output` (split, chunk, unbind): then every
output is differentiable and gets a small Node of its own (an _Output), so that each value still has one
grad_fn for hooks, retain_grad, in-place ops and tl.compile, while the engine gathers the outputs' gradients
and calls the Function's backward once with all of them."""

import functools
import inspect
import re
import weakref

import numpy as np

from .. import _core
from ..creation import zeros
from ..tensor import Tensor
from .grad_mode import _grad, grad_enabled, is_grad_enabled, mode, no_grad


def _check_marked(tensors):
    for t in tensors:
        if not isinstance(t, Tensor):
            raise RuntimeError(f"mark_non_differentiable only accepts tensors, but got {type(t).__name__}")


class _NullContext:
    """The ctx of an application that records nothing (grad mode off or no input requires grad)."""

    __slots__ = ()
    needs_input_grad = ()

    def save_for_backward(self, *tensors):
        pass

    def mark_non_differentiable(self, *tensors):
        _check_marked(tensors)

    def set_materialize_grads(self, value):
        pass

    def __setattr__(self, name, value):
        pass


_NULL = _NullContext()


class Node:
    """One recorded application of a Function (also its ctx): the unit of the backward graph."""

    # "op": the ctx field of every OpFamily (a slot spares the per-node __dict__ most nodes would need for it).
    # pre_hooks, retained: class defaults, set on the few nodes that have them (they land in __dict__). _out: a
    # weak reference to the output, set only where the output is among the saved tensors (saved_tensors reads
    # its version through it). _non_differentiable: set only by mark_non_differentiable (Function.apply reads it).
    __slots__ = ("fn", "next", "needs_input_grad", "input_shapes", "_saved", "_out", "op", "_non_differentiable",
                 "__dict__")
    pre_hooks = None
    retained = None
    materialize_grads = True  # a user's multi-output Function: zeros for outputs no gradient reached

    def __init__(self, fn):
        self.fn = fn
        self._saved = ()

    @property
    def name(self):
        """The op's name in messages: a Function serving a family of ops defines name(ctx)."""
        namer = getattr(self.fn, "name", None)
        return namer(self) if namer is not None else self.fn.__name__

    @property
    def class_name(self):
        """The node's name as PyTorch names the class of a grad_fn: MulBackward0 for the library's op mul
        (PyTorch numbers the overloads of an op; here every op is its overload 0), ScaledBackward for a user's
        Function Scaled, whose every output names the Function's node."""
        node = self.parent if self.fn is _Output else self
        if _is_users(node.fn):
            return f"{node.fn.__name__}Backward"
        return "".join(part[:1].upper() + part[1:] for part in node_op_name(node).split("_")) + "Backward0"

    def __repr__(self):
        return f"<{self.class_name}>"

    def __reduce_ex__(self, protocol):
        """A node is not pickled or copied (copy.copy and copy.deepcopy too), as in PyTorch: one restored without
        its graph and saved tensors would fail at every use."""
        raise TypeError(f"cannot pickle '{self.name}Backward' object: the autograd graph is not pickled (a tensor "
                        "pickles as a leaf without it)")

    # ---- saved tensors ---------------------------------------------------------------------------
    def save_for_backward(self, *tensors):
        """Saves tensors for backward (read back as ctx.saved_tensors); an in-place change to one of them before
        backward is detected and raises, as in PyTorch. Called after forward (from backward), it is ignored, as in
        PyTorch: what forward saved is what saved_tensors reads."""
        if self._saved.__class__ is tuple:  # in forward: resolved into a list of entries once forward returns
            self._saved = tensors

    def set_materialize_grads(self, value):
        """As PyTorch's ctx.set_materialize_grads: False gives a user's Function's backward None, not zeros, for the
        outputs no gradient reached."""
        self.materialize_grads = bool(value)

    def mark_non_differentiable(self, *tensors):
        """Marks outputs of forward (tensors only, as PyTorch checks) that carry no gradient: such an output does not
        require grad, and a multi_output Function's backward gets None for it, as in PyTorch."""
        _check_marked(tensors)
        self._non_differentiable = tensors

    # saved_tensors: the tensors given to save_for_backward, as a tuple; RuntimeError after the graph was freed
    # (backward without retain_graph) or when one was modified in place since. Native (bind_autograd.cpp: read
    # by most backward formulas); the entries are (tensor, version, False), or for the output (its array, version,
    # True), which comes back as a tensor attached to this node so create_graph sees its dependence on the inputs.
    saved_tensors = property(_core.saved_tensors, doc="The tensors given to save_for_backward, as a tuple.")


def _is_users(cls):
    return not cls.__module__.startswith("tensorlogic.")


def op_name(cls):
    """A Function class's op name when it serves one op: the library's by op (_ActivationBackward ->
    activation_backward), a user's by its class name as PyTorch's profiler shows it (Scaled, then
    ScaledBackward)."""
    if _is_users(cls):
        return cls.__name__
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", cls.__name__.lstrip("_")).lower()


def node_op_name(node):
    """The op a node records, as the profiler names it: a family's op (mul), else its Function's op_name."""
    return node.name if getattr(node.fn, "name", None) is not None else op_name(node.fn)


def _saved_error(node, t, current, version):
    """saved_tensors' message: the graph freed (t None), or t modified in place since it was saved."""
    if t is None:
        return (f"{node.name}: trying to backward through the graph a second time (or to read saved tensors after "
                "they were freed); pass retain_graph=True to the first backward() to keep them")
    return (f"{node.name}: one of the tensors saved for its backward (shape {tuple(t.shape)}) was modified by an "
            f"in-place operation: it is at version {current}, it was at version {version} when saved. "
            "Clone it before the in-place op, or avoid modifying it")


def _edge(t):
    return t.grad_fn if t.grad_fn is not None else t


class Function:
    """Subclass with `forward(ctx, *args)` (computes with native calls under no_grad) and
    `backward(ctx, grad)` returning one gradient (or None) per positional argument of forward (fewer, or more that
    are not None, raise RuntimeError at backward, as in PyTorch),
    written with differentiable tensor ops. With `multi_output = True`, forward returns a tuple of float16
    tensors, all differentiable, and backward is `backward(ctx, *grads)`: one gradient per output, None for
    an output no gradient reached (as torch.autograd.Function with several outputs)."""

    multi_output = False
    # Optional: backward_into(ctx, grad, acc) adds the gradient of the first input into `acc`, that input's gradient
    # summed so far, in place (the engine calls it only where nothing else can see acc, and not with create_graph).
    # It returns False where it could not (nothing written), True where that was all, or the gradients of all
    # inputs as backward would, None first. A slice's backward does so (t[:, i] over the time steps would each make
    # zeros of t's whole shape), and layer_norm's (a residual stream's two gradients summed in its own pass).
    backward_into = None
    # True where forward only calls native functions (no tensor op that could record a node of its own): recording
    # then skips turning grad mode off around it (a context-variable set and reset, ~0.2 us per recorded op).
    native_forward = False
    # True where forward returns its tensor arguments themselves (an identity, such as the nodes of module backward
    # hooks): the outputs share the inputs' memory, so an in-place op on one would change an input behind autograd's
    # back; autograd.inplace refuses it, as PyTorch refuses in-place ops on the views a custom Function returns.
    returns_inputs = False
    # Whether backward must return one gradient per positional argument of forward (extra ones None), which PyTorch
    # checks of every Function (its RuntimeError, "incorrect number of gradients", from the engine): a user's, that
    # is, one defined outside tensorlogic. The library's own formulas leave out trailing arguments that never take a
    # gradient (sum's dims and keepdim), so the rule applies to classes by the module that defines them.
    strict_gradient_count = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.strict_gradient_count = not cls.__module__.startswith("tensorlogic.")
        if cls.strict_gradient_count and "apply" not in vars(cls):
            cls.apply = classmethod(_user_apply)  # the library's own classes keep the native apply

    @staticmethod
    def forward(ctx, *args, **kwargs):
        """Computes the outputs from the inputs (ctx first, then forward's arguments); runs without recording."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        """Given the gradient of the output, returns one gradient (or None) per positional argument of forward,
        written with tensor ops (so it can be differentiated again)."""
        raise NotImplementedError

    @staticmethod
    def setup_context(ctx, inputs, output):
        """PyTorch's other form: a class that defines setup_context has a forward without ctx, and apply calls
        setup_context(ctx, inputs, output) after it (inputs: forward's arguments, defaults filled in)."""
        raise NotImplementedError("setup_context is not implemented.")

    # apply(*args, **kwargs): runs forward on the arguments and, when an input requires grad and grad mode is on,
    # records a node whose backward is this class's: how a custom op is called (MyFn.apply(x, ...)), as
    # torch.autograd.Function.apply. Native (python/src/bind_autograd.cpp), being every op's entry: the ~1.3 us
    # per recorded op it cost in Python was most of recording's overhead. It records one Node (this class in
    # `fn`; per positional argument an edge in `next` -- the producing Node, the leaf Tensor or None --,
    # `needs_input_grad` and `input_shapes`), calls forward with the Node as ctx (with grad mode off unless
    # `native_forward`; through _checked_forward in anomaly mode), appends (node, args, kwargs, out) to
    # `mode.trace` while tracing, attaches the node to the first output (or an _output_node to each output of a
    # multi_output Function) unless that output is not float16, and turns what forward saved into
    # (tensor, version, False) entries, the output itself as (its array, version, True) with a weak
    # reference in `_out` (a Tensor would make a cycle through the node). A user's subclass gets _user_apply in
    # front of it (keywords bound to forward's parameters; the setup_context form; several outputs), as PyTorch 2's.
    apply = classmethod(_core.function_apply)


@functools.cache
def _signature(forward):
    return inspect.signature(forward)


def _bind(cls, leading, args, kwargs):
    """The arguments bound to cls.forward's parameters, as PyTorch's apply binds them: a keyword that names a
    positional parameter becomes positional (an input with an edge and a gradient slot); keyword-only ones stay."""
    try:
        bound = _signature(cls.forward).bind(*leading, *args, **kwargs)
    except TypeError as error:
        raise TypeError(f"{cls.__name__}.forward(): {error}") from None
    return bound


def _function_apply(cls, *args, **kwargs):
    """Function.apply as it is now (the profiler and tl.compile's recorder swap it while they run)."""
    return vars(Function)["apply"].__func__(cls, *args, **kwargs)


def _user_apply(cls, *args, **kwargs):
    """Function.apply of a Function defined outside tensorlogic, as PyTorch 2's: keyword arguments are bound to
    forward's parameters, a class defining setup_context runs forward(*args) then setup_context(ctx, inputs, output),
    and forward may return several outputs. Then Function.apply records it (as _recorded_form(cls))."""
    if cls.setup_context is not Function.setup_context:
        bound = _bind(cls, (), args, kwargs)
        bound.apply_defaults()  # as PyTorch's: setup_context's inputs hold every argument
        args, kwargs = bound.args, bound.kwargs
    elif kwargs:
        bound = _bind(cls, (None,), args, kwargs)  # None stands for ctx
        args, kwargs = bound.args[1:], bound.kwargs
    return _function_apply(_recorded_form(cls), *args, **kwargs)


def _several_outputs(output):
    """Whether a user's forward returned several outputs: then its backward takes one gradient per output, as
    PyTorch's (None for an output that is not a tensor; integer tensors carry no gradient)."""
    return type(output) is tuple and len(output) > 1


def _recorded_form(cls):
    """cls as the native apply records it, a subclass made once per class under cls's name and module (its nodes
    read as cls's; its apply takes the bound arguments as they are, as tl.compile replays a node's class):
    - forward takes ctx: the user's forward, then setup_context where cls defines it;
    - forward returning a tuple of several outputs makes one output node for each float tensor among them
      (multi_output, which the native apply reads once forward has returned: a class's forward returns one kind of
      result), and backward then gets one gradient per output, zeros of the output's shape and dtype for the tensors
      no gradient reached (integer ones among them; None after ctx.set_materialize_grads(False)) and None for the
      outputs that are not tensors, as PyTorch's."""
    form = vars(cls).get("_recorded")
    if form is None:
        forward, backward, setup_context = cls.forward, cls.backward, cls.setup_context
        separate_setup = setup_context is not Function.setup_context

        def recorded_forward(ctx, *args, **kwargs):
            output = forward(*args, **kwargs) if separate_setup else forward(ctx, *args, **kwargs)
            if separate_setup:
                setup_context(ctx, args, output)
            form.multi_output = cls.multi_output or _several_outputs(output)  # (set on cls: TensorLogic's flag)
            if form.multi_output and isinstance(output, (tuple, list)):
                ctx.output_specs = [(tuple(t.shape), t.dtype, t.device) if isinstance(t, Tensor) else None
                                    for t in output]
            return output

        def recorded_backward(ctx, *grads):
            if ctx.materialize_grads and getattr(ctx, "output_specs", None):
                grads = tuple(zeros(spec[0], dtype=spec[1], device=spec[2]) if g is None and spec else g
                              for g, spec in zip(grads, ctx.output_specs))
            return backward(ctx, *grads)

        form = type(cls.__name__, (cls,), {"forward": staticmethod(recorded_forward),
                                           "backward": staticmethod(recorded_backward), "__module__": cls.__module__,
                                           "__qualname__": cls.__qualname__,
                                           "apply": classmethod(_function_apply)})
        cls._recorded = form
    return form


def once_differentiable(backward):
    """torch.autograd.function.once_differentiable: backward runs without recording, and where its gradients would
    need a graph (create_graph with an input gradient that requires grad), differentiating them again raises
    PyTorch's RuntimeError instead of giving a wrong derivative."""
    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        with no_grad():
            outputs = backward(ctx, *grads)
        requiring = [g for g in grads if isinstance(g, Tensor) and g.requires_grad]
        if not (requiring and is_grad_enabled()):
            return outputs
        single = not isinstance(outputs, tuple)
        marked = tuple(differentiated_once(o, *requiring) for o in ((outputs,) if single else outputs))
        return marked[0] if single else marked

    return wrapper


def differentiated_once(gradient, *sources):
    """gradient (a backward's result computed without recording) tied to the tensors it depends on, so that
    differentiating it again raises once_differentiable's RuntimeError instead of giving a wrong (zero) derivative;
    what is not a float tensor is returned as it is."""
    if not (isinstance(gradient, Tensor) and gradient.is_floating_point()):
        return gradient
    return _Twice.apply(gradient, *sources)


class _Twice(Function):
    """The identity on a once_differentiable backward's result, tied to the gradients it came from; its own
    backward raises."""

    @staticmethod
    def forward(ctx, out, *grads):
        return out.view_as(out)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("trying to differentiate twice a function that was marked with @once_differentiable")


_NOT_SAVED = (None, 0, False)


class _Output(Function):
    """The node of output `index` of a multi_output Function's node `parent`. The engine does not call a
    backward here: it puts the gradient into the parent's slot `index` (run_backward in engine.py)."""

    @staticmethod
    def name(ctx):
        return ctx.parent.name


def _output_node(parent, index):
    node = Node(_Output)
    node.next, node.needs_input_grad, node.input_shapes = [parent], (True,), [None]
    node.parent, node.index = parent, index
    return node


class OpFamily(Function):
    """A Function serving a family of native ops: forward stores the op's enum value in ctx.op, whose
    name names the node (in graphs, anomaly messages and the profiler)."""

    @staticmethod
    def name(ctx):
        return ctx.op.name

def _has_nonfinite(t):
    return isinstance(t, Tensor) and t._a.dtype == "float16" and not np.isfinite(t.numpy()).all()


def _checked_forward(cls, ctx, args, kwargs):
    if ctx is _NULL:
        ctx = Node(cls)  # a throwaway node, so that a Function serving a family can name the op
    out = cls.forward(ctx, *args, **kwargs)
    results = out if isinstance(out, tuple) else (out,)
    if any(_has_nonfinite(r) for r in results) and not any(_has_nonfinite(a) for a in args):
        namer = getattr(cls, "name", None)
        name = namer(ctx) if namer is not None else cls.__name__
        raise RuntimeError(f"detect_anomaly: {name} produced inf or NaN in forward from finite inputs")
    return out


def records(*args):
    """Whether an op on these arguments is recorded (grad mode on and some tensor among them requires grad)."""
    if not grad_enabled():
        return False
    for a in args:
        if isinstance(a, Tensor) and a.requires_grad:
            return True
    return False


def take_history(t, requires_grad, grad_fn):
    """t, whose memory now holds the value of a tensor with this history, takes it over (in-place ops: inplace.py)."""
    previous = t.grad_fn
    t.requires_grad, t.grad_fn = requires_grad, grad_fn
    if t._retains_grad and previous is not None and previous.retained is not None and previous.retained() is t:
        # torch's retained gradient follows the tensor: .grad is the gradient of its latest version
        previous.retained = None
        if grad_fn is not None:
            grad_fn.retained = weakref.ref(t)


_core.configure_autograd(Node, _NULL, mode, _grad, _checked_forward, _output_node, _NOT_SAVED, _saved_error)
