"""MAML (Finn, Abbeel and Levine, 2017) on sine-wave regression, as PyTorch users now write it with
torch.func.functional_call: an MLP 1-40-40-1 whose parameters are taken as a dict; for each task of a meta-batch, an
inner SGD step on the task's support set computed with torch.autograd.grad(..., create_graph=True) gives fast
weights, the model is called with them through functional_call on the query set, and the mean query loss is
backpropagated through the inner step (second order) into the shared weights, which Adam updates. Evaluation adapts
to new tasks by a few plain SGD steps on their support sets (fast weights again) and reports the query loss before
and after. Written against a module `torch`. The tasks: y = A sin(x - phase), A in [0.1, 5], phase in [0, pi],
x in [-5, 5] (the paper's)."""
import math

import numpy as np


def build(torch, hidden=40):
    nn = torch.nn
    return nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))


def make_tasks(rng, n_tasks, k_shot=10, k_query=10):
    """n_tasks sine tasks: support and query inputs and targets, float32 arrays [n_tasks, k, 1]."""
    amplitude = rng.uniform(0.1, 5.0, (n_tasks, 1, 1))
    phase = rng.uniform(0.0, math.pi, (n_tasks, 1, 1))
    xs, xq = rng.uniform(-5.0, 5.0, (n_tasks, k_shot, 1)), rng.uniform(-5.0, 5.0, (n_tasks, k_query, 1))
    ys, yq = amplitude * np.sin(xs - phase), amplitude * np.sin(xq - phase)
    return tuple(a.astype(np.float32) for a in (xs, ys, xq, yq))


def adapt(torch, model, params, x, y, inner_lr, steps, create_graph):
    """Fast weights after `steps` SGD steps on (x, y) from `params` (a dict of the model's parameter names)."""
    fast = dict(params)
    for _ in range(steps):
        loss = torch.nn.functional.mse_loss(torch.func.functional_call(model, fast, (x,)), y)
        grads = torch.autograd.grad(loss, list(fast.values()), create_graph=create_graph)
        fast = {name: w - inner_lr * g for (name, w), g in zip(fast.items(), grads)}
    return fast


def train(torch, model, tasks, meta_batch=5, inner_lr=0.01, meta_lr=1e-2, inner_steps=1):
    """Meta-trains on the tasks, meta_batch at a time; returns the meta-loss (mean query loss after adaptation) of
    each meta-step and the gradient norm of the shared weights at each."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device)
    xs, ys, xq, yq = (torch.tensor(a, device=device) for a in tasks)
    meta_opt = torch.optim.Adam(model.parameters(), lr=meta_lr)
    losses, norms = [], []
    for start in range(0, xs.shape[0] - meta_batch + 1, meta_batch):
        meta_opt.zero_grad()
        params = dict(model.named_parameters())
        meta_loss = 0.0
        for i in range(start, start + meta_batch):
            fast = adapt(torch, model, params, xs[i], ys[i], inner_lr, inner_steps, create_graph=True)
            meta_loss = meta_loss + torch.nn.functional.mse_loss(torch.func.functional_call(model, fast, (xq[i],)),
                                                                 yq[i])
        meta_loss = meta_loss / meta_batch
        meta_loss.backward()
        norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=10.0).item())
        meta_opt.step()
        losses.append(meta_loss.item())
    return losses, norms


def evaluate(torch, model, tasks, inner_lr=0.01, steps=5):
    """The mean query loss over the tasks before adaptation and after `steps` SGD steps on each support set."""
    device = next(model.parameters()).device
    xs, ys, xq, yq = (torch.tensor(a, device=device) for a in tasks)
    params = {name: p.detach().requires_grad_() for name, p in model.named_parameters()}
    before, after = [], []
    for i in range(xs.shape[0]):
        with torch.no_grad():
            before.append(torch.nn.functional.mse_loss(model(xq[i]), yq[i]).item())
        fast = adapt(torch, model, params, xs[i], ys[i], inner_lr, steps, create_graph=False)
        with torch.no_grad():
            after.append(torch.nn.functional.mse_loss(torch.func.functional_call(model, fast, (xq[i],)), yq[i]).item())
    return float(np.mean(before)), float(np.mean(after))
