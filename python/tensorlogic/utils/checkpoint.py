"""tl.utils.checkpoint (torch.utils.checkpoint): activation checkpointing, which trades compute for memory.

How it works here. The checkpointed function runs once with autograd recording while a tracer notes the nodes it
creates. Its graph is then cut off its outputs, which hang instead from one node whose edges are where that graph met
the rest: the tensors requiring grad that it took from outside (its arguments, parameters, captured tensors). Once the
function has returned nothing holds its intermediate results, so of the segment only its inputs and outputs stay
alive. In backward that node runs the function again on the same inputs (with the random stream as it was, so that
dropout drops the same elements), back-propagates through the new graph to the cut and hands the gradients on.
The peak memory inside one segment is that of running it without checkpointing; across segments only their inputs
and outputs are kept. Gradients reach parameters and captured tensors, and torch.autograd.grad works through it.
Tensors returned inside objects other than tuples, lists and dicts keep their graph (correct, but not saved)."""
import contextlib
import threading
import warnings

from .. import _core
from ..autograd.alias import Alias
from ..autograd.api import grad as _grad
from ..autograd.function import Function, _Output
from ..autograd.grad_mode import enable_grad, grad_enabled, mode, no_grad
from ..nn.container import Sequential
from ..tensor import Tensor, _wrap
from ._pytree import tree_flatten

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "noop_context_fn"]


class CheckpointError(RuntimeError):
    """The recomputation in backward did not repeat the forward (other shapes or another graph), as
    torch.utils.checkpoint.CheckpointError: the checkpointed function must be deterministic."""


def noop_context_fn():
    """The default context_fn: no context around either the forward or the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


class _Tracer:
    """What mode.trace receives while a checkpointed function runs: the native recorder appends (node, args, kwargs,
    out) for every recorded op. It keeps which nodes the function created and, per edge that leaves them, a tensor
    standing for that edge (the leaf itself, or one on the argument's memory whose grad_fn is the edge). With
    `substitutes` (the recomputation), each leaving edge is instead rewired to the substitute node of the same edge.
    An enclosing checkpoint's tracer sees every entry too, so that a nested segment's nodes count as its own.
    With `names`, it lists the names of the ops recorded (for debug=True's message)."""

    def __init__(self, parent, substitutes=None, names=False):
        self.parent, self.substitutes = parent, substitutes
        self.thread = threading.get_ident()  # mode.trace is the process's: other threads' ops are not the segment's
        # ids of the nodes recorded meanwhile: an id can be reused only by a node made later, which is one of them too
        self.created = set()
        self.names = [] if names else None
        self.boundary, self._edges = [], {}  # stand-ins of the leaving edges, in order first met; id(edge) -> index
        self.unmatched = None  # (recomputation) an op's name whose leaving edge the forward did not have

    def append(self, entry):
        if threading.get_ident() != self.thread:
            return
        node, args = entry[0], entry[1]
        self.created.add(id(node))
        if self.names is not None:
            self.names.append(node.name)
        edges = node.next
        for i, edge in enumerate(edges):
            if edge is None or self.internal(edge):
                continue
            if self.substitutes is not None:
                sub = self.substitutes.get(id(edge))
                if sub is None:
                    self.unmatched = node.name
                else:
                    edges[i] = sub
            elif id(edge) not in self._edges:
                self._edges[id(edge)] = len(self.boundary)
                self.boundary.append(edge if isinstance(edge, Tensor) else _stand_in(args[i], edge))
        if self.parent is not None:
            self.parent.append(entry)

    def internal(self, edge):
        """Whether `edge` (a Node or a leaf Tensor) was created while tracing."""
        if isinstance(edge, Tensor):
            return False
        return id(edge) in self.created or (edge.fn is _Output and id(edge.parent) in self.created)


def _stand_in(t, edge):
    """A tensor on t's memory whose grad_fn is `edge` (t's at the time it was used): t may take another grad_fn
    later, by an in-place op."""
    s = _wrap(t._a)
    s.requires_grad, s.grad_fn = True, edge
    return s


@contextlib.contextmanager
def _tracing(tracer):
    previous = mode.trace
    mode.trace = tracer
    try:
        yield tracer
    finally:
        mode.trace = previous


def _differentiable(outputs, tracer):
    """The distinct tensors among the outputs that the traced function's graph produced."""
    found, seen = [], set()
    for t in tree_flatten(outputs)[0]:
        if (isinstance(t, Tensor) and t.requires_grad and t.grad_fn is not None and id(t) not in seen
                and tracer.internal(t.grad_fn)):
            seen.add(id(t))
            found.append(t)
    return found


class _Segment:
    """What the node of one checkpointed call keeps: the call, the random stream's state before it, the context of
    the recomputation, the stand-ins of the cut edges and the outputs' shapes."""

    __slots__ = ("fn", "args", "kwargs", "rng", "recompute_context", "boundary", "shapes", "check", "ops")


class _Checkpoint(Function):
    """The node of one checkpointed call: its edges are the cut, its outputs the call's differentiable outputs (new
    handles on their arrays); backward recomputes the call and back-propagates through it to the cut."""

    multi_output = True

    @staticmethod
    def name(ctx):
        return "Checkpoint"

    @staticmethod
    def forward(ctx, *boundary, segment, arrays, saved):
        ctx.segment = segment
        ctx.save_for_backward(*saved)  # the arguments: modified in place before backward, they would recompute wrong
        return tuple(_wrap(a) for a in arrays)

    @staticmethod
    def backward(ctx, *grads):
        ctx.saved_tensors  # raises after a backward without retain_graph, or where an argument was modified in place
        s = ctx.segment
        create_graph = grad_enabled()  # the engine turns grad mode on in backward only with create_graph
        with enable_grad():
            # One Alias per cut edge: the recomputed graph is rewired to end at them, so the gradients stop there (the
            # graph beyond the cut is the caller's engine's to run) and, with create_graph, stay functions of the
            # original tensors, through the Alias nodes.
            subs = [Alias.apply(b) for b in s.boundary]
            edges = {id(b if b.grad_fn is None else b.grad_fn): sub.grad_fn for b, sub in zip(s.boundary, subs)}
            tracer = _Tracer(None, edges, names=s.ops is not None)
            current = _core.random_state()
            try:
                if s.rng is not None:
                    _core.set_random_state(*s.rng)
                with s.recompute_context, _tracing(tracer):
                    outputs = s.fn(*s.args, **s.kwargs)
            finally:
                _core.set_random_state(*current)
            again = _differentiable(outputs, tracer)
            _check_recomputed(s, tracer, again)
            roots = [t for t, g in zip(again, grads) if g is not None]
            if not roots:
                return (None,) * len(subs)
            return _grad(roots, subs, [g for g in grads if g is not None], create_graph=create_graph,
                         allow_unused=True)


def _check_recomputed(segment, tracer, again):
    shapes = [tuple(t.shape) for t in again]
    problem = None
    if tracer.unmatched is not None:
        problem = (f"its op {tracer.unmatched} used a tensor requiring grad that the forward's graph did not reach "
                   "(the function must be deterministic)")
    elif segment.check and shapes != segment.shapes:
        problem = (f"the forward returned {len(segment.shapes)} differentiable tensors of shapes {segment.shapes}, "
                   f"the recomputation {len(shapes)} of shapes {shapes}")
    elif len(shapes) != len(segment.shapes):
        problem = f"the forward returned {len(segment.shapes)} differentiable tensors, the recomputation {len(shapes)}"
    if problem is None:
        return
    message = f"torch.utils.checkpoint: Recomputed values differ from the forward pass: {problem}."
    if segment.ops is not None:
        message += f"\nOps recorded in the forward: {segment.ops}\nOps recorded in the recomputation: {tracer.names}"
    else:
        message += " Pass debug=True to checkpoint for the ops recorded in each run."
    raise CheckpointError(message)


def _tensors_of(args, kwargs):
    return [t for t in tree_flatten((args, kwargs))[0] if isinstance(t, Tensor)]


def _run(function, args, kwargs, preserve_rng_state, context_fn, determinism_check, debug):
    """The non-reentrant checkpoint of function(*args, **kwargs) (see the module docstring)."""
    if not grad_enabled() or (mode.trace is not None and not isinstance(mode.trace, _Tracer)):
        # Nothing will run backward, or tl.compile / tl.coreml is tracing: the ops are recorded as they are.
        return function(*args, **kwargs)
    contexts = context_fn()
    if not (isinstance(contexts, tuple) and len(contexts) == 2):
        raise TypeError(f"checkpoint: context_fn must return two context managers (forward, recomputation), got "
                        f"{type(contexts).__name__}")
    forward_context, recompute_context = contexts
    rng = _core.random_state() if preserve_rng_state else None
    tracer = _Tracer(mode.trace, names=bool(debug))
    with forward_context, _tracing(tracer):
        outputs = function(*args, **kwargs)
    found = _differentiable(outputs, tracer)
    if not found:
        return outputs
    s = _Segment()
    s.fn, s.args, s.kwargs, s.rng, s.recompute_context = function, args, kwargs, rng, recompute_context
    s.boundary, s.shapes = tracer.boundary, [tuple(t.shape) for t in found]
    s.check = determinism_check == "default"
    s.ops = tracer.names
    handles = _Checkpoint.apply(*tracer.boundary, segment=s, arrays=[t._a for t in found],
                                saved=_tensors_of(args, kwargs))
    for t, h in zip(found, handles):  # the outputs keep their identity; their history is now the checkpoint node
        t.grad_fn = h.grad_fn
    return outputs


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn, determinism_check="default",
               debug=False, early_stop=True, **kwargs):
    """function(*args, **kwargs) without keeping its intermediate results for backward: backward runs it again (see
    the module docstring), as torch.utils.checkpoint.checkpoint.

    preserve_rng_state (a keyword, default True) restores the random stream for the recomputation, so dropout
    replays the same mask (and leaves the stream where it was afterwards). use_reentrant should be passed, as PyTorch
    asks (without it: PyTorch's warning, and True). Both variants give the same gradients here; True keeps PyTorch's
    rules for that variant (no keyword arguments; when no argument requires grad, PyTorch's warning and outputs that
    do not require grad), but also works with tl.autograd.grad, where PyTorch's refuses. context_fn returns the
    context managers of the forward and of the recomputation. determinism_check "default" compares the shapes of the
    recomputed outputs with the forward's (a CheckpointError when they differ), "none" does not; debug=True adds the
    ops recorded in each run to that error. early_stop changes nothing here (the recomputation always runs the whole
    function). Under no_grad, or while tl.compile traces, the function simply runs."""
    preserve = kwargs.pop("preserve_rng_state", True)
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in "
                      "PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception. "
                      "use_reentrant=False is recommended, but if you need to preserve the current default behavior, "
                      "you can pass use_reentrant=True. Refer to docs for more details on the differences between the "
                      "two variants.", UserWarning, stacklevel=2)
        use_reentrant = True
    if determinism_check not in ("default", "none"):
        raise ValueError(f"checkpoint: determinism_check should be 'default' or 'none', got {determinism_check!r}")
    if not callable(context_fn):
        raise TypeError(f"checkpoint: context_fn must be callable, got {type(context_fn).__name__}")
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        if grad_enabled() and not any(t.requires_grad for t in _tensors_of(args, {})):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", UserWarning,
                          stacklevel=2)
            with no_grad():
                return function(*args)
    return _run(function, args, kwargs, preserve, context_fn, determinism_check, debug)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Runs `functions` (a Sequential or a list of modules or functions) in order on `input`, in `segments` chunks of
    len(functions) // segments, each but the last checkpointed, as torch.utils.checkpoint.checkpoint_sequential
    (preserve_rng_state as for checkpoint; use_reentrant should be passed)."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed "
                      "explicitly. In version 2.9 we will raise an exception if use_reentrant is not passed. "
                      "use_reentrant=False is recommended, but if you need to preserve the current default behavior, "
                      "you can pass use_reentrant=True. Refer to docs for more details on the differences between the "
                      "two variants.", UserWarning, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if isinstance(functions, Sequential):
        functions = list(functions.children())
    functions = list(functions)
    if not isinstance(segments, int) or segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be a positive int, got {segments!r}")

    def run(start, end):
        def forward(x):
            for f in functions[start:end]:
                x = f(x)
            return x
        return forward

    size = len(functions) // segments
    if size == 0:
        raise ValueError(f"checkpoint_sequential: {segments} segments for {len(functions)} functions (at most one "
                         "segment per function)")
    end = 0
    for start in range(0, size * (segments - 1), size):
        end = start + size
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run(end, len(functions))(input)
