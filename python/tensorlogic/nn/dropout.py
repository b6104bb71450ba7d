"""The dropout modules: _DropoutNd (their base, as in PyTorch: p, inplace, the repr), Dropout, the channel-wise
Dropout1d/2d/3d, AlphaDropout and FeatureAlphaDropout; the math is tl.nn.functional's."""
from . import functional as F
from .activation_functions import _check_p
from .module import Module


class _DropoutNd(Module):
    """The base of the dropout modules (torch.nn.modules.dropout._DropoutNd): p, a number in [0, 1], and inplace."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        _check_p(p, type(self).__name__)
        self.p, self.inplace = p, inplace

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """In training mode, zeroes each element with probability p and scales the others by 1 / (1 - p); in eval mode,
    the identity. As torch.nn.Dropout; the mask comes from the global stream (tl.manual_seed)."""

    def forward(self, x):
        """dropout(x, p, training): elements zeroed and the rest scaled in training mode, identity in eval mode."""
        return F.dropout(x, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """In training mode, zeroes whole channels of [N, C, L] (or [C, L]) input with probability p and scales the rest
    by 1 / (1 - p); identity in eval mode, as torch.nn.Dropout1d."""
    def forward(self, input):
        """dropout1d(input, p, training): whole channels zeroed in training mode, identity in eval mode."""
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """In training mode, zeroes whole channels of [N, C, H, W] input with probability p and scales the rest by
    1 / (1 - p) (other ranks warn and are read as F.dropout2d reads them: a 3-d input as [N, C, L]); identity
    in eval mode, as torch.nn.Dropout2d."""
    def forward(self, input):
        """dropout2d(input, p, training): whole channels zeroed in training mode, identity in eval mode."""
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """In training mode, zeroes whole channels of [N, C, D, H, W] (or [C, D, H, W]) input with probability p and
    scales the rest by 1 / (1 - p); identity in eval mode, as torch.nn.Dropout3d."""
    def forward(self, input):
        """dropout3d(input, p, training): whole channels zeroed in training mode, identity in eval mode."""
        return F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """alpha_dropout as a module (p 0.5), active in training only."""

    def forward(self, input):
        """alpha_dropout(input, p, self.training)."""
        return F.alpha_dropout(input, self.p, self.training, self.inplace)


class FeatureAlphaDropout(_DropoutNd):
    """feature_alpha_dropout as a module (p 0.5): whole channels, in training only."""

    def forward(self, input):
        """feature_alpha_dropout(input, p, self.training)."""
        return F.feature_alpha_dropout(input, self.p, self.training, self.inplace)


__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]
