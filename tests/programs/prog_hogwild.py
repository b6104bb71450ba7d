"""The PyTorch examples' mnist_hogwild (main.py and train.py): one Net (two convolutions with max-pooling, Dropout2d,
two linears, log_softmax) put in shared memory by model.share_memory(), then trained by several processes of
torch.multiprocessing at once (the spawn start method, set with force=True), each with its own DataLoader, seed and
SGD with momentum over the same parameters, all updating them without locks; the parent joins them and tests the
model it holds. Each process also reports its losses as a tensor through a Queue, and waits on an Event until
the parent has it. The library is passed to the processes by
name (a module cannot be pickled). Shrunk: 20x20 synthetic images of 4 classes, narrow layers."""
import importlib
import os
from types import SimpleNamespace

import numpy as np


def build(torch, dropout=0.5):
    return net_class(torch)(dropout)


def __getattr__(name):
    """The Net class of a library, made on first use (the processes unpickle the model's class by this name)."""
    if name.startswith("Net_"):
        return net_class(importlib.import_module(name[len("Net_"):]))
    raise AttributeError(name)


def net_class(torch):
    """main.py's Net over library `torch`, kept at module level as Net_<library> so that it pickles by name, as the
    example's module-level class does."""
    name = "Net_" + torch.__name__
    if name in globals():
        return globals()[name]
    nn = torch.nn
    F = nn.functional

    class Net(nn.Module):
        def __init__(self, dropout):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(1, 4, kernel_size=5)
            self.conv2 = nn.Conv2d(4, 8, kernel_size=5)
            self.conv2_drop = nn.Dropout2d(p=dropout)
            self.fc1 = nn.Linear(32, 16)
            self.fc2 = nn.Linear(16, 4)
            self.p = dropout

        def forward(self, x):
            x = F.relu(F.max_pool2d(self.conv1(x), 2))
            x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
            x = x.view(-1, 32)
            x = F.relu(self.fc1(x))
            x = F.dropout(x, p=self.p, training=self.training)
            x = self.fc2(x)
            return F.log_softmax(x, dim=1)

    Net.__name__ = Net.__qualname__ = name
    globals()[name] = Net
    return Net


def make_data(rng, n_train=192, n_test=64):
    """Four noisy templates of 20x20 pixels, one per class, as (images [n, 1, 20, 20], labels) numpy pairs; centred
    and of unit scale, as the example's Normalize((0.1307,), (0.3081,)) makes MNIST."""
    templates = np.where(rng.random((4, 20, 20)) > 0.5, 1.0, -1.0)

    def split(n):
        labels = rng.integers(0, 4, n)
        images = templates[labels] + rng.standard_normal((n, 20, 20))
        return images[:, None].astype(np.float16), labels.astype(np.int64)

    return split(n_train), split(n_test)


def args(**overrides):
    """main.py's argparse defaults, shrunk."""
    defaults = dict(batch_size=32, test_batch_size=64, epochs=5, lr=0.1, momentum=0.5, seed=1, log_interval=2,
                    num_processes=2, cuda=False, mps=False, save_model=False, dry_run=False)
    return SimpleNamespace(**{**defaults, **overrides})


def train(rank, lib, args, model, device, dataset, dataloader_kwargs, reports=None, received=None):
    """train.py's train, in process `rank`; `lib` names the library ('torch' or 'tensorlogic')."""
    torch = importlib.import_module(lib)
    torch.manual_seed(args.seed + rank)
    train_loader = torch.utils.data.DataLoader(dataset, **dataloader_kwargs)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    losses = []
    for epoch in range(1, args.epochs + 1):
        losses += train_epoch(torch, epoch, args, model, device, train_loader, optimizer)
    if reports is not None:
        reports.put((rank, os.getpid(), torch.tensor(losses)))
        received.wait()  # a tensor sent through a Queue is shared memory whose sender must be alive to hand it over
    return losses


def train_epoch(torch, epoch, args, model, device, data_loader, optimizer):
    F = torch.nn.functional
    model.train()
    pid = os.getpid()
    losses = []
    for batch_idx, (data, target) in enumerate(data_loader):
        optimizer.zero_grad()
        output = model(data.to(device))
        loss = F.nll_loss(output, target.to(device))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if batch_idx % args.log_interval == 0:
            line = "{}\tTrain Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}".format(
                pid, epoch, batch_idx * len(data), len(data_loader.dataset),
                100. * batch_idx / len(data_loader), loss.item())
            assert line.startswith(str(pid))
            if args.dry_run:
                break
    return losses


def test(torch, args, model, device, dataset, dataloader_kwargs):
    """train.py's test: the summed nll_loss over the test set, averaged, and the accuracy."""
    F = torch.nn.functional
    torch.manual_seed(args.seed)
    test_loader = torch.utils.data.DataLoader(dataset, **dataloader_kwargs)
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            output = model(data.to(device))
            test_loss += F.nll_loss(output, target.to(device), reduction="sum").item()
            pred = output.max(1)[1]
            correct += pred.eq(target.to(device)).sum().item()
    test_loss /= len(test_loader.dataset)
    return test_loss, correct / len(test_loader.dataset)


def main(torch, args, model, data, start_method="spawn", shuffle=True):
    """main.py after its argparse: the model shared, args.num_processes trainers started and joined, then tested.
    Returns the test loss and accuracy and each process's (rank, pid, losses) report."""
    mp = torch.multiprocessing
    use_cuda = args.cuda and torch.cuda.is_available()
    device = torch.device("cuda" if use_cuda else "cpu")
    (x_train, y_train), (x_test, y_test) = data
    dataset1 = torch.utils.data.TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train))
    dataset2 = torch.utils.data.TensorDataset(torch.from_numpy(x_test), torch.from_numpy(y_test))
    kwargs = {"batch_size": args.batch_size, "shuffle": shuffle}
    if use_cuda:
        kwargs.update({"num_workers": 1, "pin_memory": True})
    torch.manual_seed(args.seed)
    mp.set_start_method(start_method, force=True)
    model = model.to(device)
    model.share_memory()  # gradients are allocated lazily, so they are not shared here
    reports, received = mp.Queue(), mp.Event()
    processes = []
    for rank in range(args.num_processes):
        p = mp.Process(target=train, args=(rank, torch.__name__, args, model, device, dataset1, kwargs, reports,
                                           received))
        p.start()
        processes.append(p)
    reported = sorted((report for report in (reports.get(timeout=120) for _ in processes)), key=lambda r: r[0])
    received.set()
    for p in processes:
        p.join()
    assert all(p.exitcode == 0 for p in processes), [p.exitcode for p in processes]
    test_loss, accuracy = test(torch, args, model, device, dataset2,
                               {"batch_size": args.test_batch_size, "shuffle": False})
    return test_loss, accuracy, [(rank, pid, losses.tolist()) for rank, pid, losses in reported]
