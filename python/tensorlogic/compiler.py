"""tl.compile (torch.compile's signature): captures a function or an nn.Module once per input signature and
replays the recorded ops afterwards, or runs eagerly and says why once (a CompileWarning naming the reason).

Capture reuses tl.coreml.export's tracer (coreml/trace.py `capture`: autograd appends every recorded
application to `mode.trace`); during a capture the applications autograd does not record that read a value
computed from the inputs while no argument requires grad (a view of integer targets, indices an op returned)
are recorded too. A call with a new signature (the shapes, strides, dtypes and devices of its tensor
arguments, its other arguments' values, and for a module each submodule's train/eval mode, its plain scalar
attributes and the identity of its parameters and buffers) runs the function under the tracer on copies of
the caller's inputs, then once more on independent inputs of the same shapes; the two recordings must agree
op for op and constant for constant, as export's check does. Later calls with that signature replay the
program in the recorded order, with no Tensor-level Python dispatch and no argument checks:
- with grad disabled, or when nothing it reads requires grad (inference), each op's `Function.forward` (its
  native `_core` call and the wrap of the result) alone, with no autograd bookkeeping; the first call returns
  the capture's own result;
- with grad enabled and an input or a parameter that requires grad (a training step), each op through its
  Function's `apply`, which records the same autograd node eager's call records (the same Function, edges,
  saved tensors and order), so backward gives eager's gradients bit for bit (tests/test_compile_training.py:
  an MLP, a small GPT with its loss, a conv net over several AdamW steps); the first call is replayed too
  (the capture's result is computed from copies of the inputs, which backward would not reach).
With backend="inductor" (the default) and options={"epilogue_fusion": True} (inductor's name for it) the program
is fused first (compile_fusion.py: a linear and the add of a residual as one GEMM), so its results and gradients
are eager's within one f16 rounding. The fusion is off by default: the one GPU measurement with it on (H100,
2026-12-06) had the compiled GPT-2-small step at 24.2 ms against eager's 18.4, a slowdown not yet traced to it or
to anything else (benchmarks/results/gpt_step_notes.md). Without it, and with backend="eager", "aot_eager" or
"cudagraphs", the recorded ops replay as they are, bit for bit eager's. options={"triton.cudagraphs": True} asks
for CUDA graphs as mode="reduce-overhead" does (torch's spelling), so both can be asked together. A replay drops each
intermediate after its last use and a capture keeps no computed tensor beyond the function's own references, so
the step that captures and the replays peak where eager's step does (tests/test_compile_memory.py).
Parameters and buffers are read when the program runs, so optimizer steps and load_state_dict are seen;
tensors made during the call that do not depend on the inputs or on tensors that require grad (an arange, a
causal mask) are baked in, so a parameter frozen at capture that requires grad later makes the next call
capture again.

What runs eagerly, with the reason given once:
- modules in training mode with dropout (p > 0: its masks come from tl.rand outside the recorded ops, so a
  replay would reuse one mask) or batch norm that tracks running statistics (updated in place outside the
  recorded ops); other modules in training mode replay (training mode is part of the signature);
- calls that update a module buffer in place outside the recorded ops, calls that register a gradient
  hook (register_hook, retain_grad) on a tensor they compute, and training calls of modules with backward hooks;
- functions that read a tensor's value on the host (.item(), bool(t), float(t), .tolist(), .numpy()), since
  Python control flow may depend on it;
- functions whose recorded ops or constants change with the input values (a comparison mask, randomness
  outside the ops, data-dependent control flow), found by the second capture;
- functions that modify a tensor in place after an op read it, or through a view of a tensor autograd records
  (the recorded CopySlices node stands for a write that only the eager op makes), return something other than
  tensors (or a tuple/list of tensors and None), or take arguments other than tensors, plain scalars and modules;
- signatures beyond the recompile limit (8, like torch's), and functions that raise during capture.
A capture runs the function twice (the call itself, then the check on other values): side effects outside
tensor ops (printing, appending to lists) happen twice then and never during replays, and a function that
draws random numbers draws them twice; a function found to read host values returns its capture's result
under no_grad. A training step that falls back after capturing runs the function a third time, eagerly.
Rebinding a global or closure variable of a plain function to another tensor is not seen by its replay, and
a plain function that updates tensors in place outside recorded ops (F.batch_norm with training=True and
running statistics) updates them once more during its check. `dynamic` and `options` are accepted for
compatibility (shapes are always specialised, one program per signature). mode="reduce-overhead" (or
backend="cudagraphs") makes inference replays on CUDA launch a CUDA graph (cudagraph_replay.py): captured at
the program's first replay, launched afterwards, with inputs copied into its static buffers and copies of its
outputs returned; when a program cannot be a graph (random numbers, an input that is not contiguous, a failed
capture: a host copy or wait) it replays plainly and the reason is given once (a CompileWarning, and
`.cudagraph_reasons`). Training replays on CUDA (grad enabled) launch two graphs, the forward's and the
backward's (graphed_callables.TrainingGraph, the machinery of tl.cuda.make_graphed_callables), captured at the
program's first training replay, returning copies of the outputs; the backward graph gives the gradients of the
parameters and of the inputs that required grad at capture (a call where others do replays plainly); the
backward graph reads the activations the last forward replay left, so a call made while the backward of the
last one is still to run replays plainly. Other backends and modes replay plainly. With fullgraph=True a
function that cannot be captured raises CompileError instead of running eagerly. `@tl.compile` on a module's forward method works
too: the instance joins the signature like a compiled module."""
import functools
import threading
import warnings
import weakref

import numpy as np

from . import _core, nn
from .autograd.copy_slices import CopySlices
from .autograd.function import _NULL, Function, Node, _Output
from .autograd.grad_mode import grad_enabled
from .nn.module_hooks import BackwardHookFunction
from .nn.dropout import _DropoutNd
from .nn.normalization import _NormBase
from .warn_mode import is_warn_always_enabled
from .compile_fusion import fuse, layout
from .coreml.trace import _independent, _same, capture
from .creation import tensor
from .cudagraph_replay import GraphReplay, GraphUnavailable
from .graphed_callables import TrainingGraph
from .tensor import Tensor, _wrap

__all__ = ["CompileError", "CompileWarning", "CompiledFunction", "CompiledModule", "RECOMPILE_LIMIT", "compile"]

RECOMPILE_LIMIT = 8
_BACKENDS = ("inductor", "eager", "aot_eager", "cudagraphs")
_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
_SCALARS = (bool, int, float, str, type(None))
_CAPTURING = threading.RLock()  # one capture at a time: _HostReads swaps a method of the Tensor class


class CompileError(RuntimeError):
    """fullgraph=True and the function cannot be captured (the message says why)."""


class CompileWarning(UserWarning):
    """A compiled function runs eagerly for the reason given."""


class _Eager(Exception):
    """Internal: the reason a call runs eagerly."""


# ---- signatures ----------------------------------------------------------------------------------
def _describe(value, tensors):
    if isinstance(value, Tensor):
        tensors.append(value)
        # strides too: an op that is a no-op on a contiguous tensor (contiguous(), reshape) records nothing
        return ("T", tuple(value.shape), value._a.strides, value.dtype.name, str(value.device))
    if isinstance(value, _SCALARS):
        return (type(value).__name__, value)
    if isinstance(value, nn.Module):  # `self` of a compiled forward method
        parts = []
        _walk(value, parts)
        return tuple(parts)
    raise _Eager(f"an argument of type {type(value).__name__} (only tensors, plain scalars and modules are "
                 "captured)")


def _signature(args, kwargs):
    """(hashable key, the tensor arguments in order)."""
    tensors = []
    key = tuple(_describe(a, tensors) for a in args)
    key += tuple((name, _describe(kwargs[name], tensors)) for name in sorted(kwargs))
    return key, tensors


def _substitute(args, kwargs, tensors):
    it = iter(tensors)
    args = tuple(next(it) if isinstance(a, Tensor) else a for a in args)
    kwargs = {name: next(it) if isinstance(kwargs[name], Tensor) else kwargs[name] for name in sorted(kwargs)}
    return args, kwargs


# ---- capture -------------------------------------------------------------------------------------
class _Recorder:
    """mode.trace's list, which turns each of the capturing thread's applications (mode.trace is process-wide)
    into a step of the program as it is appended. It keeps the nodes (whose saved tensors eager's graph keeps
    too) and the constants the ops read, but no tensor computed from the inputs: each dies when the captured
    function drops it, as in an eager call, so the capture's peak memory is eager's forward's. Computed
    tensors (and their native arrays) are found by identity through weak references, since the id of one that
    died may be reused by a constant made later. An op that cannot be replayed sets `error` (the first reason)
    and ends the recording."""

    def __init__(self, leaves):
        self.thread = threading.get_ident()
        self.length = 0
        self.error = None
        self.by_id = {}  # id(tensor or native array) -> (weak reference, slot)
        self.by_node = {}  # node key (_node_key) -> slot
        self.layouts = {}  # slot -> the layout of the value the capture saw there (compile_fusion.layout)
        for i, x in enumerate(leaves):
            self._computed(x, i)
        self.n = len(leaves)
        self.steps, self.constants, self.nodes = [], [], []

    def __len__(self):
        return self.length

    def _computed(self, x, slot):
        self.layouts[slot] = layout(x)
        self.by_id[id(x)] = (weakref.ref(x), slot)
        self.by_id[id(x._a)] = (weakref.ref(x._a), slot)

    def slot(self, x):
        """The slot of a computed tensor or native array (None for any other object)."""
        entry = self.by_id.get(id(x))
        return entry[1] if entry is not None and entry[0]() is x else None

    def key_slot(self, t):
        """The slot of the value a tensor holds now (through its producer's node when it has one)."""
        return self.by_node.get(_node_key(t.grad_fn)) if t.grad_fn is not None else self.slot(t)

    def append(self, record):
        if threading.get_ident() != self.thread:
            return
        self.length += 1
        if self.error is None:
            try:
                self._step(*record)
            except _Eager as e:
                self.error = e.args[0]

    def _step(self, node, args, kwargs, result):
        if node.fn is BackwardHookFunction:
            raise _Eager("a module it calls has backward hooks (register_full_backward_hook or _pre_hook), which run "
                         "with the call's own state")
        if node.fn is CopySlices:
            raise _Eager("it modifies a view of a tensor in place under autograd, a write its base's recorded history "
                         "(CopySlices) does not make again in a replay")
        refs, const = [], []
        for i, a in enumerate(args):
            if not isinstance(a, Tensor):
                s = self.slot(a) if isinstance(a, _core.Array) else None
                if s is not None:  # a native array of a computed tensor (integer indices are passed so)
                    refs.append((i, s, True))
                continue
            edge = node.next[i]  # the producer of the value this op read (a later in-place op may move a.grad_fn)
            s = self.by_node.get(_node_key(edge)) if isinstance(edge, Node) else self.slot(
                edge if edge is not None else a)
            if s is not None:
                refs.append((i, s, False))
            else:
                const.append((a, a._version))
        for a in kwargs.values():
            if isinstance(a, Tensor):
                if a.requires_grad or self.slot(a) is not None:
                    raise _Eager(f"{node.name} takes a tensor computed from the inputs as a keyword argument")
                const.append((a, a._version))
        results = result if result.__class__ is tuple else (result,)
        n = self.n
        self.by_node[("node", id(node))] = n
        for j in range(len(results) if node.fn.multi_output else 0):
            self.by_node[("node", id(node), j)] = n + j
        for j, r in enumerate(results):
            if not isinstance(r, Tensor):
                raise _Eager(f"{node.name} gives a {type(r).__name__}, not a tensor")
            self._computed(r, n + j)
        stored = list(args)
        for i, _, _ in refs:
            stored[i] = None  # the replay fills it in; keeping the capture's tensor would keep it alive
        self.steps.append((node.fn.forward, tuple(stored), kwargs, tuple(refs), n, node.fn, len(results)))
        self.constants.append(const)
        self.nodes.append(node)
        self.n += len(results)

    def finish(self):
        """Raises _Eager where a recorded op cannot be replayed: an error met while recording, a constant modified
        in place after an op read it, a gradient hook on a computed tensor (registered after its op ran)."""
        if self.error is not None:
            raise _Eager(self.error)
        for node, const in zip(self.nodes, self.constants):
            if any(a._version != v for a, v in const):
                raise _Eager(f"a tensor that {node.name} read is modified in place later in the call")
            if node.pre_hooks is not None or node.retained is not None:
                raise _Eager("it registers a gradient hook (register_hook or retain_grad) on a tensor it computes, "
                             "which a replay would not register again")


class _UngradedOps:
    """Adds to the recorder the applications autograd does not record that read a value computed from the
    inputs while no argument requires grad: ops on integer inputs (a view of the targets), on indices an op
    returned, on a float made from them. The replay recomputes these instead of baking in their values."""

    def __init__(self, recorder):
        self.recorder = recorder

    def __enter__(self):
        self._apply = Function.__dict__["apply"]  # the classmethod as it is now (the profiler may have swapped it)
        inner, rec = self._apply.__func__, self.recorder

        def apply(cls, *args, **kwargs):
            n = len(rec)
            out = inner(cls, *args, **kwargs)
            if len(rec) == n and threading.get_ident() == rec.thread and any(rec.slot(a) is not None for a in args) \
                    and not any(isinstance(a, Tensor) and a.requires_grad for a in args):
                node = Node(cls)
                node.next = [None] * len(args)  # no edges: _build finds each argument's slot by its identity
                rec.append((node, args, kwargs, out))
            return out

        Function.apply = classmethod(apply)
        return self

    def __exit__(self, *exc):
        Function.apply = self._apply
        return False


class _HostReads:
    """Counts this thread's host reads of tensor values (item, bool, float, tolist and numpy all go through
    Tensor.numpy; a data-loading thread reading batches meanwhile does not count)."""

    def __enter__(self):
        self.count = 0
        self._numpy = original = Tensor.numpy
        thread = threading.get_ident()

        def numpy(t, *, force=False):
            if threading.get_ident() == thread:
                self.count += 1
            return original(t, force=force)

        Tensor.numpy = numpy
        return self

    def __exit__(self, *exc):
        Tensor.numpy = self._numpy
        return False


def _node_key(node):
    """The slot key of the value a Node stands for: one output of a multi_output op (split) is its parent's
    output number `index`."""
    return ("node", id(node.parent), node.index) if node.fn is _Output else ("node", id(node))


class _Program:
    """The replayable form of one capture. steps: (forward, args with the computed tensors as None, kwargs,
    ((argument position, slot, whether the op takes the native array), ...), first result slot, the Function
    class, the slots to drop after it); slots 0.. are the inputs, then each op's results. frozen: the tensors it
    reads (and a module's parameters) that did not require grad when it was captured: ops on them alone were not
    recorded, so their results are baked in and stay right only while they stay frozen."""

    __slots__ = ("steps", "n_slots", "outputs", "out_type", "constants", "read", "frozen", "graph", "train_graph",
                 "layouts", "n_inputs")

    def needs_grad(self):
        """Whether a tensor it reads requires grad now (the replay must then build the backward graph)."""
        return any(c.requires_grad for c in self.read)

    def stale(self):
        """Whether a tensor that was frozen at capture requires grad now (the program must be captured again)."""
        return any(c.requires_grad for c in self.frozen)


def _leaves(inputs):
    leaves = []
    for x in inputs:
        leaf = x.detach()
        if leaf.dtype.name == "float16":
            leaf.requires_grad = True  # every op computed from it takes autograd's recording path
        leaves.append(leaf)
    return leaves


def _build(fn, inputs, args, kwargs):
    """Captures fn on `inputs` (its tensor arguments); returns (its result as computed, the _Program)."""
    leaves = _leaves(inputs)
    call_args, call_kwargs = _substitute(args, kwargs, leaves)
    recorder = _Recorder(leaves)
    with _CAPTURING, _HostReads() as reads, _UngradedOps(recorder):
        out, _ = capture(fn, call_args, call_kwargs, recorder)
    called = _as_called(out, leaves, inputs)
    if reads.count:
        raise _Eager("it reads a tensor's value on the host (.item(), bool(), float(), .tolist() or .numpy()), so "
                     "its Python control flow may depend on the input values", called)
    recorder.finish()
    prog = _Program()
    prog.steps, prog.graph, prog.train_graph = recorder.steps, None, None
    prog.constants = [[a for a, _ in const] for const in recorder.constants]
    prog.n_slots = recorder.n
    outs = out if isinstance(out, (tuple, list)) else (out,)
    prog.out_type = type(out) if isinstance(out, (tuple, list)) else None
    prog.outputs = []
    for o in outs:
        if o is None:
            prog.outputs.append((None, None))
        elif not isinstance(o, Tensor):
            raise _Eager(f"it returns a {type(o).__name__} (only tensors, or tuples/lists of tensors and None)")
        elif recorder.key_slot(o) is not None:
            prog.outputs.append((recorder.key_slot(o), None))
        else:
            prog.outputs.append((None, o))  # does not depend on the inputs
    prog.read = list({id(c): c for cs in prog.constants for c in cs}.values())
    prog.layouts, prog.n_inputs = recorder.layouts, len(leaves)
    return called, prog


def _finish(prog, fused):
    """The program as it replays: its fusions (compile_fusion) applied where asked, each step with the slots to
    drop after it."""
    if fused:
        prog.steps, prog.constants = fuse(prog.steps, prog.constants, prog.outputs, prog.layouts)
    prog.steps = _with_releases(prog.steps, prog.outputs, prog.n_inputs)
    prog.layouts = None


def _with_releases(steps, outputs, n_inputs):
    """Each step with the slots to drop after it: the results whose last reader it is (or that nothing reads),
    except the program's outputs. So a replay frees an intermediate when eager's call would (its Python
    reference gone; autograd's saved tensors keep what backward needs), instead of holding every result of
    the forward until it returns."""
    last = {}
    for k, (_, _, _, refs, first, _, count) in enumerate(steps):
        for j in range(first, first + count):
            last[j] = k
        for _, s, _ in refs:
            last[s] = k
    keep = {s for s, _ in outputs if s is not None}
    drop = [[] for _ in steps]
    for s, k in last.items():
        if s >= n_inputs and s not in keep:
            drop[k].append(s)
    return [step[:6] + (tuple(d),) for step, d in zip(steps, drop)]


def _same_constant(a, b):
    if a is b:
        return True
    if a.requires_grad or b.requires_grad or a.shape != b.shape or a.dtype != b.dtype:
        return False
    return np.array_equal(a.detach().numpy(), b.detach().numpy(), equal_nan=True)


def _differs(p, q):
    """Why two captures of one signature differ (None when they agree op for op and constant for constant)."""
    if len(p.steps) != len(q.steps):
        return f"it runs {len(p.steps)} ops on one input and {len(q.steps)} on another of the same shapes"
    for i, (s, t, cs, ct) in enumerate(zip(p.steps, q.steps, p.constants, q.constants)):
        # forwards compare equal, not identical: a classmethod forward is a new bound method at each access
        if s[0] != t[0] or s[3] != t[3] or len(s[1]) != len(t[1]) or s[2].keys() != t[2].keys():
            return f"the ops it runs depend on the input values (op {i} differs)"
        pairs = list(zip(s[1] + tuple(s[2].values()), t[1] + tuple(t[2].values())))
        plain = [(a, b) for a, b in pairs if not isinstance(a, (Tensor, _core.Array))]
        arrays = [(a, b) for a, b in pairs if isinstance(a, _core.Array)]  # indices passed natively (an arange)
        if len(cs) != len(ct) or not all(_same(a, b) for a, b in plain) \
                or not all(isinstance(b, _core.Array) and _same_constant(_wrap(a), _wrap(b)) for a, b in arrays) \
                or not all(_same_constant(a, b) for a, b in zip(cs, ct)):
            return (f"op {i} reads a value that changes with the inputs but is computed outside the recorded ops "
                    "(a comparison mask, an integer op such as argmax, or randomness)")
    if [o[0] for o in p.outputs] != [o[0] for o in q.outputs] or p.out_type is not q.out_type or not all(
            (a is None) == (b is None) and (a is None or _same_constant(a, b))
            for (_, a), (_, b) in zip(p.outputs, q.outputs)):
        return "its outputs depend on the input values in a way the recorded ops do not show"
    return None


def _fresh(x, rng):
    """Independent values of x's shape and strides: floats like coreml export's check, other dtypes shuffled
    (so that indices stay in range)."""
    if x.dtype.name == "float16":
        values = _independent(x, rng).numpy()
    else:
        values = x.detach().numpy()
        # by name: an int64 tensor's numpy() has numpy's longlong type, which from_numpy refuses
        values = rng.permutation(values.reshape(-1)).reshape(values.shape).astype(values.dtype.name)
    order = sorted(range(x.ndim), key=lambda d: -x._a.strides[d])  # x's layout as a permuted dense tensor
    base = tensor(np.ascontiguousarray(values.transpose(order)), dtype=x.dtype, device=x.device)
    fresh = base.permute([order.index(d) for d in range(x.ndim)]) if x.ndim else base
    if fresh._a.strides != x._a.strides:
        raise _Eager(f"an input with strides {x._a.strides} (not a dense tensor's, possibly permuted) cannot be "
                     "checked on other values")
    return fresh


def _replay(prog, inputs, grad):
    """Runs the program on `inputs`. Without grad each op's forward runs alone (no autograd bookkeeping). With
    grad (a training step) each op goes through its Function's apply, which records the node eager's call
    would record (the same Function, edges, saved tensors and order), so backward gives eager's gradients;
    an op none of whose arguments requires grad runs its forward alone, as eager's does."""
    env = list(inputs)
    env.extend([None] * (prog.n_slots - len(env)))
    for forward, args, kwargs, refs, first, cls, drop in prog.steps:
        if refs:
            args = list(args)
            for i, s, raw in refs:
                args[i] = env[s]._a if raw else env[s]
        out = cls.apply(*args, **kwargs) if grad else forward(_NULL, *args, **kwargs)
        if out.__class__ is tuple:
            env[first:first + len(out)] = out
        else:
            env[first] = out
        args = out = None  # drop's slots may be the last references to their tensors
        for s in drop:
            env[s] = None
    outs = [env[s] if s is not None else v for s, v in prog.outputs]
    return outs[0] if prog.out_type is None else prog.out_type(outs)


def _walk(m, parts):
    """What a module's replay depends on besides its inputs: each submodule (its identity, train/eval mode
    and plain scalar attributes, such as a temperature its forward reads) and the identity of each parameter
    and buffer (values are read when the program runs). A direct walk of the tables, since
    modules()/parameters() cost more than a small model's replay."""
    parts.append(id(m))
    parts.extend(item for item in m.__dict__.items() if item[1].__class__ in _SCALARS)
    parts.extend(map(id, m._parameters.values()))
    parts.extend(map(id, m._buffers.values()))
    for child in m._modules.values():
        if child is not None:
            _walk(child, parts)


# ---- the compiled callable -----------------------------------------------------------------------
class _Compiled:
    """The state behind one tl.compile result: a cache {signature: _Program or the reason to run eagerly}."""

    def __init__(self, fn, module, fullgraph, graphs, fused):
        self.fn, self.module, self.fullgraph, self.graphs, self.fused = fn, module, fullgraph, graphs, fused
        self.cache = {}
        self.eager_reasons = []  # each reason once, in the order they were first met
        self.graph_reasons = []  # why programs on CUDA replay without a CUDA graph (graphs requested)

    def _guard(self):
        if self.module is None:
            return ()
        parts = []
        _walk(self.module, parts)
        return tuple(parts)

    def _eager(self, reason, args, kwargs):
        self._note(reason)
        return self.fn(*args, **kwargs)

    def _note(self, reason, reasons=None, what="runs eagerly"):
        reasons = self.eager_reasons if reasons is None else reasons
        if reason not in reasons or is_warn_always_enabled():
            if reason not in reasons:
                reasons.append(reason)
            name = getattr(self.fn, "__qualname__", type(self.module or self.fn).__name__)
            warnings.warn(f"tl.compile: {name} {what}: {reason}", CompileWarning, stacklevel=4)

    def _refuse(self, reason):
        if self.fullgraph:
            raise CompileError(f"tl.compile(fullgraph=True): cannot capture: {reason}")
        return reason

    def __call__(self, *args, **kwargs):
        try:
            key, tensors = _signature(args, kwargs)
        except _Eager as e:
            return self._eager(self._refuse(str(e)), args, kwargs)
        key += self._guard()
        entry = self.cache.get(key)
        if isinstance(entry, _Program):
            if not grad_enabled() or not entry.stale():
                grad = grad_enabled() and (entry.needs_grad() or any(t.requires_grad for t in tensors))
                if grad:
                    out = self._launch_training(entry, tensors) if entry.train_graph is not None else None
                    return out if out is not None else _replay(entry, tensors, True)
                if entry.graph is None:
                    return _replay(entry, tensors, False)
                return self._launch(entry, tensors)
            del self.cache[key]  # a parameter frozen at capture requires grad now: its ops must be recorded
            entry = None
        if entry is not None:
            return self._eager(entry, args, kwargs)
        modules = [m for m in (self.module, *args, *kwargs.values()) if isinstance(m, nn.Module)]
        reason = _train_mode_reason(modules)
        if reason is not None:
            return self._eager(self._cache_refusal(key, reason), args, kwargs)
        if len(self.cache) >= RECOMPILE_LIMIT:
            return self._eager(f"a new input signature after {RECOMPILE_LIMIT} captures (the recompile limit)",
                               args, kwargs)
        return self._capture(key, tensors, args, kwargs, modules)

    def _launch(self, prog, tensors):
        """An inference replay as a CUDA graph, captured at the program's first replay (a plain replay, with the
        reason said once, when it cannot be)."""
        graph = prog.graph
        if graph is _PENDING:
            n = len(tensors)
            computed = [s is not None and s >= n for s, _ in prog.outputs]
            try:
                graph = prog.graph = GraphReplay(lambda xs: _flat(prog, _replay(prog, xs, False)), tensors, computed)
            except GraphUnavailable as e:
                prog.graph = None
                self._note(str(e), self.graph_reasons, "replays without a CUDA graph")
                return _replay(prog, tensors, False)
        out = graph(tensors)
        return out[0] if prog.out_type is None else prog.out_type(out)

    def _launch_training(self, prog, tensors):
        """A training replay as two CUDA graphs, forward and backward (graphed_callables.TrainingGraph), captured
        at the program's first training replay; None where it cannot (the plain replay runs, the reason said once)."""
        graph = prog.train_graph
        if graph is _PENDING:
            n = len(tensors)
            try:
                if not all(s is not None and s >= n for s, _ in prog.outputs):
                    raise GraphUnavailable("it returns an input, None or a tensor that does not depend on the inputs")
                params = [c for c in prog.read if c.requires_grad]
                name = getattr(self.fn, "__qualname__", type(self.module or self.fn).__name__)
                graph = prog.train_graph = TrainingGraph(lambda xs: _replay(prog, xs, True), tensors, params,
                                                         f"tl.compile({name})")
            except GraphUnavailable as e:
                prog.train_graph = None
                self._note(str(e), self.graph_reasons, "replays its training step without a CUDA graph")
                return None
        out = graph(tensors)
        return out if out is None or prog.out_type is None else prog.out_type(out)

    def _cache_refusal(self, key, reason):
        reason = self.cache[key] = self._refuse(reason)
        return reason

    def _capture(self, key, tensors, args, kwargs, modules):
        buffers = [b for m in modules for b in m.buffers()]
        versions = [b._version for b in buffers]
        try:
            out, prog = _build(self.fn, tensors, args, kwargs)
            if [b._version for b in buffers] != versions:
                raise _Eager(_BUFFER_UPDATE, out)
        except _Eager as e:
            reason = self._cache_refusal(key, e.args[0])
            if len(e.args) > 1 and not grad_enabled():  # the capture ran the whole call: its result is eager's
                self._note(reason)
                return _detached(e.args[1], tensors)
            return self._eager(reason, args, kwargs)
        except Exception as e:  # noqa: BLE001 - eager decides whether the call itself is an error
            reason = self._cache_refusal(key, f"capture raised {type(e).__name__}: {e}")
            return self._eager(reason, args, kwargs)
        prog.frozen = [c for c in prog.read if not c.requires_grad]
        prog.frozen += [p for m in modules for p in m.parameters() if not p.requires_grad]
        # a training step: the capture's result is computed from copies of the inputs, so backward would not reach
        # the caller's inputs; the replay (or the eager call) builds the caller's graph. The capture's graph (every
        # activation it saved) is dropped now, before the check and the replay: kept, it would add a forward's
        # activations to the step's peak memory (tests/test_compile_memory.py)
        training = grad_enabled() and (prog.needs_grad() or any(t.requires_grad for t in tensors))
        out = None if training else _detached(out, tensors)
        rng = np.random.default_rng(len(prog.steps))
        try:
            fresh = [_fresh(t, rng) for t in tensors]
        except _Eager as e:
            fresh, reason = None, e.args[0]
        try:
            if fresh is not None:
                reason = _differs(prog, _build(self.fn, fresh, args, kwargs)[1])  # its result and graph dropped
        except _Eager as e:
            reason = e.args[0]
        except Exception as e:  # noqa: BLE001 - the first capture passed: a failure now means values steer it
            reason = (f"it fails on other inputs of the same shapes ({type(e).__name__}: {e}), so the ops it runs "
                      "depend on the input values")
        if reason is not None:
            self._note(self._cache_refusal(key, reason))
            return self.fn(*args, **kwargs) if training else out
        _finish(prog, self.fused)
        self.cache[key] = prog
        if self.graphs and tensors and all(t.device.type == "cuda" for t in tensors):
            prog.graph = prog.train_graph = _PENDING
        return _replay(prog, tensors, True) if training else out


def _train_mode_reason(modules):
    """Why a module's training mode keeps it from replaying (None when it does not): state a replay would not
    reproduce."""
    for m in modules:
        for s in m.modules():
            if s.training and isinstance(s, _DropoutNd) and s.p > 0:
                return _DROPOUT
            if s.training and isinstance(s, _NormBase) and s.track_running_stats:
                return _BATCH_NORM
    return None


def _flat(prog, out):
    return [out] if prog.out_type is None else list(out)


def _as_called(out, leaves, inputs):
    """The capture's result with the caller's own tensors where it returns an input (eager returns it itself)."""
    own = {id(leaf): x for leaf, x in zip(leaves, inputs)}
    if isinstance(out, (tuple, list)):
        return type(out)(own.get(id(o), o) for o in out)
    return own.get(id(out), out)


def _detached(out, inputs):
    """The capture's result as an eager call without grad gives it (the capture made its inputs require grad)."""
    own = {id(x) for x in inputs}
    if isinstance(out, (tuple, list)):
        return type(out)(o.detach() if isinstance(o, Tensor) and id(o) not in own else o for o in out)
    return out.detach() if isinstance(out, Tensor) and id(out) not in own else out


_PENDING = "a CUDA graph to capture at the next inference replay"  # a _Program's graph before its capture
_DROPOUT = ("dropout in training mode (p > 0): its masks come from tl.rand outside the recorded ops, so a replay "
            "would reuse one mask")
_BATCH_NORM = ("batch norm in training mode with running statistics (or instance norm): it updates them in place "
               "outside the recorded ops, which a replay would not do")
_BUFFER_UPDATE = "it updates a module buffer in place outside the recorded ops, which a replay would not do"


class _Reasons:
    """What a compiled function or module says about its calls (through its `_compiled`)."""

    @property
    def eager_reasons(self):
        """Why some calls ran eagerly (each reason once); empty when every call was captured or replayed."""
        return list(self._compiled.eager_reasons)

    @property
    def cudagraph_reasons(self):
        """Why programs on CUDA replay without a CUDA graph though graphs were asked for (each reason once)."""
        return list(self._compiled.graph_reasons)


class CompiledFunction(_Reasons):
    """tl.compile of a function: call it as the function (its name and docstring are the function's)."""

    def __init__(self, fn, fullgraph, graphs=False, fused=True):
        self._compiled = _Compiled(fn, None, fullgraph, graphs, fused)
        functools.update_wrapper(self, fn)

    def __call__(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    def __get__(self, obj, objtype=None):
        """A compiled method (`@tl.compile` on a module's forward): bound to its instance, which joins the
        signature as a module does (submodules, modes, parameter identities)."""
        return self if obj is None else functools.partial(self, obj)


class CompiledModule(_Reasons):
    """tl.compile of an nn.Module: calling it runs the compiled forward; everything else (parameters(),
    state_dict(), train(), eval(), to(), attributes) is the module's own, `_orig_mod` is the module itself,
    and methods that return the module return this wrapper instead, as torch's OptimizedModule does. The
    state_dict keys are the module's (torch's gain an `_orig_mod.` prefix)."""

    def __init__(self, module, fullgraph, graphs=False, fused=True):
        object.__setattr__(self, "_orig_mod", module)
        object.__setattr__(self, "_compiled", _Compiled(module, module, fullgraph, graphs, fused))

    def __call__(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    def forward(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    def __getattr__(self, name):
        value = getattr(self._orig_mod, name)
        if callable(value) and getattr(value, "__self__", None) is self._orig_mod:
            return self._returning_self(value)
        return value

    def _returning_self(self, method):
        @functools.wraps(method)
        def call(*args, **kwargs):
            out = method(*args, **kwargs)
            return self if out is self._orig_mod else out

        return call

    def __setattr__(self, name, value):
        setattr(self._orig_mod, name, value)

    def __delattr__(self, name):
        delattr(self._orig_mod, name)

    def __getitem__(self, index):  # Sequential, ModuleList: special methods bypass __getattr__
        return self._orig_mod[index]

    def __len__(self):
        return len(self._orig_mod)

    def __iter__(self):
        return iter(self._orig_mod)

    def __dir__(self):
        return sorted(set(dir(self._orig_mod)) | {"_orig_mod", "eager_reasons", "cudagraph_reasons"})

    def __repr__(self):
        return f"CompiledModule({self._orig_mod!r})"


def _check(fullgraph, dynamic, backend, mode, options, disable):
    """torch.compile's argument errors (compared by type first: a tensor given by mistake has no truth value)."""
    for name, value in (("fullgraph", fullgraph), ("disable", disable)):
        if not isinstance(value, bool):
            raise TypeError(f"tl.compile: {name} must be a bool, got {type(value).__name__}")
    if dynamic is not None and not isinstance(dynamic, bool):
        raise TypeError(f"tl.compile: dynamic must be None, True or False, got {type(dynamic).__name__}")
    if not callable(backend) and not (isinstance(backend, str) and backend in _BACKENDS):
        raise ValueError(f"tl.compile: unknown backend {backend!r}; expected one of {_BACKENDS} or a callable")
    if mode is not None and not (isinstance(mode, str) and mode in _MODES):
        raise RuntimeError(f"tl.compile: unrecognized mode {mode!r}; expected one of {_MODES[1:]}")
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"tl.compile: options must be a dict, got {type(options).__name__}")
    if mode is not None and options is not None:
        raise RuntimeError("tl.compile: either mode or options can be specified, but both can't be specified at "
                           "the same time")


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,
            disable=False):
    """torch.compile: a function or an nn.Module captured once per input signature and replayed without
    Python dispatch (see this module's doc for what runs eagerly and why). Used bare, as `@tl.compile`, or
    as `@tl.compile(mode=...)`. disable=True returns `model` itself. A function wraps into a
    CompiledFunction, a module into a CompiledModule (its `_orig_mod` is the module); `.eager_reasons` on
    either lists why calls ran eagerly."""
    _check(fullgraph, dynamic, backend, mode, options, disable)
    if model is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                                 options=options, disable=disable)
    if not callable(model):
        raise TypeError(f"tl.compile: expected a function or an nn.Module, got {type(model).__name__}")
    if disable:
        return model
    options = options or {}
    graphs = mode == "reduce-overhead" or backend == "cudagraphs" or bool(options.get("triton.cudagraphs"))
    # torch's other backends run the traced ops as they are, so ours do too; see the module doc for the default
    fused = backend == "inductor" and bool(options.get("epilogue_fusion", False))
    if isinstance(model, nn.Module):
        return CompiledModule(model, fullgraph, graphs, fused)
    return CompiledFunction(model, fullgraph, graphs, fused)
