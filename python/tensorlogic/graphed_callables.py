"""tl.cuda.make_graphed_callables (torch.cuda.make_graphed_callables): a callable's forward and its backward each
captured as a CUDA graph (cuda_graphs.py), returned as an autograd-aware callable whose forward replays the
forward graph and whose backward replays the backward graph, so a training step launches two graphs instead of
one kernel (and one Python dispatch) per op.

As in torch: the sample arguments are the static inputs (each call copies its arguments into them), a Module's
parameters are static inputs too (optimizers update them in place, so the graphs see the new values), the
outputs are the static outputs (the next call overwrites them) and the backward cannot be differentiated again.
The backward graph reads the activations the last forward replay left, so while the backward of a recorded
forward replay is still to run (its output alive, backward not called), a further call runs the callable
eagerly instead of replaying over them (torch would silently give the first backward the second call's
activations), and a backward whose activations were replaced anyway (retain_graph) raises. An argument that
requires grad where its sample did not raises (torch would silently give it no gradient). The gradients
handed to autograd are copies, so .grad accumulation and zero_grad never touch the graph's buffers. Several
callables share one memory pool, their forwards captured in order and their backwards in reverse order (so
replay them in that order). TrainingGraph serves tl.compile(mode="reduce-overhead") for training replays
with the same machinery."""
import weakref

from . import _core
from .autograd.api import grad as autograd_grad
from .autograd.function import Function, Node
from .autograd.grad_mode import grad_enabled
from .cuda_graphs import CUDAGraph, graph, graph_pool_handle
from .cudagraph_replay import GraphUnavailable
from .errors import DeviceError, ShapeMismatchError
from .nn.module import Module
from .tensor import Tensor, _wrap


def _zeros(t):
    return _core.full(list(t._a.shape), 0.0, t._a.dtype, t._a.device)


def _outputs(out, who):
    """(flat list of tensors, whether the callable returned one tensor): torch's graphed callables return a tensor
    or a tuple of tensors."""
    single = isinstance(out, Tensor)
    flat = [out] if single else list(out) if isinstance(out, (tuple, list)) else None
    if flat is None or not all(isinstance(o, Tensor) for o in flat):
        raise TypeError(f"make_graphed_callables: {who} must return a Tensor or a tuple of Tensors, got "
                        f"{type(out).__name__}")
    if not single and not all(o._a.dtype == "float16" for o in flat):
        raise TypeError(f"make_graphed_callables: {who} returns several tensors, so each must be float16 (each "
                        "carries a gradient)")
    return flat, single


class _Pending:
    """Held by the node of a recorded forward replay until its backward ran: while it lives undone, replaying the
    forward graph would overwrite the activations that backward will read."""

    __slots__ = ("__weakref__", "done")

    def __init__(self):
        self.done = False


class _Captured:
    """One callable's graphs: `surface` (the sample arguments, then the parameters) are the static inputs."""

    def __init__(self, fn, surface, n_args, name, copies=False):
        self.fn, self.surface, self.n_args, self.name = fn, surface, n_args, name
        self.copies = copies  # return copies of the static outputs (a later replay does not overwrite them)
        self.forward_graph, self.backward_graph = CUDAGraph(), None
        self.replays = 0  # forward replays so far: a backward checks that its activations are the last forward's
        self._last = None  # weak reference to the _Pending of the last recorded forward replay

    def pending(self):
        """Whether the backward of a recorded forward replay is still to run."""
        mark = self._last() if self._last is not None else None
        return mark is not None and not mark.done

    def capture_forward(self, pool):
        with graph(self.forward_graph, pool=pool):
            out = self.fn(*self.surface[:self.n_args])
        self.flat, self.single = _outputs(out, self.name)

    def capture_backward(self, pool, allow_unused):
        differentiable = [o for o in self.flat if o.requires_grad]
        self.grad_outputs = [_zeros(o) if o.requires_grad else None for o in self.flat]
        wanted = [x for x in self.surface if x.requires_grad]
        grads = iter(())
        if differentiable and wanted:
            self.backward_graph = CUDAGraph()
            seeds = [_wrap(g) for g in self.grad_outputs if g is not None]
            with graph(self.backward_graph, pool=pool):
                grads = iter(autograd_grad(differentiable, wanted, seeds, allow_unused=allow_unused))
        self.grad_inputs = [next(grads) if x.requires_grad else None for x in self.surface]
        self.outputs = [o._a for o in self.flat]  # the static outputs, without the capture's autograd graph
        del self.flat

    def forward(self, args):
        for i, (s, x) in enumerate(zip(self.surface[:self.n_args], args)):
            if not isinstance(x, Tensor):
                raise TypeError(f"{self.name}: argument {i} must be a Tensor, got {type(x).__name__}")
            if x._a is s._a:
                continue
            if x._a.shape != s._a.shape or x._a.dtype != s._a.dtype or x._a.device != s._a.device:
                raise ShapeMismatchError(f"{self.name}: argument {i} is {x._a.dtype} {tuple(x._a.shape)} on "
                                         f"{x._a.device}, the graph was captured for {s._a.dtype} "
                                         f"{tuple(s._a.shape)} on {s._a.device}")
            _core.copy_(s._a, x._a)
        self.forward_graph.replay()
        self.replays += 1
        outs = tuple(_wrap(_core.clone(o) if self.copies else o) for o in self.outputs)
        return outs[0] if self.single else outs

    def backward(self, grads, replay):
        if replay != self.replays:
            raise RuntimeError(f"{self.name}: the forward graph was replayed again after the forward this backward "
                               "belongs to, so its activations are gone (backward through a graphed call twice, "
                               "with retain_graph, after another call)")
        if grad_enabled():
            raise RuntimeError(f"{self.name}: the backward of a graphed callable cannot be differentiated again "
                               "(create_graph=True)")
        for static, g in zip(self.grad_outputs, grads):
            if static is None:
                continue
            if g is None:
                _core.fill_(static, 0.0)
            else:
                _core.copy_(static, g._a)
        if self.backward_graph is not None:
            self.backward_graph.replay()
        return tuple(None if g is None else _wrap(_core.clone(g._a)) for g in self.grad_inputs)


class _Replay(Function):
    """Forward: copy the arguments in and replay the forward graph; backward: replay the backward graph."""

    @staticmethod
    def forward(ctx, captured, *surface):
        """Replays `captured`'s forward graph on `surface` (the arguments, then the parameters)."""
        out = captured.forward(surface[:captured.n_args])
        if isinstance(ctx, Node):  # recorded: its backward is pending until it runs or the node is freed
            ctx.captured, ctx.replay, ctx.pending = captured, captured.replays, _Pending()
            captured._last = weakref.ref(ctx.pending)
        return out

    @staticmethod
    def backward(ctx, *grads):
        """Replays the backward graph; one gradient per forward argument (None for `captured`)."""
        grads = ctx.captured.backward(grads, ctx.replay)
        ctx.pending.done = True
        return (None,) + grads


class _ReplayMany(_Replay):
    """_Replay for a callable that returns several tensors (each differentiable)."""

    multi_output = True


def _graphed(captured, module, training):
    params = captured.surface[captured.n_args:]
    replay = _ReplayMany if not captured.single else _Replay
    original = module.forward if module is not None else captured.fn

    def call(*args):
        if len(args) != captured.n_args:
            raise TypeError(f"{captured.name}: takes {captured.n_args} tensor arguments (as its sample_args), got "
                            f"{len(args)}")
        if module is not None and module.training != training:
            return original(*args)  # torch's rule: a module in the other train/eval mode runs its own forward
        if captured.pending():
            return original(*args)  # a backward still needs the activations of the last replay
        if grad_enabled():
            for i, (x, s) in enumerate(zip(args, captured.surface)):
                if isinstance(x, Tensor) and x.requires_grad and not s.requires_grad:
                    raise RuntimeError(f"{captured.name}: argument {i} requires grad but its sample did not, so the "
                                       "backward graph computes no gradient for it; capture with a sample that "
                                       "requires grad")
        return replay.apply(captured, *args, *params)

    call.__doc__ = f"{captured.name} replayed as CUDA graphs (tl.cuda.make_graphed_callables)."
    return call


def _check_surface(fn, args, i):
    who = f"callable {i} ({type(fn).__name__})"
    if not callable(fn):
        raise TypeError(f"make_graphed_callables: {who} is not callable")
    if not isinstance(args, tuple) or not all(isinstance(a, Tensor) for a in args):
        raise TypeError(f"make_graphed_callables: sample_args for {who} must be a tuple of Tensors")
    params = list(fn.parameters()) if isinstance(fn, Module) else []
    ids = {id(a) for a in args}
    if any(id(p) in ids for p in params):
        raise ValueError(f"make_graphed_callables: {who}: a parameter of the module is among its sample_args")
    surface = (*args, *params)
    devices = {str(t.device) for t in surface}
    if len(devices) != 1 or not next(iter(devices)).startswith("cuda"):
        raise DeviceError(f"make_graphed_callables: the sample_args and parameters of {who} must be on one CUDA "
                          f"device, got {sorted(devices) or 'no tensors'}")
    return surface, who


def _warm_up(fn, surface, n_args, iterations, allow_unused):
    """Runs forward and backward so that lazy setups (which wait for the device) are done before capture."""
    for _ in range(iterations):
        flat, _ = _outputs(fn(*surface[:n_args]), "the callable")
        differentiable = [o for o in flat if o.requires_grad]
        wanted = [x for x in surface if x.requires_grad]
        if differentiable and wanted:
            autograd_grad(differentiable, wanted, [_wrap(_zeros(o)) for o in differentiable], allow_unused=allow_unused)


def make_graphed_callables(callables, sample_args, num_warmup_iters=3, allow_unused_input=False, pool=None):
    """Graphed versions of `callables` (a callable or Module, or a tuple of them) whose forward and backward each
    replay a CUDA graph captured with `sample_args` (a tuple of Tensors per callable; they become the static
    inputs), as torch.cuda.make_graphed_callables. A Module is returned with its forward replaced (in the other
    train/eval mode than at capture it runs its own forward); a function is returned as a new function.
    num_warmup_iters forward+backward runs precede capture; `pool` (graph_pool_handle()) shares memory with
    other graphs. Random draws inside the callables are refused (tl.cuda.graph says why)."""
    one = not isinstance(callables, tuple)
    if one:
        callables, sample_args = (callables,), (sample_args,)
    if not isinstance(sample_args, tuple) or len(sample_args) != len(callables):
        raise TypeError("make_graphed_callables: sample_args must be a tuple with one tuple of Tensors per callable")
    if int(num_warmup_iters) < 0:
        raise ValueError(f"make_graphed_callables: num_warmup_iters must be >= 0, got {num_warmup_iters}")
    captures = []
    for i, (fn, args) in enumerate(zip(callables, sample_args)):
        surface, who = _check_surface(fn, args, i)
        captures.append(_Captured(fn, surface, len(args), who))
    device = str(captures[0].surface[0].device)
    _core.synchronize(device)
    for c in captures:
        _warm_up(c.fn, c.surface, c.n_args, int(num_warmup_iters), allow_unused_input)
    pool = pool if pool is not None else graph_pool_handle()
    for c in captures:
        c.capture_forward(pool)
    for c in reversed(captures):  # the order a backward pass runs them in
        c.capture_backward(pool, allow_unused_input)
    results = []
    for fn, c in zip(callables, captures):
        module = fn if isinstance(fn, Module) else None
        call = _graphed(c, module, module.training if module is not None else None)
        if module is not None:
            module.forward = call
            results.append(module)
        else:
            results.append(call)
    return results[0] if one else tuple(results)


class TrainingGraph:
    """tl.compile's training replay as two CUDA graphs: `run` maps a list of tensors shaped like `inputs` to the
    program's outputs (a tensor or a tuple of them, each computed from the inputs or `params`), recording eager's
    autograd nodes; `params` are the tensors it reads that require grad. Outputs are returned as copies, as the
    plain replay returns fresh tensors. GraphUnavailable (saying why) where it cannot be captured."""

    def __init__(self, run, inputs, params, name):
        devices = {str(t.device) for t in (*inputs, *params)}
        if len(devices) != 1 or not next(iter(devices)).startswith("cuda"):
            raise GraphUnavailable(f"its tensors are on {sorted(devices)}, not on one CUDA device")
        for x in inputs:
            if not x._a.is_contiguous():
                raise GraphUnavailable(f"an input with strides {x._a.strides} (the graph's input buffers are "
                                       "contiguous)")
        static = []
        for x in inputs:
            s = _wrap(_core.clone(x._a))
            s.requires_grad = x.requires_grad
            static.append(s)
        self.requires_grad = [x.requires_grad for x in inputs]
        self._captured = _Captured(lambda *xs: run(list(xs)), (*static, *params), len(static), name, copies=True)
        self._params = tuple(params)
        try:
            _warm_up(self._captured.fn, self._captured.surface, len(static), 1, True)
            pool = graph_pool_handle()
            self._captured.capture_forward(pool)
            self._captured.capture_backward(pool, True)
        except Exception as e:  # noqa: BLE001 - any failure means: replay without a graph, saying why
            raise GraphUnavailable(f"capture failed: {type(e).__name__}: {e}") from e
        self._replay = _Replay if self._captured.single else _ReplayMany

    def __call__(self, tensors):
        """The outputs for `tensors` (a tensor, or a tuple of them), recorded for backward; None when which of
        them require grad differs from the capture (the backward graph computes the gradients it did then) or
        when the backward of the last call is still to run (its activations must stay)."""
        if [x.requires_grad for x in tensors] != self.requires_grad or self._captured.pending():
            return None
        return self._replay.apply(self._captured, *tensors, *self._params)
