"""mlp_classifier.py's MLP trained data-parallel: each rank takes its DistributedSampler share of every epoch
and DistributedDataParallel averages the gradients, so N ranks take the steps one process would take with
an N times larger batch.

Run: python -m tensorlogic.distributed.run --nproc-per-node 2 examples/ddp_mlp_classifier.py
     torchrun --nproc-per-node 2 examples/ddp_mlp_classifier.py --torch   (the same script on PyTorch)"""
import argparse

import numpy as np

from mlp_classifier import make_data


def main(epochs=8, batch=32, seed=0, use_torch=False):
    if use_torch:
        import torch as tl
        import torch.distributed as dist
        import torch.nn.functional as F
        from torch.nn.parallel import DistributedDataParallel
    else:
        import tensorlogic as tl
        import tensorlogic.distributed as dist
        import tensorlogic.nn.functional as F
        from tensorlogic.nn.parallel import DistributedDataParallel
    dist.init_process_group("gloo")  # the CPU backend's name in both libraries
    rank = dist.get_rank()
    rng = np.random.default_rng(seed)  # the same data on every rank; the sampler splits it
    x_train, y_train = make_data(6000, rng)
    x_test, y_test = make_data(2000, rng)
    if use_torch:
        x_train, y_train = x_train.astype(np.float32), y_train.astype(np.int64)
    dataset = tl.utils.data.TensorDataset(tl.tensor(x_train), tl.tensor(y_train))
    sampler = tl.utils.data.DistributedSampler(dataset, seed=seed)
    loader = tl.utils.data.DataLoader(dataset, batch_size=batch, sampler=sampler)
    tl.manual_seed(seed + rank)  # DDP makes rank 0's initialisation everyone's
    model = DistributedDataParallel(tl.nn.Sequential(tl.nn.Linear(8, 64), tl.nn.ReLU(), tl.nn.Linear(64, 64),
                                                     tl.nn.ReLU(), tl.nn.Linear(64, 4)))
    optimizer = tl.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = tl.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
        if rank == 0:
            print(f"epoch {epoch + 1}/{epochs}: loss {loss.item():.3f}", flush=True)
    model.eval()
    with tl.no_grad():
        x_eval = x_test.astype(np.float32) if use_torch else x_test
        predictions = model(tl.tensor(x_eval)).argmax(dim=1).numpy()
    accuracy = float((predictions == y_test).mean())
    if rank == 0:
        print(f"test accuracy: {accuracy:.4f}")
    dist.destroy_process_group()
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--torch", action="store_true", help="run the same script with PyTorch float32")
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()
    main(epochs=args.epochs, use_torch=args.torch)
