"""A small DDPM (denoising diffusion probabilistic model) as PyTorch users write one after the annotated-diffusion
tutorials: a U-Net of residual blocks (GroupNorm, SiLU, a sinusoidal timestep embedding added per channel),
strided Conv2d down, ConvTranspose2d or nearest Upsample + Conv2d up, skips joined by torch.cat; a linear beta
schedule (scaled to the number of steps, as improved DDPM's) with torch.cumprod and the coefficients gathered by t;
the noise-prediction MSE loss, AdamW, an exponential moving average of the weights kept in a deep copy (updated
under torch.no_grad by lerp_ or mul_/add_), and ancestral sampling from the EMA model. Written against a module
`torch`. Shrunk: 1x16x16 images of blurred blobs, 50 diffusion steps, channels 8 and 16."""
import copy
import math

import numpy as np

import prelude


def build(torch, channels=1, base=8, time_dim=32, groups=4, upsample="transpose"):
    """upsample "transpose": ConvTranspose2d(4, stride 2, padding 1) up; "nearest": nn.Upsample then a 3x3 Conv2d."""
    nn = torch.nn
    F = nn.functional

    class SinusoidalPositionEmbeddings(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.dim = dim

        def forward(self, time):
            half = self.dim // 2
            freqs = torch.exp(torch.arange(half, device=time.device) * -(math.log(10000) / (half - 1)))
            args = time[:, None].float() * freqs[None, :]
            return torch.cat((args.sin(), args.cos()), dim=-1)

    class ResnetBlock(nn.Module):
        def __init__(self, dim_in, dim_out):
            super().__init__()
            self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(time_dim, dim_out))
            self.norm1 = nn.GroupNorm(groups, dim_in)
            self.conv1 = nn.Conv2d(dim_in, dim_out, 3, padding=1)
            self.norm2 = nn.GroupNorm(groups, dim_out)
            self.conv2 = nn.Conv2d(dim_out, dim_out, 3, padding=1)
            self.res_conv = nn.Conv2d(dim_in, dim_out, 1) if dim_in != dim_out else nn.Identity()

        def forward(self, x, time_emb):
            h = self.conv1(F.silu(self.norm1(x)))
            h = h + self.mlp(time_emb)[:, :, None, None]  # "b c -> b c 1 1"
            h = self.conv2(F.silu(self.norm2(h)))
            return h + self.res_conv(x)

    def up(dim):
        if upsample == "transpose":
            return nn.ConvTranspose2d(dim, dim, 4, stride=2, padding=1)
        return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(dim, dim, 3, padding=1))

    class Unet(nn.Module):
        def __init__(self):
            super().__init__()
            dims = [base, base * 2]
            self.init_conv = nn.Conv2d(channels, base, 3, padding=1)
            self.time_mlp = nn.Sequential(SinusoidalPositionEmbeddings(base), nn.Linear(base, time_dim), nn.GELU(),
                                          nn.Linear(time_dim, time_dim))
            self.downs = nn.ModuleList()
            dim_in = base
            for dim_out in dims:  # 16x16 -> 8x8 -> 4x4
                self.downs.append(nn.ModuleList([ResnetBlock(dim_in, dim_out),
                                                 nn.Conv2d(dim_out, dim_out, 3, stride=2, padding=1)]))
                dim_in = dim_out
            self.mid = ResnetBlock(dims[-1], dims[-1])
            self.ups = nn.ModuleList()
            for dim_out in reversed(dims):  # 4x4 -> 8x8 -> 16x16, each joined with the skip of its size
                self.ups.append(nn.ModuleList([up(dim_in), ResnetBlock(dim_in + dim_out, dim_out)]))
                dim_in = dim_out
            self.final = nn.Sequential(nn.GroupNorm(groups, base), nn.SiLU(), nn.Conv2d(base, channels, 1))

        def forward(self, x, time):
            t = self.time_mlp(time)
            x = self.init_conv(x)
            skips = []
            for block, downsample in self.downs:
                x = block(x, t)
                skips.append(x)
                x = downsample(x)
            x = self.mid(x, t)
            for upsample_, block in self.ups:
                x = upsample_(x)
                x = block(torch.cat((x, skips.pop()), dim=1), t)
            return self.final(x)

    return Unet()


class Diffusion:
    """The forward process's constants of a linear beta schedule over `timesteps` steps, and q_sample, the loss
    and the reverse (ancestral) steps."""

    def __init__(self, torch, timesteps=50):
        F = torch.nn.functional
        self.torch, self.timesteps = torch, timesteps
        scale = 1000 / timesteps  # the 1e-4 .. 0.02 of DDPM's 1000 steps, stretched to fewer steps
        self.betas = torch.linspace(scale * 1e-4, scale * 0.02, timesteps)
        alphas = 1.0 - self.betas
        self.alphas_cumprod = torch.cumprod(alphas, dim=0)
        alphas_cumprod_prev = F.pad(self.alphas_cumprod[:-1], (1, 0), value=1.0)
        self.sqrt_alphas_cumprod = torch.sqrt(self.alphas_cumprod)
        self.sqrt_one_minus_alphas_cumprod = torch.sqrt(1.0 - self.alphas_cumprod)
        # q(x_{t-1} | x_t, x_0): its variance, and its mean's coefficients of x_0 and of x_t
        self.posterior_variance = self.betas * (1.0 - alphas_cumprod_prev) / (1.0 - self.alphas_cumprod)
        self.posterior_mean_coef1 = self.betas * torch.sqrt(alphas_cumprod_prev) / (1.0 - self.alphas_cumprod)
        self.posterior_mean_coef2 = (1.0 - alphas_cumprod_prev) * torch.sqrt(alphas) / (1.0 - self.alphas_cumprod)

    @staticmethod
    def extract(a, t, x_shape):
        """a[t] per batch element, shaped to broadcast over an image batch of x_shape."""
        out = a.gather(-1, t.cpu())
        return out.reshape(t.shape[0], *((1,) * (len(x_shape) - 1))).to(t.device)

    def q_sample(self, x_start, t, noise):
        return (self.extract(self.sqrt_alphas_cumprod, t, x_start.shape) * x_start
                + self.extract(self.sqrt_one_minus_alphas_cumprod, t, x_start.shape) * noise)

    def p_losses(self, model, x_start, t, noise=None):
        if noise is None:
            noise = self.torch.randn_like(x_start)
        predicted_noise = model(self.q_sample(x_start, t, noise), t)
        return self.torch.nn.functional.mse_loss(noise, predicted_noise)

    def p_sample(self, model, x, t, t_index, noise=None):
        """One reverse step: x_0 predicted from the predicted noise and clipped to the data's [-1, 1] (as DDPM's
        clip_denoised), then a draw from q(x_{t-1} | x_t, x_0)."""
        x_start = (x - self.extract(self.sqrt_one_minus_alphas_cumprod, t, x.shape) * model(x, t)) \
            / self.extract(self.sqrt_alphas_cumprod, t, x.shape)
        x_start = x_start.clamp(-1.0, 1.0)
        model_mean = (self.extract(self.posterior_mean_coef1, t, x.shape) * x_start
                      + self.extract(self.posterior_mean_coef2, t, x.shape) * x)
        if t_index == 0:
            return model_mean
        if noise is None:
            noise = self.torch.randn_like(x)
        return model_mean + self.torch.sqrt(self.extract(self.posterior_variance, t, x.shape)) * noise

    def sample(self, model, shape, noises=None):
        """The reverse process from pure noise down to t = 0; noises (optional) gives x_T and each step's noise,
        else they are drawn with torch.randn."""
        torch = self.torch
        device = next(model.parameters()).device
        with torch.no_grad():
            img = torch.randn(shape, device=device) if noises is None else noises[0].to(device)
            for i in reversed(range(self.timesteps)):
                t = torch.full((shape[0],), i, device=device, dtype=torch.long)
                noise = None if noises is None else noises[self.timesteps - i].to(device)
                img = self.p_sample(model, img, t, i, noise)
        return img


def make_data(rng, n=64, batch_size=16, epochs=3, timesteps=50):
    """Blurred blobs scaled to [-1, 1]; each training step's t and noise, and the held-out images with their t
    and noise (drawn by numpy, so both libraries see the same); the sampler's noises."""
    yy, xx = np.mgrid[0:16, 0:16]

    def blobs(count):
        cy, cx = rng.uniform(4, 12, (2, count, 1, 1))
        images = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 6.0)
        return (images * 2 - 1).astype(np.float32)[:, None]

    steps = epochs * (n // batch_size)
    draws = [(rng.integers(0, timesteps, batch_size), rng.standard_normal((batch_size, 1, 16, 16)).astype(np.float32))
             for _ in range(steps)]
    held_out = (blobs(32), rng.integers(0, timesteps, 32), rng.standard_normal((32, 1, 16, 16)).astype(np.float32))
    noises = rng.standard_normal((timesteps + 1, 8, 1, 16, 16)).astype(np.float32)
    return blobs(n), draws, held_out, noises


def train(torch, model, data, epochs=3, batch_size=16, lr=2e-3, ema_decay=0.9, ema_update="lerp", shuffle=True,
          draws=True, seed=1, timesteps=50):
    """AdamW on the noise-prediction loss with an EMA copy of the model. draws=True takes each step's t and noise
    from the data, False draws them with torch.randint / torch.randn_like. Returns the step losses, the EMA model's
    and the model's held-out loss, the EMA model, and 8 samples from it (with the data's sampler noises)."""
    torch.manual_seed(seed)
    _, device = prelude.accelerator(torch)
    images, step_draws, (test_x, test_t, test_noise), noises = data
    diffusion = Diffusion(torch, timesteps)
    model = model.to(device)
    ema = copy.deepcopy(model).eval()
    ema.requires_grad_(False)
    loader = prelude.loader(torch, (images,), batch_size=batch_size, shuffle=shuffle, drop_last=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)

    @torch.no_grad()
    def update_ema():
        for e, p in zip(ema.parameters(), model.parameters()):
            if ema_update == "lerp":
                e.lerp_(p, 1 - ema_decay)
            else:
                e.mul_(ema_decay).add_(p.detach(), alpha=1 - ema_decay)
        for e, b in zip(ema.buffers(), model.buffers()):
            e.copy_(b)

    losses, step = [], 0
    for epoch in range(epochs):
        model.train()
        for (batch,) in loader:
            batch = batch.to(device)
            if draws:
                t, noise = (torch.from_numpy(a).to(device) for a in step_draws[step])
            else:
                t, noise = torch.randint(0, timesteps, (batch.shape[0],), device=device).long(), None
            loss = diffusion.p_losses(model, batch, t, noise)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            update_ema()
            losses.append(loss.item())
            step += 1

    def held_out_loss(net):
        net.eval()
        with torch.no_grad():
            return diffusion.p_losses(net, torch.from_numpy(test_x).to(device), torch.from_numpy(test_t).to(device),
                                      torch.from_numpy(test_noise).to(device)).item()

    samples = diffusion.sample(ema, (8, 1, 16, 16), [torch.from_numpy(n) for n in noises])
    return losses, held_out_loss(ema), held_out_loss(model), ema, samples.cpu().numpy()
