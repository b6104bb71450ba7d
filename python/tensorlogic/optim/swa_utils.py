"""torch.optim.swa_utils: stochastic weight averaging and exponential moving averages of a model's weights
(AveragedModel with its averaging functions), the SWALR schedule, and update_bn, which recomputes batch-norm
statistics for averaged weights.

The averages are float16 tensors, and a step of an average is often below half an f16 ulp of it (an EMA with decay
0.999 moves by a thousandth of the distance to the weights; the 20th SWA step by a 21st): rounded plainly, such an
average would stop moving, as pure-f16 training would stall (SPEC §5). The averaging this module does itself (the
default of AveragedModel and the functions of get_ema_multi_avg_fn and get_swa_multi_avg_fn) therefore keeps, per
averaged tensor, the part of the exact average that f16 cannot hold, and adds it back at the next step (the
optimizers' Kahan compensation, made of f16 tensor ops with the error-free sum of two values). The per-tensor
functions of get_ema_avg_fn and get_swa_avg_fn return one f16 tensor, which AveragedModel copies in: they round
each step, as any avg_fn does. Integer tensors (num_batches_tracked, with use_buffers) follow PyTorch's float32
formulas on the host, truncated."""
import copy
import itertools
import math
import weakref

import numpy as np

from ..autograd.grad_mode import no_grad
from ..creation import tensor, zeros_like
from ..dtypes import int64
from ..nn.module import Module
from ..nn.normalization import _BatchNorm
from ..tensor import Tensor
from .lr_scheduler import LRScheduler, _per_group

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn", "get_ema_avg_fn",
           "get_swa_avg_fn"]


class _Residuals:
    """For each averaged tensor, what its f16 value lacks of the exact average: kept by the tensor's native array
    (AveragedModel passes detached tensors, new objects on the same array at each update) and valid while the
    array is at the version this module left it (load_state_dict or any other write since drops it)."""

    def __init__(self):
        self.entries = {}  # id(array) -> (weak reference to the array, residual tensor, version)

    def get(self, t):
        entry = self.entries.get(id(t._a))
        if entry is not None and entry[0]() is t._a and entry[2] == t._version and entry[1].device == t.device:
            return entry[1]
        return zeros_like(t)

    def put(self, t, residual):
        self.entries[id(t._a)] = (weakref.ref(t._a), residual, t._version)

    def prune(self):
        """Forgets the entries of arrays that no longer exist."""
        self.entries = {k: e for k, e in self.entries.items() if e[0]() is not None}


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def _lerp_kept_(averages, currents, weight, residuals, integer_formula):
    """averages[i] += weight * (currents[i] - averages[i]) in place. The float16 ones keep residuals: with hi the
    stored value and lo its residual, the step weight * ((current - hi) - lo) plus lo is added to hi, and the
    rounding error of that sum (TwoSum, exact in f16) becomes the new residual. An integer one becomes
    integer_formula(average, current) (PyTorch's float32 arithmetic, on the host) truncated toward zero, as
    PyTorch's copy of it into the integer tensor is."""
    residuals.prune()
    with no_grad():
        for average, current in zip(averages, currents):
            if not average.is_floating_point():
                mine = average.numpy()
                value = np.trunc(integer_formula(mine, current.numpy())).astype(mine.dtype)
                average.copy_(tensor(value, device=average.device))
                continue
            lo = residuals.get(average)
            hi = average.clone()
            step = ((current - hi) - lo) * weight + lo
            total = hi + step
            back = total - hi
            average.copy_(total)
            residuals.put(average, (hi - (total - back)) + (step - back))


def get_ema_multi_avg_fn(decay=0.999):
    """The multi_avg_fn of an exponential moving average: each average moves (1 - decay) of the way to the model's
    tensor, in place, keeping the part f16 cannot hold (see the module's docstring)."""
    _check_decay(decay)
    residuals = _Residuals()

    def integer_ema(a, c):
        return a.astype(np.float32) * np.float32(decay) + c.astype(np.float32) * np.float32(1.0 - decay)

    def ema_update(ema_param_list, current_param_list, _):
        _lerp_kept_(ema_param_list, current_param_list, 1.0 - decay, residuals, integer_ema)
    return ema_update


def get_swa_multi_avg_fn():
    """The multi_avg_fn of the equal-weight running average (AveragedModel's default): each average moves
    1 / (num_averaged + 1) of the way to the model's tensor, in place, keeping the part f16 cannot hold."""
    residuals = _Residuals()

    def swa_update(averaged_param_list, current_param_list, num_averaged):
        n = int(num_averaged.item()) if isinstance(num_averaged, Tensor) else int(num_averaged)
        _lerp_kept_(averaged_param_list, current_param_list, 1.0 / (n + 1), residuals,
                    lambda a, c: a.astype(np.float32) + (c - a).astype(np.float32) / np.float32(n + 1))
    return swa_update


def get_ema_avg_fn(decay=0.999):
    """The avg_fn of an exponential moving average: decay * ema + (1 - decay) * current, a new f16 tensor (each step
    rounded; get_ema_multi_avg_fn keeps what rounding loses)."""
    _check_decay(decay)

    def ema_update(ema_param, current_param, num_averaged):
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn():
    """The avg_fn of the equal-weight running average: averaged + (current - averaged) / (num_averaged + 1), a new
    f16 tensor (each step rounded; get_swa_multi_avg_fn keeps what rounding loses)."""
    def swa_update(averaged_param, current_param, num_averaged):
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


class AveragedModel(Module):
    """A copy of model (deep-copied, moved to device when given) whose parameters, and with use_buffers its buffers,
    are a running average of model's, updated by update_parameters(model): the equal-weight average by default,
    else avg_fn(averaged, current, num_averaged) per tensor (returning the new value) or multi_avg_fn(averaged_list,
    current_list, num_averaged) updating the lists in place (get_ema_multi_avg_fn for an EMA). Without use_buffers
    the buffers are copied from model. The buffer n_averaged counts the updates; state_dict keys are PyTorch's
    (n_averaged, then module.*)."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=int64, device=device))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers
        self._default_avg_fn = get_swa_multi_avg_fn()  # its residuals belong to this model's averages

    def forward(self, *args, **kwargs):
        """The averaged copy's forward."""
        return self.module(*args, **kwargs)

    def update_parameters(self, model):
        """Averages model's current parameters (and buffers, with use_buffers) into this copy's; the first update
        copies them. Then n_averaged counts one more."""
        if self.use_buffers:
            mine = list(itertools.chain(self.module.parameters(), self.module.buffers()))
            theirs = list(itertools.chain(model.parameters(), model.buffers()))
        else:
            mine, theirs = list(self.parameters()), list(model.parameters())
        pairs = [(p.detach(), q.detach().to(p.device)) for p, q in zip(mine, theirs)]
        with no_grad():
            if int(self.n_averaged.item()) == 0:
                for p, q in pairs:
                    p.copy_(q)
            elif self.avg_fn is not None:
                for p, q in pairs:
                    p.copy_(self.avg_fn(p, q, self.n_averaged.to(p.device)))
            else:  # one call per device and dtype, as PyTorch groups them
                groups = {}
                for p, q in pairs:
                    group = groups.setdefault((str(p.device), p.dtype), ([], []))
                    group[0].append(p)
                    group[1].append(q)
                for (device, _), (averaged, current) in groups.items():
                    (self.multi_avg_fn or self._default_avg_fn)(averaged, current, self.n_averaged.to(device))
            if not self.use_buffers:  # the buffers follow the model's
                buffers, model_buffers = list(self.module.buffers()), list(model.buffers())
                if len(buffers) != len(model_buffers):
                    raise ValueError(f"update_parameters: the model has {len(model_buffers)} buffers, the averaged "
                                     f"copy {len(buffers)}")
                for b, c in zip(buffers, model_buffers):
                    b.copy_(c.detach().to(b.device))
            self.n_averaged.add_(1)


def update_bn(loader, model, device=None):
    """Recomputes the running statistics of model's batch-norm layers over one pass of loader (each item an input,
    or a list or tuple whose first element is one, moved to device when given): the statistics are reset and
    averaged over the batches with equal weights (momentum None), in training mode; the momenta and the model's mode
    are restored afterwards."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with no_grad():
        for input in loader:
            if isinstance(input, (list, tuple)):
                input = input[0]
            if device is not None:
                input = input.to(device)
            model(input)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each param group's lr to its swa_lr (one value, or one per group) over anneal_epochs steps, along a
    cosine (anneal_strategy "cos") or a line ("linear"), then keeps it there; as torch.optim.swa_utils.SWALR, whose
    recursive formula it follows, so the learning rates match."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        if isinstance(swa_lr, (list, tuple)) and len(swa_lr) != len(optimizer.param_groups):
            raise ValueError(f"swa_lr must have the same length as optimizer.param_groups. swa_lr has {len(swa_lr)} "
                             f"values, param_groups has {len(optimizer.param_groups)}.")
        for lr, group in zip(_per_group("swa_lr", optimizer.param_groups, swa_lr), optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if isinstance(anneal_epochs, bool) or not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        """The lr the annealing started from, recovered from the present lr (alpha of the way to swa_lr)."""
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def get_lr(self):
        """This step's learning rates, one per param group: the fraction anneal_func(t) of the way from the lr the
        annealing started from to swa_lr, t = step / anneal_epochs clipped to [0, 1]."""
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        prev_lrs = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
                    for group in self.optimizer.param_groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [group["swa_lr"] * alpha + lr * (1 - alpha) for group, lr in zip(self.optimizer.param_groups, prev_lrs)]

    def state_dict(self):
        """The scheduler's state without the optimizer and the annealing function (restored from its name)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict):
        """Restores a state from state_dict()."""
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
