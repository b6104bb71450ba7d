"""BatchNorm1d/2d/3d and GroupNorm with PyTorch's parameters, buffers (running_mean, running_var,
num_batches_tracked: so state_dicts load both ways), momentum (None: a cumulative average) and modes; _NormBase,
the base the batch and instance norms share (as in PyTorch, where an InstanceNorm is no _BatchNorm)."""
from .. import _core
from ..autograd.grad_mode import no_grad
from ..creation import ones, tensor, zeros
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter, check_parameter_dtype


def affine_parameters(module, shape, device, weight=True, bias=True):
    """Registers a normalization layer's weight (ones) and bias (zeros) of this shape, or None for each one
    that is turned off (the bias is off without the weight), in PyTorch's order."""
    module.register_parameter("weight", Parameter(ones(shape, device=device)) if weight else None)
    module.register_parameter("bias", Parameter(zeros(shape, device=device)) if weight and bias else None)


class _NormBase(Module):
    """The parameters, running statistics and printing of the batch and instance norms
    (torch.nn.modules.batchnorm._NormBase)."""

    _dims = ()  # the input ranks this module accepts

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None):
        super().__init__()
        check_parameter_dtype(type(self).__name__, dtype)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        affine_parameters(self, num_features, device, affine)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, device=device))
            self.register_buffer("running_var", ones(num_features, device=device))
            self.register_buffer("num_batches_tracked", tensor(0, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            _core.fill_(self.num_batches_tracked._a, 0.0)

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    """The batch norms' forward (torch.nn.modules.batchnorm._BatchNorm): batch statistics in training mode (the
    running ones updated), running statistics in eval mode where they are kept."""

    def forward(self, input):
        if input.ndim not in self._dims:
            raise ValueError(f"{type(self).__name__}: expected {' or '.join(f'{d}D' for d in self._dims)} input "
                             f"(got {input.ndim}D input)")
        use_batch_stats, factor = self._step_statistics()
        return F.batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias, use_batch_stats, factor,
                            self.eps)

    def _step_statistics(self):
        """(whether this call normalizes by the batch's statistics, the running statistics' update factor), counting
        the batch in training mode."""
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / int(self.num_batches_tracked.item())
        # Batch statistics in training, and in evaluation too when no running statistics are kept.
        return self.training or self.running_mean is None, factor


class BatchNorm1d(_BatchNorm):
    """Over (N, C) or (N, C, L) input."""

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Over (N, C, H, W) input."""

    _dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Over (N, C, D, H, W) input."""

    _dims = (5,)


class GroupNorm(Module):
    """Normalises each group of num_channels / num_groups channels of [N, C, ...] input to mean 0 and variance 1
    (plus eps), then applies a per-channel weight (ones) and bias (zeros) when affine, as torch.nn.GroupNorm.
    Statistics in f32."""
    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None):
        super().__init__()
        check_parameter_dtype("GroupNorm", dtype)
        if num_groups <= 0:
            raise ValueError(f"GroupNorm: num_groups must be positive, got {num_groups}")
        if num_channels % num_groups:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        affine_parameters(self, num_channels, device, affine)

    def forward(self, input):
        """group_norm(input, num_groups, weight, bias, eps), same shape."""
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm"]
