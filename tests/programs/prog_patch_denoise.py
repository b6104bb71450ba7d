"""Patch-based image denoising as PyTorch users write it around nn.Unfold and nn.Fold: noisy images made from uint8
arrays (torch.from_numpy, .float() / 255, noise added by the dataset from a numpy generator), overlapping 4x4
patches by nn.Unfold(stride 2), an MLP over each patch (the patches as a [B * L, C * 4 * 4] batch), the patches put
back by F.fold and divided by fold(unfold(ones)), the overlap counts; a second branch at half resolution through
F.pixel_unshuffle, a 1x1 convolution and F.pixel_shuffle; L1 loss, AdamW with a StepLR, PSNR on held-out images
and predictions quantised back to 8 bits (.mul(255).round().clamp(0, 255), compared as integers). Written against
a module `torch`. Shrunk: 12x12 images of 3 channels."""
import math

import numpy as np


def build(torch, channels=3, patch=4, stride=2, hidden=32):
    nn, F = torch.nn, torch.nn.functional

    class PatchDenoiser(nn.Module):
        def __init__(self):
            super().__init__()
            self.unfold = nn.Unfold(kernel_size=patch, stride=stride)
            dim = channels * patch * patch
            self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
            self.low = nn.Conv2d(4 * channels, 4 * channels, kernel_size=1)

        def forward(self, x):
            B, C, H, W = x.shape
            patches = self.unfold(x)  # [B, C*p*p, L]
            L = patches.shape[-1]
            cleaned = self.mlp(patches.transpose(1, 2).reshape(B * L, -1)).reshape(B, L, -1).transpose(1, 2)
            out = F.fold(cleaned, output_size=(H, W), kernel_size=patch, stride=stride)
            counts = F.fold(self.unfold(torch.ones_like(x)), output_size=(H, W), kernel_size=patch, stride=stride)
            low = F.pixel_shuffle(self.low(F.pixel_unshuffle(x, 2)), 2)
            return x + out / counts + 0.1 * low

    return PatchDenoiser()


def make_data(rng, n=32, n_test=8, size=12):
    """uint8 images [N, 3, H, W]: smooth gradients with a square of another colour."""
    yy, xx = np.mgrid[:size, :size] / (size - 1)

    def draw(count):
        images = np.empty((count, 3, size, size))
        for image in images:
            a, b = rng.uniform(0, 255, (2, 3, 1, 1))
            image[:] = a * xx + b * (1 - yy)
            top, left = rng.integers(0, size - 4, 2)
            image[:, top:top + 4, left:left + 4] = rng.uniform(0, 255, (3, 1, 1))
        return np.clip(images / 2 + 60, 0, 255).round().astype(np.uint8)

    return draw(n), draw(n_test)


def noisy(torch, images, rng, sigma=0.1):
    """(noisy, clean) float tensors in [0, 1] from uint8 images; the noise from numpy's generator."""
    clean = torch.from_numpy(images).float() / 255
    noise = torch.from_numpy(rng.normal(0, sigma, images.shape).astype(np.float32))
    return clean + noise, clean


def psnr(torch, prediction, target):
    mse = torch.mean((prediction.clamp(0, 1) - target) ** 2).item()
    return 10 * math.log10(1 / mse)


def train(torch, model, data, epochs=3, batch_size=8, noise_seed=0):
    """Returns the losses, the learning rates per epoch, the test PSNR of the noisy input and of the prediction, and
    the 8-bit prediction of the first test image as integers."""
    (train_images, test_images), rng = data, np.random.default_rng(noise_seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    losses, lrs = [], []
    for _ in range(epochs):
        model.train()
        for start in range(0, len(train_images), batch_size):
            x, y = noisy(torch, train_images[start:start + batch_size], rng)
            loss = torch.nn.functional.l1_loss(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    model.eval()
    x, y = noisy(torch, test_images, rng)
    with torch.no_grad():
        prediction = model(x)
    quantised = prediction[0].mul(255).round().clamp(0, 255).long().numpy()
    return losses, lrs, psnr(torch, x, y), psnr(torch, prediction, y), quantised
