"""A VQ-VAE as PyTorch users write one after the paper: a strided convolutional encoder, a VectorQuantizer whose
codebook is an nn.Embedding initialised uniform_(-1/K, 1/K), nearest codes by torch.cdist and argmin, one-hot
encodings by scatter_, the codebook and commitment losses (mse_loss against detached tensors), the
straight-through estimator inputs + (quantized - inputs).detach(), the codebook perplexity, a ConvTranspose2d
decoder, Adam; images arrive as uint8 arrays (torch.from_numpy, .float().div(255)) as image datasets hold them, and
reconstructions leave as uint8 the way torchvision's save_image makes them. Written against a module `torch`.
Shrunk: 16 codes of width 8, 8x8 images of 3 channels."""
import numpy as np


def build(torch, num_embeddings=16, embedding_dim=8, hidden=16, commitment_cost=0.25):
    nn, F = torch.nn, torch.nn.functional

    class VectorQuantizer(nn.Module):
        def __init__(self):
            super().__init__()
            self._embedding_dim, self._num_embeddings = embedding_dim, num_embeddings
            self._embedding = nn.Embedding(num_embeddings, embedding_dim)
            self._embedding.weight.data.uniform_(-1 / num_embeddings, 1 / num_embeddings)
            self._commitment_cost = commitment_cost

        def forward(self, inputs):
            inputs = inputs.permute(0, 2, 3, 1).contiguous()  # BCHW -> BHWC
            input_shape = inputs.shape
            flat_input = inputs.view(-1, self._embedding_dim)
            distances = torch.cdist(flat_input, self._embedding.weight) ** 2
            encoding_indices = torch.argmin(distances, dim=1).unsqueeze(1)
            encodings = torch.zeros(encoding_indices.shape[0], self._num_embeddings, device=inputs.device)
            encodings.scatter_(1, encoding_indices, 1)
            quantized = torch.matmul(encodings, self._embedding.weight).view(input_shape)
            e_latent_loss = F.mse_loss(quantized.detach(), inputs)
            q_latent_loss = F.mse_loss(quantized, inputs.detach())
            loss = q_latent_loss + self._commitment_cost * e_latent_loss
            quantized = inputs + (quantized - inputs).detach()
            avg_probs = torch.mean(encodings, dim=0)
            # (the usual 1e-10 is below f16's smallest subnormal: 0 + 1e-10 is 0 and 0 * log(0) NaN, in PyTorch's f16 too)
            perplexity = torch.exp(-torch.sum(avg_probs * torch.log(avg_probs + 1e-6)))
            return loss, quantized.permute(0, 3, 1, 2).contiguous(), perplexity, encoding_indices.view(input_shape[:-1])

    class Residual(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self._block = nn.Sequential(nn.ReLU(True), nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
                                        nn.ReLU(True), nn.Conv2d(channels, channels, 1, bias=False))

        def forward(self, x):
            return x + self._block(x)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self._encoder = nn.Sequential(nn.Conv2d(3, hidden, 4, 2, 1), nn.ReLU(), nn.Conv2d(hidden, hidden, 3, 1, 1),
                                          Residual(hidden), nn.ReLU())
            self._pre_vq_conv = nn.Conv2d(hidden, embedding_dim, kernel_size=1, stride=1)
            self._vq_vae = VectorQuantizer()
            self._decoder = nn.Sequential(nn.Conv2d(embedding_dim, hidden, 3, 1, 1), Residual(hidden), nn.ReLU(),
                                          nn.ConvTranspose2d(hidden, 3, 4, 2, 1))

        def forward(self, x):
            z = self._pre_vq_conv(self._encoder(x))
            loss, quantized, perplexity, indices = self._vq_vae(z)
            x_recon = self._decoder(quantized)
            return loss, x_recon, perplexity, indices

    return Model()


def make_data(rng, n=48, size=8):
    """uint8 images [N, H, W, 3] (as datasets store them): a few coloured blobs on a dark ground, with noise."""
    yy, xx = np.mgrid[:size, :size]
    images = np.zeros((n, size, size, 3))
    for image in images:
        for _ in range(2):
            cy, cx, r = rng.uniform(1, size - 1), rng.uniform(1, size - 1), rng.uniform(1.5, 3)
            image[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.uniform(80, 255, size=3)
    images += rng.normal(0, 8, size=images.shape)
    return np.clip(images, 0, 255).round().astype(np.uint8)


def to_tensor(torch, images):
    """uint8 [N, H, W, C] -> float [N, C, H, W] in [0, 1], as torchvision's ToTensor."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div(255)


def train(torch, model, images, epochs=3, batch_size=16, lr=2e-3):
    """Returns the reconstruction and VQ losses and perplexities per step, and the data variance."""
    F = torch.nn.functional
    data = to_tensor(torch, images)
    data_variance = data.var().item()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, amsgrad=False)
    model.train()
    recon_errors, vq_losses, perplexities = [], [], []
    for _ in range(epochs):
        for start in range(0, len(data), batch_size):
            x = data[start:start + batch_size]
            optimizer.zero_grad()
            vq_loss, data_recon, perplexity, _ = model(x)
            recon_error = F.mse_loss(data_recon, x) / data_variance
            loss = recon_error + vq_loss
            loss.backward()
            optimizer.step()
            recon_errors.append(recon_error.item())
            vq_losses.append(vq_loss.item())
            perplexities.append(perplexity.item())
    return recon_errors, vq_losses, perplexities, data_variance


def codes(torch, model, images):
    """The code indices of the images, [N, H/2, W/2]."""
    model.eval()
    with torch.no_grad():
        return model(to_tensor(torch, images))[3].numpy()


def reconstruct_uint8(torch, model, images):
    """Reconstructions as uint8 [N, H, W, C], the way save_image converts: mul(255).add_(0.5).clamp_(0, 255)."""
    model.eval()
    with torch.no_grad():
        recon = model(to_tensor(torch, images))[1]
        return recon.mul(255).add_(0.5).clamp_(0, 255).permute(0, 2, 3, 1).to("cpu", torch.uint8).numpy()
