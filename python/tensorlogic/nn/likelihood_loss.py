"""PoissonNLLLoss and GaussianNLLLoss (torch.nn's constructors); the math is in likelihood_loss_functions."""
from .likelihood_loss_functions import gaussian_nll_loss, poisson_nll_loss
from .loss import _Loss


class PoissonNLLLoss(_Loss):
    """poisson_nll_loss as a module (log_input True, full False, eps 1e-8, reduction 'mean')."""

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        """The Poisson negative log-likelihood of target given the rates (or log-rates) log_input."""
        return poisson_nll_loss(log_input, target, self.log_input, self.full, eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """gaussian_nll_loss as a module (full False, eps 1e-6, reduction 'mean')."""

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(None, None, reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        """The Gaussian negative log-likelihood of target given the means input and the variances var."""
        return gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)


__all__ = ["PoissonNLLLoss", "GaussianNLLLoss"]
