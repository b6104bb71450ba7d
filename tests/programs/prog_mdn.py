"""A mixture density network as the well-known PyTorch MDN tutorials write it, for the inverse sine problem (y from
x = sin(0.75 y) * 7 + 0.5 y + noise, a one-to-many map): a tanh hidden layer and three heads giving the mixture
weights (softmax), the scales (exp) and the means; the negative log-likelihood written out (the Gaussian density by
torch.reciprocal and the 1/sqrt(2 pi) constant, summed over components, -log of it with 1e-6 added) and, once
trained, the same through torch.distributions (MixtureSameFamily of Categorical(probs=pi) and Normal(mu, sigma));
full-batch Adam; sampling by torch.multinomial of the mixture weights, gathered means and scales, and torch.randn.
Written against a module `torch`. The data are drawn with numpy."""
import math

import numpy as np

oneDivSqrtTwoPI = 1.0 / math.sqrt(2.0 * math.pi)  # normalisation factor for gaussians


def build(torch, n_hidden=20, n_gaussians=5):
    nn = torch.nn

    class MDN(nn.Module):
        def __init__(self, n_hidden, n_gaussians):
            super(MDN, self).__init__()
            self.z_h = nn.Sequential(
                nn.Linear(1, n_hidden),
                nn.Tanh()
            )
            self.z_pi = nn.Linear(n_hidden, n_gaussians)
            self.z_sigma = nn.Linear(n_hidden, n_gaussians)
            self.z_mu = nn.Linear(n_hidden, n_gaussians)

        def forward(self, x):
            z_h = self.z_h(x)
            pi = nn.functional.softmax(self.z_pi(z_h), -1)
            sigma = torch.exp(self.z_sigma(z_h))
            mu = self.z_mu(z_h)
            return pi, sigma, mu

    return MDN(n_hidden, n_gaussians)


def gaussian_distribution(torch, y, mu, sigma):
    # make |mu|=K copies of y, subtract mu, divide by sigma
    result = (y.expand_as(mu) - mu) * torch.reciprocal(sigma)
    result = -0.5 * (result * result)
    return (torch.exp(result) * torch.reciprocal(sigma)) * oneDivSqrtTwoPI


def mdn_loss_fn(torch, pi, sigma, mu, y):
    result = gaussian_distribution(torch, y, mu, sigma) * pi
    result = torch.sum(result, dim=1)
    result = -torch.log(result + 1e-6)
    return torch.mean(result)


def mdn_loss_distributions(torch, pi, sigma, mu, y):
    mix = torch.distributions.Categorical(probs=pi)
    comp = torch.distributions.Normal(mu, sigma)
    gmm = torch.distributions.MixtureSameFamily(mix, comp)
    return -gmm.log_prob(y.squeeze(-1)).mean()


def make_data(rng, n_samples=400):
    """(x, y) of the inverse problem, scaled to about [-1, 1] (the tutorial's y_data / 10 form)."""
    y_data = rng.uniform(-10.5, 10.5, (n_samples, 1))
    r_data = rng.normal(size=(n_samples, 1))
    x_data = np.sin(0.75 * y_data) * 7.0 + y_data * 0.5 + r_data * 1.0
    return (x_data / 10).astype(np.float16), (y_data / 10).astype(np.float16)


def train(torch, network, data, epochs=150, shuffle=False, seed=0):
    """Returns the loss every 10 epochs, the final loss through torch.distributions, and samples for a grid of x
    (their shape and the fraction within the data's range)."""
    x_data, y_data = data
    x_variable = torch.from_numpy(x_data).float()
    y_variable = torch.from_numpy(y_data).float()
    optimizer = torch.optim.Adam(network.parameters(), lr=0.01)
    losses = []
    for epoch in range(epochs):
        pi_variable, sigma_variable, mu_variable = network(x_variable)
        loss = mdn_loss_fn(torch, pi_variable, sigma_variable, mu_variable, y_variable)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if epoch % 10 == 0:
            losses.append(loss.item())

    with torch.no_grad():
        pi, sigma, mu = network(x_variable)
        nll = mdn_loss_distributions(torch, pi, sigma, mu, y_variable).item()
        torch.manual_seed(seed)
        x_test = torch.linspace(-1.5, 1.5, 200).view(-1, 1)
        pi, sigma, mu = network(x_test)
        k = torch.multinomial(pi, 1).view(-1)
        rows = torch.arange(x_test.size(0))
        samples = mu[rows, k] + sigma[rows, k] * torch.randn(x_test.size(0))
        inside = ((samples > -1.2) & (samples < 1.2)).float().mean().item()
    return losses, nll, tuple(samples.shape), inside
