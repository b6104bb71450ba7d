"""The PyTorch examples' mnist_rnn (an LSTM reading the image row by row, batch_first; its last output through
BatchNorm1d, Dropout2d, two Linears and log_softmax; F.nll_loss, Adadelta with StepLR; evaluation under
model.eval() and torch.no_grad() with accuracy by argmax and .eq().sum().item()), written against a module
`torch`. Shrunk: the 12x12 synthetic digits of prog_mnist, 32 hidden units."""
import prog_mnist
import prelude

make_data = prog_mnist.make_data  # the same stand-in for MNIST: rows of 12 pixels, 12 steps


def build(torch, rows=12, hidden=32, dropouts=(0.25, 0.5)):
    nn = torch.nn
    F = nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(input_size=rows, hidden_size=hidden, batch_first=True)
            self.batchnorm = nn.BatchNorm1d(hidden)
            # Dropout2d on the [batch, features] outputs: PyTorch warns and drops single elements, as Dropout.
            self.dropout1 = nn.Dropout2d(dropouts[0])
            self.dropout2 = nn.Dropout2d(dropouts[1])
            self.fc1 = nn.Linear(hidden, 16)
            self.fc2 = nn.Linear(16, 10)

        def forward(self, input):
            input = input.reshape(-1, rows, rows)  # [B, 1, H, W] to a batch of sequences of rows
            output, _ = self.rnn(input)
            output = output[:, -1, :]  # the last step's output
            output = self.batchnorm(output)
            output = self.dropout1(output)
            output = F.relu(self.fc1(output))
            output = self.dropout2(output)
            return F.log_softmax(self.fc2(output), dim=1)

    return Net()


def train(torch, model, data, epochs=2, lr=0.1, gamma=0.7, seed=1, shuffle=True, log_interval=4):
    """The per-batch losses, the lines the example logs, the test loss and the test accuracy."""
    F = torch.nn.functional
    torch.manual_seed(seed)
    _, device = prelude.accelerator(torch)
    (xtr, ytr), (xte, yte) = data
    train_loader = prelude.loader(torch, (xtr, ytr), batch_size=32, shuffle=shuffle)
    test_loader = prelude.loader(torch, (xte, yte), batch_size=64)
    model = model.to(device)
    optimizer = torch.optim.Adadelta(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=gamma)
    losses, log = [], []
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
            if batch_idx % log_interval == 0:
                log.append("Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}".format(
                    epoch, batch_idx * len(data_), len(train_loader.dataset),
                    100.0 * batch_idx / len(train_loader), loss.item()))
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
    return losses, log, test_loss, correct / len(test_loader.dataset)
