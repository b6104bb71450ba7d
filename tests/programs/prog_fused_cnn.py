"""An older-style CNN training script and its deployment step, as PyTorch code from the 1.x years still reads:
conv-BatchNorm-ReLU blocks and a Linear-BatchNorm1d head initialised with the deprecated nn.init names
(xavier_uniform, constant), a hand-written momentum optimizer that refuses sparse gradients (grad.is_sparse),
torch.cuda.amp's autocast and GradScaler (enabled on a GPU only), persistent DataLoader workers whose batches are
awaited with a timeout, the deprecated nn.utils.clip_grad_norm, then for inference every BatchNorm folded into the
layer before it with torch.nn.utils.fusion (fuse_conv_bn_eval, fuse_linear_bn_eval) and the fused network checked
against the unfused one. Written against a module `torch`. Shrunk: 1x12x12 synthetic images of 4 classes."""
import importlib

import numpy as np

import prelude


def build(torch, widths=(6, 12), hidden=24, num_classes=4):
    nn = torch.nn

    def conv_bn(c_in, c_out):
        return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(),
                             nn.MaxPool2d(2))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(conv_bn(1, widths[0]), conv_bn(widths[0], widths[1]))
            self.fc = nn.Linear(widths[1] * 9, hidden)
            self.bn = nn.BatchNorm1d(hidden)
            self.out = nn.Linear(hidden, num_classes)
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.xavier_uniform(m.weight)
                    nn.init.constant(m.bias, 0)

        def forward(self, x):
            x = self.features(x).view(x.size(0), -1)
            return self.out(torch.relu(self.bn(self.fc(x))))

    return Net()


def momentum_sgd(torch):
    """The optimizer class as tutorials wrote their own: heavy-ball momentum with weight decay."""

    class MomentumSGD(torch.optim.Optimizer):
        def __init__(self, params, lr=0.02, momentum=0.9, weight_decay=1e-4):
            super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

        @torch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    grad = p.grad
                    if grad.is_sparse:
                        raise RuntimeError("MomentumSGD does not support sparse gradients")
                    grad = grad.add(p, alpha=group["weight_decay"])
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = torch.clone(grad).detach()
                    else:
                        state["momentum_buffer"].mul_(group["momentum"]).add_(grad)
                    p.add_(state["momentum_buffer"], alpha=-group["lr"])

    return MomentumSGD


def make_data(rng, n_train=192, n_test=64, num_classes=4):
    """A faint 6x6 square in one quadrant per class, on strong noise; a fifth of the labels random, so that the test
    loss stays well above 0."""
    def split(n):
        labels = rng.integers(0, num_classes, n)
        images = rng.normal(0, 1.0, (n, 1, 12, 12))
        for i, c in enumerate(labels):
            r, q = divmod(int(c), 2)
            images[i, 0, 6 * r:6 * r + 6, 6 * q:6 * q + 6] += 0.7
        labels = np.where(rng.random(n) < 0.2, rng.integers(0, num_classes, n), labels)
        return images.astype(np.float32), labels
    return split(n_train), split(n_test)


def train(torch, model, data, epochs=3, num_workers=2):
    """(losses, clipped gradient norms): the script's loop, batches in order."""
    F = torch.nn.functional
    amp = importlib.import_module(torch.__name__ + ".cuda.amp")
    use_cuda = torch.cuda.is_available()
    device = torch.device("cuda" if use_cuda else "cpu")
    model = model.to(device)
    loader = prelude.loader(torch, data[0], batch_size=32, num_workers=num_workers, timeout=60,
                            persistent_workers=True)
    optimizer = momentum_sgd(torch)(model.parameters())
    scaler = amp.GradScaler(enabled=use_cuda)
    losses, norms = [], []
    for _ in range(epochs):
        model.train()
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            with amp.autocast(enabled=use_cuda):
                loss = F.cross_entropy(model(x), y)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            norms.append(float(torch.nn.utils.clip_grad_norm(model.parameters(), 2.0)))
            scaler.step(optimizer)
            scaler.update()
            losses.append(loss.item())
    return losses, norms


def fuse(torch, model):
    """The eval-mode model with each conv-BatchNorm pair and the Linear-BatchNorm1d pair folded into one layer."""
    nn, fusion = torch.nn, torch.nn.utils.fusion
    model.eval()
    blocks = [nn.Sequential(fusion.fuse_conv_bn_eval(block[0], block[1]), *list(block)[2:])
              for block in model.features]
    features = nn.Sequential(*blocks)
    fc = fusion.fuse_linear_bn_eval(model.fc, model.bn)

    def fused(x):
        return model.out(torch.relu(fc(features(x).view(x.size(0), -1))))

    return fused


def evaluate(torch, model, data):
    """(test loss, accuracy, the largest difference between the fused and the unfused network's logits relative to
    the largest logit)."""
    F = torch.nn.functional
    x, y = (torch.tensor(a) for a in data[1])
    model.eval()
    with torch.no_grad():
        logits = model(x)
        fused_logits = fuse(torch, model)(x)
    loss = F.cross_entropy(logits, y).item()
    accuracy = (logits.argmax(1) == y).float().mean().item()
    return loss, accuracy, ((fused_logits - logits).abs().max() / logits.abs().max()).item()
