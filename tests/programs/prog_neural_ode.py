"""A neural ODE in the style of torchdiffeq's ode_demo.py: a small MLP f(t, y) = net(y**3) learns the vector field of
a damped spiral from short windows of its trajectory, each window's prediction being the ODE integrated from the
window's first point (a fixed-grid fourth-order Runge-Kutta solver written in the program, in place of
torchdiffeq's odeint), with RMSprop on the mean absolute error and the demo's RunningAverageMeter; written against a
module `torch`. Shrunk: 80 time points on [0, 4], 40 iterations. The true trajectory is integrated by numpy in
float64 (make_data), so both libraries fit the same data."""
import numpy as np

TRUE_A = np.array([[-0.1, 2.0], [-2.0, -0.1]])


def make_data(rng, data_size=80, t_end=4.0):
    """(t, true_y [data_size, 1, 2]): the demo's spiral dy/dt = (y**3) A from y0 = (2, 0), perturbed a little per
    seed, integrated with 8 RK4 substeps per interval in float64."""
    t = np.linspace(0.0, t_end, data_size)
    y = np.array([[2.0, 0.0]]) + rng.normal(0, 0.05, (1, 2))

    def field(v):
        return (v ** 3) @ TRUE_A

    ys = [y]
    for t0, t1 in zip(t[:-1], t[1:]):
        h = (t1 - t0) / 8
        for _ in range(8):
            k1 = field(y)
            k2 = field(y + h * k1 / 2)
            k3 = field(y + h * k2 / 2)
            k4 = field(y + h * k3)
            y = y + h * (k1 + 2 * k2 + 2 * k3 + k4) / 6
        ys.append(y)
    return t.astype(np.float32), np.stack(ys).astype(np.float32)


def odeint(torch, func, y0, t):
    """y(t) for each time of t (a 1-d tensor), from y(t[0]) = y0, by one classic RK4 step per interval: [len(t),
    *y0.shape], stacked as torchdiffeq's odeint returns it."""
    solution = [y0]
    y = y0
    for i in range(len(t) - 1):
        t0, dt = t[i], t[i + 1] - t[i]
        k1 = func(t0, y)
        k2 = func(t0 + dt / 2, y + dt * k1 / 2)
        k3 = func(t0 + dt / 2, y + dt * k2 / 2)
        k4 = func(t0 + dt, y + dt * k3)
        y = y + dt * (k1 + 2 * k2 + 2 * k3 + k4) / 6
        solution.append(y)
    return torch.stack(solution)


def build(torch, hidden=50):
    nn = torch.nn

    class ODEFunc(nn.Module):
        def __init__(self):
            super(ODEFunc, self).__init__()
            self.net = nn.Sequential(
                nn.Linear(2, hidden),
                nn.Tanh(),
                nn.Linear(hidden, 2),
            )
            for m in self.net.modules():
                if isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, mean=0, std=0.1)
                    nn.init.constant_(m.bias, val=0)

        def forward(self, t, y):
            return self.net(y ** 3)

    return ODEFunc()


class RunningAverageMeter(object):
    """Computes and stores the average and current value"""

    def __init__(self, momentum=0.99):
        self.momentum = momentum
        self.reset()

    def reset(self):
        self.val = None
        self.avg = 0

    def update(self, val):
        if self.val is None:
            self.avg = val
        else:
            self.avg = self.avg * self.momentum + val * (1 - self.momentum)
        self.val = val


def train(torch, func, data, niters=40, batch_time=6, batch_size=16, test_freq=20, seed=0):
    """The demo's loop: each iteration draws batch_size windows of batch_time points (numpy's choice, seeded, so
    both libraries see the same windows), integrates from each window's start and steps RMSprop (lr 1e-3) on the
    mean absolute error. Returns each iteration's loss, the running average and the losses of the whole trajectory
    integrated from y0 every test_freq iterations (the demo's visualised test)."""
    t_np, y_np = data
    t, true_y = torch.tensor(t_np), torch.tensor(y_np)
    true_y0 = true_y[0]
    draw = np.random.RandomState(seed)

    def get_batch():
        s = torch.from_numpy(draw.choice(np.arange(len(t_np) - batch_time, dtype=np.int64), batch_size,
                                         replace=False))
        batch_y0 = true_y[s]  # (M, D)
        batch_t = t[:batch_time]  # (T)
        batch_y = torch.stack([true_y[s + i] for i in range(batch_time)], dim=0)  # (T, M, D)
        return batch_y0, batch_t, batch_y

    optimizer = torch.optim.RMSprop(func.parameters(), lr=1e-3)
    loss_meter = RunningAverageMeter(0.97)
    losses, test_losses = [], []
    for itr in range(1, niters + 1):
        optimizer.zero_grad()
        batch_y0, batch_t, batch_y = get_batch()
        pred_y = odeint(torch, func, batch_y0, batch_t)
        loss = torch.mean(torch.abs(pred_y - batch_y))
        loss.backward()
        optimizer.step()
        loss_meter.update(loss.item())
        losses.append(loss.item())
        if itr % test_freq == 0:
            with torch.no_grad():
                pred_y = odeint(torch, func, true_y0, t)
                test_losses.append(torch.mean(torch.abs(pred_y - true_y)).item())
    return losses, loss_meter.avg, test_losses
