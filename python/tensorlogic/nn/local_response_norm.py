"""local_response_norm (torch.nn.functional) and LocalResponseNorm: each value divided by
(k + alpha * mean of the squares of `size` neighbouring channels)^beta, the window zero-padded at the ends,
as PyTorch computes it (an average pool over the channel dim), composed of public ops."""
import numbers

from ..errors import ShapeMismatchError
from ..ops.conv import avg_pool2d
from ..ops.shape import pad
from .module import Module


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """input / (k + alpha * avg over the size channels around each one of input^2)^beta, over [N, C, ...]."""
    if input.ndim < 3:
        raise ShapeMismatchError(f"local_response_norm: expected 3 or more dims (N, C, ...), got {list(input.shape)}")
    if not isinstance(size, numbers.Integral) or size <= 0:
        raise ValueError(f"local_response_norm: size must be a positive int, got {size!r}")
    if input.numel() == 0:
        return input
    n, c = input.shape[0], input.shape[1]
    squares = input.square().reshape(n, 1, c, -1)
    if size // 2 >= c and (size - 1) // 2 >= c:  # every window covers every channel: no padding of `size` needed
        mean = (squares.sum(2, keepdim=True) / size).expand(squares.shape).reshape(input.shape)
    else:
        squares = pad(squares, (0, 0, size // 2, (size - 1) // 2))
        mean = avg_pool2d(squares, (size, 1), stride=1).reshape(input.shape)
    return input / (mean * alpha + k).pow(beta)


class LocalResponseNorm(Module):
    """local_response_norm as a module (alpha 1e-4, beta 0.75, k 1), as torch.nn.LocalResponseNorm."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        """local_response_norm(input, size, alpha, beta, k)."""
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


__all__ = ["local_response_norm", "LocalResponseNorm"]
