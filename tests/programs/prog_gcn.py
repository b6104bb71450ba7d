"""A graph convolutional network in the style of the PyTorch examples' gcn/main.py (Kipf and Welling): a
GraphConvolution layer (weight and bias initialised by uniform_ from 1/sqrt(out_features), support = x @ W,
then the normalised adjacency times support), relu, dropout, log_softmax, nll_loss over the training
nodes' indices, Adam with weight_decay; written against a module `torch`. The example multiplies by a
sparse adjacency (torch.sparse.mm); here the adjacency is dense, built from an edge list by index
assignment, normalised D^-1/2 (A + I) D^-1/2 with isinf masking; a message-passing variant aggregates
with index_add_ over the edge list instead. Shrunk: a 3-block stochastic block model of 120 nodes."""
import math

import numpy as np


def build(torch, nfeat=16, nhid=16, nclass=3, dropout=0.5, message_passing=False):
    nn = torch.nn
    F = nn.functional

    class GraphConvolution(nn.Module):
        def __init__(self, in_features, out_features, bias=True):
            super(GraphConvolution, self).__init__()
            self.in_features = in_features
            self.out_features = out_features
            self.weight = nn.Parameter(torch.FloatTensor(in_features, out_features))
            if bias:
                self.bias = nn.Parameter(torch.FloatTensor(out_features))
            else:
                self.register_parameter("bias", None)
            self.reset_parameters()

        def reset_parameters(self):
            stdv = 1. / math.sqrt(self.weight.size(1))
            self.weight.data.uniform_(-stdv, stdv)
            if self.bias is not None:
                self.bias.data.uniform_(-stdv, stdv)

        def forward(self, input, adj):
            support = torch.mm(input, self.weight)
            if message_passing:
                src, dst, norm = adj
                output = torch.zeros_like(support).index_add_(0, dst, support[src] * norm.unsqueeze(-1))
            else:
                output = torch.mm(adj, support)
            if self.bias is not None:
                return output + self.bias
            return output

        def __repr__(self):
            return self.__class__.__name__ + " (" + str(self.in_features) + " -> " + str(self.out_features) + ")"

    class GCN(nn.Module):
        def __init__(self, nfeat, nhid, nclass, dropout):
            super(GCN, self).__init__()
            self.gc1 = GraphConvolution(nfeat, nhid)
            self.gc2 = GraphConvolution(nhid, nclass)
            self.dropout = dropout

        def forward(self, x, adj):
            x = F.relu(self.gc1(x, adj))
            x = F.dropout(x, self.dropout, training=self.training)
            x = self.gc2(x, adj)
            return F.log_softmax(x, dim=1)

    return GCN(nfeat, nhid, nclass, dropout)


def make_graph(rng, n=120, classes=3, nfeat=16):
    """A stochastic block model: edges within a class with probability 0.08, across with 0.01 (undirected,
    as an edge list both ways); features are noisy class means; node indices split 60/20/40."""
    labels = rng.integers(0, classes, n)
    p = np.where(labels[:, None] == labels[None, :], 0.08, 0.01)
    upper = np.triu(rng.random((n, n)) < p, 1)
    src, dst = np.nonzero(upper | upper.T)
    means = rng.standard_normal((classes, nfeat))
    features = (means[labels] * 0.5 + rng.standard_normal((n, nfeat))).astype(np.float32)
    order = rng.permutation(n)
    return features, np.stack([src, dst]), labels, (order[:60], order[60:80], order[80:])


def load_data(torch, graph, message_passing=False):
    """The example's load_data on the synthetic graph: row-normalised features, the normalised adjacency (or,
    for message passing, the edge list with self loops and each edge's weight), labels and index splits."""
    features, edges, labels, splits = graph
    n = features.shape[0]
    features = torch.FloatTensor(features)
    features = features / features.abs().sum(1, keepdim=True)
    edge_index = torch.from_numpy(edges).long()
    loops = torch.arange(n)
    src = torch.cat([edge_index[0], loops])
    dst = torch.cat([edge_index[1], loops])
    if message_passing:
        deg = torch.zeros(n).index_add_(0, dst, torch.ones(dst.size(0)))
        norm = deg[src].pow(-0.5) * deg[dst].pow(-0.5)
        adj = (src, dst, norm)
    else:
        adj = torch.zeros(n, n)
        adj[dst, src] = 1.0
        rowsum = adj.sum(1)
        r_inv_sqrt = rowsum.pow(-0.5)
        r_inv_sqrt[torch.isinf(r_inv_sqrt)] = 0.
        adj = r_inv_sqrt.view(-1, 1) * adj * r_inv_sqrt.view(1, -1)
    labels = torch.LongTensor(labels)
    idx_train, idx_val, idx_test = (torch.LongTensor(s) for s in splits)
    return adj, features, labels, idx_train, idx_val, idx_test


def accuracy(output, labels):
    preds = output.max(1)[1].type_as(labels)
    correct = preds.eq(labels).double()
    correct = correct.sum()
    return correct / len(labels)


def train(torch, model, graph, epochs=60, seed=1, message_passing=False):
    """The example's train/test (Adam lr 0.01, weight_decay 5e-4); returns each epoch's training loss, the
    last validation loss and the test loss and accuracy."""
    F = torch.nn.functional
    torch.manual_seed(seed)
    adj, features, labels, idx_train, idx_val, idx_test = load_data(torch, graph, message_passing)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    losses = []
    for epoch in range(epochs):
        model.train()
        optimizer.zero_grad()
        output = model(features, adj)
        loss_train = F.nll_loss(output[idx_train], labels[idx_train])
        acc_train = accuracy(output[idx_train], labels[idx_train])
        loss_train.backward()
        optimizer.step()
        model.eval()
        output = model(features, adj)
        loss_val = F.nll_loss(output[idx_val], labels[idx_val])
        losses.append(loss_train.item())
        line = (f"Epoch: {epoch + 1:04d} loss_train: {loss_train.item():.4f} acc_train: {acc_train.item():.4f} "
                f"loss_val: {loss_val.item():.4f}")
        assert line.startswith("Epoch: ")
    model.eval()
    output = model(features, adj)
    loss_test = F.nll_loss(output[idx_test], labels[idx_test])
    acc_test = accuracy(output[idx_test], labels[idx_test])
    return losses, loss_val.item(), loss_test.item(), acc_test.item()
