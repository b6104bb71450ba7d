"""Scenarios of tests/fuzz_surfaces.py for state that leaves the process and comes back: pickle, copy and deepcopy of
tensors, modules, optimizers and distributions (each must come back equal); the rebuilding of a pickled or
shared tensor from hostile parts (a typed error, or a tensor over exactly the data given: never a read past it);
tl.load of mutated checkpoints and of pickles that would run code (never run); torch.optim state dicts, mutated,
loaded into our optimizers (a typed error that leaves the optimizer as it was, or a state step() runs on)."""
import copy
import io
import pickle
import zipfile
from multiprocessing.heap import Arena

import numpy as np
import torch

import tensorlogic as tl
import tensorlogic.nn as nn
from tensorlogic.multiprocessing.reductions import rebuild_tensor as rebuild_shared
from tensorlogic.tensor_new import rebuild_tensor

# Set by Trap's reduction when a pickle runs code: tl.load must never let it.
RAN = []


class Trap:
    def __reduce__(self):
        return RAN.append, ("code ran",)


def _equal(a, b, what):
    assert type(a) is type(b), f"{what}: {type(b).__name__} came back as {type(a).__name__}"
    if isinstance(a, tl.Tensor):
        assert (a.dtype, tuple(a.shape), a.requires_grad) == (b.dtype, tuple(b.shape), b.requires_grad), what
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(), err_msg=what)


def _objects(maker):
    """(object, how its copy is compared) of a random kind."""
    kind = maker.pick(["tensor", "tensor", "parameter", "module", "optimizer", "distribution", "generator"])
    if kind == "tensor":
        t = maker.tensor()
        return (t * 2 if t.requires_grad and maker.chance(0.5) else t), kind
    if kind == "parameter":
        p = nn.Parameter(maker.tensor(maker.shape()).float(), requires_grad=maker.chance(0.5))
        p.tag, p.me = maker.pick([1, "x", None, [1, 2]]), p
        return p, kind
    if kind == "module":
        return maker.pick([lambda: nn.Linear(2, 3), lambda: nn.LSTM(2, 3), lambda: nn.GRUCell(2, 2),
                           lambda: nn.BatchNorm1d(3), lambda: nn.Embedding(4, 2, padding_idx=1)])(), kind
    if kind == "optimizer":
        params = [tl.randn(2, 2, requires_grad=True)]
        opt = maker.pick([tl.optim.SGD, tl.optim.Adagrad, tl.optim.NAdam])(params, lr=0.1)
        params[0].grad = tl.ones(2, 2)
        opt.step()
        return opt, kind
    if kind == "distribution":
        return maker.pick([lambda: tl.distributions.Normal(tl.zeros(2), tl.ones(2)),
                           lambda: tl.distributions.Categorical(tl.tensor([0.25, 0.75]))])(), kind
    g = tl.Generator()
    g.manual_seed(int(maker.rng.integers(0, 1000)))
    return g, kind


def pickle_scenario(maker):
    obj, kind = _objects(maker)
    how = maker.pick(["pickle", "pickle", "copy", "deepcopy"])
    if how == "pickle":
        back = pickle.loads(pickle.dumps(obj, protocol=int(maker.rng.integers(0, pickle.HIGHEST_PROTOCOL + 1))))
    else:
        back = getattr(copy, how)(obj)  # deepcopy of a non-leaf: PyTorch's RuntimeError (typed)
    if kind == "tensor":  # (the graph is not copied: a non-leaf comes back a leaf, as in PyTorch)
        assert back.is_leaf, how
        _equal(back, obj, how)
    elif kind == "parameter":
        _equal(back, obj, how)
        assert back.tag == obj.tag and (back.me is back if how != "copy" else back.me is obj), how
    elif kind == "module":
        mine, theirs = back.state_dict(), obj.state_dict()
        assert list(mine) == list(theirs), how
        for k in mine:
            np.testing.assert_array_equal(mine[k].numpy(), theirs[k].numpy(), err_msg=f"{how} {k}")
    elif kind == "optimizer":
        assert repr(back.state_dict()["param_groups"]) == repr(obj.state_dict()["param_groups"]), how
    elif kind == "generator":
        assert tl.rand(3, generator=back).tolist() == tl.rand(3, generator=obj).tolist(), how


def rebuild_scenario(maker):
    """A pickled tensor's parts, and a shared one's description, from a hostile message."""
    if maker.chance(0.5):
        dtype = maker.pick(["float16", "int32", "int64", "bool", "float32", "x", None, 3])
        shape = tuple(maker.pick([0, 1, 2, 3, -1, 2**62, 2.0]) for _ in range(int(maker.rng.integers(0, 3))))
        data = bytes(int(maker.rng.integers(0, 24)))
        t = rebuild_tensor(maker.pick([tl.Tensor, nn.Parameter, int, "x"]), maker.pick([data, "ab", None]), dtype,
                           shape, maker.pick(["cpu", "cpu", "cuda:7", None, "mps"]), maker.chance(0.3),
                           maker.pick([None, None, {"a": 1}, "x"]))
        assert t.numel() * t.element_size() == len(data), "a tensor over other than the data given"
        return
    arena = Arena(int(maker.pick([64, 256, 4096])))
    shape = tuple(maker.pick([0, 1, 2, 8, 100, 10**6, -1]) for _ in range(int(maker.rng.integers(0, 3))))
    strides = tuple(maker.pick([0, 1, 2, 50, 10**7, -1]) for _ in range(maker.pick([len(shape), len(shape), 1])))
    offset = maker.pick([0, 0, 2, 3, 60, 4096, -8, 2**62])
    t = rebuild_shared(maker.pick([tl.Tensor, nn.Parameter, int]), maker.pick([arena, arena, "x"]),
                       maker.pick([np.float16, np.int32, np.int64, np.bool_, np.float64, "x"]), shape, strides, offset,
                       maker.chance(0.2))
    t.sum()  # every element read: none may lie past the block


def _checkpoint(maker):
    buffer = io.BytesIO()
    tl.save(maker.pick([{"w": tl.ones(3), "n": 2}, [tl.arange(4), "x"], tl.zeros(2, 2)]), buffer)
    data = bytearray(buffer.getvalue())
    for _ in range(int(maker.rng.integers(1, 4))):
        at = int(maker.rng.integers(0, len(data)))
        how = maker.pick(["flip", "cut", "insert", "digit"])
        if how == "flip":
            data[at] ^= int(maker.rng.integers(1, 256))
        elif how == "cut":
            del data[at:]
        elif how == "insert":
            data[at:at] = maker.pick([b"[", b"{", b"9" * 30, b"\x00", b'"', b"-1"])
        else:
            data[at] = ord(maker.pick(list("0123456789")))
    return bytes(data)


def load_scenario(maker):
    """tl.load of a mutated checkpoint, or of a pickle (protocol 0 to 5, bare or in torch's zip) that would run code."""
    if maker.chance(0.6):
        data = _checkpoint(maker)
    else:
        data = pickle.dumps(Trap(), protocol=int(maker.rng.integers(0, pickle.HIGHEST_PROTOCOL + 1)))
        if maker.chance(0.5):
            archive = io.BytesIO()
            with zipfile.ZipFile(archive, "w") as z:
                z.writestr("archive/data.pkl", data)
            data = archive.getvalue()
    try:
        tl.load(io.BytesIO(data), weights_only=maker.pick([True, False]))
    finally:
        assert not RAN, "tl.load ran code from a pickle"


TORCH_OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam", "Rprop", "ASGD",
                    "Adadelta", "Adafactor"]


def _torch_state(maker, name, shapes):
    params = [torch.nn.Parameter(torch.randn(s)) for s in shapes]
    opt = getattr(torch.optim, name)(params, **({"momentum": 0.9} if name in ("SGD", "RMSprop") else {}))
    for _ in range(int(maker.rng.integers(1, 3))):
        for p in params:
            p.grad = torch.randn(p.shape)
        opt.step()
    return opt.state_dict()


def _mutate_torch_state(maker, state):
    entries = [e for e in state["state"].values() if e]
    where = maker.pick(["none", "none", "entry", "step", "drop", "params", "extra", "group"])
    if where == "entry" and entries:
        entry = maker.pick(entries)
        key = maker.pick(sorted(entry))
        entry[key] = maker.pick([torch.ones(7), torch.ones(2, 2, dtype=torch.complex64), torch.tensor(float("nan")),
                                 torch.ones(()), "x", None, [1.0], torch.ones(3, 2, dtype=torch.float64) * 1e10])
    elif where == "step" and entries:
        maker.pick(entries)["step"] = maker.pick([torch.tensor(-1.0), torch.tensor(float("inf")), 2**70, "1", 1.5])
    elif where == "drop" and entries:
        entry = maker.pick(entries)
        del entry[maker.pick(sorted(entry))]
    elif where == "params":
        state["param_groups"][0]["params"] = maker.pick([[1, 0], [0, 0], [0], [0, 1, 2], ["0", "1"]])
    elif where == "extra":
        state["state"][maker.pick([5, "a", -1])] = maker.pick([{"step": 1}, {"x": torch.ones(1)}, "x"])
    elif where == "group":
        group = state["param_groups"][0]
        group[maker.pick(sorted(group))] = maker.pick([-1.0, float("nan"), "x", None, (0.9,), torch.tensor(0.1)])
    return state


def torch_state_scenario(maker):
    """A torch.optim state dict (of the same optimizer, sometimes mutated) loaded into ours, then a step."""
    name = maker.pick(TORCH_OPTIMIZERS)
    shapes = [(3, 2), (3,)]
    state = _mutate_torch_state(maker, _torch_state(maker, name, shapes))
    params = [tl.randn(*s, requires_grad=True) for s in shapes]
    ours = getattr(tl.optim, name)(params, **({"momentum": 0.9} if name in ("SGD", "RMSprop") else {}))
    for p in params:
        p.grad = tl.randn(*p.shape)
    before = repr(ours.state_dict())
    try:
        ours.load_state_dict(state)
    except Exception:
        assert repr(ours.state_dict()) == before, "load_state_dict changed the optimizer before it raised"
        raise
    ours.step()


SCENARIOS = (pickle_scenario, rebuild_scenario, load_scenario, torch_state_scenario)
