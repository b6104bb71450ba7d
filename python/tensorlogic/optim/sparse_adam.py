"""SparseAdam with torch.optim.SparseAdam's arguments and checks. Its updates are for sparse gradients, which
TensorLogic does not have (every gradient is a dense tensor), so step() raises PyTorch's error for a dense
gradient: use Adam (or AdamW), which this SparseAdam's lazy update approximates for sparse gradients."""
from .host import HostOptimizer
from .optimizer import _check


class SparseAdam(HostOptimizer):
    """torch.optim.SparseAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False): the arguments are
    checked as PyTorch checks them; step() with a gradient raises RuntimeError, as PyTorch's does for dense
    gradients (every gradient here is dense: use Adam)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))

    def _validate(self, group):
        _check(group["lr"] >= 0.0, f"Invalid learning rate: {group['lr']}")
        _check(group["eps"] >= 0.0, f"Invalid epsilon value: {group['eps']}")
        for i, beta in enumerate(group["betas"]):
            _check(0.0 <= beta < 1.0, f"Invalid beta parameter at index {i}: {beta}")

    def _step_group(self, group):
        if any(p.grad is not None for p in group["params"]):
            raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam instead")
