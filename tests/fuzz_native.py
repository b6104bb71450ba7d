"""An attacker's fuzzer of tensorlogic._core, the native module under the Python API: every callable it exports
(functions, classes and their methods) called with hostile arguments, in any number and order. _core is private,
so its argument errors may be pybind11's own messages; but no call may crash the process or hang (a str taken for
an autograd Node by _core.saved_tensors segfaulted until 2026-12-06).

    python tests/fuzz_native.py --seed S --calls N          # a batch; prints a JSON summary
    python tests/fuzz_native.py --seed S --replay I         # prints and runs call I of that batch"""
import copy
import pickle
import sys
import warnings

import numpy as np

import tensorlogic as tl
from fuzz_ops import fuzzer_main, reported
from tensorlogic import _core

# configure_* rewire the autograd engine and the Tensor class for the rest of the process (set-up calls made once at
# import); the settings below change the process's state, which later calls would then all see.
SKIPPED = ("configure", "set_default_device", "set_num_threads", "check_slot_writes")


def entry_points():
    """(name, callable) of every function and method _core exports, but the set-up calls; and pickle and copy,
    which reach the native classes' own construction (protocols 0 and 1 of pickle aborted the process)."""
    out = [("pickle.dumps", pickle.dumps), ("copy.copy", copy.copy), ("copy.deepcopy", copy.deepcopy)]
    for name in sorted(dir(_core)):
        value = getattr(_core, name)
        if name.startswith("__") or name.startswith(SKIPPED) or not callable(value):
            continue
        out.append((name, value))
        if isinstance(value, type):
            out += [(f"{name}.{m}", getattr(value, m)) for m in sorted(vars(value))
                    if not m.startswith("__") and callable(getattr(value, m, None))]
    return out


PLAUSIBLE = 12  # the first values of hostile_values()


def hostile_values():
    """Arguments of every kind the entry points take, and of kinds they do not (the first PLAUSIBLE: the kinds most
    take)."""
    grad_node = (tl.randn(2, requires_grad=True) * 2).grad_fn
    return [tl.randn(3, 4)._a, tl.randn(4)._a, tl.arange(6)._a, 0, 1, 2, -1, "float16", "cpu", [2, 3], True, 0.5,
            3, 2**31, -2**63, 2**64, 1e308, float("nan"), float("inf"), None, "", "int64", "bool", "cuda", "cuda:7",
            "sum", "max", b"x", object(), {}, [], (1,), [3, -1], [[0]], [2**40, 2**40], tl.randn(2, 3)[:, 1]._a,
            tl.zeros(0)._a, tl.ones(2, dtype=tl.bool)._a, tl.randn(2, 3), tl.randn(2, requires_grad=True), grad_node,
            np.zeros(3, np.float16), np.zeros((2, 0), np.int64), tl.nn.Linear(2, 2), _core.UnaryOp.sin]


def make_call(points, values, seed, index):
    rng = np.random.default_rng([seed, index])
    name, fn = points[int(rng.integers(0, len(points)))]
    # half the calls draw from the first values only (numbers, names, arrays: what most entry points take), so that
    # calls get past the argument checks to the native code behind them
    pool = len(values) if rng.random() < 0.5 else PLAUSIBLE
    args = [values[int(i)] for i in rng.integers(0, pool, int(rng.integers(0, 6)))]
    shown = f"_core.{name}({', '.join(type(a).__name__ for a in args)})"
    return shown, lambda: fn(*args)


def run_batch(seed, calls, progress_fd=None):
    points, values = entry_points(), hostile_values()
    counts = {"calls": 0, "returned": 0, "raised": 0, "entry_points": len(points), "problems": []}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for index in reported(calls, progress_fd):
            _, call = make_call(points, values, seed, index)
            counts["calls"] += 1
            try:
                call()
                counts["returned"] += 1
            except Exception:  # any exception is an answer here; a crash or a hang is not
                counts["raised"] += 1
    return counts


def _replay(args):
    shown, call = make_call(entry_points(), hostile_values(), args.seed, args.replay)
    print(shown, flush=True)
    call()


if __name__ == "__main__":
    sys.exit(fuzzer_main(__doc__, lambda a: run_batch(a.seed, a.calls, a.progress), _replay))
