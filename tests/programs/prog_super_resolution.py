"""The PyTorch examples' super-resolution network (super_resolution/model.py and main.py): four convolutions,
the last widening to upscale_factor^2 channels that PixelShuffle folds into space, orthogonal_ initialisation
with calculate_gain('relu'), MSELoss, Adam, PSNR by math.log10; written against a module `torch`. Shrunk:
8x8 low-resolution crops upscaled 2x, narrower layers; the luminance images are smooth random fields."""
import math

import numpy as np

import prelude


def build(torch, upscale_factor=2):
    nn = torch.nn
    init = torch.nn.init

    class Net(nn.Module):
        def __init__(self, upscale_factor):
            super(Net, self).__init__()

            self.relu = nn.ReLU()
            self.conv1 = nn.Conv2d(1, 16, (5, 5), (1, 1), (2, 2))
            self.conv2 = nn.Conv2d(16, 16, (3, 3), (1, 1), (1, 1))
            self.conv3 = nn.Conv2d(16, 8, (3, 3), (1, 1), (1, 1))
            self.conv4 = nn.Conv2d(8, upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
            self.pixel_shuffle = nn.PixelShuffle(upscale_factor)

            self._initialize_weights()

        def forward(self, x):
            x = self.relu(self.conv1(x))
            x = self.relu(self.conv2(x))
            x = self.relu(self.conv3(x))
            x = self.pixel_shuffle(self.conv4(x))
            return x

        def _initialize_weights(self):
            init.orthogonal_(self.conv1.weight, init.calculate_gain('relu'))
            init.orthogonal_(self.conv2.weight, init.calculate_gain('relu'))
            init.orthogonal_(self.conv3.weight, init.calculate_gain('relu'))
            init.orthogonal_(self.conv4.weight)

    return Net(upscale_factor)


def make_data(rng, n_train=96, n_test=32, size=16):
    """Smooth fields in [0, 1] (sums of a few random sinusoids) and their 2x-downsampled (box-filtered) inputs,
    as the example's CenterCrop/Resize transforms make them from images."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    def split(n):
        f = rng.uniform(0.5, 3, (n, 3, 2))
        phase = rng.uniform(0, 2 * np.pi, (n, 3))
        targets = sum(np.sin(2 * np.pi * (f[:, k, 0, None, None] * yy + f[:, k, 1, None, None] * xx)
                             + phase[:, k, None, None]) for k in range(3))
        targets = ((targets - targets.min()) / (targets.max() - targets.min())).astype(np.float32)
        inputs = targets.reshape(n, size // 2, 2, size // 2, 2).mean((2, 4))
        return inputs[:, None], targets[:, None]
    return split(n_train), split(n_test)


def train(torch, model, data, epochs=3, shuffle=True, seed=1):
    """The example's train and test epochs (lr 0.01); returns each epoch's mean training loss and the test
    set's mean PSNR after the last."""
    torch.manual_seed(seed)
    nn = torch.nn
    _, device = prelude.accelerator(torch)
    (xtr, ytr), (xte, yte) = data
    training_data_loader = prelude.loader(torch, (xtr, ytr), batch_size=16, shuffle=shuffle)
    testing_data_loader = prelude.loader(torch, (xte, yte), batch_size=10, shuffle=False)
    model = model.to(device)
    criterion = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    epoch_losses, psnr = [], None
    for epoch in range(1, epochs + 1):
        epoch_loss = 0
        for iteration, batch in enumerate(training_data_loader, 1):
            input, target = batch[0].to(device), batch[1].to(device)
            optimizer.zero_grad()
            loss = criterion(model(input), target)
            epoch_loss += loss.item()
            loss.backward()
            optimizer.step()
        epoch_losses.append(epoch_loss / len(training_data_loader))

        avg_psnr = 0
        with torch.no_grad():
            for batch in testing_data_loader:
                input, target = batch[0].to(device), batch[1].to(device)
                prediction = model(input)
                mse = criterion(prediction, target)
                psnr = 10 * math.log10(1 / mse.item())
                avg_psnr += psnr
        psnr = avg_psnr / len(testing_data_loader)
        message = f"===> Epoch {epoch} Complete: Avg. Loss: {epoch_losses[-1]:.4f} Avg. PSNR: {psnr:.4f} dB"
        assert message.endswith(" dB")
    return epoch_losses, psnr
