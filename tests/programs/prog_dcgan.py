"""The PyTorch examples' DCGAN (dcgan/main.py): a generator of ConvTranspose2d, BatchNorm2d and ReLU ending in
Tanh, a discriminator of Conv2d, BatchNorm2d and LeakyReLU ending in Sigmoid, weights_init through
model.apply by class name, BCELoss, two Adam optimizers and the fake batch detached for the discriminator's
step; written against a module `torch`. Shrunk: 16x16 one-channel images, 8 latent dimensions, 8 feature
maps. The latent noise comes with the data (drawn by numpy) so both libraries see the same."""
import io

import numpy as np

import prelude

nz, ngf, ndf, nc = 8, 8, 8, 1


def build(torch):
    nn = torch.nn

    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find("Conv") != -1:
            torch.nn.init.normal_(m.weight, 0.0, 0.02)
        elif classname.find("BatchNorm") != -1:
            torch.nn.init.normal_(m.weight, 1.0, 0.02)
            torch.nn.init.zeros_(m.bias)

    class Generator(nn.Module):
        def __init__(self, ngpu):
            super(Generator, self).__init__()
            self.ngpu = ngpu
            self.main = nn.Sequential(
                # input is Z, going into a convolution
                nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),
                nn.BatchNorm2d(ngf * 4),
                nn.ReLU(True),
                # state size. (ngf*4) x 4 x 4
                nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf * 2),
                nn.ReLU(True),
                # state size. (ngf*2) x 8 x 8
                nn.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False),
                nn.Tanh()
                # state size. (nc) x 16 x 16
            )

        def forward(self, input):
            if input.is_cuda and self.ngpu > 1:
                output = nn.parallel.data_parallel(self.main, input, range(self.ngpu))
            else:
                output = self.main(input)
            return output

    class Discriminator(nn.Module):
        def __init__(self, ngpu):
            super(Discriminator, self).__init__()
            self.ngpu = ngpu
            self.main = nn.Sequential(
                # input is (nc) x 16 x 16
                nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
                nn.LeakyReLU(0.2, inplace=True),
                # state size. (ndf) x 8 x 8
                nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ndf * 2),
                nn.LeakyReLU(0.2, inplace=True),
                # state size. (ndf*2) x 4 x 4
                nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
                nn.Sigmoid()
            )

        def forward(self, input):
            if input.is_cuda and self.ngpu > 1:
                output = nn.parallel.data_parallel(self.main, input, range(self.ngpu))
            else:
                output = self.main(input)
            return output.view(-1, 1).squeeze(1)

    netG = Generator(1)
    netG.apply(weights_init)
    netD = Discriminator(1)
    netD.apply(weights_init)
    return nn.ModuleDict({"G": netG, "D": netD})


def make_data(rng, n=256, batch_size=32, epochs=2):
    """Blurred blobs at random places, scaled to [-1, 1] as the example's transforms.Normalize leaves them; and
    the latent noise of each training step and a fixed noise batch."""
    yy, xx = np.mgrid[0:16, 0:16]
    cy, cx = rng.uniform(4, 12, (2, n, 1, 1))
    images = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 8.0)
    images = ((images - 0.5) / 0.5).astype(np.float32)[:, None]
    steps = epochs * (n // batch_size)
    noise = rng.standard_normal((steps, batch_size, nz, 1, 1)).astype(np.float32)
    fixed_noise = rng.standard_normal((64, nz, 1, 1)).astype(np.float32)
    return images, noise, fixed_noise


def train(torch, nets, data, batch_size=32, epochs=2, shuffle=True, seed=1):
    """The example's loop (lr 0.0002 raised to 0.002 for the short run, beta1 0.5); returns the discriminator's
    and the generator's losses of each step, D(x) and D(G(z)) of the last, and the discriminator's mean output
    on the fixed noise's fakes with the generator reloaded from a saved state_dict."""
    torch.manual_seed(seed)
    nn = torch.nn
    images, noise_batches, fixed_noise = data
    _, device = prelude.accelerator(torch)
    netG, netD = nets["G"].to(device), nets["D"].to(device)
    dataloader = prelude.loader(torch, (images,), batch_size=batch_size, shuffle=shuffle, drop_last=True)
    criterion = nn.BCELoss()
    fixed_noise = torch.from_numpy(fixed_noise).to(device)
    real_label = 1
    fake_label = 0
    optimizerD = torch.optim.Adam(netD.parameters(), lr=0.002, betas=(0.5, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=0.002, betas=(0.5, 0.999))
    errs, step, log = [], 0, []
    for epoch in range(epochs):
        for i, data_ in enumerate(dataloader, 0):
            ############################
            # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
            ###########################
            # train with real
            netD.zero_grad()
            real_cpu = data_[0].to(device)
            batch_size = real_cpu.size(0)
            label = torch.full((batch_size,), real_label, dtype=real_cpu.dtype, device=device)

            output = netD(real_cpu)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()

            # train with fake
            noise = torch.tensor(noise_batches[step], device=device)
            fake = netG(noise)
            label.fill_(fake_label)
            output = netD(fake.detach())
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()
            errD = errD_real + errD_fake
            optimizerD.step()

            ############################
            # (2) Update G network: maximize log(D(G(z)))
            ###########################
            netG.zero_grad()
            label.fill_(real_label)  # fake labels are real for generator cost
            output = netD(fake)
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()
            optimizerG.step()

            log.append('[%d/%d][%d/%d] Loss_D: %.4f Loss_G: %.4f D(x): %.4f D(G(z)): %.4f / %.4f'
                       % (epoch, epochs, i, len(dataloader), errD.item(), errG.item(), D_x, D_G_z1, D_G_z2))
            errs.append((errD.item(), errG.item()))
            step += 1

    buffer = io.BytesIO()
    torch.save(netG.state_dict(), buffer)
    buffer.seek(0)
    netG.load_state_dict(torch.load(buffer, weights_only=True))
    netG.eval()
    netD.eval()
    with torch.no_grad():
        fake = netG(fixed_noise)
        judged = netD(fake).mean().item()
    assert len(log) == step and log[-1].startswith(f"[{epochs - 1}/{epochs}]")
    return np.array(errs), (D_x, D_G_z1, D_G_z2), judged, fake.detach().cpu().numpy()
