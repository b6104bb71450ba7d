"""A small CLIP/SimCLR-style contrastive program as PyTorch users write one: an image tower (Conv2d, GELU,
AdaptiveAvgPool2d, a projection) and a text tower (Embedding, masked mean pooling over padded tokens, an MLP),
embeddings made unit length by F.normalize, a learned temperature kept as a log-scale nn.Parameter (exp, clamped
at 100 as CLIP does), the symmetric cross entropy of the [B, B] similarity matrix against arange(B); plus
SimCLR's NT-Xent loss between two augmented views of each image (the diagonal masked out with fill_diagonal_ /
masked_fill). Trained with Adam and a cosine schedule; evaluated by zero-shot retrieval accuracy. Written against
a module `torch`. Shrunk: 1x12x12 images of 6 shape-classes, captions of 4 tokens from a 16-word vocabulary."""
import math

import numpy as np


def build(torch, embed_dim=16, vocab_size=16, width=12):
    nn = torch.nn
    F = nn.functional

    class ImageEncoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.GELU(),
                                     nn.Conv2d(width, width, 3, stride=2, padding=1), nn.GELU(),
                                     nn.AdaptiveAvgPool2d(1), nn.Flatten())
            self.proj = nn.Linear(width, embed_dim, bias=False)

        def forward(self, x):
            return self.proj(self.net(x))

    class TextEncoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.token_embedding = nn.Embedding(vocab_size, width, padding_idx=0)
            self.mlp = nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.Linear(width, embed_dim))

        def forward(self, tokens):
            mask = (tokens != 0).unsqueeze(-1).to(self.token_embedding.weight.dtype)
            pooled = (self.token_embedding(tokens) * mask).sum(1) / mask.sum(1).clamp(min=1)
            return self.mlp(pooled)

    class CLIP(nn.Module):
        def __init__(self):
            super().__init__()
            self.visual = ImageEncoder()
            self.text = TextEncoder()
            self.logit_scale = nn.Parameter(torch.ones([]) * math.log(1 / 0.07))

        def encode_image(self, image):
            return F.normalize(self.visual(image), dim=-1)

        def encode_text(self, tokens):
            return F.normalize(self.text(tokens), dim=-1)

        def forward(self, image, tokens):
            image_features, text_features = self.encode_image(image), self.encode_text(tokens)
            logit_scale = self.logit_scale.exp().clamp(max=100)
            logits_per_image = logit_scale * image_features @ text_features.t()
            return logits_per_image, logits_per_image.t()

    return CLIP()


def make_data(rng, n=64, num_classes=6, size=12, vocab_size=16):
    """Per class a shape drawn at a random offset; its caption is the class's two words plus a random word and
    padding. Two noisy, randomly shifted views of each image for the NT-Xent term."""
    ys, xs = np.mgrid[0:size, 0:size]
    c = size // 2
    shapes = [np.abs(ys - c) + np.abs(xs - c) <= 3, (ys - c) ** 2 + (xs - c) ** 2 <= 9, np.abs(ys - c) <= 1,
              np.abs(xs - c) <= 1, (np.abs(ys - c) <= 3) & (np.abs(xs - c) <= 3), np.abs(ys - xs) <= 1]
    words = rng.permutation(np.arange(1, vocab_size))[:2 * num_classes].reshape(num_classes, 2)
    labels = rng.integers(0, num_classes, n)

    def view():
        out = rng.normal(0, 0.3, (n, 1, size, size))
        for i, k in enumerate(labels):
            out[i, 0] += np.roll(shapes[k], tuple(rng.integers(-2, 3, 2)), axis=(0, 1))
        return out.astype(np.float32)

    tokens = np.zeros((n, 4), dtype=np.int64)
    tokens[:, :2] = words[labels]
    extra = rng.random(n) < 0.5
    tokens[extra, 2] = rng.integers(1, vocab_size, extra.sum())
    return view(), view(), tokens, labels


def clip_loss(torch, logits_per_image, logits_per_text):
    F = torch.nn.functional
    labels = torch.arange(logits_per_image.shape[0], device=logits_per_image.device, dtype=torch.long)
    return (F.cross_entropy(logits_per_image, labels) + F.cross_entropy(logits_per_text, labels)) / 2


def nt_xent(torch, z1, z2, temperature=0.5):
    """SimCLR's loss: each view's positive is the other view of its image among the 2B - 1 others."""
    F = torch.nn.functional
    z = F.normalize(torch.cat([z1, z2], dim=0), dim=1)
    sim = torch.mm(z, z.t()) / temperature
    n = z1.size(0)
    self_mask = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    sim = sim.masked_fill(self_mask, float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, targets)


def train(torch, model, data, epochs=6, batch_size=16, lr=3e-3):
    view1, view2, tokens, _ = (torch.from_numpy(a) for a in data)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.98), eps=1e-6)
    steps = epochs * (len(tokens) // batch_size)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    losses, scales = [], []
    for epoch in range(epochs):
        for start in range(0, len(tokens), batch_size):
            batch = slice(start, start + batch_size)
            logits_per_image, logits_per_text = model(view1[batch], tokens[batch])
            loss = clip_loss(torch, logits_per_image, logits_per_text) \
                + 0.5 * nt_xent(torch, model.visual(view1[batch]), model.visual(view2[batch]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            with torch.no_grad():  # CLIP clamps the learned temperature after each step
                model.logit_scale.clamp_(0, math.log(100))
            losses.append(loss.item())
            scales.append(model.logit_scale.exp().item())
    return losses, scales


def zero_shot(torch, model, data, num_classes=6):
    """Each test image is matched to the class whose caption (its two words) embeds nearest."""
    view1, _, tokens, labels = data
    captions = np.zeros((num_classes, 4), dtype=np.int64)
    for k in range(num_classes):
        captions[k, :2] = tokens[np.flatnonzero(labels == k)[0], :2]
    model.eval()
    with torch.no_grad():
        image_features = model.encode_image(torch.from_numpy(view1))
        text_features = model.encode_text(torch.from_numpy(captions))
        similarity = (100.0 * image_features @ text_features.T).softmax(dim=-1)
        values, indices = similarity.topk(1, dim=-1)
        accuracy = (indices.squeeze(1) == torch.from_numpy(labels)).float().mean().item()
    return accuracy, similarity.numpy()
