"""A physics-informed neural network as PyTorch users write one for a boundary-value problem: an MLP u(x) of Tanh
layers with Xavier-initialised weights, collocation points made with torch.linspace(...).requires_grad_(), the first
and second derivatives of u by torch.autograd.grad(u, x, grad_outputs=torch.ones_like(u), create_graph=True) so
that the residual of u'' = f(x) can itself be trained through, a boundary loss, Adam with ExponentialLR for a warm
start, then LBFGS with line_search_fn="strong_wolfe" and a closure, and the error against the exact solution under
torch.no_grad(). Written against a module `torch`. The problem: u'' = -pi^2 sin(pi x) on [-1, 1] with u(+-1) = 0,
whose solution is sin(pi x)."""
import math

import numpy as np


def build(torch, hidden=16, layers=2):
    nn = torch.nn

    class PINN(nn.Module):
        def __init__(self):
            super().__init__()
            sizes = [1] + [hidden] * layers
            blocks = []
            for n_in, n_out in zip(sizes[:-1], sizes[1:]):
                blocks += [nn.Linear(n_in, n_out), nn.Tanh()]
            self.net = nn.Sequential(*blocks, nn.Linear(hidden, 1))
            for m in self.net:
                if isinstance(m, nn.Linear):
                    nn.init.xavier_normal_(m.weight)
                    nn.init.zeros_(m.bias)

        def forward(self, x):
            return self.net(x)

    return PINN()


def train(torch, model, n_points=32, adam_steps=60, lbfgs_steps=2, lr=1e-2):
    """Returns the losses of the Adam steps and of the LBFGS closure calls (the line search's trial points among
    them), the loss where LBFGS stopped, and the largest error against sin(pi x) on a fine grid."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device)
    x = torch.linspace(-1, 1, n_points, device=device).view(-1, 1).requires_grad_()
    x_bc = torch.tensor([[-1.0], [1.0]], device=device)
    u_bc = torch.zeros(2, 1, device=device)
    forcing = -(math.pi ** 2) * torch.sin(math.pi * x.detach())

    def pde_loss():
        u = model(x)
        du_dx = torch.autograd.grad(u, x, grad_outputs=torch.ones_like(u), create_graph=True)[0]
        d2u_dx2 = torch.autograd.grad(du_dx, x, grad_outputs=torch.ones_like(du_dx), create_graph=True)[0]
        residual = d2u_dx2 - forcing
        return (residual ** 2).mean() / math.pi ** 4 + ((model(x_bc) - u_bc) ** 2).mean()

    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.99)
    adam_losses = []
    for step in range(adam_steps):
        optimizer.zero_grad()
        loss = pde_loss()
        loss.backward()
        optimizer.step()
        scheduler.step()
        adam_losses.append(loss.item())

    lbfgs = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=10, history_size=10,
                              line_search_fn="strong_wolfe")
    lbfgs_losses = []

    def closure():
        lbfgs.zero_grad()
        loss = pde_loss()
        loss.backward()
        lbfgs_losses.append(loss.item())
        return loss

    for _ in range(lbfgs_steps):
        lbfgs.step(closure)
    final_loss = pde_loss().item()

    with torch.no_grad():
        grid = torch.linspace(-1, 1, 101, device=device).view(-1, 1)
        error = (model(grid) - torch.sin(math.pi * grid)).abs().max().item()
    return np.array(adam_losses), np.array(lbfgs_losses), final_loss, error
