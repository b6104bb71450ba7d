"""The PyTorch examples' MNIST Forward-Forward network (Hinton's algorithm: each layer, an nn.Linear subclass
with its own Adam, is trained alone to give positive data, the image with its true label written over its
first pixels, a high goodness, the mean squared activation, and negative data, a wrong label, a low one,
through log(1 + exp(...)); the next layer trains on the detached outputs; a prediction is the label whose
overlay gives the highest goodness summed over layers), written against a module `torch`. Shrunk: 10x10
synthetic digits, two layers of 48 units, a few hundred steps per layer."""
import numpy as np

import prelude


def build(torch, dims=(100, 48, 48), lr=0.03, threshold=2.0, epochs=250):
    nn = torch.nn

    class Layer(nn.Linear):
        # Overriding nn.Module.train as the example does: the layers are kept in a plain list, never switched
        # between train and eval mode.
        def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
            super().__init__(in_features, out_features, bias, device, dtype)
            self.relu = nn.ReLU()
            self.opt = torch.optim.Adam(self.parameters(), lr=lr)
            self.threshold = threshold
            self.num_epochs = epochs

        def forward(self, x):
            x_direction = x / (x.norm(2, 1, keepdim=True) + 1e-4)
            return self.relu(torch.mm(x_direction, self.weight.T) + self.bias.unsqueeze(0))

        def train(self, x_pos, x_neg):
            losses = []
            for _ in range(self.num_epochs):
                g_pos = self.forward(x_pos).pow(2).mean(1)
                g_neg = self.forward(x_neg).pow(2).mean(1)
                # pushes positive goodness above the threshold and negative goodness below it
                loss = torch.log(1 + torch.exp(torch.cat([-g_pos + self.threshold, g_neg - self.threshold]))).mean()
                self.opt.zero_grad()
                loss.backward()
                self.opt.step()
                losses.append(loss.item())
            self.losses = losses
            return self.forward(x_pos).detach(), self.forward(x_neg).detach()

    class Net(nn.Module):
        def __init__(self, dims):
            super().__init__()
            self.layers = []
            for d in range(len(dims) - 1):
                self.layers = self.layers + [Layer(dims[d], dims[d + 1])]

        def predict(self, x):
            goodness_per_label = []
            for label in range(10):
                h = overlay_y_on_x(x, label)
                goodness = []
                for layer in self.layers:
                    h = layer(h)
                    goodness = goodness + [h.pow(2).mean(1)]
                goodness_per_label += [sum(goodness).unsqueeze(1)]
            goodness_per_label = torch.cat(goodness_per_label, 1)
            return goodness_per_label.argmax(1)

        def train(self, x_pos, x_neg):
            h_pos, h_neg = x_pos, x_neg
            for layer in self.layers:
                h_pos, h_neg = layer.train(h_pos, h_neg)

    return Net(dims)


def overlay_y_on_x(x, y):
    """x with its first 10 pixels replaced by a one-hot of y (a label, or a tensor of labels) at x's maximum."""
    x_ = x.clone()
    x_[:, :10] *= 0.0
    x_[range(x.shape[0]), y] = x.max()
    return x_


def make_data(rng, n_train=400, n_test=200):
    """Ten noisy templates of 10x10 pixels, one per class, in [0, 1] like MNIST's ToTensor."""
    templates = rng.random((10, 10, 10)) > 0.6
    def split(n):
        labels = rng.integers(0, 10, n)
        images = np.clip(templates[labels] * 0.8 + rng.normal(0.1, 0.2, (n, 10, 10)), 0, 1)
        return images.astype(np.float32)[:, None], labels
    return split(n_train), split(n_test)


def train(torch, net, data, negative_order=None):
    """The example's main: one full batch (normalised with MNIST's mean and deviation, flattened), negative labels
    from a torch.randperm of the batch (or negative_order, a numpy permutation, so two libraries can draw the
    same ones); returns the layers' losses, and the train and test errors."""
    transform = lambda x: torch.flatten((x - 0.1307) / 0.3081, 1)  # Normalize, then Lambda(torch.flatten)
    (xtr, ytr), (xte, yte) = data
    train_loader = prelude.loader(torch, (xtr, ytr), batch_size=len(ytr), shuffle=False)
    test_loader = prelude.loader(torch, (xte, yte), batch_size=len(yte), shuffle=False)
    x, y = next(iter(train_loader))
    x = transform(x)
    x_pos = overlay_y_on_x(x, y)
    rnd = torch.randperm(x.size(0)) if negative_order is None else torch.tensor(negative_order)
    x_neg = overlay_y_on_x(x, y[rnd])
    net.train(x_pos, x_neg)
    train_error = 1.0 - net.predict(x).eq(y).float().mean().item()
    x_te, y_te = next(iter(test_loader))
    test_error = 1.0 - net.predict(transform(x_te)).eq(y_te).float().mean().item()
    return [layer.losses for layer in net.layers], train_error, test_error
