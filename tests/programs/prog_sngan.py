"""A spectrally normalised GAN as PyTorch users write one: a discriminator whose convolutions and linear layer are
wrapped by nn.utils.parametrizations.spectral_norm (one power iteration per training forward, the _u/_v vectors
kept in the state_dict), a generator whose first Linear is kept orthogonal by nn.utils.parametrizations.orthogonal
(and whose upsampling convolutions use nn.utils.parametrizations.weight_norm), LeakyReLU and BatchNorm2d,
the hinge loss, Adam with betas (0.0, 0.9) as SN-GAN trains, two discriminator steps per generator step, and
removal of the parametrizations (parametrize.remove_parametrizations) for export. The latent noise comes from a
seeded numpy generator so both libraries draw the same. Written against a module `torch`. Shrunk: 8x8 images of one
channel, latent width 8."""
import numpy as np


def build(torch, latent=8, width=8):
    nn = torch.nn
    P = nn.utils.parametrizations

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = P.orthogonal(nn.Linear(latent, 2 * width * 2 * 2))
            self.net = nn.Sequential(
                nn.BatchNorm2d(2 * width), nn.ReLU(True), nn.Upsample(scale_factor=2),
                P.weight_norm(nn.Conv2d(2 * width, width, 3, 1, 1)), nn.BatchNorm2d(width), nn.ReLU(True),
                nn.Upsample(scale_factor=2), P.weight_norm(nn.Conv2d(width, 1, 3, 1, 1)), nn.Tanh())

        def forward(self, z):
            return self.net(self.fc(z).view(-1, 2 * width, 2, 2))

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            sn = P.spectral_norm
            self.main = nn.Sequential(sn(nn.Conv2d(1, width, 3, 1, 1)), nn.LeakyReLU(0.1),
                                      sn(nn.Conv2d(width, 2 * width, 4, 2, 1)), nn.LeakyReLU(0.1),
                                      sn(nn.Conv2d(2 * width, 2 * width, 4, 2, 1)), nn.LeakyReLU(0.1))
            self.fc = sn(nn.Linear(2 * width * 2 * 2, 1))

        def forward(self, x):
            return self.fc(self.main(x).flatten(1)).view(-1)

    class GAN(nn.Module):
        def __init__(self):
            super().__init__()
            self.netG, self.netD = Generator(), Discriminator()

    return GAN()


def make_data(rng, n=64, size=8):
    """Images in [-1, 1]: a bright bar, horizontal or vertical, at a random place."""
    images = -np.ones((n, 1, size, size), dtype=np.float32)
    for image in images:
        at = rng.integers(1, size - 2)
        if rng.random() < 0.5:
            image[0, at:at + 2, :] = 0.8
        else:
            image[0, :, at:at + 2] = 0.8
    return images + rng.normal(0, 0.05, images.shape).astype(np.float32)


def train(torch, model, data, epochs=2, batch_size=16, n_dis=2, latent=8, noise_seed=0):
    """Returns the discriminator and generator losses per step and the largest singular value of each spectrally
    normalised weight after training (by torch.linalg.matrix_norm(ord=2) of the weight as the layer sees it)."""
    netG, netD = model.netG, model.netD
    optD = torch.optim.Adam(netD.parameters(), lr=2e-3, betas=(0.0, 0.9))
    optG = torch.optim.Adam(netG.parameters(), lr=2e-3, betas=(0.0, 0.9))
    noise = np.random.default_rng(noise_seed)
    real_all = torch.from_numpy(data)
    d_losses, g_losses = [], []
    model.train()
    for _ in range(epochs):
        for start in range(0, len(real_all), batch_size * n_dis):
            for i in range(n_dis):
                real = real_all[start + i * batch_size:start + (i + 1) * batch_size]
                z = torch.from_numpy(noise.standard_normal((len(real), latent)).astype(np.float32))
                with torch.no_grad():
                    fake = netG(z)
                loss_d = torch.relu(1.0 - netD(real)).mean() + torch.relu(1.0 + netD(fake)).mean()
                optD.zero_grad()
                loss_d.backward()
                optD.step()
                d_losses.append(loss_d.item())
            z = torch.from_numpy(noise.standard_normal((batch_size, latent)).astype(np.float32))
            loss_g = -netD(netG(z)).mean()
            optG.zero_grad()
            loss_g.backward()
            optG.step()
            g_losses.append(loss_g.item())
    with torch.no_grad():
        netD.eval()
        sigmas = [torch.linalg.matrix_norm(layer.weight.flatten(1), ord=2).item()
                  for layer in netD.modules() if hasattr(layer, "parametrizations")]
    return d_losses, g_losses, sigmas


def export_generator(torch, model, z):
    """The generator with its parametrizations removed (their current weights made plain Parameters), in eval mode:
    its samples for z, whether its Linear is still orthogonal (W^T W = I), and its state_dict's keys."""
    netG = model.netG
    netG.eval()
    with torch.no_grad():
        before = netG(torch.from_numpy(z))
    for module in list(netG.modules()):
        if torch.nn.utils.parametrize.is_parametrized(module):
            torch.nn.utils.parametrize.remove_parametrizations(module, "weight")
    with torch.no_grad():
        after = netG(torch.from_numpy(z))
        w = netG.fc.weight
        gram = (w.T @ w - torch.eye(w.shape[1])).abs().max().item()
    return before.numpy(), after.numpy(), gram, sorted(netG.state_dict())
