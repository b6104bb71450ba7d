"""torch.nn.modules.adaptive's path to AdaptiveLogSoftmaxWithLoss (defined in nn/adaptive.py)."""
from ..adaptive import AdaptiveLogSoftmaxWithLoss  # noqa: F401
