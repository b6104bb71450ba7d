"""A RealNVP normalizing flow on 2-D data as PyTorch users write one: affine coupling layers with alternating binary
masks (kept as buffers), scale and translation networks whose log-scales are bounded by a learned factor times
tanh, the log-determinant of the Jacobian summed over the layers, weight normalisation of the networks' Linear
layers (nn.utils.parametrizations.weight_norm or the older nn.utils.weight_norm hook), optionally RealNVP's
batch normalisation as a flow layer between couplings (batch statistics in training with running averages
updated under no_grad, the running ones in eval, its own log-determinant); a torch.distributions base
(MultivariateNormal(zeros, eye) or Independent(Normal)) made from registered buffers, negative log-likelihood
trained with Adam, and sampling by the inverse pass. Written against a module `torch`. Shrunk: two moons, 4
couplings of width 32."""
import numpy as np

import prelude


def build(torch, couplings=4, hidden=32, weight_norm="parametrizations", batch_norm=False, base="mvn"):
    """weight_norm "parametrizations", "hook" (nn.utils.weight_norm) or None; base "mvn" (MultivariateNormal) or
    "normal" (Independent(Normal(0, 1), 1))."""
    nn = torch.nn

    def normed(layer):
        if weight_norm == "parametrizations":
            return nn.utils.parametrizations.weight_norm(layer)
        if weight_norm == "hook":
            return nn.utils.weight_norm(layer)
        return layer

    def net():
        return nn.Sequential(normed(nn.Linear(2, hidden)), nn.ReLU(), normed(nn.Linear(hidden, hidden)), nn.ReLU(),
                             nn.Linear(hidden, 2))

    class AffineCoupling(nn.Module):
        """z = x on the mask; elsewhere x * exp(s) + t, with s and t computed from the masked part."""

        def __init__(self, mask):
            super().__init__()
            self.register_buffer("mask", mask)
            self.s_net, self.t_net = net(), net()
            self.scale = nn.Parameter(torch.ones(1, 2))

        def _s_t(self, x_masked):
            s = self.scale * torch.tanh(self.s_net(x_masked)) * (1 - self.mask)
            return s, self.t_net(x_masked) * (1 - self.mask)

        def forward(self, x):
            x_masked = x * self.mask
            s, t = self._s_t(x_masked)
            z = x_masked + (1 - self.mask) * (x * torch.exp(s) + t)
            return z, s.sum(dim=1)

        def inverse(self, z):
            z_masked = z * self.mask
            s, t = self._s_t(z_masked)
            return z_masked + (1 - self.mask) * ((z - t) * torch.exp(-s))

    class BatchNormFlow(nn.Module):
        def __init__(self, dim, momentum=0.1, eps=1e-4):
            super().__init__()
            self.log_gamma = nn.Parameter(torch.zeros(dim))
            self.beta = nn.Parameter(torch.zeros(dim))
            self.momentum, self.eps = momentum, eps
            self.register_buffer("running_mean", torch.zeros(dim))
            self.register_buffer("running_var", torch.ones(dim))

        def forward(self, x):
            if self.training:
                mean, var = x.mean(0), x.var(0, unbiased=False)
                with torch.no_grad():
                    self.running_mean.mul_(1 - self.momentum).add_(mean * self.momentum)
                    self.running_var.mul_(1 - self.momentum).add_(var * self.momentum)
            else:
                mean, var = self.running_mean, self.running_var
            y = torch.exp(self.log_gamma) * (x - mean) / torch.sqrt(var + self.eps) + self.beta
            log_det = (self.log_gamma - 0.5 * torch.log(var + self.eps)).sum()
            return y, log_det.expand(x.size(0))

        def inverse(self, y):
            x_hat = (y - self.beta) * torch.exp(-self.log_gamma)
            return x_hat * torch.sqrt(self.running_var + self.eps) + self.running_mean

    class RealNVP(nn.Module):
        def __init__(self):
            super().__init__()
            layers = []
            for i in range(couplings):
                layers.append(AffineCoupling(torch.tensor([1.0, 0.0]) if i % 2 == 0 else torch.tensor([0.0, 1.0])))
                if batch_norm and i < couplings - 1:
                    layers.append(BatchNormFlow(2))
            self.layers = nn.ModuleList(layers)
            self.register_buffer("base_loc", torch.zeros(2))
            self.register_buffer("base_cov", torch.eye(2))

        @property
        def prior(self):
            if base == "mvn":
                return torch.distributions.MultivariateNormal(self.base_loc, self.base_cov)
            return torch.distributions.Independent(torch.distributions.Normal(self.base_loc, self.base_cov.diagonal()),
                                                   1)

        def forward(self, x):
            """x to the latent z, and log|det dz/dx| per sample."""
            log_det = torch.zeros(x.shape[0], device=x.device)
            for layer in self.layers:
                x, ld = layer(x)
                log_det = log_det + ld
            return x, log_det

        def log_prob(self, x):
            z, log_det = self(x)
            return self.prior.log_prob(z) + log_det

        def inverse(self, z):
            for layer in reversed(self.layers):
                z = layer.inverse(z)
            return z

        def sample(self, n):
            return self.inverse(self.prior.sample((n,)))

    return RealNVP()


def make_moons(rng, n_train=512, n_test=256, noise=0.08):
    """Two interleaved half circles, standardised, plus latent points for the inverse pass (drawn by numpy, so
    both libraries see the same)."""
    def moons(n):
        angle = rng.uniform(0, np.pi, n)
        upper = rng.random(n) < 0.5
        x = np.where(upper, np.cos(angle), 1 - np.cos(angle))
        y = np.where(upper, np.sin(angle), 0.5 - np.sin(angle))
        points = np.stack([x, y], axis=1) + rng.normal(0, noise, (n, 2))
        return points
    train, test = moons(n_train), moons(n_test)
    mean, std = train.mean(0), train.std(0)
    latent = rng.standard_normal((64, 2))
    return [a.astype(np.float32) for a in ((train - mean) / std, (test - mean) / std, latent)]


def train(torch, model, data, epochs=3, batch_size=64, lr=3e-3, shuffle=True, seed=1, n_samples=256):
    """Returns (the step losses, the held-out negative log-likelihood per point in eval mode, the inverse pass of
    the data's latent points, the round-trip error inverse(forward(x)) - x on the held-out points, and samples
    from the flow)."""
    torch.manual_seed(seed)
    _, device = prelude.accelerator(torch)
    model = model.to(device)
    train_x, test_x, latent = data
    loader = prelude.loader(torch, (train_x,), batch_size=batch_size, shuffle=shuffle, drop_last=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for epoch in range(epochs):
        model.train()
        for (x,) in loader:
            x = x.to(device)
            loss = -model.log_prob(x).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        test = torch.from_numpy(test_x).to(device)
        test_nll = -model.log_prob(test).mean().item()
        mapped = model.inverse(torch.from_numpy(latent).to(device))
        round_trip = (model.inverse(model(test)[0]) - test).abs().max().item()
        samples = model.sample(n_samples)
    return losses, test_nll, mapped.cpu().numpy(), round_trip, samples.cpu().numpy()
