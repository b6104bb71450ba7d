"""A Glow-style flow on vectors as PyTorch users write one: ActNorm with data-dependent initialisation (a flag buffer
set on the first batch), an invertible linear layer in Glow's LU form (a random rotation from torch.linalg.qr split
by torch.linalg.lu_factor and torch.lu_unpack into a fixed permutation and learned lower, upper and log|diagonal|
parameters; log-determinant the sum of the log-scales), affine couplings with sigmoid scales, a standard normal base
by hand, negative log-likelihood in bits per dimension, Adam with clip_grad_norm_, and the inverse pass by
torch.linalg.solve_triangular; the LU log-determinant is checked against torch.linalg.slogdet of the assembled
weight. Written against a module `torch`. Shrunk: 6-dimensional data, 3 flow steps of hidden width 24."""
import math

import numpy as np


def build(torch, dim=6, steps=3, hidden=24):
    nn, F = torch.nn, torch.nn.functional

    class ActNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.loc = nn.Parameter(torch.zeros(1, dim))
            self.log_scale = nn.Parameter(torch.zeros(1, dim))
            self.register_buffer("initialized", torch.tensor(0, dtype=torch.long))

        def forward(self, x):
            if self.initialized.item() == 0:
                with torch.no_grad():
                    self.loc.data.copy_(-x.mean(0, keepdim=True))
                    self.log_scale.data.copy_(torch.log(1 / (x.std(0, keepdim=True) + 1e-6)))
                    self.initialized.fill_(1)
            return (x + self.loc) * torch.exp(self.log_scale), self.log_scale.sum().expand(x.shape[0])

        def reverse(self, z):
            return z * torch.exp(-self.log_scale) - self.loc

    class InvLinearLU(nn.Module):
        def __init__(self):
            super().__init__()
            weight = torch.linalg.qr(torch.randn(dim, dim))[0]
            LU, pivots = torch.linalg.lu_factor(weight)
            w_p, w_l, w_u = torch.lu_unpack(LU, pivots)
            w_s = torch.diag(w_u)
            u_mask = torch.triu(torch.ones(dim, dim), 1)
            self.register_buffer("w_p", w_p)
            self.register_buffer("u_mask", u_mask)
            self.register_buffer("l_mask", u_mask.T)
            self.register_buffer("s_sign", torch.sign(w_s))
            self.register_buffer("l_eye", torch.eye(dim))
            self.w_l = nn.Parameter(w_l)
            self.w_s = nn.Parameter(torch.log(torch.abs(w_s)))
            self.w_u = nn.Parameter(w_u)

        def lower_upper(self):
            lower = self.w_l * self.l_mask + self.l_eye
            upper = self.w_u * self.u_mask + torch.diag(self.s_sign * torch.exp(self.w_s))
            return lower, upper

        def calc_weight(self):
            lower, upper = self.lower_upper()
            return self.w_p @ lower @ upper

        def forward(self, x):
            return x @ self.calc_weight().T, self.w_s.sum().expand(x.shape[0])

        def reverse(self, z):
            # z = x W^T, W = P L U: x^T = U^-1 L^-1 P^T z^T
            lower, upper = self.lower_upper()
            y = torch.linalg.solve_triangular(lower, self.w_p.T @ z.T, upper=False, unitriangular=True)
            return torch.linalg.solve_triangular(upper, y, upper=True).T

    class AffineCoupling(nn.Module):
        def __init__(self):
            super().__init__()
            half = dim // 2
            self.net = nn.Sequential(nn.Linear(half, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, hidden),
                                     nn.ReLU(inplace=True), nn.Linear(hidden, 2 * (dim - half)))
            self.net[-1].weight.data.zero_()
            self.net[-1].bias.data.zero_()

        def forward(self, x):
            in_a, in_b = x.chunk(2, 1)
            log_s, t = self.net(in_a).chunk(2, 1)
            s = torch.sigmoid(log_s + 2)
            out_b = (in_b + t) * s
            return torch.cat([in_a, out_b], 1), torch.sum(torch.log(s), dim=1)

        def reverse(self, z):
            out_a, out_b = z.chunk(2, 1)
            log_s, t = self.net(out_a).chunk(2, 1)
            s = torch.sigmoid(log_s + 2)
            return torch.cat([out_a, out_b / s - t], 1)

    class Glow(nn.Module):
        def __init__(self):
            super().__init__()
            self.flows = nn.ModuleList()
            for _ in range(steps):
                self.flows.extend([ActNorm(), InvLinearLU(), AffineCoupling()])

        def forward(self, x):
            logdet = torch.zeros(x.shape[0])
            for flow in self.flows:
                x, det = flow(x)
                logdet = logdet + det
            log_p = -0.5 * (x ** 2).sum(1) - 0.5 * dim * math.log(2 * math.pi)
            return x, log_p, logdet

        def reverse(self, z):
            for flow in reversed(self.flows):
                z = flow.reverse(z)
            return z

    return Glow()


def make_data(rng, n=128, dim=6):
    """Correlated, skewed data: a random linear mix of exponentials and normals."""
    base = np.concatenate([rng.exponential(size=(n, dim // 2)), rng.normal(size=(n, dim - dim // 2))], axis=1)
    mix = rng.normal(size=(dim, dim)) / math.sqrt(dim) + np.eye(dim)
    return (base @ mix.T).astype(np.float32)


def bits_per_dim(log_p, logdet, dim):
    return (-(log_p + logdet) / (math.log(2) * dim)).mean()


def train(torch, model, data, epochs=3, batch_size=32, lr=2e-3):
    """Returns the bits per dimension per step, the gradient norms, and after training: the held-out bits on the first
    batch, the LU log-determinants against slogdet's, and the largest round-trip error of reverse(forward(x))."""
    x_all = torch.from_numpy(data)
    dim = x_all.shape[1]
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses, norms = [], []
    for _ in range(epochs):
        for start in range(0, len(x_all), batch_size):
            x = x_all[start:start + batch_size]
            _, log_p, logdet = model(x)
            loss = bits_per_dim(log_p, logdet, dim)
            optimizer.zero_grad()
            loss.backward()
            norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0).item())
            optimizer.step()
            losses.append(loss.item())
    with torch.no_grad():
        z, log_p, logdet = model(x_all[:batch_size])
        held = bits_per_dim(log_p, logdet, dim).item()
        round_trip = (model.reverse(z) - x_all[:batch_size]).abs().max().item()
        lu_dets = [(flow.w_s.sum().item(), torch.linalg.slogdet(flow.calc_weight())[1].item())
                   for flow in model.flows if hasattr(flow, "w_s")]
    return losses, norms, held, lu_dets, round_trip
