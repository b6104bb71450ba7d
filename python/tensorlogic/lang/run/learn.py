"""`learn` blocks: each epoch re-runs the block, back-propagates the objective into the learnable
tensors and steps the optimizer (and scheduler) of `tl.optim`, with a progress bar."""
from __future__ import annotations

import inspect
import math
import sys

from tqdm import tqdm

from ..check import catalog
from ..engine import tl
from ..errors import NonFiniteLossWarning, warn_at
from ..syntax import nodes as N
from .labelled import Labelled, is_tensor
from .structs import StructValue, struct_parameters
from .values import scalar

DEFAULT_EPOCHS = 100
DEFAULT_OPTIMIZER = ("Adam", {"lr": 0.01})


def _call_kwargs(rt, call, cls, accepted_names):
    """Keyword arguments of an optimizer/scheduler call mapped to the class's parameter names
    (case-insensitively, so `t_max` is `T_max`)."""
    params = [p for p in inspect.signature(cls).parameters][1:]
    out = {}
    for k, a in zip(params, call.args):
        out[k] = a
    for kw in call.kwargs:
        match = catalog.match_argument(kw.name, params)
        if match is None:
            raise rt.error(f"{cls.__name__} has no argument '{kw.name}'", kw.span)
        if match == "betas" and kw.name.lower() in ("beta1", "beta2"):
            match = kw.name.lower()             # one part of betas: build_optimizer joins them
        out[match] = kw.value
    if "betas" in out and ("beta1" in out or "beta2" in out):
        raise rt.error("give betas or beta1/beta2, not both", call.span)
    return out


def _value(rt, fr, e):
    v = rt.evaluator.value(e, fr.locals, fr.local_names) if fr is not None else rt.evaluator.value(e)
    if isinstance(v, Labelled):
        v = v.t
    return v


def build_optimizer(rt, fr, setting, params):
    if setting is None:
        name, kwargs = DEFAULT_OPTIMIZER
        return getattr(tl.optim, name)(params, **kwargs)
    call = setting.value
    name = catalog.optimizer_class(call.name)
    cls = getattr(tl.optim, name, None)
    if cls is None:
        raise rt.error(f"tl.optim has no {name}", call.name_span)
    raw = _call_kwargs(rt, call, cls, catalog.OPTIMIZERS[name])
    kwargs = {k: _py(_value(rt, fr, v)) for k, v in raw.items()}
    if "beta1" in kwargs or "beta2" in kwargs:
        default = inspect.signature(cls).parameters["betas"].default
        kwargs["betas"] = (kwargs.pop("beta1", default[0]), kwargs.pop("beta2", default[1]))
    try:
        return cls(params, **kwargs)
    except (TypeError, ValueError) as err:
        raise _refused(rt, name, err, call.span) from None


def build_scheduler(rt, fr, setting, optimizer):
    if setting is None:
        return None
    call = setting.value
    name = catalog.scheduler_class(call.name)
    sched = getattr(getattr(tl.optim, "lr_scheduler", None), name, None)
    if sched is None:
        raise rt.error(f"tl.optim.lr_scheduler has no {name}", call.name_span)
    raw = _call_kwargs(rt, call, sched, catalog.SCHEDULERS[name])
    kwargs = {}
    for k, v in raw.items():
        if name == "LambdaLR" and isinstance(v, N.Name) and v.id in rt.model.functions:
            fn = rt.model.functions[v.id]
            kwargs[k] = (lambda epoch, fn=fn, node=v: float(scalar(rt.call_function(fn, [epoch], {}, node))))
        else:
            kwargs[k] = _py(_value(rt, fr, v))
    try:
        return sched(optimizer, **kwargs)
    except (TypeError, ValueError) as err:
        raise _refused(rt, name, err, call.span) from None


def _refused(rt, name, err, span):
    """The optimizer's or scheduler's refusal, named once (tl.optim's own messages may name it)."""
    text = str(err)
    return rt.error(text if text.startswith(f"{name}:") else f"{name}: {text}", span)


def _py(v):
    if is_tensor(v) and v.numel() == 1:
        return v.item()
    if isinstance(v, list):
        return tuple(v)
    return v


def _progress(epochs, enabled):
    """A tqdm bar on stderr: shown on a terminal by default, always with `progress: true`, never
    with `progress: false`."""
    return tqdm(total=epochs, desc="learn", unit="epoch", file=sys.stderr,
                disable=None if enabled is None else not enabled, mininterval=0.25, leave=True)


def run_learn(rt, node, fr=None):
    settings = {s.key: s for s in node.settings}
    names = [n for n, t in rt.model.tensors.items() if t.mode == "learnable" and
             (n in rt.leaves or t.decl.init is not None)]
    params = [rt.leaf(n) for n in names] + struct_parameters(rt.evaluator, node.span)
    if not params:  # the optimizer's own error would name Python's classes, not the program
        raise rt.error("`learn` has no learnable tensor with a value to train (declared `learnable` before the "
                       "block)", node.span)
    optimizer = build_optimizer(rt, fr, settings.get("optimizer"), params)
    scheduler = build_scheduler(rt, fr, settings.get("scheduler"), optimizer)
    epochs = _setting(rt, fr, settings, "epochs", int, DEFAULT_EPOCHS)
    if epochs < 0:
        raise rt.error(f"`epochs` cannot be negative ({epochs})", settings["epochs"].value.span)
    clip = _setting(rt, fr, settings, "clip_grad_norm", float, None)
    progress = _setting(rt, fr, settings, "progress", bool, None)
    objective = settings["objective"].value
    statements = [s for s in node.body if not (isinstance(s, N.Assign) and _is_definition(rt, s, fr))]
    bar = _progress(epochs, progress)
    loss_value = None
    try:
        for epoch in range(epochs):
            rt.budget.tick(node.span)
            _touch(rt, names)
            with tl.enable_grad():
                for s in statements:
                    rt.exec_stmt(s, fr)
                loss = _value(rt, fr, objective)
                if not is_tensor(loss):
                    raise rt.error("the objective does not depend on a learnable tensor", objective.span)
                if loss.ndim > 0:
                    loss = loss.mean()
                optimizer.zero_grad()
                if not loss.requires_grad:
                    raise rt.error("the objective does not depend on a learnable tensor", objective.span)
                loss.backward()
                if clip is not None:
                    tl.nn.utils.clip_grad_norm_(params, clip)
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
            bar.update(1)
            if not bar.disable and (epoch % max(1, epochs // 50) == 0 or epoch == epochs - 1):
                bar.set_postfix(loss=f"{loss.item():.4g}", refresh=False)
        loss_value = loss.item() if epochs else None
    finally:
        bar.close()
        _touch(rt, names)
    if loss_value is not None and not math.isfinite(loss_value) and objective not in rt.warned:
        rt.warned.add(objective)
        _warn_not_finite(rt, objective, loss_value, epochs)
    rt.last_loss = loss_value
    return loss_value


def _warn_not_finite(rt, objective, value, epochs):
    """A loss gone nan or inf stays so and fills the tensors with nan, silently: say so once, at
    the objective, with the float16 causes a new program most often meets."""
    file = objective.span.file or rt.model.filename
    warn_at(NonFiniteLossWarning,
            f"the objective is {value} after {epochs} epoch{'s' if epochs != 1 else ''}, so the learnable "
            f"tensors may hold nan or inf now: in float16, 0 * log(0) is nan (a probability rounded to 0 or "
            f"1: write log(p + 0.0001), or log_softmax for a log of softmax) and values past 65504 are inf "
            f"(lower the learning rate)",
            file, objective.span, rt.model.sources.get(file))


def _setting(rt, fr, settings, key, convert, default):
    if key not in settings:
        return default
    value = _py(_value(rt, fr, settings[key].value))
    try:
        return convert(value)
    except (TypeError, ValueError):
        raise rt.error(f"`{key}` takes a {convert.__name__}, not {value!r}", settings[key].value.span) from None


def _is_definition(rt, s, fr):
    """An equation of the learn block (evaluated when read), not a statement it re-runs."""
    if fr is not None and fr.locals is not None:
        return False
    name = s.target.id if isinstance(s.target, N.Name) else s.target.base.id
    return name not in rt.model.global_vars


def _touch(rt, names):
    """The learnable tensors changed, and so did every variable holding a struct with learnable
    fields (trained in place): definitions reading either are computed again when read."""
    changed = list(names)
    if len(rt.trainable):
        changed += [n for n, v in rt.globals.items() if isinstance(n, str) and _holds_trainable(v, rt.trainable)]
    for n in changed:
        rt.versions[n] = rt.versions.get(n, 0) + 1


def _holds_trainable(value, trainable):
    if isinstance(value, StructValue):
        return value in trainable or any(_holds_trainable(v, trainable) for v in value.fields.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_trainable(v, trainable) for v in value)
    return False
