"""The PyTorch examples' MNIST CNN (conv, conv, max-pool, dropout, two linears, log_softmax; Adadelta with
StepLR), written against a module `torch`. Shrunk: 12x12 synthetic digits, narrower layers."""
import numpy as np

import prelude


def build(torch):
    nn = torch.nn
    F = nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 8, 3, 1)
            self.conv2 = nn.Conv2d(8, 16, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(256, 32)
            self.fc2 = nn.Linear(32, 10)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.relu(self.conv2(x))
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = torch.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = self.dropout2(x)
            x = self.fc2(x)
            return F.log_softmax(x, dim=1)

    return Net()


def make_data(rng, n_train=512, n_test=128):
    """Ten noisy templates of 12x12 pixels, one per class; a quarter of the labels are random, so the best
    test loss stays well above 0 and training reaches a plateau (comparable across libraries)."""
    templates = rng.random((10, 12, 12)) > 0.6
    def split(n):
        labels = rng.integers(0, 10, n)
        images = templates[labels] * 1.0 + rng.normal(0, 0.3, (n, 12, 12))
        labels = np.where(rng.random(n) < 0.25, rng.integers(0, 10, n), labels)
        return ((images - 0.5) / 0.5).astype(np.float32)[:, None], labels
    return split(n_train), split(n_test)


def train(torch, model, data, epochs=4, seed=1):
    F = torch.nn.functional
    torch.manual_seed(seed)
    use_accel, device = prelude.accelerator(torch)
    train_kwargs, test_kwargs = {"batch_size": 32}, {"batch_size": 64}
    if use_accel:
        accel_kwargs = {"num_workers": 1, "persistent_workers": True, "pin_memory": True, "shuffle": True}
        train_kwargs.update(accel_kwargs)
        test_kwargs.update(accel_kwargs)
    (xtr, ytr), (xte, yte) = data
    train_loader = prelude.loader(torch, (xtr, ytr), **train_kwargs)
    test_loader = prelude.loader(torch, (xte, yte), **test_kwargs)
    model = model.to(device)
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    losses = []
    for epoch in range(1, epochs + 1):
        model.train()
        for batch_idx, (data_, target) in enumerate(train_loader):
            data_, target = data_.to(device), target.to(device)
            optimizer.zero_grad()
            output = model(data_)
            loss = F.nll_loss(output, target)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        test_loss, correct = 0, 0
        with torch.no_grad():
            for data_, target in test_loader:
                data_, target = data_.to(device), target.to(device)
                output = model(data_)
                test_loss += F.nll_loss(output, target, reduction="sum").item()
                pred = output.argmax(dim=1, keepdim=True)
                correct += pred.eq(target.view_as(pred)).sum().item()
        test_loss /= len(test_loader.dataset)
        scheduler.step()
    return losses, test_loss, correct / len(test_loader.dataset)
