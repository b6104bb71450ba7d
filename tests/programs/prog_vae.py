"""The PyTorch examples' variational autoencoder (encoder, reparameterisation, decoder; BCE + KL loss; Adam),
written against a module `torch`. Shrunk: 8x8 binary images, 32 hidden units, 4 latent dimensions."""
import numpy as np

import prelude


def build(torch):
    nn = torch.nn
    F = nn.functional

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(64, 32)
            self.fc21 = nn.Linear(32, 4)
            self.fc22 = nn.Linear(32, 4)
            self.fc3 = nn.Linear(4, 32)
            self.fc4 = nn.Linear(32, 64)

        def encode(self, x):
            h1 = F.relu(self.fc1(x))
            return self.fc21(h1), self.fc22(h1)

        def reparameterize(self, mu, logvar):
            std = torch.exp(0.5 * logvar)
            eps = torch.randn_like(std)
            return mu + eps * std

        def decode(self, z):
            h3 = F.relu(self.fc3(z))
            return torch.sigmoid(self.fc4(h3))

        def forward(self, x):
            mu, logvar = self.encode(x.view(-1, 64))
            z = self.reparameterize(mu, logvar)
            return self.decode(z), mu, logvar

    return VAE()


def make_data(rng, n_train=512, n_test=128):
    """Binary 8x8 images: one of six stroke patterns with a few pixels flipped."""
    patterns = rng.random((6, 64)) > 0.5
    def split(n):
        images = patterns[rng.integers(0, 6, n)] ^ (rng.random((n, 64)) < 0.05)
        return images.astype(np.float32).reshape(n, 1, 8, 8)
    return split(n_train), split(n_test)


def train(torch, model, data, epochs=3, seed=1):
    F = torch.nn.functional
    torch.manual_seed(seed)
    _, device = prelude.accelerator(torch)
    model = model.to(device)
    train_x, test_x = data
    train_loader = prelude.loader(torch, (train_x,), batch_size=64, shuffle=True)
    test_loader = prelude.loader(torch, (test_x,), batch_size=64, shuffle=False)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

    def loss_function(recon_x, x, mu, logvar):
        BCE = F.binary_cross_entropy(recon_x, x.view(-1, 64), reduction="sum")
        KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return BCE + KLD

    losses = []
    for epoch in range(1, epochs + 1):
        model.train()
        train_loss = 0
        for batch_idx, (data_,) in enumerate(train_loader):
            data_ = data_.to(device)
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data_)
            loss = loss_function(recon_batch, data_, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
        losses.append(train_loss / len(train_loader.dataset))
    model.eval()
    test_loss = 0
    with torch.no_grad():
        for data_, in test_loader:
            recon_batch, mu, logvar = model(data_.to(device))
            test_loss += loss_function(recon_batch, data_.to(device), mu, logvar).item()
    return losses, test_loss / len(test_loader.dataset)
