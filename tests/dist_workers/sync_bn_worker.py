"""One rank of test_sync_batchnorm's run: a SyncBatchNorm in training mode on this rank's rows of a global batch
(the ranks hold different numbers of rows), its output, gradients and running statistics over two steps saved to
OUT/rank<r>.npz for the test to compare with PyTorch's BatchNorm on the whole batch."""
import sys

import numpy as np

import tensorlogic as tl
import tensorlogic.distributed as dist

STEPS = 2


def data(seed, shape):
    """The global batches, output gradients, weight and bias (f16 values), the same on every rank."""
    rng = np.random.default_rng(seed)
    xs = (rng.standard_normal((STEPS,) + shape) * 2 + 0.5).astype(np.float16)
    gs = rng.standard_normal((STEPS,) + shape).astype(np.float16)
    weight, bias = (rng.standard_normal(shape[1]).astype(np.float16) for _ in range(2))
    return xs, gs, weight, bias


def rows(rank, size, n):
    """This rank's rows: rank 0 holds one more than an even share, the last one fewer (counts differ)."""
    bounds = [0] + [min(n, (r + 1) * n // size + 1) for r in range(size - 1)] + [n]
    return slice(bounds[rank], bounds[rank + 1])


def main(seed, out_dir, *shape):
    tl.set_default_device("cpu")
    dist.init_process_group("gloo")
    rank, size = dist.get_rank(), dist.get_world_size()
    shape = tuple(int(s) for s in shape)
    xs, gs, weight, bias = data(seed, shape)
    bn = tl.nn.SyncBatchNorm.convert_sync_batchnorm(tl.nn.Sequential(tl.nn.BatchNorm1d(shape[1])))[0]
    bn.weight.data.copy_(tl.tensor(weight))
    bn.bias.data.copy_(tl.tensor(bias))
    mine, saved = rows(rank, size, shape[0]), {}
    for s in range(STEPS):
        x = tl.tensor(xs[s][mine], requires_grad=True)
        bn.zero_grad()
        y = bn(x)
        y.backward(tl.tensor(gs[s][mine]))
        saved |= {f"{s}/y": y.detach().numpy().copy(), f"{s}/x_grad": x.grad.numpy().copy(),
                  f"{s}/weight_grad": bn.weight.grad.numpy().copy(), f"{s}/bias_grad": bn.bias.grad.numpy().copy(),
                  f"{s}/running_mean": bn.running_mean.numpy().copy(),
                  f"{s}/running_var": bn.running_var.numpy().copy()}
    np.savez(f"{out_dir}/rank{rank}.npz", **saved)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], *sys.argv[3:])
