"""The channel-wise dropout modules, Dropout1d, Dropout2d and Dropout3d (Dropout itself is in layers.py)."""
from . import functional as F
from .layers import Dropout


class Dropout1d(Dropout):
    def forward(self, input):
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(Dropout):
    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(Dropout):
    def forward(self, input):
        return F.dropout3d(input, self.p, self.training, self.inplace)


__all__ = ["Dropout1d", "Dropout2d", "Dropout3d"]
