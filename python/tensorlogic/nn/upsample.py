"""Upsample, UpsamplingNearest2d and UpsamplingBilinear2d: PyTorch's resampling modules over
F.interpolate (the bilinear one with align_corners=True, as PyTorch's)."""
from . import functional as F
from .module import Module


class Upsample(Module):
    """Resamples the spatial dims (all after N, C) to size or by scale_factor (one of the two), as
    torch.nn.Upsample: mode 'nearest' (default), 'nearest-exact', 'linear', 'bilinear' or 'trilinear', with
    PyTorch's align_corners and recompute_scale_factor rules (F.interpolate)."""
    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size, self.mode, self.align_corners = size, mode, align_corners
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        """F.interpolate of input with the module's size or scale_factor, mode and align_corners."""
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        """The scale_factor (or size) and mode, shown in the module's repr."""
        if self.scale_factor is not None:
            return f"scale_factor={self.scale_factor!r}, mode={self.mode!r}"
        return f"size={self.size!r}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """2-d nearest-neighbour upsampling to size or by scale_factor: Upsample with mode='nearest', as
    torch.nn.UpsamplingNearest2d."""
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """2-d bilinear upsampling to size or by scale_factor: Upsample with mode='bilinear' and
    align_corners=True, as torch.nn.UpsamplingBilinear2d."""
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]
