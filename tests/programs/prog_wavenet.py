"""A small WaveNet as PyTorch users write one: mu-law companding of the waveform into 256 classes (torch ops, as
torchaudio's mu_law_encoding), a causal Conv1d on the one-hot input, stacks of dilated causal Conv1d (kernel 2,
left padding by F.pad) with gated tanh * sigmoid activations, 1x1 residual and skip convolutions, a ReLU/1x1
head giving 256 logits per step; CrossEntropyLoss over [batch, classes, time], Adam with StepLR or
ReduceLROnPlateau on the held-out loss, and a few steps of autoregressive generation decoded back by mu-law
expansion. Written against a module `torch`. Shrunk: 2 stacks of dilations 1, 2, 4, 8, 16 channels, clips of 96
samples of a synthetic two-tone signal."""
import math

import numpy as np

import prelude

QUANTIZATION = 256


def mu_law_encode(torch, x, quantization_channels=QUANTIZATION):
    """x in [-1, 1] to class indexes 0 .. quantization_channels - 1."""
    mu = quantization_channels - 1.0
    x_mu = torch.sign(x) * torch.log1p(mu * torch.abs(x)) / math.log1p(mu)
    return ((x_mu + 1) / 2 * mu + 0.5).to(torch.int64)


def mu_law_decode(torch, x_mu, quantization_channels=QUANTIZATION):
    """Class indexes back to amplitudes in [-1, 1]."""
    mu = quantization_channels - 1.0
    x = (x_mu.float() / mu) * 2 - 1.0
    return torch.sign(x) * torch.expm1(torch.abs(x) * math.log1p(mu)) / mu


def build(torch, layers=4, stacks=2, residual_channels=16, skip_channels=32, classes=QUANTIZATION):
    nn = torch.nn
    F = nn.functional

    class CausalConv1d(nn.Conv1d):
        """A Conv1d whose output at t sees inputs up to t only: (kernel_size - 1) * dilation zeros on the left."""

        def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
            super().__init__(in_channels, out_channels, kernel_size, dilation=dilation)
            self.left = (kernel_size - 1) * dilation

        def forward(self, x):
            return super().forward(F.pad(x, (self.left, 0)))

    class ResidualBlock(nn.Module):
        def __init__(self, dilation):
            super().__init__()
            self.filter_conv = CausalConv1d(residual_channels, residual_channels, 2, dilation)
            self.gate_conv = CausalConv1d(residual_channels, residual_channels, 2, dilation)
            self.residual_conv = nn.Conv1d(residual_channels, residual_channels, 1)
            self.skip_conv = nn.Conv1d(residual_channels, skip_channels, 1)

        def forward(self, x):
            gated = torch.tanh(self.filter_conv(x)) * torch.sigmoid(self.gate_conv(x))
            return self.residual_conv(gated) + x, self.skip_conv(gated)

    class WaveNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.causal = CausalConv1d(classes, residual_channels, 2)
            self.blocks = nn.ModuleList([ResidualBlock(2 ** i) for _ in range(stacks) for i in range(layers)])
            self.end1 = nn.Conv1d(skip_channels, skip_channels, 1)
            self.end2 = nn.Conv1d(skip_channels, classes, 1)
            self.receptive_field = 1 + stacks * (2 ** layers - 1) + 1

        def forward(self, x):
            """x: [batch, classes, time] one-hot; the logits of the next sample at every step."""
            x = self.causal(x)
            skip = 0
            for block in self.blocks:
                x, s = block(x)
                skip = skip + s
            return self.end2(F.relu(self.end1(F.relu(skip))))

    return WaveNet()


def make_waves(rng, n_train=48, n_test=16, length=97):
    """Clips of two sines of random frequencies and phases plus a little noise, in [-1, 1]."""
    t = np.arange(length)[None]

    def clips(n):
        f1, f2 = rng.uniform(0.02, 0.12, (2, n, 1))
        p1, p2 = rng.uniform(0, 2 * np.pi, (2, n, 1))
        wave = 0.6 * np.sin(2 * np.pi * f1 * t + p1) + 0.3 * np.sin(2 * np.pi * f2 * t + p2)
        return np.clip(wave + rng.normal(0, 0.02, wave.shape), -1, 1).astype(np.float16).astype(np.float32)
    return clips(n_train), clips(n_test)


def encode(torch, waves):
    """The training and held-out clips (numpy) as mu-law class indexes: the data set, prepared once."""
    return tuple(mu_law_encode(torch, torch.from_numpy(w)) for w in waves)


def train(torch, model, codes, epochs=12, batch_size=16, lr=1e-2, schedule="step", shuffle=True, seed=1,
          generate_steps=8):
    """Teacher-forced next-sample prediction on the (training, held-out) codes. Returns (the step losses, the
    epochs' held-out losses, the learning rates, the generated class indexes and their decoded amplitudes)."""
    F = torch.nn.functional
    torch.manual_seed(seed)
    _, device = prelude.accelerator(torch)
    model = model.to(device)
    train_codes, test_codes = codes
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(train_codes), batch_size=batch_size,
                                         shuffle=shuffle)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    if schedule == "step":
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
    else:
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=1)
    criterion = torch.nn.CrossEntropyLoss()

    def loss_of(codes):
        codes = codes.to(device)
        inputs = F.one_hot(codes[:, :-1], QUANTIZATION).float().transpose(1, 2)  # [B, classes, T]
        return criterion(model(inputs), codes[:, 1:])

    losses, test_losses, lrs = [], [], []
    for epoch in range(epochs):
        model.train()
        for (codes,) in loader:
            optimizer.zero_grad()
            loss = loss_of(codes)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        with torch.no_grad():
            test_losses.append(loss_of(test_codes).item())
        lrs.append(optimizer.param_groups[0]["lr"])
        if schedule == "step":
            scheduler.step()
        else:
            scheduler.step(test_losses[-1])

    # Generation: extend the first held-out clip's opening receptive field by its most likely next samples.
    with torch.no_grad():
        generated = test_codes[:1, :model.receptive_field].to(device)
        for _ in range(generate_steps):
            inputs = F.one_hot(generated[:, -model.receptive_field:], QUANTIZATION).float().transpose(1, 2)
            next_code = model(inputs)[:, :, -1].argmax(dim=1, keepdim=True)
            generated = torch.cat([generated, next_code], dim=1)
    new = generated[0, model.receptive_field:]
    return losses, test_losses, lrs, new.cpu().numpy(), mu_law_decode(torch, new).cpu().numpy()
