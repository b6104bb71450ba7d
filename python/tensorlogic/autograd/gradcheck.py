"""gradcheck: analytical vector-Jacobian products against central differences computed in float64.

Tensors are float16, so `fn` itself cannot run in float64. Two honest modes:
- reference=f64_fn (recommended): a float64 implementation of the same math (numpy or torch) taking and
  returning float64 arrays. The numerical derivative is taken on it, at the SAME f16 values as the inputs,
  with a small eps (1e-6): it measures our backward against the true derivative, to f16 tolerance.
- no reference: `fn` is evaluated in float16 at inputs perturbed by a step large enough for f16 (eps
  relative, 1e-2 by default); the actual step after rounding is used in the float64 quotient. This
  checks consistency of forward and backward only coarsely (tolerance ~ several percent).
The output is reduced with a fixed random weighting v (the check is of v^T J, element by element)."""
import numpy as np

from .. import _core
from ..tensor import Tensor, _wrap
from .api import grad as _grad
from .grad_mode import no_grad


class GradcheckError(RuntimeError):
    pass


class GradcheckReport:
    """Outcome of gradcheck: truthy when it passed; `worst` names the element farthest from tolerance."""

    def __init__(self, ok, worst):
        self.ok = ok
        self.worst = worst  # dict(input, index, analytical, numerical, error, allowed)

    def __bool__(self):
        return self.ok

    def __repr__(self):
        w = self.worst
        if w is None:
            return "GradcheckReport(ok=True, no differentiable elements)"
        return (f"GradcheckReport(ok={self.ok}, worst: input {w['input']} element {w['index']}: analytical "
                f"{w['analytical']:.6g}, numerical {w['numerical']:.6g}, |error| {w['error']:.3g} "
                f"(allowed {w['allowed']:.3g}))")


def _f16_tensor(values, device):
    array = _core.from_numpy(np.ascontiguousarray(values, dtype=np.float16))
    return _wrap(array if device == "cpu" else _core.to_device(array, device))


def _outputs(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


def gradcheck(fn, inputs, eps=None, atol=None, rtol=None, reference=None, raise_exception=True, seed=0):
    """Checks d(fn)/d(inputs) for every input that requires grad; returns a GradcheckReport.

    atol defaults to 2e-2 times the largest numerical derivative of that input (plus 1e-3): the forward and
    backward both round to f16 at every op, and cancellation (softmax, differences) turns their ~5e-4
    relative rounding into errors of a few per cent of the largest derivative. rtol defaults to 1e-2 with
    a reference and 5e-2 without."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    rng = np.random.default_rng(seed)
    outs = _outputs(fn(*inputs))
    weights = [rng.uniform(0.5, 1.5, size=tuple(o.shape)).astype(np.float16) for o in outs]
    analytical = _grad(outs, [inputs[i] for i in diff], [_f16_tensor(w, o._a.device) for w, o in zip(weights, outs)],
                       allow_unused=True)
    w64 = [w.astype(np.float64) for w in weights]
    hosts = [np.asarray(t.numpy()) if isinstance(t, Tensor) else t for t in inputs]

    def weighted(values):
        if reference is not None:
            res = _outputs(reference(*values))
        else:
            args = [_f16_tensor(v, inputs[k]._a.device)
                    if isinstance(inputs[k], Tensor) and inputs[k]._a.dtype == "float16" else inputs[k]
                    for k, v in enumerate(values)]
            with no_grad():
                res = _outputs(fn(*args))
        return sum(float((np.asarray(r, dtype=np.float64) * w).sum()) for r, w in zip(res, w64))

    rtol = rtol if rtol is not None else (1e-2 if reference is not None else 5e-2)
    worst, ok = None, True
    for slot, i in enumerate(diff):
        base = [h.astype(np.float64) if isinstance(h, np.ndarray) and h.dtype == np.float16 else h for h in hosts]
        x = base[i]
        numerical = np.zeros(x.shape)
        flat = x.reshape(-1)
        for j in range(flat.size):
            orig = flat[j]
            if reference is not None:
                h = eps if eps is not None else 1e-6
                lo, hi = orig - h, orig + h
            else:
                h = (eps if eps is not None else 1e-2) * max(1.0, abs(orig))
                lo, hi = float(np.float16(orig - h)), float(np.float16(orig + h))
            flat[j] = hi
            f_hi = weighted(base)
            flat[j] = lo
            f_lo = weighted(base)
            flat[j] = orig
            numerical.reshape(-1)[j] = (f_hi - f_lo) / (hi - lo)
        a = analytical[slot]
        a = np.zeros(x.shape) if a is None else a.numpy().astype(np.float64)
        allowed = (atol if atol is not None else 2e-2 * float(np.abs(numerical).max(initial=0.0)) + 1e-3) \
            + rtol * np.abs(numerical)
        err = np.abs(a - numerical)
        if err.size:
            k = int(np.argmax(err - allowed))
            idx = np.unravel_index(k, x.shape)
            entry = dict(input=i, index=tuple(int(v) for v in idx), analytical=float(a[idx]),
                         numerical=float(numerical[idx]), error=float(err[idx]), allowed=float(allowed[idx]))
            if not np.isfinite(a).all() or not np.isfinite(numerical).all():
                entry["error"] = float("inf")
            if worst is None or entry["error"] - entry["allowed"] > worst["error"] - worst["allowed"]:
                worst = entry
            ok = ok and entry["error"] <= entry["allowed"]
    report = GradcheckReport(ok, worst)
    if not ok and raise_exception:
        raise GradcheckError(f"gradcheck failed: {report!r}")
    return report
