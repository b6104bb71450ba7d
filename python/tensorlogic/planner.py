"""tl.planner: where work runs when the caller did not pin it (SPEC §3).

TensorLogic places work on its own in one case: on the `ane` device (Apple builds), a matmul, a linear
(x @ w.T with its bias, residual and activation) or a conv2d runs as a Core ML model on the Neural Engine
when the planner accepts its shape and a model for it can be built, and on Metal otherwise, with the
reason recorded. Every other op, and every op on cpu, cuda or metal, runs on the device of its inputs:
there is nothing to decide, and nothing is recorded.

Deciding is separate from executing, so the rules are plain Python, tested on any OS:
- `decide(op, shape)` applies the shape rules alone (no model is built);
- `plan(op, shape)` decides, builds the model when the answer is `ane`, records the decision and returns
  it. The native ane backend calls plan once per distinct op and shape, keeps the answer, and counts the
  calls that follow; it also records the calls it sends to Metal for its own reasons (an operand's
  memory layout, a model that failed to compile, load or predict);
- `stats()` reports every decision with its call count.

Shapes, as the native side sends them: matmul {batch, m, k, n}; linear {batch, m, in_features,
out_features, bias, activation, residual}; conv2d {n, in_shape: [c, h, w], weight_shape: [o, c/groups, kh,
kw], stride, padding, dilation, groups, bias}.
"""
import json
import threading
from typing import NamedTuple, Optional

from . import _core, coreml
from .device import available_devices

MAX_DIM = 16384  # the Neural Engine's largest tensor dimension
MIN_WORK = 1 << 21  # multiply-adds below which Metal beats the cost of a Core ML call
OPS = ("matmul", "linear", "conv2d")


class Decision(NamedTuple):
    op: str
    shape: dict
    device: str  # "ane" or "metal"
    reason: Optional[str]  # why not "ane"; None when it runs there
    model: Optional[str] = None  # the .mlpackage path (plan only)


def _work_and_dims(op, s):
    """(multiply-adds, the dimensions the Neural Engine must hold) of one call."""
    if op == "matmul":
        return s["m"] * s["k"] * s["n"], (s["m"], s["k"], s["n"])
    if op == "linear":
        return s["m"] * s["in_features"] * s["out_features"], (s["m"], s["in_features"], s["out_features"])
    c, h, w = s["in_shape"]
    o, cg, kh, kw = s["weight_shape"]
    oh = (h + 2 * s["padding"][0] - s["dilation"][0] * (kh - 1) - 1) // s["stride"][0] + 1
    ow = (w + 2 * s["padding"][1] - s["dilation"][1] * (kw - 1) - 1) // s["stride"][1] + 1
    return s["n"] * o * oh * ow * cg * kh * kw, (s["n"], c, h, w, o, oh, ow)


def decide(op, shape):
    """The device the rules give `op` on this shape, without building anything (see the module doc)."""
    if op not in OPS:
        raise ValueError(f"planner.decide: unknown op {op!r}; the planner places {OPS}")

    def metal(reason):
        return Decision(op, shape, "metal", reason)

    if op in ("matmul", "linear") and shape.get("batch", 1) != 1:
        return metal("batched matmul (the Neural Engine models are 2-D)")
    if op == "conv2d" and any(d != 1 for d in shape["dilation"]):
        return metal("dilated convolution (Core ML convolutions whose weights are inputs take no dilation)")
    work, dims = _work_and_dims(op, shape)
    if max(dims) > MAX_DIM:
        return metal(f"a dimension above {MAX_DIM}")
    if work < MIN_WORK:
        return metal("too small to pay for a Core ML call")
    return Decision(op, shape, "ane", None)


def _build_attrs(op, s):
    """The arguments of tensorlogic.coreml.build for an accepted shape."""
    if op == "matmul":
        return {"m_values": [s["m"]], "k": s["k"], "n": s["n"]}
    if op == "linear":
        return {"m_values": [s["m"]], "in_features": s["in_features"], "out_features": s["out_features"],
                "bias": s["bias"], "activation": s["activation"], "residual": s["residual"]}
    return {"n_values": [s["n"]], "in_shape": s["in_shape"], "weight_shape": s["weight_shape"], "stride": s["stride"],
            "padding": s["padding"], "dilation": s["dilation"], "groups": s["groups"], "bias": s["bias"],
            "activation": "none"}


_lock = threading.Lock()
_planned = {}  # (op, canonical shape) -> Decision


def _canonical(shape):
    return json.dumps(shape, sort_keys=True, separators=(",", ":"))


def plan(op, shape):
    """decide(), then the model for an `ane` answer (built once and cached on disk); a model that cannot be
    built sends the shape to Metal with the reason. The decision is recorded for stats()."""
    d = decide(op, shape)
    if d.device == "ane":
        try:
            d = d._replace(model=coreml.build(op, **_build_attrs(op, shape)))
        except ImportError:
            d = d._replace(device="metal", reason="coremltools is not installed (pip install 'tensorlogic[apple]')")
        except ValueError as e:
            d = d._replace(device="metal", reason=f"no Core ML model for this shape: {e}")
    with _lock:
        _planned[(op, _canonical(shape))] = d
    return d


def _plan_native(op, shape_json):
    """The native ane backend's question, once per op and shape: (model path or "", reason or "")."""
    d = plan(op, json.loads(shape_json))
    return (d.model or "", d.reason or "")


if hasattr(_core, "ane_set_planner"):  # Apple builds with the ane device
    _core.ane_set_planner(_plan_native)


def _native_decisions():
    """[{op, shape (JSON), device, reason, calls}] counted by the native ane backend ([] without one)."""
    return _core.ane_stats()["decisions"] if hasattr(_core, "ane_stats") else []


def _native_failed_models():
    return dict(_core.ane_stats()["failed_models"]) if hasattr(_core, "ane_stats") else {}


def stats():
    """Every placement decision: {'devices': available devices, 'decisions': [{'op', 'shape', 'device',
    'reason' (None on ane), 'model', 'calls'}], 'calls': {device: calls}, 'fallbacks': {reason: calls sent
    to Metal}, 'failed_models': {path: why}}. A decision planned but not yet counted has calls 0; one the
    native backend made by itself (an operand's layout, a model failing to load or predict) has model None."""
    with _lock:
        planned = dict(_planned)
    decisions, seen = [], set()
    for entry in _native_decisions():
        shape = json.loads(entry["shape"])
        key = (entry["op"], _canonical(shape))
        reason = entry["reason"] or None
        mine = planned.get(key)
        same = mine is not None and mine.device == entry["device"] and mine.reason == reason
        if same:
            seen.add(key)
        decisions.append({"op": entry["op"], "shape": shape, "device": entry["device"], "reason": reason,
                          "model": mine.model if same else None, "calls": int(entry["calls"])})
    for key, d in planned.items():
        if key not in seen:
            decisions.append({"op": d.op, "shape": d.shape, "device": d.device, "reason": d.reason, "model": d.model,
                              "calls": 0})
    calls, fallbacks = {}, {}
    for d in decisions:
        calls[d["device"]] = calls.get(d["device"], 0) + d["calls"]
        if d["device"] != "ane":
            fallbacks[d["reason"]] = fallbacks.get(d["reason"], 0) + d["calls"]
    return {"devices": available_devices(), "decisions": decisions, "calls": calls, "fallbacks": fallbacks,
            "failed_models": _native_failed_models()}

