"""InstanceNorm1d/2d/3d with PyTorch's arguments, defaults (affine=False, track_running_stats=False) and
buffers (those of the batch norms, so state_dicts match); the math is layer_functions.instance_norm."""
from ..errors import ShapeMismatchError
from .layer_functions import instance_norm
from .module import Module
from .normalization import _NormBase


class _InstanceNorm(_NormBase):
    _dims = ()  # the input ranks accepted: batched, and unbatched (one fewer)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, device=None,
                 dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, input):
        """instance_norm of input with the module's parameters and running statistics."""
        if input.ndim not in self._dims:
            raise ValueError(f"{type(self).__name__}: expected {' or '.join(f'{d}D' for d in self._dims)} input "
                             f"(got {input.ndim}D input)")
        unbatched = input.ndim == self._dims[0]
        x = input.unsqueeze(0) if unbatched else input
        if x.shape[1] != self.num_features and self.affine:
            raise ShapeMismatchError(f"{type(self).__name__}: expected {self.num_features} channels, got "
                                     f"{x.shape[1]}")
        use_input_stats = self.training or not self.track_running_stats
        momentum = 0.1 if self.momentum is None else self.momentum
        out = instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias, use_input_stats, momentum,
                            self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Over (N, C, L) or unbatched (C, L) input."""

    _dims = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Over (N, C, H, W) or unbatched (C, H, W) input."""

    _dims = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    """Over (N, C, D, H, W) or unbatched (C, D, H, W) input."""

    _dims = (4, 5)


__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]
