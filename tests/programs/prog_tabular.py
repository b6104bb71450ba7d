"""A tabular classifier as PyTorch tutorials for tabular data write it (fastai's TabularModel in plain PyTorch):
numeric columns standardised with numpy and made with torch.Tensor, categorical codes with torch.LongTensor and the
0/1 labels with torch.Tensor (so floats); one TensorDataset cut by random_split with fractions and a seeded
torch.Generator; a WeightedRandomSampler that balances the rare class from the training subset's labels
(torch.bincount over dataset.indices); one nn.Embedding per categorical column with embedding dropout, BatchNorm1d on
the numeric columns and Linear-ReLU-BatchNorm1d-Dropout blocks; BCEWithLogitsLoss, AdamW and OneCycleLR stepped per
batch; validation under torch.no_grad with the best state_dict saved by torch.save, loaded back by torch.load and
load_state_dict for the test metrics (accuracy, balanced accuracy and a rank AUC). Written against a module
`torch`; the table is synthetic."""
import numpy as np


def make_data(rng, n=640, cardinalities=(5, 7)):
    """Numeric columns (one integer-valued), categorical codes and a rare positive class that depends on both."""
    numeric = np.column_stack([rng.standard_normal(n), rng.exponential(1.0, n), rng.integers(18, 70, n),
                               rng.uniform(-2, 2, n)])
    codes = np.column_stack([rng.integers(c, size=n) for c in cardinalities])
    effects = [rng.standard_normal(c) for c in cardinalities]
    logit = (1.4 * numeric[:, 0] - 0.8 * numeric[:, 1] + 0.04 * (numeric[:, 2] - 44) + np.sin(2 * numeric[:, 3])
             + sum(e[codes[:, j]] for j, e in enumerate(effects)) - 2.0)
    labels = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return numeric, codes, labels


def build(torch, cardinalities=(5, 7), n_cont=4, layers=(32, 16), dropout=0.1, emb_dropout=0.05):
    nn = torch.nn

    class TabularModel(nn.Module):
        def __init__(self, emb_szs, n_cont, out_sz, layers, ps, emb_drop):
            super().__init__()
            self.embeds = nn.ModuleList([nn.Embedding(ni, nf) for ni, nf in emb_szs])
            self.emb_drop = nn.Dropout(emb_drop)
            self.bn_cont = nn.BatchNorm1d(n_cont)
            n_emb = sum(nf for _, nf in emb_szs)
            layerlist = []
            n_in = n_emb + n_cont
            for i in layers:
                layerlist.append(nn.Linear(n_in, i))
                layerlist.append(nn.ReLU(inplace=True))
                layerlist.append(nn.BatchNorm1d(i))
                layerlist.append(nn.Dropout(ps))
                n_in = i
            layerlist.append(nn.Linear(layers[-1], out_sz))
            self.layers = nn.Sequential(*layerlist)

        def forward(self, x_cont, x_cat):
            embeddings = []
            for i, e in enumerate(self.embeds):
                embeddings.append(e(x_cat[:, i]))
            x = torch.cat(embeddings, 1)
            x = self.emb_drop(x)
            x_cont = self.bn_cont(x_cont)
            x = torch.cat([x, x_cont], 1)
            return self.layers(x).squeeze(1)

    emb_szs = [(size, min(50, (size + 1) // 2)) for size in cardinalities]
    return TabularModel(emb_szs, n_cont, 1, list(layers), dropout, emb_dropout)


def rank_auc(torch, scores, labels):
    """The probability that a random positive outscores a random negative (the Mann-Whitney form of the AUC)."""
    ranks = torch.empty_like(scores)
    ranks[torch.argsort(scores)] = torch.arange(1, len(scores) + 1, dtype=scores.dtype)
    pos = labels == 1
    n_pos, n_neg = pos.sum().item(), (~pos).sum().item()
    return (ranks[pos].sum().item() - n_pos * (n_pos + 1) / 2) / max(n_pos * n_neg, 1)


def evaluate(torch, model, loader, criterion):
    model.eval()
    total, probs, targets = 0.0, [], []
    with torch.no_grad():
        for x_cont, x_cat, y in loader:
            logits = model(x_cont, x_cat)
            total += criterion(logits, y).item() * len(y)
            probs.append(torch.sigmoid(logits))
            targets.append(y)
    probs, targets = torch.cat(probs), torch.cat(targets)
    preds = (probs > 0.5).float()
    accuracy = (preds == targets).float().mean().item()
    recalls = [((preds == c) & (targets == c)).sum().item() / max((targets == c).sum().item(), 1) for c in (0, 1)]
    return total / len(targets), accuracy, float(np.mean(recalls)), rank_auc(torch, probs, targets)


def train(torch, model, data, checkpoint, epochs=6, batch_size=32, max_lr=0.01, seed=0):
    """Returns the training losses per epoch, the validation losses, the epoch whose weights were kept, and the
    test metrics of the reloaded best model (loss, accuracy, balanced accuracy, AUC)."""
    numeric, codes, labels = data
    torch.manual_seed(seed)
    means, stds = numeric.mean(0), numeric.std(0)
    x_cont = torch.Tensor((numeric - means) / stds)
    x_cat = torch.LongTensor(codes)
    y = torch.Tensor(labels)
    dataset = torch.utils.data.TensorDataset(x_cont, x_cat, y)
    train_set, val_set, test_set = torch.utils.data.random_split(
        dataset, [0.7, 0.15, 0.15], generator=torch.Generator().manual_seed(42))

    y_train = y[train_set.indices].long()
    class_counts = torch.bincount(y_train)
    sample_weights = 1.0 / class_counts[y_train].float()
    sampler = torch.utils.data.WeightedRandomSampler(sample_weights, num_samples=len(sample_weights), replacement=True)
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=batch_size, sampler=sampler, drop_last=True)
    val_loader = torch.utils.data.DataLoader(val_set, batch_size=128)
    test_loader = torch.utils.data.DataLoader(test_set, batch_size=128)

    criterion = torch.nn.BCEWithLogitsLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=max_lr / 25, weight_decay=1e-2)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, steps_per_epoch=len(train_loader),
                                                    epochs=epochs)
    train_losses, val_losses, best, best_epoch = [], [], float("inf"), -1
    for epoch in range(epochs):
        model.train()
        running = 0.0
        for x_cont_b, x_cat_b, y_b in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(x_cont_b, x_cat_b), y_b)
            loss.backward()
            optimizer.step()
            scheduler.step()
            running += loss.item()
        train_losses.append(running / len(train_loader))
        val_loss = evaluate(torch, model, val_loader, criterion)[0]
        val_losses.append(val_loss)
        if val_loss < best:
            best, best_epoch = val_loss, epoch
            torch.save(model.state_dict(), checkpoint)
    model.load_state_dict(torch.load(checkpoint))
    return train_losses, val_losses, best_epoch, evaluate(torch, model, test_loader, criterion)
