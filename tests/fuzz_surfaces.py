"""An attacker's fuzzer over the surfaces tests/fuzz_ops.py does not reach: tl.fft, tl.special and tl._foreach_* as
ops, and stateful APIs driven through a scenario each: optimizers (hostile options, param groups, mutated state
dicts), lr schedulers, DataLoader and collate, nn.Embedding's options, Module.load_state_dict with hostile entries,
tl.save of hostile objects, .grad / .requires_grad assignment, memory formats and int fills.

Every call must return or raise a typed error (fuzz_ops.classify): a crash, a hang, an untyped exception or leaked
internals is a failure, and so is state that an error changed (an optimizer, module or tensor must be as it was
before a call that raised) or a _foreach_* result that differs from the same op applied tensor by tensor.
Calls come from (seed, index) alone, so any one can be replayed:

    python tests/fuzz_surfaces.py --seed S --calls N          # a batch; prints a JSON summary
    python tests/fuzz_surfaces.py --seed S --replay I         # prints and runs call I of that batch"""
import copy
import inspect
import io
import sys
import warnings

import numpy as np

import fuzz_against_torch
import fuzz_persistence
import tensorlogic as tl
import tensorlogic.nn as nn
from fuzz_ops import EXTREME, Maker, SPECIAL_FLOATS, describe, fuzzer_main, reported, tally
from tensorlogic.optim import lr_scheduler
from tensorlogic.utils.data import DataLoader, TensorDataset, default_collate

FOREACH = sorted(n for n in dir(tl) if n.startswith("_foreach_"))
# (prefix, module, names) of the namespaces fuzzed as ops
NAMESPACES = [("tl.fft.", tl.fft, tl.fft.__all__), ("tl.special.", tl.special, tl.special.__all__),
              ("tl.", tl, FOREACH)]
# _foreach_*'s parameters: the tensor lists, their second operands (a list, or one scalar or tensor shared by all)
LISTS = {"self": "list", "tensor1": "list", "tensor2": "list", "tensors1": "list", "src": "list",
         "other": "operand", "weight": "operand", "value": "operand"}


class SurfaceMaker(Maker):
    """fuzz_ops' Maker, with tensor lists for _foreach_* and a few hostile numbers of its own."""

    def tensors(self, shape=None):
        return [self.tensor(shape) for _ in range(int(self.rng.integers(0, 4)))]

    def operand(self, n, shape=None):
        return self.pick([lambda: [self.tensor(shape) for _ in range(n)], lambda: self.pick(SPECIAL_FLOATS + [2, -1]),
                          lambda: [self.pick([0.5, 2, float("nan")]) for _ in range(n)], lambda: self.tensor(()),
                          lambda: self.hostile()])()

    def number(self):
        return self.pick(SPECIAL_FLOATS + EXTREME + [0.1, 0.9, 1, 2, 3, -0.5, "x", None, True, (0.9,), (0.9, 0.99)])


def public_ops():
    ops = []
    for prefix, module, names in NAMESPACES:
        for name in names:
            value = getattr(module, name)
            fn = getattr(value, "__wrapped__", value)
            if inspect.isfunction(fn):
                ops.append((prefix + name, value, inspect.signature(fn)))
    return ops


def op_call(maker, op):
    """(shown name, thunk) of one call of a namespace op; a _foreach_* op that returns is checked against the op
    applied tensor by tensor."""
    name, fn, signature = op
    if not name.startswith("tl._foreach_"):
        args = [maker.value(name, p) for p in signature.parameters.values()
                if p.default is inspect.Parameter.empty or maker.chance(0.5)]
        return describe(name, args, {}), lambda: fn(*args)
    shape = maker.shape() if maker.chance(0.7) else None  # lists of one shape mostly (so calls succeed)
    selfs = maker.tensors(shape)
    args = [selfs]
    for p in list(signature.parameters.values())[1:]:
        if p.default is not inspect.Parameter.empty and maker.chance(0.5):
            continue
        kind = LISTS.get(p.name)
        args.append(maker.tensors(shape) if kind == "list" else maker.operand(len(selfs), shape) if kind
                    else maker.number())
    return describe(name, args, {}), lambda: _foreach_checked(name, fn, args)


def _foreach_checked(name, fn, args):
    """Runs a _foreach_* op; its results (or the tensors an in-place one wrote) must equal the per-tensor op's
    (the in-place method where the op has one)."""
    op = name[len("tl._foreach_"):].rstrip("_")
    inplace = name.endswith("_")
    copies = [t.clone() for t in args[0]]
    result = fn(*args)
    if op in ("zero", "copy", "norm", "lerp") or any(t.requires_grad for t in copies):
        return result
    rest = args[1:]
    expected = []
    for i, t in enumerate(copies):
        per = [a[i] if isinstance(a, list) else a for a in rest]
        method = getattr(t, op + "_", None) if inplace and op not in ("addcmul", "addcdiv") else None
        method = method or getattr(t, op)
        expected.append(method(*per[:2], value=per[2]) if op in ("addcmul", "addcdiv") and len(per) == 3
                        else method(*per))
    got = args[0] if inplace else result
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g.numpy(), e.numpy(), err_msg=f"{name} differs from the per-tensor op")
    return result


# ---- scenarios: one stateful API each, with hostile arguments ---------------------------------------------------
OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam", "Rprop", "ASGD", "Adadelta",
              "Lion", "Adafactor"]
OPTIONS = ["lr", "momentum", "weight_decay", "eps", "betas", "alpha", "lr_decay", "rho", "etas", "step_sizes",
           "dampening", "lambd", "t0", "momentum_decay", "nesterov", "amsgrad", "maximize"]


def _params(maker, n=2):
    return [tl.tensor(maker.rng.standard_normal(maker.pick([(2,), (3, 2), ()])).astype(np.float16),
                      requires_grad=True) for _ in range(n)]


def _optimizer(maker, params):
    cls = getattr(tl.optim, maker.pick([o for o in OPTIMIZERS if hasattr(tl.optim, o)]))
    allowed = set(inspect.signature(cls).parameters)
    options = {k: maker.number() for k in OPTIONS if k in allowed and maker.chance(0.2)}
    groups = params if maker.chance(0.6) else [{"params": params[:1]}, {"params": params[1:], "lr": maker.number()}]
    return cls(groups, **options)


def _mutated(maker, state, native):
    """A copy of an optimizer's state_dict with one hostile change. (The state entries of the optimizers without a
    native kernel are taken as given, as PyTorch takes them: hostile values there fail at step() with whatever the
    update's arithmetic says, so only the native kinds' entries are attacked.)"""
    state = copy.deepcopy(state)
    where = maker.pick(["group", "state", "entry", "top"] if native else ["group", "top"])
    if where == "group" and state["param_groups"]:
        group = maker.pick(state["param_groups"])
        group[maker.pick(sorted(group))] = maker.pick([maker.number(), [0, 1], [], "x", None, {}])
    elif where == "state" and state["state"]:
        entry = state["state"][maker.pick(sorted(state["state"]))]
        key = maker.pick(sorted(entry)) if entry else "step"
        entry[key] = maker.pick([maker.number(), np.zeros(7, np.float32), tl.ones(2), "x", None, [1.0]])
    elif where == "entry":
        state["state"][maker.pick([0, 1, 5, "0", -1])] = maker.pick(["x", {}, None, {"step": 1}])
    else:
        return maker.pick([None, "x", {}, {"state": {}}, {"param_groups": []}, {**state, "param_groups": "x"}])
    return state


def optimizer_scenario(maker):
    params = _params(maker)
    optimizer = _optimizer(maker, params)
    for p in params:
        p.grad = tl.tensor(maker.rng.standard_normal(p.shape).astype(np.float16)) if maker.chance(0.8) else None
    if maker.chance(0.5):
        optimizer.step()
    state = optimizer.state_dict()
    hostile = _mutated(maker, state, optimizer._kind is not None)
    snapshot = (repr(optimizer.state_dict()), [p.numpy().copy() for p in params])
    try:
        optimizer.load_state_dict(hostile)
    except Exception:
        # an error leaves the optimizer as it was
        assert repr(optimizer.state_dict()) == snapshot[0], "load_state_dict changed the optimizer before it raised"
        raise
    optimizer.step()


def scheduler_scenario(maker):
    optimizer = tl.optim.SGD(_params(maker), lr=0.1, momentum=0.9)
    name = maker.pick(["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
                       "OneCycleLR", "CyclicLR", "LinearLR", "PolynomialLR", "ConstantLR", "ReduceLROnPlateau",
                       "LambdaLR"])
    cls = getattr(lr_scheduler, name)
    kwargs = {}
    # (not last_epoch: resuming without the groups' 'initial_lr' is PyTorch's KeyError, kept as PyTorch has it)
    for p in list(inspect.signature(cls).parameters.values())[1:]:
        if p.name != "last_epoch" and (p.default is inspect.Parameter.empty or maker.chance(0.3)):
            kwargs[p.name] = (maker.pick([lambda e: 0.5, lambda e: "x", lambda e: float("nan")])
                              if p.name.startswith("lr_lambda") else
                              maker.pick([[1, 3], [3, 1], "x", [1.5]]) if p.name == "milestones" else maker.number())
    scheduler = cls(optimizer, **kwargs)
    for _ in range(int(maker.rng.integers(1, 6))):
        scheduler.step(maker.number()) if name == "ReduceLROnPlateau" else scheduler.step()
    scheduler.load_state_dict(maker.pick([scheduler.state_dict(), "x", None, {}]))


def dataloader_scenario(maker):
    dataset = maker.pick([
        lambda: TensorDataset(tl.ones(5, 2), tl.arange(5)), lambda: [tl.ones(2), tl.ones(3)],
        lambda: [{"a": 1}, {"b": 2}], lambda: [(1, 2), (3,)], lambda: [1, "a"], lambda: [[1, 2], [3, 4]],
        lambda: [np.ones(2), np.ones(2)], lambda: [None], lambda: list(range(7)), lambda: 5])()
    kwargs = {k: v() for k, v in {
        "batch_size": lambda: maker.pick([None, 0, -1, 2, 2.5, "x", 2**62, True]),
        "shuffle": lambda: maker.pick([True, False, "x"]), "drop_last": lambda: maker.pick([True, False, "x"]),
        "sampler": lambda: maker.pick([[0, 1], [0, 99], [1.5], ["a"], 5, iter([1])]),
        "batch_sampler": lambda: maker.pick([[[0, 1]], [[]], [[0, 99]], [[0.5]], "x"]),
        "num_workers": lambda: maker.pick([0, 1, -1, "x"]),
        "collate_fn": lambda: maker.pick([None, "x", lambda b: b]),
    }.items() if maker.chance(0.3)}
    for _ in DataLoader(dataset, **kwargs):
        pass


def collate_scenario(maker):
    default_collate(maker.pick([[], "x", [tl.ones(2), 1], [tl.ones(2), tl.ones(3)], [{"a": tl.ones(1)}, {}],
                                [[1], [2, 3]], [(tl.ones(1), 1), (tl.ones(1),)], [np.array(["a"])], [2**70],
                                [1 + 2j], None, [object()]]))


def embedding_scenario(maker):
    kwargs = {k: v() for k, v in {
        "padding_idx": lambda: maker.pick([0, -1, 3, -4, 1.5, "x", True, 2**63]),
        "max_norm": lambda: maker.pick([1.0, 0.0, -1.0, float("nan"), "x"]),
        "norm_type": lambda: maker.pick([2.0, 0, -1, float("inf"), float("nan")]),
        "scale_grad_by_freq": lambda: maker.pick([True, False]),
    }.items() if maker.chance(0.4)}
    if maker.chance(0.3):
        module = nn.Embedding.from_pretrained(maker.pick([tl.ones(3, 2), tl.ones(3), tl.ones(0, 2), "x"]), **kwargs)
    else:
        module = nn.Embedding(maker.pick([3, 0, -1]), maker.pick([2, 0]), **kwargs)
    out = module(maker.pick([tl.tensor([0, 2]), tl.tensor([3]), tl.tensor([-1]), tl.tensor([1.0]), [0],
                             tl.zeros((2, 0), dtype=tl.int64)]))
    if out.requires_grad:
        out.sum().backward()


def load_state_dict_scenario(maker):
    module = maker.pick([lambda: nn.Linear(2, 3), lambda: nn.BatchNorm1d(3), lambda: nn.Embedding(3, 2)])()
    state = dict(module.state_dict())
    key = maker.pick(sorted(state))
    state[key] = maker.pick([lambda: tl.ones(7), lambda: "x", lambda: None, lambda: np.ones((1, 1)),
                             lambda: tl.full(tuple(state[key].shape), float("nan")), lambda: [[1.0]],
                             lambda: tl.ones(tuple(state[key].shape), dtype=tl.int32)])()
    if maker.chance(0.2):
        state = maker.pick([None, "x", [("weight", tl.ones(1))]])
    before = {k: v.numpy().copy() for k, v in module.state_dict().items()}
    try:
        module.load_state_dict(state, strict=maker.pick([True, False]))
    except Exception:
        for k, v in module.state_dict().items():  # an error leaves the module as it was
            np.testing.assert_array_equal(v.numpy(), before[k], err_msg=f"load_state_dict changed {k} and raised")
        raise


def save_scenario(maker):
    cycle = []
    cycle.append(cycle)
    nested = [1]
    for _ in range(int(maker.pick([10, 199, 250]))):
        nested = [nested]
    obj = maker.pick([cycle, nested, {"a": 1 + 2j}, {"a": lambda: 1}, {(1, 2): 1}, {"w": tl.ones([1] * 70)},
                      {"w": tl.ones(3)[::2], "n": float("nan"), "i": 2**70}, {1: tl.ones(1), "1": tl.ones(1)}])
    buffer = io.BytesIO()
    tl.save(obj, buffer)
    buffer.seek(0)
    tl.load(buffer)


def attribute_scenario(maker):
    x = tl.ones(maker.pick([(3,), (2, 2)]), requires_grad=maker.chance(0.5))
    what = maker.pick(["grad", "requires_grad", "requires_grad_", "register_hook", "data"])
    value = maker.pick([tl.ones(3), tl.ones(4), tl.ones(3, dtype=tl.int32), "x", None, 1, True, tl.ones(2, 2),
                        lambda g: g * 2])
    if what == "requires_grad_":
        x.requires_grad_(value)
    elif what == "register_hook":
        x.register_hook(value)
    else:
        setattr(x, what, value)
    (x.float() * 2).sum().backward() if x.requires_grad else None


def layout_scenario(maker):
    x = tl.ones(*maker.pick([(2, 3), (2, 3, 4, 5), (1, 2, 3, 4, 5), (2, 0, 3, 3)]))
    fmt = maker.pick([tl.channels_last, tl.channels_last_3d, tl.contiguous_format, tl.preserve_format, None, "x"])
    maker.pick([lambda: x.contiguous(memory_format=fmt), lambda: x.clone(memory_format=fmt),
                lambda: x.to(memory_format=fmt), lambda: x.is_contiguous(memory_format=fmt)])()


def fill_scenario(maker):
    dtype = maker.pick([tl.int32, tl.int64, tl.float16, tl.bool])
    value = maker.pick(EXTREME + SPECIAL_FLOATS + [2**53 + 1, 2**62 + 1, -7])
    x = maker.pick([lambda: tl.full((3,), value, dtype=dtype), lambda: tl.zeros(3, dtype=dtype).fill_(value)])()
    if dtype in (tl.int32, tl.int64):  # an int fill that returns holds the exact value
        assert x.tolist() == [int(value)] * 3, f"fill of {value!r} gave {x.tolist()}"


SCENARIOS = {f.__name__: f for f in (optimizer_scenario, scheduler_scenario, dataloader_scenario, collate_scenario,
                                     embedding_scenario, load_state_dict_scenario, save_scenario, attribute_scenario,
                                     layout_scenario, fill_scenario, *fuzz_persistence.SCENARIOS,
                                     *fuzz_against_torch.SCENARIOS)}


def make_call(ops, seed, index):
    """(shown call, thunk) of call `index` of batch `seed` (deterministic)."""
    rng = np.random.default_rng([seed, index])
    maker = SurfaceMaker(rng)
    if rng.random() < 0.5:
        name = sorted(SCENARIOS)[int(rng.integers(0, len(SCENARIOS)))]
        return f"{name} (seed {seed}, call {index})", lambda: SCENARIOS[name](maker)
    return op_call(maker, ops[int(rng.integers(0, len(ops)))])


def run_batch(seed, calls, progress_fd=None):
    ops = public_ops()
    counts = {"calls": 0, "returned": 0, "typed": 0, "ops": len(ops) + len(SCENARIOS)}
    problems = []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for index in reported(calls, progress_fd):
            shown, thunk = make_call(ops, seed, index)
            tally(counts, problems, index, thunk, lambda: shown, invariants=True)
    counts["problems"] = problems
    return counts


def _replay(args):
    shown, thunk = make_call(public_ops(), args.seed, args.replay)
    print(shown, flush=True)
    thunk()


if __name__ == "__main__":
    sys.exit(fuzzer_main(__doc__, lambda a: run_batch(a.seed, a.calls, a.progress), _replay))
