"""A small mixture-of-experts classifier as PyTorch users write one (after Switch/Mixtral-style layers): a router
Linear, softmax and topk over the experts, the tokens dispatched to each expert by torch.where / index_select,
the weighted expert outputs combined with index_add_, a load-balancing auxiliary loss from scatter_add_'s
per-expert counts, a gather of the router's probabilities; trained in a loop over a map-style Dataset with
__getitem__ returning dicts, a DataLoader (shuffle with a seeded Generator, drop_last, a collate_fn), under
torch.autocast with a GradScaler (scale, unscale_, clip_grad_norm_, step, update), model.train()/model.eval() and
torch.no_grad() evaluation. Written against a module `torch`. Shrunk: 8-dim inputs, 4 experts, top-2, 3 classes."""
import numpy as np


def build(torch, d_in=8, d_model=16, num_experts=4, top_k=2, num_classes=3):
    nn = torch.nn
    F = nn.functional

    class Expert(nn.Module):
        def __init__(self):
            super().__init__()
            self.w1 = nn.Linear(d_model, 2 * d_model)
            self.w2 = nn.Linear(2 * d_model, d_model)

        def forward(self, x):
            return self.w2(F.silu(self.w1(x)))

    class MoELayer(nn.Module):
        def __init__(self):
            super().__init__()
            self.router = nn.Linear(d_model, num_experts, bias=False)
            self.experts = nn.ModuleList(Expert() for _ in range(num_experts))

        def forward(self, x):
            probs = F.softmax(self.router(x), dim=-1, dtype=torch.float)
            weights, chosen = torch.topk(probs, top_k, dim=-1)  # [N, k]
            weights = (weights / weights.sum(dim=-1, keepdim=True)).to(x.dtype)
            out = torch.zeros_like(x)
            for e, expert in enumerate(self.experts):
                token, slot = torch.where(chosen == e)
                if token.numel() == 0:
                    continue
                y = expert(x.index_select(0, token)) * weights[token, slot, None]
                out.index_add_(0, token, y)
            # Switch Transformer's balance loss: experts' shares of the routed tokens times their mean probability
            counts = torch.zeros(num_experts, device=x.device).scatter_add_(
                0, chosen.reshape(-1), torch.ones(chosen.numel(), device=x.device))
            share = counts / chosen.numel()
            aux = num_experts * (share * probs.mean(dim=0)).sum()
            top_prob = probs.gather(1, chosen[:, :1]).squeeze(1)
            return out, aux, top_prob

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Linear(d_in, d_model)
            self.norm = nn.LayerNorm(d_model)
            self.moe = MoELayer()
            self.head = nn.Linear(d_model, num_classes)

        def forward(self, x):
            h = self.embed(x)
            moe_out, aux, top_prob = self.moe(self.norm(h))
            return self.head(h + moe_out), aux, top_prob

    return Net()


def make_data(rng, n_train=160, n_test=64, d_in=8, num_classes=3):
    """Points from 6 clusters, two per class, so that different experts pay off for different regions."""
    centres = rng.normal(0, 2, (6, d_in))

    def split(n):
        cluster = rng.integers(0, 6, n)
        x = centres[cluster] + rng.normal(0, 1.0, (n, d_in))
        return x.astype(np.float32), (cluster % num_classes).astype(np.int64)
    return split(n_train), split(n_test)


def dataset_class(torch):
    class PointDataset(torch.utils.data.Dataset):
        def __init__(self, x, y):
            self.x, self.y = x, y

        def __len__(self):
            return len(self.y)

        def __getitem__(self, idx):
            if torch.is_tensor(idx):
                idx = idx.tolist()
            return {"features": torch.from_numpy(self.x[idx]), "label": int(self.y[idx])}

    return PointDataset


def collate(torch):
    def collate_fn(samples):
        return (torch.stack([s["features"] for s in samples]),
                torch.tensor([s["label"] for s in samples], dtype=torch.long))
    return collate_fn


def evaluate(torch, model, loader, device):
    F = torch.nn.functional
    model.eval()
    loss, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            logits, _, _ = model(x)
            loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(1) == y).sum().item()
            n += y.size(0)
    model.train()
    return loss / n, correct / n


def train(torch, model, data, epochs=4, lr=5e-3, shuffle=True, seed=0, aux_weight=0.01):
    F = torch.nn.functional
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device)
    data, test = data
    Dataset = dataset_class(torch)
    generator = torch.Generator().manual_seed(seed)
    loader = torch.utils.data.DataLoader(Dataset(*data), batch_size=32, shuffle=shuffle, drop_last=True,
                                         collate_fn=collate(torch), generator=generator)
    test_loader = torch.utils.data.DataLoader(Dataset(*test), batch_size=64, collate_fn=collate(torch))
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    use_amp = device == "cuda"
    scaler = torch.amp.GradScaler(device, enabled=use_amp)
    losses, auxes, probs = [], [], []
    model.train()
    for epoch in range(epochs):
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with torch.autocast(device_type=device, dtype=torch.float16, enabled=use_amp):
                logits, aux, top_prob = model(x)
                loss = F.cross_entropy(logits, y) + aux_weight * aux
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scaler.step(optimizer)
            scaler.update()
            losses.append(loss.item())
            auxes.append(aux.item())
            probs.append(top_prob.mean().item())
    return losses, auxes, probs, evaluate(torch, model, test_loader, device)
