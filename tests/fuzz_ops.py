"""An attacker's fuzzer over every public op: hostile shapes, dims, dtypes, values, argument kinds and views.

Every call must return or raise a typed error (SPEC §6): a crash, a hang, an untyped exception (AttributeError,
KeyError, ...) or a message that leaks internals (a pybind11 cast message, `_a`, "truth value ... ambiguous")
is a failure. Calls are generated from (seed, index) alone, so any one of them can be replayed:

    python tests/fuzz_ops.py --seed S --calls N          # a batch; prints a JSON summary
    python tests/fuzz_ops.py --seed S --replay I         # prints and runs call I of that batch
    python tests/fuzz_ops.py --seed S --calls N --ops 'linalg|distributions'   # only the ops whose names match
                                                                                (replay with the same --ops)

With --progress FD the batch writes each call's index to that file descriptor before making it, so a parent
process can name the call that crashed or hung (tests/test_fuzz_ops.py runs batches that way)."""
import argparse
import decimal
import fractions
import inspect
import json
import os
import re
import resource
import subprocess
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

import tensorlogic as tl
import tensorlogic.distributions as D
import tensorlogic.nn.functional as F
from tensorlogic import _argcheck
from tensorlogic.nn.utils.rnn import PackedSequence, pack_padded_sequence

# Sizes: small ones that make valid tensors, and extremes beyond any memory, alone or multiplied (never sizes a machine could
# actually allocate and fill for minutes).
SMALL = [0, 1, 1, 2, 2, 3, 4, 5]
# 2^61 and 2^62 + 1 pair with 2^62 as a kernel's half and a stride past it (a 2^62 pool kernel with 2^61 padding hung;
# a stride and padding of 2^62 + 1 wrapped a ceil division).
EXTREME = [-(2**63), -(2**63) - 1, -(2**31), -10, -1, 2**45, 2**61, 2**62, 2**62 + 1, 2**63 - 1, 2**63, 2**64, 10**30]
SPECIAL_FLOATS = [0.0, -0.0, 1.0, -1.5, 65504.0, 65520.0, 1e5, -1e30, 1e-8, float("inf"), float("-inf"), float("nan")]
DTYPES = [d for d in (getattr(tl, n, None) for n in ("float16", "int32", "int64", "bool")) if isinstance(d, tl.dtype)]
DEVICES = tl.available_devices()  # tensors are moved among them now and then (mixed devices in one call)
# Calls that change process-wide state or touch files are not fuzzed here (tl.save/tl.load have their own).
SKIP = {"save", "load", "set_default_device", "manual_seed", "available_devices", "get_default_device",
        "register_hook", "backward", "from_dlpack", "cuda", "share_memory_", "set_default_tensor_type",
        "use_deterministic_algorithms", "set_deterministic_debug_mode", "set_float32_matmul_precision"}


# The namespaces whose public functions are fuzzed, by the prefix a call is shown with, and the names fuzzed: every
# public one (None), or the module's __all__ where the module also holds helpers it imported.
NAMESPACES = {"tl.": (tl, None), "F.": (F, None), "tl.fused.": (tl.fused, None),
              "tl.linalg.": (tl.linalg, tl.linalg.__all__),
              "tl.nn.utils.rnn.": (tl.nn.utils.rnn, tl.nn.utils.rnn.__all__),
              "tl.distributions.": (D, D.__all__)}
DISTRIBUTIONS = [c for c in vars(D).values() if isinstance(c, type) and issubclass(c, D.Distribution)
                 and c is not D.Distribution]
# Classes attacked through a member: an instance built from the call's constructor arguments, then the member called
# with the rest (or read, for a property). None: every public member (and the parameters a distribution exposes).
TRANSFORMS = [getattr(D.transforms, n) for n in D.transforms.__all__
              if isinstance(getattr(D.transforms, n), type) and n != "Transform"]
CLASSES = {**{c: None for c in DISTRIBUTIONS + TRANSFORMS},
           **{cls: ("forward",) for cls in (tl.nn.RNN, tl.nn.LSTM, tl.nn.GRU, tl.nn.RNNCell, tl.nn.LSTMCell,
                                            tl.nn.GRUCell)}}
# Tensor's special methods that take user input of every kind (indexing), fuzzed as its public methods are.
SPECIAL_METHODS = ("__getitem__", "__setitem__")


def _members(cls, members):
    if members is not None:
        return members
    # (set_default_validate_args changes every later distribution: process-wide state, as SKIP's calls)
    # (a transform's with_cache takes the constructor's cache_size again: it is fuzzed through the constructor)
    names = {n for n in dir(cls) if not n.startswith("_")} - {"arg_constraints", "has_rsample", "with_cache",
                                                              "has_enumerate_support", "set_default_validate_args"}
    return sorted(names | set(getattr(cls, "arg_constraints", {})))


def _member_op(cls, member):
    """(function, signature) of `member` of a cls built in the same call: the constructor's parameters come first,
    the member's are keyword-only (a property has none)."""
    ctor = [p for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self"]
    attr = inspect.getattr_static(cls, member, None)
    is_method = inspect.isfunction(attr)
    own = [p.replace(kind=p.KEYWORD_ONLY) for p in inspect.signature(attr).parameters.values()
           if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)] if is_method else []
    ctor_names = {p.name for p in ctor}
    assert not ctor_names & {p.name for p in own}, f"{cls.__name__}.{member}: a parameter named twice"

    def call(*args, **kwargs):
        member_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k not in ctor_names}
        value = getattr(cls(*args, **kwargs), member)
        return value(**member_kwargs) if is_method else value

    return call, inspect.Signature(ctor + own)


def public_ops(pattern=None):
    """(name, callable, signature, is_method) for every public op of NAMESPACES and Tensor, and the members of
    CLASSES; only those whose shown name the regular expression `pattern` matches (re.search) when given."""
    ops = []
    for prefix, (namespace, names) in NAMESPACES.items():
        for name, value in sorted(vars(namespace).items()):
            fn = getattr(value, "__wrapped__", value)
            if names is not None and name not in names:
                continue
            if name.startswith("_") or name in SKIP or not inspect.isfunction(fn):
                continue
            ops.append((prefix + name, value, inspect.signature(fn), False))
    for name, value in sorted(vars(tl.Tensor).items()):
        fn = getattr(value, "__wrapped__", value)
        if (name.startswith("_") and name not in SPECIAL_METHODS) or name in SKIP or not inspect.isfunction(fn):
            continue
        ops.append(("Tensor." + name, value, inspect.signature(fn), True))
    for cls, members in CLASSES.items():
        prefix = "tl.distributions." if issubclass(cls, (D.Distribution, D.Transform)) else "tl.nn."
        for member in _members(cls, members):
            ops.append((f"{prefix}{cls.__name__}.{member}", *_member_op(cls, member), False))
    return [op for op in ops if pattern is None or re.search(pattern, op[0])]


# Kinds the fuzzer gives parameters that the argument checks (_argcheck) do not know, or know by another meaning,
# keyed by (op, parameter) or by the parameter's name alone (op: the last part of the op's shown name).
FUZZ_KINDS = {
    "sample_shape": "shape", "reinterpreted_batch_ndims": "int", "base_distribution": "distribution",
    ("kl_divergence", "p"): "distribution", ("kl_divergence", "q"): "distribution", "probs": "tensor",
    **{(op, "value"): "tensor_or_number" for op in ("log_prob", "cdf", "icdf", "__setitem__")},
    "lengths": "lengths", "sequence": "packed", "sequences": "tensors", "total_length": "int",
    ("forward", "input"): "sequence_input", "hx": "hx", "input_size": "int", "hidden_size": "int",
    "num_layers": "int", ("__getitem__", "key"): "index", ("__setitem__", "key"): "index",
    "scale_factor": "scale_factor", "ord": "ord", "dimension": "dim",
}
ORDS = [2, 1, -1, 0, 0.5, -0.5, 3, -2, float("inf"), float("-inf"), float("nan"), "fro", "nuc", "x", None, True,
        2**70, 1e30]


class IntLike:
    """An object with __index__ (not an int): PyTorch takes it as a size, a dim and an index."""

    def __init__(self, value):
        self.value = value

    def __index__(self):
        return self.value

    def __repr__(self):
        return f"IntLike({self.value})"


class Maker:
    """Random arguments, mostly of the kind each parameter takes, often hostile."""

    def __init__(self, rng):
        self.rng = rng

    def pick(self, items):
        return items[int(self.rng.integers(0, len(items)))]

    def chance(self, p):
        return self.rng.random() < p

    def shape(self):
        return tuple(self.pick(SMALL) for _ in range(int(self.rng.integers(0, 5))))

    def tensor(self, shape=None):
        shape = self.shape() if shape is None else shape
        dtype = self.pick(DTYPES)
        if dtype.name == "float16":
            values = self.rng.standard_normal(shape) * self.pick([1.0, 3.0, 100.0])
            if values.size and self.chance(0.3):
                flat = values.reshape(-1)
                flat[self.rng.integers(0, flat.size)] = self.pick(SPECIAL_FLOATS[:5] + SPECIAL_FLOATS[9:])
            t = tl.tensor(values.astype(np.float16))
        elif dtype.name == "bool":
            t = tl.tensor(self.rng.random(shape) < 0.5, dtype=dtype)
        else:
            t = tl.tensor(self.rng.integers(-3, 6, shape), dtype=dtype)
        return self.view(t)

    def view(self, t):
        """The same values through a view: strided, transposed, expanded (stride 0) or offset."""
        layout = self.pick(["plain", "plain", "strided", "transposed", "expanded", "offset"])
        if layout == "strided" and t.ndim:
            wide = tl.cat([t, t], dim=-1) if t.shape[-1] else t
            return wide[..., ::2] if t.shape[-1] else t
        if layout == "transposed" and t.ndim >= 2:
            return t.transpose(0, -1).contiguous().transpose(0, -1)
        if layout == "expanded" and t.ndim and t.numel() and t.shape[0] == 1:
            return t.expand(3, *t.shape[1:])
        if layout == "offset" and t.ndim and t.shape[0] > 1:
            return t[1:]
        if len(DEVICES) > 1 and self.chance(0.1):
            t = t.to(self.pick(DEVICES))
        if self.chance(0.1) and t.dtype.name == "float16":
            return t.requires_grad_()
        return t

    def hostile(self):
        """A value of any kind, chosen to break assumptions: among them numbers the kernels do not take (Fraction,
        Decimal), an int-like object, and numpy data of odd byte order, strides or bool bytes."""
        choice = int(self.rng.integers(0, 21))
        return [
            lambda: None, lambda: "x", lambda: "é∑", lambda: b"\x00", lambda: object(), lambda: 1 + 2j,
            lambda: self.pick(EXTREME), lambda: self.pick(SPECIAL_FLOATS), lambda: True,
            lambda: [self.pick(EXTREME), 1], lambda: [[1], [1, 2]], lambda: (self.tensor(), 1),
            lambda: np.zeros((2, 3), np.float64), lambda: self.tensor(()),
            lambda: tl.tensor([1.0, 2.0]), lambda: [], lambda: fractions.Fraction(1, 3), lambda: decimal.Decimal("2.5"),
            lambda: IntLike(int(self.rng.integers(-3, 4))), lambda: np.arange(6, dtype=">f4")[::-2],
            lambda: np.frombuffer(bytes([0, 1, 2, 255]), dtype=np.bool_),
        ][choice]()

    def value(self, op, param):
        if self.chance(0.15):
            return self.hostile()
        last = op.split(".")[-1]
        kind = FUZZ_KINDS.get((last, param.name), FUZZ_KINDS.get(param.name))
        kind = (kind, param.default is None) if kind else _argcheck._kind(last, param)
        if kind is None:
            return self.pick([self.tensor(), self.pick(SMALL), None, self.pick(SPECIAL_FLOATS)])
        if kind == "varshape":
            return tuple(self.pick(SMALL + EXTREME[:3]) for _ in range(int(self.rng.integers(0, 4))))
        if kind == "vartensors":
            return tuple(self.tensor() for _ in range(int(self.rng.integers(0, 4))))
        kind, optional = kind
        if optional and self.chance(0.3):
            return None
        if kind in ("tensor", "tensor_or_number"):
            return self.tensor() if kind == "tensor" or self.chance(0.7) else self.pick(SPECIAL_FLOATS + [2, -1])
        if kind == "tensors":
            return [self.tensor() for _ in range(int(self.rng.integers(0, 4)))]
        if kind in ("int", "dim", "dims"):
            if kind == "dims" and self.chance(0.3):
                return tuple(int(self.rng.integers(-4, 4)) for _ in range(int(self.rng.integers(0, 3))))
            return int(self.rng.integers(-4, 5)) if self.chance(0.85) else self.pick(EXTREME)
        if kind in ("shape", "size"):
            sizes = [self.pick(SMALL) if self.chance(0.9) else self.pick(EXTREME) for _ in range(int(self.rng.integers(0, 4)))]
            return sizes[0] if len(sizes) == 1 and self.chance(0.5) else tuple(sizes)
        if kind == "bool":
            return self.chance(0.5)
        if kind == "number":
            return self.pick(SPECIAL_FLOATS + [0.5, 2, 1e-5])
        if kind == "str":
            return self.pick(["mean", "sum", "none", "tanh", "relu", "gelu", "constant", "reflect", "floor", "trunc",
                              "ij,jk->ik", "i,i->", "ii->i", "...i->i", "a", "", "bicubic", "bilinear", "nearest",
                              "linear", "trilinear", "nearest-exact", "area", "fro", "nuc", "left", "right"])
        if kind == "dtype":
            return self.pick(DTYPES + ["float16", "int32", "float64", "complex"])
        if kind in self.BUILDERS:
            try:  # a builder that fails (a hostile shape met a real constructor) gives a hostile value instead
                return self.BUILDERS[kind](self)
            except Exception:  # noqa: BLE001
                return self.hostile()
        return self.hostile()

    def lengths(self):
        """Sequence lengths: sorted or not, 0, negative, beyond the steps, floats, NaN, as a list or a tensor."""
        values = [int(self.rng.integers(-1, 6)) for _ in range(int(self.rng.integers(0, 5)))]
        if self.chance(0.5):
            values.sort(reverse=True)
        form = self.pick(["list", "list", "tensor", "floats", "nan", "extreme", "2d", "int"])
        if form == "tensor":
            return tl.tensor(values, dtype=self.pick(DTYPES))
        if form == "floats":
            return [v + 0.5 for v in values]
        if form == "nan" and values:
            return [float("nan")] + values[1:]
        if form == "extreme" and values:
            return [self.pick(EXTREME)] + values[1:]
        if form == "2d":
            return tl.tensor([values], dtype=tl.int64)
        if form == "int":
            return self.pick(SMALL)
        return values

    def packed(self):
        """A PackedSequence: a real packing of a padded batch, or one assembled by hand from hostile parts."""
        if self.chance(0.5):
            steps, batch = self.pick([1, 2, 3, 4]), self.pick([1, 2, 3])
            data = self.tensor((steps, batch) + self.shape()[:1])
            lengths = [int(self.rng.integers(1, steps + 1)) for _ in range(batch)]
            return pack_padded_sequence(data, lengths, enforce_sorted=self.chance(0.2))
        sizes = self.pick([[2, 1], [2, 2], [1, 2], [], [3, -1], [2**40, 1], [2.0, 1.0], [0]])
        batch_sizes = tl.tensor(sizes, dtype=tl.float16 if any(isinstance(v, float) for v in sizes) else tl.int64)
        order = self.pick([None, None, [1, 0], [0, 0], [5, 0], [0.0, 1.0], [0]])
        indices = None if order is None else tl.tensor(order)
        return PackedSequence(self.tensor(), self.pick([batch_sizes, batch_sizes, sizes, None]), indices,
                              self.pick([None, indices]))

    def distribution(self):
        """An instance of a distribution of random class and parameters."""
        cls = self.pick(DISTRIBUTIONS)
        params = [p for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self"]
        return cls(**{p.name: self.value(cls.__name__, p) for p in params if p.default is inspect.Parameter.empty
                      or self.chance(0.3)})

    def index(self):
        """A key for t[key]: ints, slices and ranges with hostile bounds and steps, None, Ellipsis, lists (ragged,
        of floats or bools), index and mask tensors, numpy arrays, alone or in a tuple."""
        def item():
            return self.pick([
                lambda: int(self.rng.integers(-4, 5)), lambda: self.pick(EXTREME), lambda: None, lambda: Ellipsis,
                lambda: slice(*(self.pick([None, 0, 1, -1, 2, 0.5, 2**63, -(2**64), "a"]) for _ in range(3))),
                lambda: range(*(self.pick([0, 1, -1, 3, -5, 10, 2**62, 2**70])
                                for _ in range(int(self.rng.integers(1, 4))))),
                lambda: [int(self.rng.integers(-3, 4)) for _ in range(int(self.rng.integers(0, 4)))],
                lambda: [1, [2]], lambda: [1.5, 2], lambda: [True, False], lambda: self.tensor(),
                lambda: tl.tensor(self.rng.integers(-3, 4, int(self.rng.integers(0, 4)))),
                lambda: np.array([1, 2]), lambda: np.array([0.5]), lambda: True, lambda: self.hostile(),
            ])()
        if self.chance(0.4):
            return item()
        return tuple(item() for _ in range(int(self.rng.integers(0, 4))))

    def hx(self):
        """A recurrent layer's initial state: None, a tensor, or a tuple of one to three tensors."""
        count = int(self.rng.integers(0, 4))
        return self.tensor() if count == 0 else tuple(self.tensor() for _ in range(count))

    BUILDERS = {
        "lengths": lengths, "packed": packed, "distribution": distribution, "index": index, "hx": hx,
        "sequence_input": lambda self: self.packed() if self.chance(0.5) else self.tensor(),
        "scale_factor": lambda self: (self.pick([0.5, 2, 2.5, 1e-10, 2**40, -2.0, float("nan"), float("inf")])
                                      if self.chance(0.7) else tuple(self.pick([0.5, 2, 3.0]) for _ in range(
                                          int(self.rng.integers(0, 4))))),
        "ord": lambda self: self.pick(ORDS),
    }


def make_call(ops, seed, index):
    """The (op name, function, args, kwargs) of call `index` of batch `seed` (deterministic)."""
    rng = np.random.default_rng([seed, index])
    name, fn, signature, is_method = ops[int(rng.integers(0, len(ops)))]
    maker = Maker(rng)
    args, kwargs = [], {}
    takes_keywords = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    for param in signature.parameters.values():
        if param.kind is param.VAR_KEYWORD:
            if maker.chance(0.05):
                kwargs["bogus"] = maker.hostile()  # a keyword the op does not take
            continue
        if param.kind is param.VAR_POSITIONAL:
            value = maker.value(name, param)
            if takes_keywords and maker.chance(0.3):
                kwargs[param.name] = value  # torch.zeros(size=(2, 3)): the varargs by their name
            else:
                args.extend(value if isinstance(value, tuple) else [value])
            continue
        required = param.default is inspect.Parameter.empty
        if not required and maker.chance(0.5):
            continue  # left at its default
        value = maker.tensor() if is_method and not args and param.name in ("self", "input", "tensor") else maker.value(name, param)
        if param.kind is param.KEYWORD_ONLY or (not required and maker.chance(0.3)):
            kwargs[param.name] = value
        else:
            args.append(value)
    if maker.chance(0.03):
        args.append(maker.hostile())  # one argument too many
    if is_method and args and not isinstance(args[0], tl.Tensor):
        args[0] = maker.tensor()
    return name, fn, args, kwargs


LEAKS = ("incompatible function arguments", "_core.", "'_a'", "truth value", "object has no attribute")
UNTYPED = (AttributeError, KeyError, UnicodeError, AssertionError, NameError, RecursionError, SystemError,
           ZeroDivisionError, StopIteration)


def classify(error):
    """None for a typed error a user can act on; else why it is not one."""
    if isinstance(error, UNTYPED) or not isinstance(error, Exception):
        return f"untyped {type(error).__name__}"
    text = str(error)
    leak = next((marker for marker in LEAKS if marker in text), None)
    return f"leaks internals ({leak!r})" if leak else None


def tally(counts, problems, index, call, shown, invariants=False):
    """Runs call() and counts how it ended: returned, a typed error, or a problem (an untyped or leaking error;
    with `invariants`, an AssertionError the call raised about its own result or state) recorded with shown()."""
    counts["calls"] += 1
    try:
        call()
        counts["returned"] += 1
        return
    except AssertionError as error:
        if not invariants:
            why, caught = classify(error), error
        else:
            why, caught = "wrong result or state", error
    except BaseException as error:  # noqa: B902 (KeyboardInterrupt and SystemExit are failures too)
        if isinstance(error, KeyboardInterrupt):
            raise
        why, caught = classify(error), error
    if why is None:
        counts["typed"] += 1
    else:
        text = str(caught)[:300] if why == "wrong result or state" else f"{type(caught).__name__}: {str(caught)[:300]}"
        problems.append({"index": index, "call": shown(), "why": why, "error": text})


def describe(name, args, kwargs):
    def show(v):
        if isinstance(v, tl.Tensor):
            return f"Tensor(shape={tuple(v.shape)}, dtype={v.dtype.name}, stride={v.stride()}, requires_grad={v.requires_grad})"
        if isinstance(v, (list, tuple)):
            inner = ", ".join(show(x) for x in v)
            return f"[{inner}]" if isinstance(v, list) else f"({inner}{',' if len(v) == 1 else ''})"
        return repr(v)[:80]

    return f"{name}({', '.join([show(a) for a in args] + [f'{k}={show(v)}' for k, v in kwargs.items()])})"


def _settings():
    """The process-wide settings a fuzzed setter may change (set_default_dtype, set_num_threads, set_printoptions)."""
    return tl.get_default_dtype(), tl.get_num_threads(), tl.get_printoptions()


def _restore(settings):
    """Puts the settings back after each call, so that a call behaves as it does when replayed alone (and a
    thread count of thousands set by one call cannot slow every later one)."""
    dtype, threads, printoptions = settings
    if _settings() != settings:
        tl.set_default_dtype(dtype)
        tl.set_num_threads(threads)
        tl.set_printoptions(**printoptions)


def run_batch(seed, calls, progress_fd=None, pattern=None):
    ops = public_ops(pattern)
    counts = {"calls": 0, "returned": 0, "typed": 0}
    problems = []
    settings = _settings()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for index in reported(calls, progress_fd):
            name, fn, args, kwargs = make_call(ops, seed, index)
            tally(counts, problems, index, lambda: fn(*args, **kwargs), lambda: describe(name, args, kwargs))
            _restore(settings)
    counts["ops"] = len(ops)
    counts["problems"] = problems
    return counts


def reported(calls, progress_fd):
    """The indices 0..calls-1, each written to `progress_fd` (run_in_subprocess's progress pipe, or None) before its
    call runs: a batch that crashes or hangs names the call it was in."""
    for index in range(calls):
        if progress_fd is not None:
            os.write(progress_fd, f"{index}\n".encode())
        yield index


def limit_memory(extra=3 << 30):
    """Caps the address space at what the process holds now plus `extra`: a legal but huge request (arange(0, 5,
    1e-8) builds 4 GB on the host) fails as MemoryError at once instead of filling the memory of a CI machine that
    runs two batches together. Without /proc (macOS) or the right to set it, no cap."""
    try:
        with open("/proc/self/status") as status:
            size_kb = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
        resource.setrlimit(resource.RLIMIT_AS, (size_kb * 1024 + extra, resource.getrlimit(resource.RLIMIT_AS)[1]))
    except (OSError, ValueError, StopIteration):
        pass


def run_in_subprocess(script, seed, calls, progress_path, timeout_s):
    """(summary, failure) of one batch of a fuzzer script (this one, fuzz_autograd.py) run in a subprocess: its JSON
    summary, or why it ended without one (a crash or a hang, with the command that replays the last call)."""
    with open(progress_path, "wb") as progress:
        command = [sys.executable, str(script), "--seed", str(seed), "--calls", str(calls),
                   "--progress", str(progress.fileno())]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s,
                                  pass_fds=(progress.fileno(),))
        except subprocess.TimeoutExpired:
            done = None
    lines = Path(progress_path).read_text().split()
    last = lines[-1] if lines else "0"
    shown = script.relative_to(Path.cwd()) if script.is_relative_to(Path.cwd()) else script
    replay = f"python {shown} --seed {seed} --replay {last}"
    if done is None:
        return None, f"hang: call {last} of batch {seed} ran past {timeout_s} s; replay: {replay}"
    if done.returncode != 0:
        return None, (f"crash (exit {done.returncode}) at call {last} of batch {seed}; replay: {replay}\n"
                      f"{done.stderr[-2000:]}")
    return json.loads(done.stdout.splitlines()[-1]), None


def run_batches(script, calls, batch, tmp_path, timeout_s, label):
    """Runs `calls` calls of a fuzzer script in batches of `batch`, two subprocesses at a time with fresh seeds;
    returns (summaries, failures): each batch's JSON summary (None after a crash or a hang) and a line per crash,
    hang or problem the script reported (`label` names a problem's case: "call" or "case"), with its replay."""
    seed = int(time.time() * 1000) % 2**31
    batches = [(seed + i, min(batch, calls - i * batch), tmp_path / f"progress{i}") for i in range(-(-calls // batch))]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda b: run_in_subprocess(script, *b, timeout_s), batches))
    failures = [failure for _, failure in results if failure]
    for (batch_seed, _, _), (summary, _) in zip(batches, results):
        for problem in (summary or {}).get("problems", []):
            failures.append(f"{problem['why']}: {problem[label]} -> {problem['error']}; "
                            f"replay: python tests/{script.name} --seed {batch_seed} --replay {problem['index']}")
    return [summary for summary, _ in results], failures


def fuzzer_main(doc, run_batch, replay, calls=1000, unit="call", options=()):
    """The command line every fuzzer script shares: --seed S [--calls N] runs a batch and prints run_batch(args)'s
    JSON summary; --replay I prints and runs that one call (replay(args)); --progress FD receives each call's index
    (run_in_subprocess). options: more (flag, add_argument keywords). Memory is limited first (limit_memory)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--calls", type=int, default=calls)
    parser.add_argument("--replay", type=int)
    parser.add_argument("--progress", type=int, help=f"a file descriptor for the index of each {unit}")
    for flag, keywords in options:
        parser.add_argument(flag, **keywords)
    args = parser.parse_args()
    limit_memory()
    if args.replay is not None:
        replay(args)
    else:
        print(json.dumps(run_batch(args)))
    return 0


def _replay(args):
    name, fn, call_args, kwargs = make_call(public_ops(args.ops), args.seed, args.replay)
    print(describe(name, call_args, kwargs), flush=True)
    fn(*call_args, **kwargs)


if __name__ == "__main__":
    sys.exit(fuzzer_main(__doc__, lambda a: run_batch(a.seed, a.calls, a.progress, a.ops), _replay, options=[
        ("--ops", {"help": "a regular expression: only the ops whose names it matches"})]))
