"""gradcheck: analytical vector-Jacobian products against numerical derivatives computed in float64.

Tensors are float16, so `fn` itself cannot run in float64. Two modes:
- reference=f64_fn: a float64 implementation of the same math (numpy or torch) taking and returning
  float64 arrays. The numerical derivative is taken on it, at the SAME f16 values as the inputs, with a
  small eps (1e-6): it measures our backward against the true derivative, to f16 tolerance.
- no reference (the default): `fn` itself is evaluated in float16 on a stencil of 17 inputs around each
  element (below), with a tolerance that follows from f16 rounding.

The tolerance of the default mode follows from f16 rounding (unit roundoff u = 2^-11):
- Each evaluation is deterministic, so an output that is the same at every stencil point contributes
  the same rounding error everywhere and cancels; an output that changes carries at most m = 2 half-ulps
  of its own value (each op accumulates in f32 and rounds its result once; the roundings of the ops
  before it reach the output at about the same scale). So the weighted output has error at most e = m * sum(|w| ulp(y) / 2)
  over the outputs that change, and the fitted slope, a fixed linear combination p of the stencil values,
  has error at most e * sum(|p|): a bound, not an estimate.
- The slope is taken twice, by least squares on 9 points h apart and on 9 points h/2 apart; their
  difference estimates the h^2 truncation error (Richardson), which is added to the tolerance. The step
  starts at h = 2^-3 max(1, |x|) and halves while that truncation exceeds the rounding bound, while a
  cubic through the 17 points leaves residuals beyond 3 e (a kink such as relu's at 0 or clamp's at its
  bounds, or a tie in max), or while an output is not finite; an element where no step works (the input
  sits on a kink, closer than f16 can resolve) is not checked.
- The backward's own rounding: rtol 8u relative to the derivative, plus 8u of the input's largest
  derivative (backward ops that subtract O(1) quantities, as softmax's does, err at that scale).
A gradient 20% off is rejected wherever the derivative is not small against that bound (tests/
gradcheck_trials.py measures both sides on random inputs).
The output is reduced with a fixed random weighting v (the check is of v^T J, element by element)."""
import numpy as np

from .. import _core
from ..tensor import Tensor, _wrap
from .api import grad as _grad
from .grad_mode import no_grad

_U = 2.0 ** -11  # float16 unit roundoff
_ROUNDINGS = 2  # half-ulps of error allowed in each output that changes (see the module docstring)
_STENCIL = np.arange(-8, 9)
_FIRST_STEP = 2.0 ** -3
_HALVINGS = 8


class GradcheckError(RuntimeError):
    """gradcheck found an analytical gradient that disagrees with the finite differences (raised when
    raise_exception=True); the message holds the report."""
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
    array = _core.from_numpy(np.array(values, dtype=np.float16))  # np.array keeps 0-d arrays 0-d
    return _wrap(array if device == "cpu" else _core.to_device(array, device))


def _outputs(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _slope(offsets, values):
    """Least-squares slope through (offsets, values) and the weights p with slope = p . values."""
    centred = offsets - offsets.mean()
    p = centred / (centred * centred).sum()
    return float(p @ values), p


def _smooth(offsets, values, bound):
    """Whether a cubic through the points leaves residuals that rounding explains (a kink leaves more)."""
    design = np.vander(offsets / np.abs(offsets).max(), 4)
    residual = values - design @ np.linalg.lstsq(design, values, rcond=None)[0]
    return float(np.abs(residual).max()) <= 3 * bound


def _f16_derivative(evaluate, x, j):
    """The derivative of the weighted output along element j of x (a float64 array of f16 values) and its
    allowed error; (nan, 0) where no step gives consistent slopes (x sits on a kink)."""
    flat = x.reshape(-1)
    orig = flat[j]
    step = _FIRST_STEP * max(1.0, abs(orig))
    for _ in range(_HALVINGS):
        points = np.float16(orig + _STENCIL * step / 2).astype(np.float64)  # 17 points, step / 2 apart
        if np.unique(points).size == points.size:
            outs = []
            for value in points:
                flat[j] = value
                outs.append(evaluate())
            flat[j] = orig
            weighted = np.array([o[0] for o in outs])
            stacked = np.stack([o[1] for o in outs])
            changed = (stacked != stacked[len(points) // 2]).any(axis=0)
            with np.errstate(invalid="ignore", over="ignore"):  # inf/nan outputs: that step is not used
                ulps = np.spacing(np.abs(stacked).max(axis=0).astype(np.float16)).astype(np.float64)
            # Nothing changed: the slope is below what the outputs resolve, so every output bounds it.
            bound = _ROUNDINGS * float((np.abs(outs[0][2]) * ulps / 2)[changed if changed.any() else slice(None)].sum())
            if np.isfinite(weighted).all():
                wide, _ = _slope(points[::2] - orig, weighted[::2])  # step h, 9 points
                inner = slice(len(points) // 4, 3 * len(points) // 4 + 1)
                narrow, p = _slope(points[inner] - orig, weighted[inner])  # step h / 2, 9 points
                noise = bound * float(np.abs(p).sum())
                truncation = abs(wide - narrow) / 3  # Richardson: the h^2 error of the narrow slope
                mid = len(points) // 2  # one-sided slopes agree unless a kink lies between them
                left, p_left = _slope(points[:mid + 1] - orig, weighted[:mid + 1])
                right, p_right = _slope(points[mid:] - orig, weighted[mid:])
                sided = bound * float(np.abs(p_left).sum() + np.abs(p_right).sum())
                if truncation <= noise and _smooth(points - orig, weighted, bound) and abs(left - right) <= sided + 4 * truncation:
                    return narrow, noise + truncation
        step /= 2
    return float("nan"), 0.0


def gradcheck(fn, inputs, eps=None, atol=None, rtol=None, reference=None, raise_exception=True, seed=0):
    """Checks d(fn)/d(inputs) for every input that requires grad; returns a GradcheckReport.

    Without a reference, the tolerance is the f16 rounding bound of the module docstring; atol and rtol,
    when given, replace its two backward terms. With a reference, atol defaults to 2e-2 times the largest
    numerical derivative of that input (plus 1e-3) and rtol to 1e-2. eps is the reference's step."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    rng = np.random.default_rng(seed)
    outs = _outputs(fn(*inputs))
    # Weights of either sign: v^T J of outputs that sum to a constant (softmax) is not then near zero.
    weights = [(rng.uniform(0.5, 1.5, tuple(o.shape)) * rng.choice([-1.0, 1.0], tuple(o.shape))).astype(np.float16)
               for o in outs]
    analytical = _grad(outs, [inputs[i] for i in diff], [_f16_tensor(w, o._a.device) for w, o in zip(weights, outs)],
                       allow_unused=True)
    w64 = [w.astype(np.float64) for w in weights]
    w_flat = np.concatenate([w.reshape(-1) for w in w64]) if w64 else np.zeros(0)
    hosts = [np.asarray(t.numpy()) if isinstance(t, Tensor) else t for t in inputs]
    base = [h.astype(np.float64) if isinstance(h, np.ndarray) and h.dtype == np.float16 else h for h in hosts]

    def reference_value():
        return sum(float((np.asarray(r, dtype=np.float64) * w).sum()) for r, w in zip(_outputs(reference(*base)), w64))

    def f16_evaluation():
        """(weighted output, the outputs flattened, their weights) of fn at the current `base`."""
        args = [_f16_tensor(v, inputs[k]._a.device)
                if isinstance(inputs[k], Tensor) and inputs[k]._a.dtype == "float16" else inputs[k]
                for k, v in enumerate(base)]
        with no_grad():
            res = _outputs(fn(*args))
        flat = np.concatenate([np.asarray(r.numpy(), dtype=np.float64).reshape(-1) for r in res])
        return float((flat * w_flat).sum()), flat, w_flat

    worst, ok = None, True
    for slot, i in enumerate(diff):
        x = base[i]
        numerical = np.zeros(x.shape)
        noise = np.zeros(x.shape)
        for j in range(x.size):
            if reference is not None:
                h = eps if eps is not None else 1e-6
                orig = x.reshape(-1)[j]
                x.reshape(-1)[j] = orig + h
                f_hi = reference_value()
                x.reshape(-1)[j] = orig - h
                f_lo = reference_value()
                x.reshape(-1)[j] = orig
                numerical.reshape(-1)[j] = (f_hi - f_lo) / (2 * h)
            else:
                numerical.reshape(-1)[j], noise.reshape(-1)[j] = _f16_derivative(f16_evaluation, x, j)
        a = analytical[slot]
        a = np.zeros(x.shape) if a is None else a.numpy().astype(np.float64)
        checked = np.isfinite(numerical) | ~np.isfinite(a)
        scale = float(np.abs(numerical[np.isfinite(numerical)]).max(initial=0.0))
        if reference is not None:
            allowed = (atol if atol is not None else 2e-2 * scale + 1e-3) + (rtol if rtol is not None else 1e-2) * np.abs(numerical)
        else:
            allowed = noise + (atol if atol is not None else 8 * _U * scale) + (rtol if rtol is not None else 8 * _U) * np.abs(numerical)
        err = np.where(checked, np.abs(a - numerical), 0.0)
        if err.size:
            k = int(np.argmax(np.where(checked, err - allowed, -np.inf)))
            idx = np.unravel_index(k, x.shape)
            entry = dict(input=i, index=tuple(int(v) for v in idx), analytical=float(a[idx]),
                         numerical=float(numerical[idx]), error=float(err[idx]), allowed=float(allowed[idx]))
            if not np.isfinite(a[checked]).all() or not np.isfinite(numerical[checked]).all():
                entry["error"] = float("inf")
            if worst is None or entry["error"] - entry["allowed"] > worst["error"] - worst["allowed"]:
                worst = entry
            ok = ok and entry["error"] <= entry["allowed"]
    report = GradcheckReport(ok, worst)
    if not ok and raise_exception:
        raise GradcheckError(f"gradcheck failed: {report!r}")
    return report
