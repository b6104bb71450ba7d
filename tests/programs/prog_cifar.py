"""The PyTorch CIFAR-10 tutorial's CNN (conv-pool-conv-pool-three linears, CrossEntropyLoss, SGD with
momentum, a shuffled loader with workers, save and reload of the state_dict, test accuracy), written against
a module `torch`. Shrunk: 96 synthetic 32x32 colour images."""
import numpy as np

import prelude


def build(torch):
    nn = torch.nn
    F = nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = torch.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    return Net()


def make_data(rng, n_train=96, n_test=48):
    """Per class a colour and a horizontal or vertical gradient, plus noise, normalised to [-1, 1]."""
    colours = rng.random((10, 3, 1, 1))
    ramps = np.linspace(0, 1, 32)
    def split(n):
        labels = rng.integers(0, 10, n)
        ramp = np.where((labels % 2 == 0)[:, None, None], ramps[None, :, None], ramps[None, None, :])
        images = colours[labels] * ramp[:, None] + rng.normal(0, 0.2, (n, 3, 32, 32))
        return ((images - 0.5) / 0.5).astype(np.float32), labels
    return split(n_train), split(n_test)


def train(torch, net, data, path, epochs=2, seed=1):
    nn, optim = torch.nn, torch.optim
    torch.manual_seed(seed)
    (xtr, ytr), (xte, yte) = data
    trainloader = prelude.loader(torch, (xtr, ytr), batch_size=8, shuffle=True, num_workers=2)
    testloader = prelude.loader(torch, (xte, yte), batch_size=8, shuffle=False, num_workers=2)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    losses = []
    for epoch in range(epochs):
        running_loss = 0.0
        for i, data_ in enumerate(trainloader, 0):
            inputs, labels = data_
            optimizer.zero_grad()
            outputs = net(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        losses.append(running_loss / len(trainloader))
    torch.save(net.state_dict(), path)
    net.load_state_dict(torch.load(path, weights_only=True))
    correct, total, test_loss = 0, 0, 0.0
    with torch.no_grad():
        for images, labels in testloader:
            outputs = net(images)
            test_loss += criterion(outputs, labels).item() * labels.size(0)
            _, predicted = torch.max(outputs, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    return losses, test_loss / total, correct / total
