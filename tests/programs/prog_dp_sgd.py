"""Differentially private SGD the way the torch.func tutorial on per-sample gradients and Opacus do it: the model's
parameters and buffers taken once as dicts of detached tensors, a loss of one sample made by functional_call,
per-sample gradients and losses by vmap(grad_and_value(...)) over the batch, each sample's gradient clipped to a
total norm, the clipped gradients summed by einsum, Gaussian noise added and the sum divided by the batch size
into p.grad, then SGD. Written against a module `torch`. The noise is drawn by numpy from a seed so that both
libraries add the same; the per-sample gradients are checked against the naive loop of one backward per sample.
Shrunk: a 3-class problem of 12 features, an MLP with a LayerNorm, 6 steps of 16 samples."""
import numpy as np


def build(torch, features=12, hidden=16, classes=3):
    nn = torch.nn
    return nn.Sequential(nn.Linear(features, hidden), nn.LayerNorm(hidden), nn.Tanh(), nn.Linear(hidden, classes))


def make_data(rng, n=96, features=12, classes=3):
    centres = rng.normal(size=(classes, features))
    y = rng.integers(0, classes, n)
    x = centres[y] + rng.normal(scale=0.8, size=(n, features))
    return x.astype(np.float32), y.astype(np.int64)


def per_sample_gradients(torch, model):
    """The tutorial's ft_compute_sample_grad: (params, buffers, x, y) -> (dict of [B, *p.shape] gradients, [B] losses)."""
    F = torch.nn.functional
    functional_call, vmap, grad_and_value = torch.func.functional_call, torch.func.vmap, torch.func.grad_and_value

    def compute_loss(params, buffers, sample, target):
        batch = sample.unsqueeze(0)
        targets = target.unsqueeze(0)
        predictions = functional_call(model, (params, buffers), (batch,))
        return F.cross_entropy(predictions, targets)

    return vmap(grad_and_value(compute_loss), in_dims=(None, None, 0, 0))


def naive_gradients(torch, model, x, y):
    """One backward per sample: the per-sample gradients as [B, *p.shape] arrays by parameter name."""
    F = torch.nn.functional
    grads = {name: [] for name, _ in model.named_parameters()}
    for i in range(len(x)):
        model.zero_grad()
        F.cross_entropy(model(x[i:i + 1]), y[i:i + 1]).backward()
        for name, p in model.named_parameters():
            grads[name].append(p.grad.detach().clone())
    model.zero_grad()
    return {name: torch.stack(g).numpy() for name, g in grads.items()}


def train(torch, model, data, steps=6, batch_size=16, lr=0.5, max_grad_norm=1.0, noise_multiplier=0.5, noise_seed=0):
    """Returns the mean per-sample losses, the mean per-sample gradient norms (before clipping) and the fraction of
    samples clipped, per step; the first batch's per-sample gradients by the naive loop and by vmap."""
    x, y = torch.from_numpy(data[0]), torch.from_numpy(data[1])
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}
    ft_compute_sample_grad = per_sample_gradients(torch, model)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    noise_rng = np.random.default_rng(noise_seed)
    losses, norms, clipped, first = [], [], [], None
    for step in range(steps):
        start = step * batch_size % len(x)
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        per_sample_grads, per_sample_losses = ft_compute_sample_grad(params, buffers, xb, yb)
        if first is None:
            first = (naive_gradients(torch, model, xb, yb), {k: g.numpy() for k, g in per_sample_grads.items()})
        norm = torch.stack([g.reshape(len(xb), -1).norm(2, dim=1) for g in per_sample_grads.values()], dim=1).norm(2, dim=1)
        clip_factor = (max_grad_norm / (norm + 1e-6)).clamp(max=1.0)
        for name, p in model.named_parameters():
            summed = torch.einsum("i,i...", clip_factor, per_sample_grads[name])
            noise = torch.tensor(noise_rng.normal(0.0, noise_multiplier * max_grad_norm, size=tuple(p.shape)),
                                 dtype=torch.float32)
            p.grad = (summed + noise) / len(xb)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(per_sample_losses.mean().item())
        norms.append(norm.mean().item())
        clipped.append((clip_factor < 1).float().mean().item())
    return losses, norms, clipped, first


def accuracy(torch, model, data):
    with torch.no_grad():
        logits = model(torch.from_numpy(data[0]))
        return (logits.argmax(dim=1) == torch.from_numpy(data[1])).float().mean().item()
