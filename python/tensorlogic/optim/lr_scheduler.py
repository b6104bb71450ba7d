"""Learning-rate schedulers with torch.optim.lr_scheduler's recursive formulas, so the lr sequences match."""
import math
import numbers
from collections import Counter

from .optimizer import Optimizer


def _positive(value, name, owner):
    """value when it is a positive number; a TypeError or ValueError naming it otherwise (it divides an epoch
    count: 0 gave ZeroDivisionError at the first step)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a positive number, got {type(value).__name__}")
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{owner}: {name} must be positive and finite, got {value}")
    return value


class LRScheduler:
    """The base of the schedulers, as torch.optim.lr_scheduler.LRScheduler: it sets each param group's 'lr' from
    get_lr() at construction (epoch 0) and at every step(). last_epoch=-1 starts afresh (recording 'initial_lr' in
    each group); a later value resumes, which needs the groups' 'initial_lr'."""
    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if isinstance(last_epoch, bool) or not isinstance(last_epoch, int):
            raise TypeError(f"{type(self).__name__}: last_epoch must be an int, got {type(last_epoch).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when resuming a "
                                   "scheduler with last_epoch >= 0 (load the optimizer state first)")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True
        self.step()
        self._is_initial = False

    def get_lr(self):
        """The learning rates of the current epoch, one per param group (each scheduler defines it, with PyTorch's
        recursive formula so the sequences match)."""
        raise NotImplementedError

    def get_last_lr(self):
        """The learning rates the last step set, one per param group."""
        return self._last_lr

    def step(self):
        """Advances one epoch and writes the new learning rates into the optimizer's param groups (call after
        optimizer.step())."""
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        """The scheduler's state as a dict (everything but the optimizer and the lr lambdas), for load_state_dict."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}

    def load_state_dict(self, state_dict):
        """Restores a state from state_dict()."""
        self.__dict__.update(_state(state_dict, self))



class _LRScheduler(LRScheduler):
    """torch.optim.lr_scheduler._LRScheduler: the name schedulers written for older PyTorch subclass (PyTorch keeps
    it as a subclass of LRScheduler)."""

class StepLR(LRScheduler):
    """Multiplies each lr by gamma every step_size epochs, as torch.optim.lr_scheduler.StepLR."""
    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size, self.gamma = _positive(step_size, "step_size", "StepLR"), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """This epoch's learning rates, one per param group: the previous ones times gamma at every step_size-th
        epoch, else unchanged."""
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]


class ExponentialLR(LRScheduler):
    """Multiplies each lr by gamma every epoch, as torch.optim.lr_scheduler.ExponentialLR."""
    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """This epoch's learning rates, one per param group: the previous ones times gamma."""
        if self._is_initial:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]


class CosineAnnealingLR(LRScheduler):
    """Anneals each lr from its base to eta_min along a cosine over T_max epochs (and back up after, as PyTorch's
    recursive form does), as torch.optim.lr_scheduler.CosineAnnealingLR."""
    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max, self.eta_min = _positive(T_max, "T_max", "CosineAnnealingLR"), eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """This epoch's learning rates, one per param group: PyTorch's recursive cosine step toward eta_min."""
        if self._is_initial:
            return self._lrs()
        if self._step_count == 1 and self.last_epoch > 0:
            return [self.eta_min + (base - self.eta_min) * (1 + math.cos(self.last_epoch * math.pi / self.T_max)) / 2
                    for base in self.base_lrs]
        if (self.last_epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            return [lr + (base - self.eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2
                    for base, lr in zip(self.base_lrs, self._lrs())]
        return [(1 + math.cos(math.pi * self.last_epoch / self.T_max))
                / (1 + math.cos(math.pi * (self.last_epoch - 1) / self.T_max)) * (lr - self.eta_min) + self.eta_min
                for lr in self._lrs()]


class LinearLR(LRScheduler):
    """Scales each lr by a factor going linearly from start_factor to end_factor over total_iters epochs, then keeps
    it, as torch.optim.lr_scheduler.LinearLR."""
    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        if not 0 < start_factor <= 1:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and less or equal to 1.")
        if not 0 <= end_factor <= 1:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """This epoch's learning rates, one per param group: the previous ones times the ratio of this epoch's
        factor to the last one's."""
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self._lrs()]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._lrs()
        factor = 1.0 + (self.end_factor - self.start_factor) / (
            self.total_iters * self.start_factor + (self.last_epoch - 1) * (self.end_factor - self.start_factor))
        return [lr * factor for lr in self._lrs()]


class LambdaLR(LRScheduler):
    """Sets each lr to its base times lr_lambda(epoch) (one function, or one per param group), as
    torch.optim.lr_scheduler.LambdaLR."""
    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"Expected {n} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """This epoch's learning rates, one per param group: each base lr times lr_lambda(last_epoch)."""
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]


class MultiStepLR(LRScheduler):
    """Multiplies each lr by gamma at each epoch listed in milestones (twice if listed twice), as
    torch.optim.lr_scheduler.MultiStepLR."""
    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        listed = [] if isinstance(milestones, (str, bytes)) else _iterable(milestones, "MultiStepLR: milestones")
        if isinstance(milestones, (str, bytes)) or not all(isinstance(m, int) for m in listed):
            raise TypeError(f"MultiStepLR: milestones must be a list of epoch numbers (ints), got {milestones!r}")
        self.milestones, self.gamma = Counter(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """This epoch's learning rates, one per param group: the previous ones times gamma (per listing) at a
        milestone, else unchanged."""
        if self.last_epoch not in self.milestones:
            return self._lrs()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self._lrs()]


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing from each base lr to eta_min over T_i epochs, restarting with T_i = T_0 * T_mult^k."""

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):  # noqa: N803 (PyTorch's names)
        if not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        self.T_0, self.T_i, self.T_mult, self.eta_min, self.T_cur = T_0, T_0, T_mult, eta_min, last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """This epoch's learning rates, one per param group: eta_min + (base - eta_min) (1 + cos(pi T_cur / T_i)) /
        2."""
        return [self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base in self.base_lrs]

    def step(self, epoch=None):
        """Without `epoch`, one more step (fractions of an epoch are fine when given explicitly)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur -= self.T_i
                self.T_i *= self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"Expected non-negative epoch, but got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult**n
            else:
                self.T_i, self.T_cur = self.T_0, epoch
        self.last_epoch = math.floor(epoch)
        self._step_count += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


class _CyclesMomentum(LRScheduler):
    """A scheduler that cycles momentum (or Adam's beta1) against the learning rate: OneCycleLR and CyclicLR."""

    def _start_momentum(self, optimizer, cycle_momentum, base_momentum, max_momentum, last_epoch):
        """cycle_momentum and, when set: use_beta1, each group's base and max momentum (one value or one per group)
        and, on a fresh start (last_epoch -1), each group's momentum at its max; as PyTorch's two schedulers."""
        self.cycle_momentum = cycle_momentum
        if not cycle_momentum:
            return
        if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
            raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option enabled")
        self.use_beta1 = "betas" in optimizer.defaults
        groups = optimizer.param_groups
        self.base_momentums = _per_group("base_momentum", groups, base_momentum)
        self.max_momentums = _per_group("max_momentum", groups, max_momentum)
        if last_epoch == -1:
            for top, bottom, group in zip(self.max_momentums, self.base_momentums, groups):
                self._set_momentum(group, top)
                group["max_momentum"], group["base_momentum"] = top, bottom

    def _set_momentum(self, group, value):
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value


class OneCycleLR(_CyclesMomentum):
    """The 1cycle policy: lr from max_lr/div_factor up to max_lr over pct_start of the steps, then down to
    initial_lr/final_div_factor (three_phase: back to the initial lr first), cosine or linear; momentum (or
    Adam's beta1) cycles the other way when cycle_momentum."""

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=25.0,
                 final_div_factor=1e4, three_phase=False, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
            total_steps = epochs * steps_per_epoch
        if not isinstance(total_steps, int) or total_steps <= 0:
            raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
        if not 0 <= pct_start <= 1 or not isinstance(pct_start, float):
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self.total_steps = total_steps
        self.anneal_strategy = anneal_strategy  # a name, not a function, so state_dict() stays plain data
        up = float(pct_start * total_steps) - 1
        if three_phase:
            self._phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                            (float(2 * pct_start * total_steps) - 2, "max_lr", "initial_lr", "base_momentum",
                             "max_momentum"),
                            (total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            self._phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                            (total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        groups = optimizer.param_groups
        max_lrs = list(max_lr) if isinstance(max_lr, (list, tuple)) else [max_lr] * len(groups)
        if len(max_lrs) != len(groups):
            raise ValueError(f"expected {len(groups)} values for max_lr, got {len(max_lrs)}")
        _positive(div_factor, "div_factor", "OneCycleLR")
        _positive(final_div_factor, "final_div_factor", "OneCycleLR")
        if last_epoch == -1:
            for group, lr in zip(groups, max_lrs):
                group["initial_lr"] = lr / div_factor
                group["max_lr"] = lr
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self._start_momentum(optimizer, cycle_momentum, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        """This epoch's learning rates, one per param group: annealed between the phase's start and end values by
        anneal_strategy (also setting momentum or beta1 when cycle_momentum); ValueError past total_steps."""
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"Tried to step {step} times. The specified number of total steps is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, (end, lr_from, lr_to, m_from, m_to) in enumerate(self._phases):
                if step <= end or i == len(self._phases) - 1:
                    pct = (step - start) / (end - start)
                    lrs.append(self._anneal(group[lr_from], group[lr_to], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[m_from], group[m_to], pct))
                    break
                start = end
        return lrs


class ReduceLROnPlateau(LRScheduler):
    """Multiplies the lr by `factor` when the metric passed to step(metric) has not improved for `patience`
    steps (then waits `cooldown` steps), never below min_lr."""

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0, eps=1e-8):
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if mode not in ("min", "max"):
            raise ValueError(f"mode {mode} is unknown!")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold mode {threshold_mode} is unknown!")
        groups = optimizer.param_groups
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(groups):
                raise ValueError(f"expected {len(groups)} min_lrs, got {len(min_lr)}")
            self.min_lrs = list(min_lr)
        else:
            self.min_lrs = [min_lr] * len(groups)
        self.optimizer, self.factor, self.patience, self.cooldown, self.eps = optimizer, factor, patience, cooldown, eps
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs, self.cooldown_counter, self.last_epoch = 0, 0, 0
        self._last_lr = self._lrs()

    def _is_better(self, a):
        if self.mode == "min":
            return a < (self.best * (1.0 - self.threshold) if self.threshold_mode == "rel" else self.best - self.threshold)
        return a > (self.best * (self.threshold + 1.0) if self.threshold_mode == "rel" else self.best + self.threshold)

    def step(self, metrics):
        """Records `metrics` (the monitored value) for one epoch; after more than `patience` epochs without
        improvement (by `threshold`, in `mode`), each lr is multiplied by factor (not below min_lr, and not when the
        change is below eps), then `cooldown` epochs pass before counting again."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, floor in zip(self.optimizer.param_groups, self.min_lrs):
                old = float(group["lr"])
                new = max(old * self.factor, floor)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = self._lrs()


class ConstantLR(LRScheduler):
    """Multiplies each lr by factor until epoch total_iters, then restores it, as
    torch.optim.lr_scheduler.ConstantLR."""
    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if not 0 <= factor <= 1:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        if factor == 0:  # PyTorch takes 0, then divides by it at total_iters (a ZeroDivisionError)
            raise ValueError("ConstantLR: factor 0 cannot be undone at total_iters (the lr is divided by the factor "
                             "there); give a positive factor")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """This epoch's learning rates, one per param group: times factor at epoch 0, divided by it at
        total_iters, else unchanged."""
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._lrs()]
        if self.last_epoch != self.total_iters:
            return self._lrs()
        return [lr * (1.0 / self.factor) for lr in self._lrs()]


class MultiplicativeLR(LambdaLR):
    """Multiplies each lr by lr_lambda(epoch) (one function, or one per param group) at every epoch after the
    first, as torch.optim.lr_scheduler.MultiplicativeLR."""

    def get_lr(self):
        """This epoch's learning rates, one per param group: the previous ones times lr_lambda(last_epoch)."""
        if self.last_epoch > 0:
            return [lr * fn(self.last_epoch) for fn, lr in zip(self.lr_lambdas, self._lrs())]
        return self._lrs()


class PolynomialLR(LRScheduler):
    """Decays each lr by (1 - epoch / total_iters) ** power over total_iters epochs, as
    torch.optim.lr_scheduler.PolynomialLR."""
    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        if isinstance(power, bool) or not isinstance(power, numbers.Real) or not power >= 0:
            raise ValueError(f"PolynomialLR: power must be a non-negative number, got {power!r} (a negative power "
                             "divides by zero at the last epoch)")
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        """This epoch's learning rates, one per param group: PyTorch's recursive polynomial decay factor."""
        if self.last_epoch == 0 or self.last_epoch > self.total_iters:
            return self._lrs()
        factor = ((1.0 - self.last_epoch / self.total_iters)
                  / (1.0 - (self.last_epoch - 1) / self.total_iters)) ** self.power
        return [lr * factor for lr in self._lrs()]


class CyclicLR(_CyclesMomentum):
    """Cycles each lr between base_lr and max_lr (triangular, triangular2, exp_range or a custom scale_fn), step by
    step, with momentum (or Adam's beta1) cycling the other way when cycle_momentum, as
    torch.optim.lr_scheduler.CyclicLR."""
    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular",
                 gamma=1.0, scale_fn=None, scale_mode="cycle", cycle_momentum=True, base_momentum=0.8,
                 max_momentum=0.9, last_epoch=-1):
        groups = optimizer.param_groups
        base_lrs = _per_group("base_lr", groups, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, groups):
                group["lr"] = lr
        self.max_lrs = _per_group("max_lr", groups, max_lr)
        up = float(_positive(step_size_up, "step_size_up", "CyclicLR"))
        down = float(_positive(step_size_down, "step_size_down", "CyclicLR")) if step_size_down is not None else up
        self.total_size, self.step_ratio = up + down, up / (up + down)
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError("mode is invalid and scale_fn is None")
        self.mode, self.gamma = mode, gamma
        if scale_fn is None:
            self.scale_fn = {"triangular": lambda x: 1.0, "triangular2": lambda x: 1 / (2.0 ** (x - 1)),
                             "exp_range": lambda x: gamma**x}[mode]
            self.scale_mode = "iterations" if mode == "exp_range" else "cycle"
        else:
            self.scale_fn, self.scale_mode = scale_fn, scale_mode
        self._start_momentum(optimizer, cycle_momentum, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def get_lr(self):
        """This epoch's learning rates, one per param group (also setting momentum or beta1 when
        cycle_momentum)."""
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        scale = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        shrink = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base + (top - base) * scale * shrink for base, top in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, bottom, top in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                self._set_momentum(group, top - (top - bottom) * scale * shrink)
        return lrs

    def state_dict(self):
        """The scheduler's state without the scale function (which may be a lambda), as PyTorch's."""
        return {k: v for k, v in super().state_dict().items() if k != "scale_fn"}


def _per_group(name, groups, value):
    """One value per param group: a list or tuple of them, or one value for all."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ValueError(f"expected {len(groups)} values for {name}, got {len(value)}")
        return list(value)
    return [value] * len(groups)


def _restart(scheduler):
    """scheduler back at epoch 0 from its base lrs (PyTorch's scheduler.step(0) in SequentialLR)."""
    for group, base in zip(scheduler.optimizer.param_groups, scheduler.base_lrs):
        group["lr"] = base
    scheduler.last_epoch, scheduler._is_initial = -1, True
    scheduler.step()
    scheduler._is_initial = False


class SequentialLR(LRScheduler):
    """Runs schedulers one after another, switching at each milestone epoch (the next one starting afresh from
    the base lrs), as torch.optim.lr_scheduler.SequentialLR."""
    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        if len(schedulers) < 1:
            raise ValueError(f"{type(self).__name__} expects at least one scheduler, but got no scheduler.")
        for i, scheduler in enumerate(schedulers):
            if getattr(scheduler, "optimizer", None) is not optimizer:
                raise ValueError(f"{type(self).__name__} expects all schedulers to belong to the same optimizer, but "
                                 f"got scheduler at index {i} with a different optimizer")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError("Sequential Schedulers expects number of schedulers provided to be one more than the "
                             f"number of milestone points, but got number of schedulers {len(schedulers)} and the "
                             f"number of milestones to be equal to {len(milestones)}")
        self.optimizer, self._schedulers, self._milestones = optimizer, list(schedulers), list(milestones)
        self.last_epoch = last_epoch + 1
        for group in optimizer.param_groups:  # undo the first steps the schedulers took when they were built
            group["lr"] = group["initial_lr"]
        _restart(self._schedulers[0])
        self._last_lr = self._schedulers[0].get_last_lr()

    def step(self):
        """Advances one epoch: the scheduler of the current phase steps (restarting at its milestone)."""
        self.last_epoch += 1
        index = sum(1 for m in self._milestones if m <= self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            _restart(scheduler)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self):
        """The state, each scheduler's own state_dict in '_schedulers'."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        """Restores a state from state_dict(), and each scheduler's."""
        state = dict(_state(state_dict, self))
        if not isinstance(state.get("_schedulers"), (list, tuple)):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state has no '_schedulers' list (each "
                             "scheduler's state)")
        for scheduler, own in zip(self._schedulers, state.pop("_schedulers")):
            scheduler.load_state_dict(own)
        self.__dict__.update(state)


class ChainedScheduler(SequentialLR):
    """Steps every scheduler at each step (their effects compound), as torch.optim.lr_scheduler.ChainedScheduler."""
    def __init__(self, schedulers, optimizer=None):  # no first step of its own, as in PyTorch
        if len(schedulers) < 1:
            raise ValueError(f"{type(self).__name__} expects at least one scheduler to be chained, but got no "
                             "scheduler.")
        for i, scheduler in enumerate(schedulers):
            if not isinstance(scheduler, LRScheduler):
                raise TypeError(f"{type(self).__name__}: scheduler at index {i} is a {type(scheduler).__name__}, not "
                                "an LRScheduler")
        optimizer = optimizer or schedulers[0].optimizer
        for i, scheduler in enumerate(schedulers):
            if getattr(scheduler, "optimizer", None) is not optimizer:
                raise ValueError(f"{type(self).__name__} expects all schedulers to belong to the same optimizer, but "
                                 f"got scheduler at index {i} with a different optimizer")
        self.optimizer, self._schedulers = optimizer, list(schedulers)
        self._last_lr = self._lrs()

    def step(self):
        """Steps every scheduler, in order."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = self._lrs()


def _state(state_dict, scheduler):
    if not isinstance(state_dict, dict):
        raise TypeError(f"{type(scheduler).__name__}.load_state_dict: expected a dict (from state_dict()), got "
                        f"{type(state_dict).__name__}")
    return state_dict


def _iterable(value, what):
    try:
        return list(value)
    except TypeError:
        raise TypeError(f"{what} must be a list, got {type(value).__name__}") from None
