"""nn.Softmax2d: softmax over the channels of an image batch."""
from ..errors import ShapeMismatchError
from ..ops.rows import softmax
from .module import Module


class Softmax2d(Module):
    """softmax over the channels of [N, C, H, W] or [C, H, W] input, as torch.nn.Softmax2d."""

    def forward(self, input):
        """softmax along dim -3."""
        if input.ndim not in (3, 4):
            raise ShapeMismatchError(f"Softmax2d: expected a 3-d or 4-d input, got {list(input.shape)}")
        return softmax(input, -3)


__all__ = ["Softmax2d"]
