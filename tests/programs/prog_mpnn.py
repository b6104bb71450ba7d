"""A message-passing neural network for graph classification as PyTorch users write one without PyTorch Geometric:
a batch of small graphs joined into one (node features stacked, edge indices offset, a `batch` vector naming each
node's graph), messages from an MLP of both endpoints and the edge's feature, summed at their targets with
index_add_ and max-aggregated with scatter_reduce("amax", include_self=False), a GRUCell node update (Gilmer et
al.'s MPNN), then global mean pooling (index_add_ over the batch vector, divided by bincount's node counts) and max
pooling (scatter_reduce onto -inf), a classifier trained with cross_entropy, Adam and clip_grad_norm_; written
against a module `torch`. Shrunk: graphs of 5 to 9 nodes of 3 types, labelled by whether an edge joins a node of
type 0 to one of type 1."""
import numpy as np


def build(torch, dim=12, layers=2, classes=2):
    nn = torch.nn

    class MPNNLayer(nn.Module):
        def __init__(self):
            super().__init__()
            self.message = nn.Sequential(nn.Linear(2 * dim + 1, dim), nn.ReLU(), nn.Linear(dim, dim))
            self.update = nn.GRUCell(2 * dim, dim)

        def forward(self, h, edge_index, edge_attr):
            src, dst = edge_index
            m = self.message(torch.cat([h[src], h[dst], edge_attr], dim=1))
            summed = torch.zeros_like(h).index_add_(0, dst, m)
            maxed = torch.zeros_like(h).scatter_reduce(0, dst.unsqueeze(1).expand_as(m), m, reduce="amax",
                                                        include_self=False)
            return self.update(torch.cat([summed, maxed], dim=1), h)

    class MPNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Linear(3, dim)
            self.layers = nn.ModuleList([MPNNLayer() for _ in range(layers)])
            self.head = nn.Sequential(nn.Linear(2 * dim, dim), nn.ReLU(), nn.Linear(dim, classes))

        def forward(self, x, edge_index, edge_attr, batch, num_graphs):
            h = torch.relu(self.embed(x))
            for layer in self.layers:
                h = layer(h, edge_index, edge_attr)
            counts = torch.bincount(batch, minlength=num_graphs).clamp(min=1).unsqueeze(1).to(h.dtype)
            mean = torch.zeros(num_graphs, h.size(1), dtype=h.dtype).index_add_(0, batch, h) / counts
            index = batch.unsqueeze(1).expand_as(h)
            maxed = torch.full((num_graphs, h.size(1)), float("-inf"), dtype=h.dtype).scatter_reduce(
                0, index, h, reduce="amax")
            return self.head(torch.cat([mean, maxed], dim=1))

    return MPNN()


def make_graphs(rng, count=128):
    """(node types one-hot [n, 3], edges [2, E] both directions, edge weights [E, 1], label) per graph, half of
    each label."""
    graphs, per_label = [], [0, 0]
    while len(graphs) < count:
        n = int(rng.integers(5, 10))
        types = rng.integers(0, 3, n)
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n) if rng.random() < 0.3]
        label = int(any({types[i], types[j]} == {0, 1} for i, j in pairs))
        if per_label[label] == count // 2:
            continue
        per_label[label] += 1
        edges = np.array(pairs + [(j, i) for i, j in pairs], dtype=np.int64).reshape(-1, 2).T
        weights = rng.uniform(0.5, 1.5, len(pairs)).astype(np.float32)
        graphs.append((np.eye(3, dtype=np.float32)[types], edges, np.concatenate([weights, weights])[:, None], label))
    return graphs


def collate(torch, graphs):
    """One big graph of the batch: x, edge_index (offset per graph), edge_attr, batch vector, labels."""
    offsets = np.cumsum([0] + [len(g[0]) for g in graphs[:-1]])
    x = np.concatenate([g[0] for g in graphs])
    edge_index = np.concatenate([g[1] + off for g, off in zip(graphs, offsets)], axis=1)
    edge_attr = np.concatenate([g[2] for g in graphs])
    batch = np.concatenate([np.full(len(g[0]), i, dtype=np.int64) for i, g in enumerate(graphs)])
    return (torch.tensor(x), torch.tensor(edge_index), torch.tensor(edge_attr), torch.tensor(batch),
            torch.tensor([g[3] for g in graphs]))


def evaluate(torch, model, graphs):
    model.eval()
    with torch.no_grad():
        x, edge_index, edge_attr, batch, y = collate(torch, graphs)
        logits = model(x, edge_index, edge_attr, batch, len(graphs))
        loss = torch.nn.functional.cross_entropy(logits.float(), y).item()
        accuracy = (logits.argmax(1) == y).float().mean().item()
    model.train()
    return loss, accuracy


def train(torch, model, graphs, epochs=6, batch_size=8, seed=0):
    """Adam over batches in an order drawn from a numpy Generator (the same in both libraries); returns the
    training losses and the held-out loss and accuracy (the last quarter of `graphs`)."""
    split = len(graphs) * 3 // 4
    train_set, test_set = graphs[:split], graphs[split:]
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-2)
    order_rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        order = order_rng.permutation(len(train_set))
        for start in range(0, len(order), batch_size):
            chosen = [train_set[i] for i in order[start:start + batch_size]]
            x, edge_index, edge_attr, batch, y = collate(torch, chosen)
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x, edge_index, edge_attr, batch, len(chosen)), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            losses.append(loss.item())
    return (losses,) + evaluate(torch, model, test_set)
