"""L-BFGS with torch.optim.LBFGS's arguments, defaults and iteration (two-loop recursion over the last
history_size steps, PyTorch's stopping rules and first-step scaling). The search direction and history are
float32 numpy vectors on the host (a flat view of every parameter); each step is written back into the f16
parameters with the rounding residual carried to the next step (see host.py). line_search_fn is None (a
fixed step of lr) or "strong_wolfe" (line_search.py).

The state is torch.optim.LBFGS's: one entry, state[first parameter], with its keys ('func_evals', 'n_iter', 'd',
't', 'old_dirs', 'old_stps', 'ro', 'H_diag', 'prev_flat_grad', 'prev_loss', 'al'). It is a HostState, so its vectors
and their lists read as tensors, as PyTorch's are (f16 copies of the float32 values the update keeps); the flat
rounding residual of every parameter ('compensation') is kept beside them, unlisted, and saved by state_dict()."""
import math
import numbers

import numpy as np

from ..autograd.grad_mode import enable_grad
from .host import HostOptimizer, host_f32, write_f16
from .host_state import HostState
from .line_search import strong_wolfe
from .optimizer import _check

# The entries that are tensors (or lists of tensors) in torch.optim.LBFGS's state: those state[p] reads as tensors.
_TENSOR_ENTRIES = ("d", "prev_flat_grad", "old_dirs", "old_stps", "ro", "al", "H_diag")
# The entries an iteration after the first reads: a loaded state has all of them or none (then the history restarts).
_HISTORY = ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "prev_loss")


class LBFGS(HostOptimizer):
    """L-BFGS with torch.optim.LBFGS's arguments, defaults and iteration; step(closure) needs a closure that
    recomputes the loss and its gradients. One parameter group; the history is float32 on the host."""

    _unscales_in_step = False  # its gradients come from closures: a GradScaler unscales them first (unscale_)
    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}")
        max_eval = max_iter * 5 // 4 if max_eval is None else max_eval
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _validate(self, group):
        super()._validate(group)
        for name in ("history_size", "max_iter", "max_eval"):
            value = group[name]
            if not isinstance(value, numbers.Integral) or isinstance(value, bool):
                raise TypeError(f"LBFGS: {name} must be an int, got {value!r}")
        _check(group["history_size"] >= 1, f"LBFGS: history_size must be at least 1, got {group['history_size']}")

    def _state_names(self, p):
        return _HISTORY

    def _state_form(self, name, p):
        n = sum(q.numel() for q in self._params)  # the history's vectors are flat views of every parameter
        if name in ("func_evals", "n_iter"):
            return "count"
        if name in ("d", "prev_flat_grad", "compensation"):
            return (n,)
        if name in ("old_dirs", "old_stps"):
            return [(n,)]
        if name in ("ro", "al"):
            return [()]
        return () if name in ("t", "H_diag", "prev_loss") else None

    def _wrapped_state(self, p, entries):
        lengths = {name: len(entries[name]) for name in ("old_dirs", "old_stps", "ro")
                   if isinstance(entries.get(name), (list, tuple))}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"LBFGS: the history lists of the state differ in length: {lengths}")
        return HostState(p, {name: self._state_form(name, p) for name in _TENSOR_ENTRIES}, entries)

    def _flat_grad(self):
        grads = [p.grad for p in self._params]  # read once each: another thread may clear them meanwhile
        return np.concatenate([np.zeros(p.numel(), np.float32) if g is None else host_f32(g).reshape(-1)
                               for p, g in zip(self._params, grads)])

    def _flat_params(self, raw):
        """The parameters as float32 with their carried rounding residuals: the values the steps move."""
        flat = np.concatenate([host_f32(p).reshape(-1) for p in self._params])
        return flat + raw["compensation"] if "compensation" in raw else flat

    def _set(self, raw, flat):
        """Writes float32 values into the f16 parameters, keeping their rounding residuals."""
        offset, residuals = 0, []
        for p in self._params:
            n = p.numel()
            residuals.append(write_f16(p, flat[offset:offset + n].reshape(p.shape)).reshape(-1))
            offset += n
        raw["compensation"] = np.concatenate(residuals).astype(np.float32)

    def _line_search(self, raw, closure, loss, flat_grad, t, d, gtd):
        """strong_wolfe from the current parameters along d; leaves them at the step it accepts."""
        start = self._flat_params(raw)

        def evaluate(step):
            self._set(raw, start + np.float32(step) * d)
            with enable_grad():
                value = float(closure())
            return value, self._flat_grad()

        loss, flat_grad, t, evals = strong_wolfe(evaluate, t, d, loss, flat_grad, gtd, resolution=_resolution(loss))
        self._set(raw, start + np.float32(t) * d)
        return loss, flat_grad, t, evals

    def step(self, closure):
        """Runs up to max_iter iterations; `closure` re-evaluates the model and returns the loss."""
        if closure is None:
            raise RuntimeError("LBFGS requires a closure that reevaluates the model and returns the loss")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        state = self._host_state(self._params[0]).raw  # (float32 arrays and numbers; state[p] reads them as tensors)
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag, prev_flat_grad, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            first = state["n_iter"] == 1 or d is None  # (a state without its history starts a new one)
            if first:
                d, old_dirs, old_stps, ro, h_diag = -flat_grad, [], [], [], 1.0
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = float(y @ s)
                if ys > 1e-10:
                    while len(old_dirs) >= history_size:  # (a loaded history may be longer than history_size)
                        old_dirs.pop(0), old_stps.pop(0), ro.pop(0)
                    old_dirs.append(y), old_stps.append(s), ro.append(1.0 / ys)
                    h_diag = ys / float(y @ y)
                if state.get("al") is None or len(state["al"]) < len(old_dirs):  # (scratch, kept in the state as PyTorch keeps it)
                    state["al"] = [None] * history_size
                al = state["al"]
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = float(old_stps[i] @ q) * ro[i]
                    q = q - al[i] * old_dirs[i]
                r = q * h_diag
                for i in range(len(old_dirs)):
                    be_i = float(old_dirs[i] @ r) * ro[i]
                    r = r + (al[i] - be_i) * old_stps[i]
                d = r
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            t = min(1.0, 1.0 / float(np.abs(flat_grad).sum())) * lr if first else lr
            gtd = float(flat_grad @ d)
            if gtd > -tolerance_change:
                break
            evals = 0
            opt_cond = False
            if group["line_search_fn"] is not None:
                loss, flat_grad, t, evals = self._line_search(state, closure, loss, flat_grad, t, d, gtd)
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
            else:
                self._set(state, self._flat_params(state) + np.float32(t) * d)
                if n_iter != max_iter:
                    with enable_grad():
                        loss = float(closure())
                    flat_grad = self._flat_grad()
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                    evals = 1
            current_evals += evals
            state["func_evals"] += evals
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if (np.abs(d * t).max() <= tolerance_change
                    or _change(loss, prev_loss, t, gtd, flat_grad @ d) < tolerance_change):
                break
        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=h_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss


def _resolution(loss):
    """How finely an f16 loss near `loss` is known: the spacing of f16 values there (0 for inf or NaN)."""
    return float(np.spacing(np.float16(abs(loss)))) if math.isfinite(loss) else 0.0


def _change(loss, prev_loss, t, gtd, gtd_new):
    """The loss's change over a step (for PyTorch's tolerance_change test): the f16 losses' difference, or where that
    is within their resolution (equal f16 losses, where PyTorch's float32 ones still differ and it goes on), the
    change the slopes at both ends predict (their mean times the step)."""
    if abs(loss - prev_loss) > _resolution(prev_loss):
        return abs(loss - prev_loss)
    return abs(t * (gtd + float(gtd_new)) / 2)
