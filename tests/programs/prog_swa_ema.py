"""Weight averaging as PyTorch users add it to a classifier's loop: gradient accumulation over micro-batches (the loss
divided by the accumulation steps, clip_grad_norm_ then the optimizer step at each boundary), SGD with momentum and
nesterov, CosineAnnealingWarmRestarts stepped with the fractional epoch, an EMA of the weights and buffers by
optim.swa_utils.AveragedModel(multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True) updated at every optimizer
step, and from the middle of training SWA (AveragedModel with its default running mean, SWALR annealing to a
constant rate) updated each epoch; at the end update_bn recomputes the SWA model's BatchNorm statistics over the
training loader, and the three models are evaluated. Written against a module `torch`. Shrunk: an MLP with
BatchNorm1d on 4-class data of 10 features, 4 epochs of 4 optimizer steps of 2 micro-batches."""
import numpy as np

import prelude


def build(torch, features=10, hidden=24, classes=4):
    nn = torch.nn
    return nn.Sequential(nn.Linear(features, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                         nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, classes))


def make_data(rng, n=128, n_test=64, features=10, classes=4):
    centres = rng.normal(scale=1.2, size=(classes, features))

    def draw(count):
        y = rng.integers(0, classes, count)
        return (centres[y] + rng.normal(size=(count, features))).astype(np.float32), y.astype(np.int64)

    return draw(n), draw(n_test)


def evaluate(torch, model, loader):
    model.eval()
    total, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            logits = model(x)
            total += torch.nn.functional.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(1) == y).sum().item()
            n += len(y)
    return total / n, correct / n


def train(torch, model, data, epochs=4, micro_batch=16, accumulation_steps=2, swa_start=2, lr=0.1):
    """Returns the micro-batch losses, the learning rates at each optimizer step, the gradient norms before
    clipping, and (test loss, test accuracy) of the model, its EMA and its SWA average."""
    swa_utils = torch.optim.swa_utils
    (x, y), (x_test, y_test) = data
    train_loader = prelude.loader(torch, (x, y), batch_size=micro_batch, shuffle=False)
    test_loader = prelude.loader(torch, (x_test, y_test), batch_size=32)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=2, T_mult=1, eta_min=1e-3)
    ema_model = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.9), use_buffers=True)
    swa_model = swa_utils.AveragedModel(model)
    swa_scheduler = swa_utils.SWALR(optimizer, swa_lr=0.02, anneal_epochs=1, anneal_strategy="cos")
    criterion = torch.nn.CrossEntropyLoss()
    losses, lrs, norms = [], [], []
    iters = len(train_loader)
    for epoch in range(epochs):
        model.train()
        optimizer.zero_grad()
        for i, (inputs, targets) in enumerate(train_loader):
            loss = criterion(model(inputs), targets) / accumulation_steps
            loss.backward()
            losses.append(loss.item() * accumulation_steps)
            if (i + 1) % accumulation_steps == 0:
                norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=2.0).item())
                optimizer.step()
                optimizer.zero_grad()
                ema_model.update_parameters(model)
                lrs.append(optimizer.param_groups[0]["lr"])
                if epoch < swa_start:
                    scheduler.step(epoch + (i + 1) / iters)
        if epoch >= swa_start:
            swa_model.update_parameters(model)
            swa_scheduler.step()
    swa_utils.update_bn(train_loader, swa_model)
    results = [evaluate(torch, m, test_loader) for m in (model, ema_model, swa_model)]
    return losses, lrs, norms, results, int(swa_model.n_averaged.item())
