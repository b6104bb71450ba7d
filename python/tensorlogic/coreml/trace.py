"""The tracer of tl.coreml.export: runs a function (or an nn.Module, in eval mode) on example inputs that
require grad, so that every op computed from them takes autograd's recording path, which appends each
application to `mode.trace` while a trace is active. Tensors that the recorded ops read but did not compute
(weights, captured tensors, results of ops on constants alone) are constants of the graph.

A trace records what ran, like torch.jit.trace: Python control flow is fixed by the example, and a value
taken out of the graph (`.item()`, `.numpy()`, an integer op such as argmax) would be baked in as a
constant. So the function is traced twice, on the examples and on independent inputs of the same shapes,
and the two graphs must agree op for op and constant for constant; otherwise export raises naming the
first op that differs. Masks from comparisons are such values too (autograd records no op for them: they
carry no gradient), so a function that compares its inputs cannot be exported yet."""
from typing import List, NamedTuple

import re

import numpy as np

from ..autograd.grad_mode import enable_grad, mode
from ..creation import tensor
from ..tensor import Tensor


class TraceError(TypeError):
    """The function cannot be traced into a static graph (the message says why and names the op)."""


class Step(NamedTuple):
    """One recorded op computed from the inputs: `args` holds Tensors, scalars and the op's other arguments."""
    name: str  # the op's name (autograd's, e.g. "add", "linear", "layer_norm")
    kind: str  # the Function class (e.g. "_Binary")
    args: tuple
    out: Tensor  # its value as computed (an in-place op may have rewritten the Tensor since)
    key: tuple  # ("node", id of the application's node): how later uses find this value


class Graph(NamedTuple):
    inputs: List[Tensor]
    steps: List[Step]
    output: Tensor

    def is_traced(self, t):
        """Whether tensor `t` was computed from the inputs by the recorded steps (or is an input)."""
        return isinstance(t, Tensor) and _key(t) in self._keys()

    def _keys(self):
        keys = {id(x) for x in self.inputs}
        keys.update(s.key for s in self.steps)
        return keys


def _op_name(node):
    """The op's name: a Function family's own (node.name), else its class name in snake case."""
    if getattr(node.fn, "name", None) is not None:
        return node.name
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", node.fn.__name__.lstrip("_")).lower()


def _key(t):
    # A Tensor that an in-place op rewrote takes over the result's grad_fn: the node identifies the value.
    return ("node", id(t.grad_fn)) if t.grad_fn is not None else id(t)


def capture(fn, args, kwargs, records=None):
    """fn(*args, **kwargs) with grad enabled, and the list of every application autograd recorded meanwhile:
    (node, args, kwargs, result) in the order they ran, appended to `records` (also tl.compile's capture)."""
    records = [] if records is None else records
    previous = mode.trace
    mode.trace = records
    try:
        with enable_grad():
            out = fn(*args, **kwargs)
    finally:
        mode.trace = previous
    return out, records


def _run(fn, examples):
    leaves = []
    for x in examples:
        leaf = x.detach()
        leaf.requires_grad = True
        leaves.append(leaf)
    out, records = capture(fn, leaves, {})
    if not isinstance(out, Tensor):
        raise TraceError(f"coreml.export: the function must return one Tensor, got {type(out).__name__}")
    traced = {id(x) for x in leaves}
    steps = []
    for node, args, kwargs, result in records:
        if kwargs:
            args = args + tuple(kwargs.values())
        if not any(isinstance(a, Tensor) and _key(a) in traced for a in args):
            continue  # an op on constants alone: its result is a constant
        first = result[0] if isinstance(result, tuple) else result
        if first.dtype.name != "float16":
            raise TraceError(f"coreml.export: {_op_name(node)} gives {first.dtype.name} results from the inputs; only "
                             "float16 values can flow through an exported graph")
        key = ("node", id(node))  # not first.grad_fn: an in-place op on `first` later replaces it
        traced.add(key)
        steps.append(Step(_op_name(node), node.fn.__name__, args, first, key))
    if _key(out) not in traced:
        raise TraceError("coreml.export: the output does not depend on the inputs through recorded ops")
    return Graph(leaves, steps, out)


def _fingerprint(graph):
    """Per step: (name, [per argument: 'in' for a traced tensor, the array of a constant, else the value])."""
    keys = graph._keys()
    out = []
    for s in graph.steps:
        parts = []
        for a in s.args:
            if isinstance(a, Tensor):
                parts.append("in" if _key(a) in keys else a.detach().numpy())
            else:
                parts.append(a)
        out.append((s.name, parts))
    return out


def _same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and np.array_equal(a, b, equal_nan=True))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return False
    try:
        return type(a) is type(b) and bool(a == b)
    except (TypeError, ValueError):
        return False


def _independent(x, rng):
    """Fresh values of x's shape, mean and spread: any value computed from the inputs outside the recorded
    ops (a comparison mask, .item(), an integer op) changes with them."""
    values = x.detach().numpy().astype(np.float32)
    finite = values[np.isfinite(values)]
    mean, std = (float(finite.mean()), float(finite.std()) or 1.0) if finite.size else (0.0, 1.0)
    fresh = rng.standard_normal(x.shape).astype(np.float32) * std + mean
    return tensor(np.clip(fresh, -65504, 65504).astype(np.float16), device=x.device)


def record(fn, examples):
    """The Graph of fn(*examples) (examples: float16 Tensors)."""
    for i, x in enumerate(examples):
        if not isinstance(x, Tensor) or x.dtype.name != "float16":
            got = x.dtype.name if isinstance(x, Tensor) else type(x).__name__
            raise TraceError(f"coreml.export: example input {i} must be a float16 Tensor (Core ML inputs are fp16), "
                             f"got {got}")
    return _run(fn, examples)


def check_static(fn, examples, graph):
    """Traces again on independent inputs of the same shapes, and on the examples negated; TraceError unless each
    graph is the same op for op and constant for constant (see the module doc). Fresh values of the examples' mean
    and spread alone can give a comparison the examples' mask (all of a positive example's values, and of its
    redraw, above 0); negated values flip every sign such a mask reads."""
    rng = np.random.default_rng(len(graph.steps))
    first = _fingerprint(graph)
    for inputs in ([_independent(x, rng) for x in examples], [-x.detach() for x in examples]):
        try:
            again = _run(fn, inputs)
        except Exception as e:  # noqa: BLE001 - the first trace passed: a failure now means the ops depend on values
            raise TraceError(f"coreml.export: the function fails on other inputs of the same shapes "
                             f"({type(e).__name__}: {e}); only functions whose ops are fixed by the input shapes can "
                             "be exported") from e
        _compare(first, _fingerprint(again))


def _compare(first, second):
    for i in range(max(len(first), len(second))):
        if i >= len(first) or i >= len(second) or first[i][0] != second[i][0] or len(first[i][1]) != len(second[i][1]):
            name = first[i][0] if i < len(first) else second[i][0]
            raise TraceError(f"coreml.export: the ops run depend on the input values (they differ at op {i}, {name}); "
                             "only functions whose ops are fixed by the input shapes can be exported")
        for a, b in zip(first[i][1], second[i][1]):
            if not _same(a, b):
                raise TraceError(f"coreml.export: {first[i][0]} (op {i}) reads a value that depends on the inputs but "
                                 "was computed outside the recorded ops (an integer op such as argmax, .item(), numpy, "
                                 "or randomness); it cannot be exported")
