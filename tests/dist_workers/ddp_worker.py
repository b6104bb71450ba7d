"""One rank of test_distributed's DDP run: an MLP trained on this rank's rows of a global batch, the
per-step parameters saved to OUT/rank<r>.npz for the test to compare with single-process training."""
import sys

import numpy as np

import tensorlogic as tl
import tensorlogic.distributed as dist
from tensorlogic.nn.parallel import DistributedDataParallel

STEPS, BATCH, LR = 4, 16, 0.1


class MLP(tl.nn.Module):
    def __init__(self, unused=False):
        super().__init__()
        self.fc1, self.fc2 = tl.nn.Linear(8, 16), tl.nn.Linear(16, 4)
        self.extra = tl.nn.Linear(4, 4) if unused else None  # takes no part in the loss

    def forward(self, x):
        return self.fc2(tl.tanh(self.fc1(x)))


def data(seed):
    rng = np.random.default_rng(seed)
    xs = rng.standard_normal((STEPS, BATCH, 8)).astype(np.float16)
    ys = rng.standard_normal((STEPS, BATCH, 4)).astype(np.float16)
    return xs, ys


def params(model):
    return {name.removeprefix("module."): p.detach().numpy().copy() for name, p in model.named_parameters()}


def train(model, xs, ys, step_fn):
    """STEPS of SGD on (xs[s], ys[s]); step 1 accumulates two half batches (the DDP run under no_sync)."""
    opt = tl.optim.SGD(model.parameters(), lr=LR)
    history = []
    for s in range(STEPS):
        opt.zero_grad()
        step_fn(s, xs[s], ys[s])
        opt.step()
        history.append(params(model))
    return history


def main(seed, out_dir):
    tl.set_default_device("cpu")
    dist.init_process_group("gloo")
    rank, size = dist.get_rank(), dist.get_world_size()
    tl.manual_seed(seed + rank)  # different on each rank: the broadcast from rank 0 must align them
    # a 64-byte bucket cap: two buckets (extra and fc2; fc1), each started from the hook of its last parameter
    model = DistributedDataParallel(MLP(unused=True), find_unused_parameters=True, bucket_cap_mb=2 ** -14)
    xs, ys = data(seed)
    rows = slice(rank * BATCH // size, (rank + 1) * BATCH // size)

    def step(s, x, y):
        x, y = tl.from_numpy(x[rows].copy()), tl.from_numpy(y[rows].copy())
        if s == 1:
            half = x.shape[0] // 2
            with model.no_sync():
                (tl.nn.functional.mse_loss(model(x[:half]), y[:half]) / 2).backward()
            (tl.nn.functional.mse_loss(model(x[half:]), y[half:]) / 2).backward()
        else:
            tl.nn.functional.mse_loss(model(x), y).backward()
    history = train(model, xs, ys, step)
    saved = {f"{s}/{name}": value for s, p in enumerate(history) for name, value in p.items()}
    saved["extra_grad"] = model.module.extra.weight.grad.numpy().copy()
    strict = DistributedDataParallel(MLP(unused=True))  # without find_unused_parameters: the 2nd forward fails
    tl.nn.functional.mse_loss(strict(tl.from_numpy(xs[0][rows].copy())), tl.from_numpy(ys[0][rows].copy())).backward()
    try:
        strict(tl.from_numpy(xs[0][rows].copy()))
    except RuntimeError as e:
        saved["strict_error"] = np.array(str(e))
    np.savez(f"{out_dir}/rank{rank}.npz", **saved)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
