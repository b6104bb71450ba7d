"""A small Vision Transformer as PyTorch users write one after the examples' vision_transformer: a strided
Conv2d cutting the image into patch embeddings, a class token and learned position embeddings as
nn.Parameter, a pre-norm nn.TransformerEncoder with GELU, a LayerNorm and Linear head on the class token;
trained with AdamW (decay only on weight matrices), a per-step LR schedule (OneCycleLR, or a linear warmup
by LambdaLR then CosineAnnealingLR joined by SequentialLR), CrossEntropyLoss with label smoothing and
gradient clipping; evaluated under model.eval() and torch.no_grad(), also at a higher resolution after resizing
the position embeddings by bicubic interpolation (as fine-tuning recipes do). Written against a module `torch`.
Shrunk: 3x32x32 synthetic images of 4 classes, 8x8 patches, 2 layers 32 wide."""
import math

import numpy as np

import prelude


def build(torch, image_size=32, patch_size=8, in_chans=3, num_classes=4, dim=32, depth=2, heads=2, mlp_dim=64,
          dropout=0.1, patchify="conv"):
    """patchify "conv" embeds the patches by a Conv2d of stride patch_size; "unfold" cuts them out with
    Tensor.unfold and embeds them by a Linear, as the examples' vision_transformer does."""
    nn = torch.nn

    class PatchEmbedding(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(in_chans * patch_size * patch_size, dim)

        def forward(self, img):
            B, C = img.shape[:2]
            patches = img.unfold(2, patch_size, patch_size).unfold(3, patch_size, patch_size)  # [B, C, h, w, p, p]
            patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(B, -1, C * patch_size * patch_size)
            return self.proj(patches)

    class ConvPatchEmbedding(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Conv2d(in_chans, dim, kernel_size=patch_size, stride=patch_size)

        def forward(self, img):
            return self.proj(img).flatten(2).transpose(1, 2)  # [B, dim, h, w] to [B, h w, dim]

    class ViT(nn.Module):
        def __init__(self):
            super().__init__()
            num_patches = (image_size // patch_size) ** 2
            self.patch_embed = ConvPatchEmbedding() if patchify == "conv" else PatchEmbedding()
            self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
            self.pos_embedding = nn.Parameter(torch.zeros(1, num_patches + 1, dim))
            self.pos_drop = nn.Dropout(dropout)
            layer = nn.TransformerEncoderLayer(d_model=dim, nhead=heads, dim_feedforward=mlp_dim, dropout=dropout,
                                               activation="gelu", batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, num_layers=depth)
            self.norm = nn.LayerNorm(dim)
            self.head = nn.Linear(dim, num_classes)
            nn.init.trunc_normal_(self.pos_embedding, std=0.02)
            nn.init.trunc_normal_(self.cls_token, std=0.02)
            self.apply(self._init_weights)

        @staticmethod
        def _init_weights(m):
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

        def forward(self, img):
            x = self.patch_embed(img)  # [B, patches, dim]
            cls = self.cls_token.expand(x.shape[0], -1, -1)
            x = torch.cat((cls, x), dim=1) + self.pos_embedding
            x = self.encoder(self.pos_drop(x))
            return self.head(self.norm(x[:, 0]))

    return ViT()


def make_data(rng, n_train=128, n_test=64, num_classes=4):
    """Per class a colour and a stripe pattern (horizontal, vertical or either diagonal, of a class-given
    period), plus strong noise, normalised per channel as torchvision's Normalize would; a fifth of the labels
    are random, so the test loss stays well above label smoothing's floor (comparable across libraries)."""
    colours = rng.random((num_classes, 3, 1, 1))
    ys, xs = np.mgrid[0:32, 0:32]
    directions = [ys, xs, ys + xs, ys - xs]
    patterns = np.stack([np.sin(2 * np.pi * directions[c % 4] / (4 + 2 * (c // 4))) for c in range(num_classes)])

    def split(n):
        labels = rng.integers(0, num_classes, n)
        images = colours[labels] * (0.5 + 0.5 * patterns[labels][:, None]) + rng.normal(0, 1.0, (n, 3, 32, 32))
        labels = np.where(rng.random(n) < 0.2, rng.integers(0, num_classes, n), labels)
        mean, std = images.mean(axis=(0, 2, 3), keepdims=True), images.std(axis=(0, 2, 3), keepdims=True)
        return ((images - mean) / std).astype(np.float32), labels
    return split(n_train), split(n_test)


def param_groups(model, weight_decay):
    """AdamW's two groups as ViT recipes make them: decay on the weight matrices and kernels, none on biases,
    norms' scales, the class token and the position embeddings."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim <= 1 or name in ("cls_token", "pos_embedding") else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def scheduler_for(torch, optimizer, schedule, total_steps, lr):
    """OneCycleLR ("onecycle"), or a linear warmup over a fifth of the steps then a cosine decay
    ("warmup_cosine"); stepped once per batch."""
    if schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps, pct_start=0.2)
    if schedule != "warmup_cosine":
        raise ValueError(f"unknown schedule {schedule!r}")
    warmup = max(1, total_steps // 5)
    ramp = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: (step + 1) / warmup)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps - warmup, eta_min=lr * 0.01)
    return torch.optim.lr_scheduler.SequentialLR(optimizer, [ramp, cosine], milestones=[warmup])


def evaluate(torch, model, loader, criterion, device):
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            logits = model(images)
            total_loss += criterion(logits, labels).item() * labels.size(0)
            correct += (logits.argmax(dim=-1) == labels).sum().item()
            seen += labels.size(0)
    return total_loss / seen, correct / seen


def train(torch, model, data, epochs=3, batch_size=32, lr=3e-3, schedule="onecycle", shuffle=True, seed=1):
    """The per-step losses and learning rates, the test loss and the test accuracy."""
    torch.manual_seed(seed)
    _, device = prelude.accelerator(torch)
    (xtr, ytr), (xte, yte) = data
    train_loader = prelude.loader(torch, (xtr, ytr), batch_size=batch_size, shuffle=shuffle, drop_last=True)
    test_loader = prelude.loader(torch, (xte, yte), batch_size=64)
    model = model.to(device)
    criterion = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = torch.optim.AdamW(param_groups(model, 0.05), lr=lr, betas=(0.9, 0.999))
    scheduler = scheduler_for(torch, optimizer, schedule, epochs * len(train_loader), lr)
    losses, lrs = [], []
    for epoch in range(epochs):
        model.train()
        for images, labels in train_loader:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(model(images), labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            lrs.append(scheduler.get_last_lr()[0])
            scheduler.step()
            losses.append(loss.item())
    test_loss, accuracy = evaluate(torch, model, test_loader, criterion, device)
    return losses, lrs, test_loss, accuracy


def resize_pos_embedding(torch, model, grid):
    """The patch position embeddings resized by bicubic interpolation to a grid x grid patch grid (the class
    token's kept), as a new nn.Parameter: how a ViT is carried over to another image size."""
    cls_pos, patch_pos = model.pos_embedding[:, :1], model.pos_embedding[:, 1:]
    old = int(math.sqrt(patch_pos.shape[1]))
    patch_pos = patch_pos.reshape(1, old, old, -1).permute(0, 3, 1, 2)  # [1, dim, old, old]
    patch_pos = torch.nn.functional.interpolate(patch_pos, size=(grid, grid), mode="bicubic", align_corners=False)
    patch_pos = patch_pos.permute(0, 2, 3, 1).reshape(1, grid * grid, -1)
    model.pos_embedding = torch.nn.Parameter(torch.cat([cls_pos, patch_pos], dim=1))


def evaluate_resized(torch, model, data, image_size=48, patch_size=8):
    """The test loss and accuracy on the test images upsampled (bilinear) to image_size, after resizing the
    model's position embeddings to the new patch grid."""
    _, device = prelude.accelerator(torch)
    with torch.no_grad():
        resize_pos_embedding(torch, model, image_size // patch_size)
    _, (xte, yte) = data
    images = torch.nn.functional.interpolate(torch.tensor(xte), size=(image_size, image_size), mode="bilinear",
                                             align_corners=False)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images, torch.tensor(yte)), batch_size=64)
    return evaluate(torch, model, loader, torch.nn.CrossEntropyLoss(label_smoothing=0.1), device)
