"""A small ResNet as PyTorch users write one for CIFAR: BasicBlocks (two 3x3 Conv2d + BatchNorm2d, an identity or
1x1-conv shortcut) held in nn.Sequential stages inside an nn.ModuleList, an nn.ModuleDict of heads, Kaiming
init, zero-initialised last BatchNorm of each block, AdaptiveAvgPool2d; trained with SGD (Nesterov momentum,
weight decay off the BatchNorm and bias parameters), CosineAnnealingWarmRestarts stepped with fractional epochs,
and evaluated under model.eval() (running statistics) and torch.inference_mode(). Written against a module
`torch`. Shrunk: 3x16x16 synthetic images of 4 classes, stages 8-16-32 wide."""
import numpy as np

import prelude


def build(torch, widths=(8, 16, 32), num_classes=4):
    nn = torch.nn
    F = nn.functional

    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, in_planes, planes, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.shortcut = nn.Sequential()
            if stride != 1 or in_planes != planes:
                self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                                              nn.BatchNorm2d(planes))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)), inplace=True)
            out = self.bn2(self.conv2(out))
            out += self.shortcut(x)
            return F.relu(out)

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, padding=1, bias=False), nn.BatchNorm2d(widths[0]),
                                      nn.ReLU(inplace=True))
            self.stages = nn.ModuleList()
            in_planes = widths[0]
            for i, planes in enumerate(widths):
                stride = 1 if i == 0 else 2
                self.stages.append(nn.Sequential(BasicBlock(in_planes, planes, stride), BasicBlock(planes, planes)))
                in_planes = planes
            self.pool = nn.AdaptiveAvgPool2d((1, 1))
            self.heads = nn.ModuleDict({"classes": nn.Linear(in_planes, num_classes),
                                        "brightness": nn.Linear(in_planes, 1)})
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
            for m in self.modules():
                if isinstance(m, BasicBlock):
                    nn.init.constant_(m.bn2.weight, 0)

        def forward(self, x):
            x = self.stem(x)
            for stage in self.stages:
                x = stage(x)
            x = torch.flatten(self.pool(x), 1)
            return {name: head(x) for name, head in self.heads.items()}

    return ResNet()


def make_data(rng, n_train=96, n_test=48, num_classes=4):
    """Per class a colour blob in one quadrant on noise; the brightness target is the image's mean."""
    def split(n):
        labels = rng.integers(0, num_classes, n)
        images = rng.normal(0, 0.5, (n, 3, 16, 16))
        for i, c in enumerate(labels):
            r, q = divmod(int(c), 2)
            images[i, c % 3, 8 * r:8 * r + 8, 8 * q:8 * q + 8] += 1.5
        return images.astype(np.float32), labels, images.mean(axis=(1, 2, 3)).astype(np.float32)[:, None]
    return split(n_train), split(n_test)


def param_groups(torch, model, weight_decay):
    """No weight decay on BatchNorm parameters and biases (the 'bag of tricks' recipe)."""
    decay, no_decay = [], []
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            skip = isinstance(module, torch.nn.modules.batchnorm._BatchNorm) or name == "bias"
            (no_decay if skip else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def evaluate(torch, model, loader, device):
    F = torch.nn.functional
    model.eval()
    total, correct, loss = 0, 0, 0.0
    with torch.inference_mode():
        for images, labels, brightness in loader:
            images, labels, brightness = images.to(device), labels.to(device), brightness.to(device)
            out = model(images)
            loss += (F.cross_entropy(out["classes"], labels, reduction="sum")
                     + F.mse_loss(out["brightness"], brightness, reduction="sum")).item()
            correct += out["classes"].argmax(dim=1).eq(labels).sum().item()
            total += labels.numel()
    model.train()
    return loss / total, correct / total


def train(torch, model, data, epochs=3, lr=0.05, shuffle=True, seed=1):
    F = torch.nn.functional
    torch.manual_seed(seed)
    torch.backends.cudnn.benchmark = True
    device = prelude.accelerator(torch)[1]
    model.to(device, memory_format=torch.channels_last)
    train_set, test_set = data
    loader = prelude.loader(torch, train_set, batch_size=16, shuffle=shuffle, drop_last=True)
    test_loader = prelude.loader(torch, test_set, batch_size=16)
    optimizer = torch.optim.SGD(param_groups(torch, model, 5e-4), lr=lr, momentum=0.9, nesterov=True)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=1, T_mult=2, eta_min=lr / 100)
    iters = len(loader)
    losses, lrs = [], []
    model.train()
    for epoch in range(epochs):
        for i, (images, labels, brightness) in enumerate(loader):
            images = images.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
            labels, brightness = labels.to(device, non_blocking=True), brightness.to(device, non_blocking=True)
            out = model(images)
            loss = F.cross_entropy(out["classes"], labels) + 0.1 * F.mse_loss(out["brightness"], brightness)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step(epoch + i / iters)
            losses.append(loss.item())
            lrs.append(scheduler.get_last_lr()[0])
    test_loss, acc = evaluate(torch, model, test_loader, device)
    running = [m.running_mean.clone() for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    return losses, lrs, test_loss, acc, [r.cpu().numpy() for r in running]
