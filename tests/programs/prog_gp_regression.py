"""Exact Gaussian-process regression as tutorials write it without a GP library: an RBF kernel whose lengthscale,
output scale and noise are softplus-positive parameters of an nn.Module; the negative log marginal likelihood from
the Cholesky factor (torch.linalg.cholesky, torch.cholesky_solve, the log-determinant from L's diagonal), minimised
with Adam; then the predictive mean (K_*^H alpha, with .mH), the variance (v = L^-1 K_* by
torch.linalg.solve_triangular) and the posterior covariance through torch.cholesky_inverse and .adjoint(). Written
against a module `torch`. Shrunk: 32 noisy samples of a 1-d function, 12 test points."""
import math

import numpy as np


def build(torch):
    nn = torch.nn
    F = nn.functional

    class ExactGP(nn.Module):
        def __init__(self):
            super().__init__()
            self.raw_lengthscale = nn.Parameter(torch.tensor(0.0))
            self.raw_outputscale = nn.Parameter(torch.tensor(0.0))
            self.raw_noise = nn.Parameter(torch.tensor(-1.0))

        def hyperparameters(self):
            return (F.softplus(self.raw_lengthscale), F.softplus(self.raw_outputscale),
                    F.softplus(self.raw_noise) + 1e-2)

        def kernel(self, a, b):
            lengthscale, outputscale, _ = self.hyperparameters()
            sq_dist = (a.unsqueeze(1) - b.unsqueeze(0)).pow(2).sum(-1)
            return outputscale * torch.exp(-0.5 * sq_dist / lengthscale ** 2)

        def factor(self, x):
            noise = self.hyperparameters()[2]
            K = self.kernel(x, x) + noise * torch.eye(x.size(0))
            return torch.linalg.cholesky(K)

        def forward(self, x, y):
            """The negative log marginal likelihood per sample."""
            n = x.size(0)
            L = self.factor(x)
            alpha = torch.cholesky_solve(y.unsqueeze(-1), L)
            fit = 0.5 * (y.unsqueeze(-1).mH @ alpha).squeeze()
            return (fit + L.diagonal().log().sum() + 0.5 * n * math.log(2 * math.pi)) / n

        @torch.no_grad()
        def predict(self, x, y, x_test):
            """(mean, variance, covariance) of the latent function at x_test."""
            L = self.factor(x)
            alpha = torch.cholesky_solve(y.unsqueeze(-1), L)
            K_star = self.kernel(x, x_test)
            mean = (K_star.mH @ alpha).squeeze(-1)
            v = torch.linalg.solve_triangular(L, K_star, upper=False)
            variance = self.hyperparameters()[1] - v.pow(2).sum(0)
            covariance = self.kernel(x_test, x_test) - K_star.adjoint() @ torch.cholesky_inverse(L) @ K_star
            return mean, variance, covariance

    return ExactGP()


def make_data(rng, n=32, n_test=12):
    """y = sin(2x) + 0.3x plus noise of 0.2 at x uniform in [-3, 3], standardised; test points on a grid."""
    x = rng.uniform(-3, 3, (n, 1))
    y = np.sin(2 * x[:, 0]) + 0.3 * x[:, 0] + rng.normal(0, 0.2, n)
    y = (y - y.mean()) / y.std()
    x_test = np.linspace(-2.8, 2.8, n_test)[:, None]
    return x.astype(np.float32), y.astype(np.float32), x_test.astype(np.float32)


def train(torch, model, data, steps=60, lr=0.05):
    """(the loss at each step, the learned (lengthscale, outputscale, noise), the predictions)."""
    x, y, x_test = (torch.tensor(a) for a in data)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = model(x, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    learned = [h.item() for h in model.hyperparameters()]
    return losses, learned, [t.numpy() for t in model.predict(x, y, x_test)]
