"""A graph attention network in the style of the PyTorch examples' gat/main.py (Velickovic et al.): a GATLayer
whose weight W [in, heads * hidden] and attention vector a [heads, 2 hidden, 1] are nn.Parameters initialised
by nn.init.xavier_normal_; per head, a score for every pair of nodes from the transformed features of both ends,
F.leaky_relu at slope 0.2, non-edges masked before the softmax over neighbours, dropout on features and
attention, heads concatenated (hidden layer) or averaged (output layer), F.elu between the layers and
log_softmax at the end; trained with Adam (weight_decay) on nll_loss over a boolean train mask and evaluated
on a test mask. Two ways users write the scores: the example's broadcast sum of source and target scores
(source + target.mT) with torch.where against a large negative, and the original paper's concatenation of
every pair's features ([Wh_i || Wh_j] built with repeat_interleave and repeat) with masked_fill(-inf).
Written against a module `torch`. Shrunk: a 3-community stochastic block model of 96 nodes in place of Cora."""
import numpy as np


def build(torch, in_features=16, n_hidden=16, n_heads=4, num_classes=3, out_heads=2, dropout=0.6, slope=0.2,
          scores="broadcast"):
    nn = torch.nn
    F = nn.functional

    class GATLayer(nn.Module):
        def __init__(self, in_features, out_features, n_heads, concat=True, dropout=0.4, leaky_relu_slope=0.2):
            super(GATLayer, self).__init__()
            self.n_heads = n_heads
            self.concat = concat
            self.dropout = dropout
            if concat:
                self.out_features = out_features
                assert out_features % n_heads == 0
                self.n_hidden = out_features // n_heads
            else:
                self.n_hidden = out_features
            self.W = nn.Parameter(torch.empty(size=(in_features, self.n_hidden * n_heads)))
            self.a = nn.Parameter(torch.empty(size=(n_heads, 2 * self.n_hidden, 1)))
            self.leaky_relu_slope = leaky_relu_slope
            self.reset_parameters()

        def reset_parameters(self):
            nn.init.xavier_normal_(self.W)
            nn.init.xavier_normal_(self.a)

        def attention_scores(self, h):
            """e[k, i, j]: head k's unnormalised attention of node i to node j, from h [heads, N, hidden]."""
            if scores == "broadcast":
                source = torch.matmul(h, self.a[:, :self.n_hidden, :])
                target = torch.matmul(h, self.a[:, self.n_hidden:, :])
                e = source + target.mT
            else:
                n = h.shape[1]
                pairs = torch.cat([h.repeat_interleave(n, dim=1), h.repeat(1, n, 1)], dim=-1)
                e = torch.bmm(pairs, self.a).view(self.n_heads, n, n)
            return F.leaky_relu(e, negative_slope=self.leaky_relu_slope)

        def forward(self, h, adj_mat):
            n_nodes = h.shape[0]
            h_transformed = torch.mm(h, self.W)
            h_transformed = F.dropout(h_transformed, self.dropout, training=self.training)
            h_transformed = h_transformed.view(n_nodes, self.n_heads, self.n_hidden).permute(1, 0, 2)
            e = self.attention_scores(h_transformed)
            if scores == "broadcast":
                connectivity_mask = -9e16 * torch.ones_like(e)
                e = torch.where(adj_mat > 0, e, connectivity_mask)
            else:
                e = e.masked_fill(adj_mat.unsqueeze(0) == 0, float("-inf"))
            attention = F.softmax(e, dim=-1)
            attention = F.dropout(attention, self.dropout, training=self.training)
            h_prime = torch.matmul(attention, h_transformed)
            if self.concat:
                return h_prime.permute(1, 0, 2).contiguous().view(n_nodes, self.out_features)
            return h_prime.mean(dim=0)

    class GAT(nn.Module):
        def __init__(self):
            super(GAT, self).__init__()
            self.gat1 = GATLayer(in_features, n_hidden, n_heads, concat=True, dropout=dropout,
                                 leaky_relu_slope=slope)
            self.gat2 = GATLayer(n_hidden, num_classes, out_heads, concat=False, dropout=dropout,
                                 leaky_relu_slope=slope)

        def forward(self, input_tensor, adj_mat):
            x = self.gat1(input_tensor, adj_mat)
            x = F.elu(x)
            x = self.gat2(x, adj_mat)
            return F.log_softmax(x, dim=1)

    return GAT()


def make_graph(rng, n=96, classes=3, nfeat=16):
    """A stochastic block model (edges within a community with probability 0.1, across with 0.01, undirected, as
    an edge list both ways); bag-of-words-like 0/1 features whose rates depend on the community; 40 training,
    16 validation and 40 test nodes."""
    labels = rng.integers(0, classes, n)
    p = np.where(labels[:, None] == labels[None, :], 0.1, 0.01)
    upper = np.triu(rng.random((n, n)) < p, 1)
    edges = np.stack(np.nonzero(upper | upper.T))
    rates = rng.uniform(0.05, 0.5, (classes, nfeat))
    features = (rng.random((n, nfeat)) < rates[labels]).astype(np.float32)
    split = np.zeros(n, dtype=np.int64)
    split[rng.permutation(n)[40:]] = 1
    split[rng.permutation(np.nonzero(split)[0])[:16]] = 2  # 16 validation nodes among the other 56
    return features, edges, labels, split


def load_data(torch, graph):
    """As the example loads Cora: row-normalised features, a dense adjacency with self loops filled in from the
    edge list by index assignment, labels, and the train/validation/test masks."""
    features, edges, labels, split = graph
    features = torch.tensor(features)
    features = features / features.sum(dim=1, keepdim=True).clamp(min=1)
    edges = torch.tensor(edges, dtype=torch.long)
    adj_mat = torch.eye(features.shape[0])
    adj_mat[edges[0], edges[1]] = 1
    split = torch.from_numpy(split)
    return features, adj_mat, torch.tensor(labels), split == 0, split == 2, split == 1


def test(torch, model, criterion, input, target, mask):
    model.eval()
    with torch.no_grad():
        output = model(*input)
        output, target = output[mask], target[mask]
        loss = criterion(output, target)
        _, predicted = torch.max(output, 1)
        accuracy = (predicted == target).float().mean()
    return loss.item(), accuracy.item()


def train(torch, model, graph, epochs=40, seed=1, lr=0.01):
    """The example's loop (Adam with weight_decay 5e-4, NLLLoss; lr 0.01 where the example has 0.005 for its 300
    epochs); returns each epoch's training loss, the last validation loss, and the test loss and accuracy."""
    torch.manual_seed(seed)
    features, adj, labels, train_mask, val_mask, test_mask = load_data(torch, graph)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=5e-4)
    criterion = torch.nn.NLLLoss()
    losses = []
    for epoch in range(epochs):
        model.train()
        optimizer.zero_grad()
        y_pred = model(features, adj)
        loss = criterion(y_pred[train_mask], labels[train_mask])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        val_loss, val_acc = test(torch, model, criterion, (features, adj), labels, val_mask)
        line = f"Epoch: {epoch:03d} | Loss: {loss.item():.4f} | Val: {val_loss:.4f} ({val_acc * 100:.1f}%)"
        assert line.startswith("Epoch")
    test_loss, test_acc = test(torch, model, criterion, (features, adj), labels, test_mask)
    return losses, val_loss, test_loss, test_acc
