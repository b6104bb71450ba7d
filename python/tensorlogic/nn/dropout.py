"""The channel-wise dropout modules, Dropout1d, Dropout2d and Dropout3d (Dropout itself is in layers.py)."""
from . import functional as F
from .layers import Dropout


class Dropout1d(Dropout):
    """In training mode, zeroes whole channels of [N, C, L] (or [C, L]) input with probability p and scales the rest
    by 1 / (1 - p); identity in eval mode, as torch.nn.Dropout1d."""
    def forward(self, input):
        """dropout1d(input, p, training): whole channels zeroed in training mode, identity in eval mode."""
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(Dropout):
    """In training mode, zeroes whole channels of [N, C, H, W] input with probability p and scales the rest by
    1 / (1 - p) (other ranks warn and are read as F.dropout2d reads them: a 3-d input as [N, C, L]); identity
    in eval mode, as torch.nn.Dropout2d."""
    def forward(self, input):
        """dropout2d(input, p, training): whole channels zeroed in training mode, identity in eval mode."""
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(Dropout):
    """In training mode, zeroes whole channels of [N, C, D, H, W] (or [C, D, H, W]) input with probability p and
    scales the rest by 1 / (1 - p); identity in eval mode, as torch.nn.Dropout3d."""
    def forward(self, input):
        """dropout3d(input, p, training): whole channels zeroed in training mode, identity in eval mode."""
        return F.dropout3d(input, self.p, self.training, self.inplace)


__all__ = ["Dropout1d", "Dropout2d", "Dropout3d"]
