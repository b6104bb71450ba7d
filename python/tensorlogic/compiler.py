"""tl.compile (torch.compile's signature): captures a function or an nn.Module once per input signature and
replays the recorded ops afterwards, or runs eagerly and says why once (a CompileWarning naming the reason).

Capture reuses tl.coreml.export's tracer (coreml/trace.py `capture`: autograd appends every recorded
application to `mode.trace`). A call with a new signature (the shapes, strides, dtypes and devices of its
tensor arguments, its other arguments' values, and for a module each submodule's train/eval mode, its plain
scalar attributes and the identity of its parameters and buffers) runs the function under the tracer on the
caller's inputs (that result is returned), then once more on independent inputs of the same shapes; the
two recordings must agree op for op and constant for constant, as export's check does. Later calls with
that signature replay the program: each op's `Function.forward` (its native `_core` call and the wrap of
the result) in the recorded order, with no Tensor-level Python dispatch, no argument checks and no autograd
bookkeeping. Parameters and buffers are
read when the program runs, so optimizer steps and load_state_dict are seen; tensors made during the call
that do not depend on the inputs (an arange, a causal mask) are baked in.

What runs eagerly, with the reason given once:
- calls with grad enabled where some input or parameter requires grad (training steps): replay does not
  build the backward graph, so such calls run the original function, which trains exactly as eager does;
- modules with a submodule in training mode (dropout's masks, batch norm's running statistics are state
  that replay would not reproduce);
- functions that read a tensor's value on the host (.item(), bool(t), float(t), .tolist(), .numpy()), since
  Python control flow may depend on it;
- functions whose recorded ops or constants change with the input values (a comparison mask, an integer op,
  randomness outside the ops, data-dependent control flow), found by the second capture;
- functions that modify a tensor in place after an op read it, return something other than tensors (or a
  tuple/list of tensors and None), or take arguments other than tensors, plain scalars and modules;
- signatures beyond the recompile limit (8, like torch's), and functions that raise during capture.
A capture runs the function twice (the call itself, then the check on other values): side effects outside
tensor ops (printing, appending to lists) happen twice then and never during replays, and a function that
draws random numbers draws them twice; a function found to read host values returns its capture's result
under no_grad. Rebinding a global or closure variable of a plain function to another tensor is not seen by
its replay, and a plain function that updates tensors in place outside recorded ops (F.batch_norm with
training=True and running statistics) updates them once more during its check. `dynamic`, `backend`, `mode`
and `options` are accepted for compatibility (shapes are always specialised, one program per signature);
the native core has no stream capture, so there is no CUDA-graph replay. With fullgraph=True a function that
cannot be captured raises CompileError instead of running eagerly. `@tl.compile` on a module's forward
method works too: the instance joins the signature like a compiled module."""
import functools
import threading
import warnings

import numpy as np

from . import _core, nn
from .autograd.function import _NULL, Node, _Output
from .autograd.grad_mode import grad_enabled
from .coreml.trace import _independent, _same, capture
from .creation import tensor
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
class _Recorder(list):
    """mode.trace's list: keeps the capturing thread's applications (mode.trace is process-wide) and notes
    each tensor argument's in-place version when the op read it."""

    def __init__(self):
        super().__init__()
        self.thread = threading.get_ident()

    def append(self, record):
        if threading.get_ident() != self.thread:
            return
        node, args, kwargs, out = record
        versions = [a._version if isinstance(a, Tensor) else None for a in args]
        super().append((node, args, kwargs, out, versions))


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


def _key(t):
    return _node_key(t.grad_fn) if t.grad_fn is not None else id(t)


def _node_key(node):
    """The slot key of the value a Node stands for: one output of a multi_output op (split) is its parent's
    output number `index`."""
    return ("node", id(node.parent), node.index) if node.fn is _Output else ("node", id(node))


class _Program:
    """The replayable form of one capture. steps: (forward, args with the computed tensors as None, kwargs,
    ((argument position, slot, whether the op takes the native array), ...), first result slot); slots
    0.. are the inputs, then each op's results."""

    __slots__ = ("steps", "n_slots", "outputs", "out_type", "constants", "read")

    def needs_grad(self):
        """Whether a tensor it reads requires grad now (a frozen parameter may have been unfrozen)."""
        return any(c.requires_grad for c in self.read)


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
    with _CAPTURING, _HostReads() as reads:
        out, records = capture(fn, call_args, call_kwargs, _Recorder())
    called = _as_called(out, leaves, inputs)
    if reads.count:
        raise _Eager("it reads a tensor's value on the host (.item(), bool(), float(), .tolist() or .numpy()), so "
                     "its Python control flow may depend on the input values", called)
    slots = {id(x): i for i, x in enumerate(leaves)}
    arrays = {id(x._a): i for i, x in enumerate(leaves)}
    n = len(leaves)
    prog = _Program()
    prog.steps, prog.constants = [], []
    for node, rargs, rkwargs, result, versions in records:
        refs, const = [], []
        for i, a in enumerate(rargs):
            if not isinstance(a, Tensor):
                if id(a) in arrays:  # a native array of a computed tensor (integer indices are passed so)
                    refs.append((i, arrays[id(a)], True))
                continue
            edge = node.next[i]  # the producer of the value this op read (a later in-place op may move a.grad_fn)
            key = _node_key(edge) if isinstance(edge, Node) else id(edge) if edge is not None else id(a)
            if key in slots:
                refs.append((i, slots[key], False))
            elif a._version != versions[i]:
                raise _Eager(f"a tensor that {node.name} read is modified in place later in the call")
            else:
                const.append(a)
        for a in rkwargs.values():
            if isinstance(a, Tensor):
                if a.requires_grad or id(a) in slots:
                    raise _Eager(f"{node.name} takes a tensor computed from the inputs as a keyword argument")
                const.append(a)
        results = result if result.__class__ is tuple else (result,)
        slots[("node", id(node))] = n
        for j in range(len(results) if node.fn.multi_output else 0):
            slots[("node", id(node), j)] = n + j
        for j, r in enumerate(results):
            if not isinstance(r, Tensor):
                raise _Eager(f"{node.name} gives a {type(r).__name__}, not a tensor")
            slots[id(r)] = arrays[id(r._a)] = n + j
        stored = list(rargs)
        for i, _, _ in refs:
            stored[i] = None  # the replay fills it in; keeping the capture's tensor would keep it alive
        prog.steps.append((node.fn.forward, tuple(stored), rkwargs, tuple(refs), n))
        prog.constants.append(const)
        n += len(results)
    prog.n_slots = n
    outs = out if isinstance(out, (tuple, list)) else (out,)
    prog.out_type = type(out) if isinstance(out, (tuple, list)) else None
    prog.outputs = []
    for o in outs:
        if o is None:
            prog.outputs.append((None, None))
        elif not isinstance(o, Tensor):
            raise _Eager(f"it returns a {type(o).__name__} (only tensors, or tuples/lists of tensors and None)")
        elif _key(o) in slots:
            prog.outputs.append((slots[_key(o)], None))
        else:
            prog.outputs.append((None, o))  # does not depend on the inputs
    prog.read = list({id(c): c for cs in prog.constants for c in cs}.values())
    return called, prog


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


def _replay(prog, inputs):
    env = list(inputs)
    env.extend([None] * (prog.n_slots - len(env)))
    for forward, args, kwargs, refs, first in prog.steps:
        if refs:
            args = list(args)
            for i, s, raw in refs:
                args[i] = env[s]._a if raw else env[s]
        out = forward(_NULL, *args, **kwargs)
        if out.__class__ is tuple:
            env[first:first + len(out)] = out
        else:
            env[first] = out
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

    def __init__(self, fn, module, fullgraph):
        self.fn, self.module, self.fullgraph = fn, module, fullgraph
        self.cache = {}
        self.eager_reasons = []  # each reason once, in the order they were first met

    def _guard(self):
        if self.module is None:
            return ()
        parts = []
        _walk(self.module, parts)
        return tuple(parts)

    def _eager(self, reason, args, kwargs):
        self._note(reason)
        return self.fn(*args, **kwargs)

    def _note(self, reason):
        if reason not in self.eager_reasons:
            self.eager_reasons.append(reason)
            name = getattr(self.fn, "__qualname__", type(self.module or self.fn).__name__)
            warnings.warn(f"tl.compile: {name} runs eagerly: {reason}", CompileWarning, stacklevel=4)

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
        grad = grad_enabled() and any(t.requires_grad for t in tensors)
        entry = self.cache.get(key)
        if isinstance(entry, _Program):
            if grad_enabled() and (grad or entry.needs_grad()):
                return self._eager(_TRAINING, args, kwargs)
            return _replay(entry, tensors)
        if entry is not None:
            return self._eager(entry, args, kwargs)
        modules = [m for m in (self.module, *args, *kwargs.values()) if isinstance(m, nn.Module)]
        if grad or (grad_enabled() and any(p.requires_grad for m in modules for p in m.parameters())):
            return self._eager(_TRAINING, args, kwargs)
        if any(s.training for m in modules for s in m.modules()):
            return self._eager(_TRAIN_MODE, args, kwargs)
        if len(self.cache) >= RECOMPILE_LIMIT:
            return self._eager(f"a new input signature after {RECOMPILE_LIMIT} captures (the recompile limit)",
                               args, kwargs)
        return self._capture(key, tensors, args, kwargs)

    def _capture(self, key, tensors, args, kwargs):
        try:
            out, prog = _build(self.fn, tensors, args, kwargs)
        except _Eager as e:
            reason = self.cache[key] = self._refuse(e.args[0])
            if len(e.args) > 1 and not grad_enabled():  # the capture ran the whole call: its result is eager's
                self._note(reason)
                return _detached(e.args[1], tensors)
            return self._eager(reason, args, kwargs)
        except Exception as e:  # noqa: BLE001 - eager decides whether the call itself is an error
            reason = self.cache[key] = self._refuse(f"capture raised {type(e).__name__}: {e}")
            return self._eager(reason, args, kwargs)
        rng = np.random.default_rng(len(prog.steps))
        try:
            fresh = [_fresh(t, rng) for t in tensors]
        except _Eager as e:
            fresh, reason = None, e.args[0]
        try:
            if fresh is not None:
                _, again = _build(self.fn, fresh, args, kwargs)
                reason = _differs(prog, again)
        except _Eager as e:
            reason = e.args[0]
        except Exception as e:  # noqa: BLE001 - the first capture passed: a failure now means values steer it
            reason = (f"it fails on other inputs of the same shapes ({type(e).__name__}: {e}), so the ops it runs "
                      "depend on the input values")
        if reason is not None:
            self.cache[key] = self._refuse(reason)
            self._note(reason)
        else:
            self.cache[key] = prog
        if grad_enabled() and prog.needs_grad():
            return out  # a function of tensors it captured that require grad: the result keeps their graph
        return _detached(out, tensors)


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


_TRAINING = ("a call with grad enabled on inputs or parameters that require grad (a training step): replay does "
             "not build the backward graph, so these calls run the original function")
_TRAIN_MODE = ("a module in training mode (dropout draws random masks, batch norm updates its statistics): "
               "only modules in eval mode are replayed")


class CompiledFunction:
    """tl.compile of a function: call it as the function (its name and docstring are the function's)."""

    def __init__(self, fn, fullgraph):
        self._compiled = _Compiled(fn, None, fullgraph)
        functools.update_wrapper(self, fn)

    def __call__(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    def __get__(self, obj, objtype=None):
        """A compiled method (`@tl.compile` on a module's forward): bound to its instance, which joins the
        signature as a module does (submodules, modes, parameter identities)."""
        return self if obj is None else functools.partial(self, obj)

    @property
    def eager_reasons(self):
        """Why some calls ran eagerly (each reason once); empty when every call was captured or replayed."""
        return list(self._compiled.eager_reasons)


class CompiledModule:
    """tl.compile of an nn.Module: calling it runs the compiled forward; everything else (parameters(),
    state_dict(), train(), eval(), to(), attributes) is the module's own, `_orig_mod` is the module itself,
    and methods that return the module return this wrapper instead, as torch's OptimizedModule does. The
    state_dict keys are the module's (torch's gain an `_orig_mod.` prefix)."""

    def __init__(self, module, fullgraph):
        object.__setattr__(self, "_orig_mod", module)
        object.__setattr__(self, "_compiled", _Compiled(module, module, fullgraph))

    def __call__(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    def forward(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    @property
    def eager_reasons(self):
        """Why some calls ran eagerly (each reason once); empty when every call was captured or replayed."""
        return list(self._compiled.eager_reasons)

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
        return sorted(set(dir(self._orig_mod)) | {"_orig_mod", "eager_reasons"})

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
    if isinstance(model, nn.Module):
        return CompiledModule(model, fullgraph)
    return CompiledFunction(model, fullgraph)
