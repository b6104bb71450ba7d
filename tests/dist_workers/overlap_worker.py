"""One rank of test_distributed's overlap run: a 3-layer MLP under DDP with one bucket per layer. The order of
events (each bucket's all-reduce launch, the gradient of the first hidden layer, the end of backward) and the
gradients are saved to OUT/rank<r>.npz, beside those of the non-overlapped path (plain backward, then one
blocking all-reduce per gradient). BACKEND (default gloo, CPU tensors) may be nccl: cuda:LOCAL_RANK."""
import os
import sys

import numpy as np

import tensorlogic as tl
import tensorlogic.distributed as dist
from tensorlogic.nn.parallel import DistributedDataParallel, distributed as ddp_module

EVENTS = []


class Deep(tl.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = tl.nn.Linear(8, 32), tl.nn.Linear(32, 32), tl.nn.Linear(32, 4)

    def forward(self, x):
        h = self.fc1(x)
        if h.requires_grad:
            h.register_hook(lambda g: EVENTS.append("hidden"))  # fc1's backward is about to run
        return self.fc3(tl.tanh(self.fc2(tl.tanh(h))))


def logged_all_reduce(tensor, *args, **kwargs):
    EVENTS.append(f"launch {tensor.numel()}")
    return dist.all_reduce(tensor, *args, **kwargs)


def main(seed, out_dir, backend="gloo"):
    tl.set_default_device("cpu" if backend == "gloo" else f"cuda:{os.environ.get('LOCAL_RANK', '0')}")
    dist.init_process_group(backend)
    rank = dist.get_rank()
    tl.manual_seed(seed + rank)  # different on each rank: DDP's broadcast aligns the replicas
    model = DistributedDataParallel(Deep(), bucket_cap_mb=2 ** -20)  # a 1-byte cap: a bucket per parameter
    plain = Deep()
    plain.load_state_dict(model.module.state_dict())
    rng = np.random.default_rng(seed + 100 + rank)
    x, y = (tl.tensor(rng.standard_normal(s).astype(np.float16)) for s in ((6, 8), (6, 4)))
    ddp_module.all_reduce = logged_all_reduce
    tl.nn.functional.mse_loss(model(x), y).backward()
    EVENTS.append("backward returned")
    tl.nn.functional.mse_loss(plain(x), y).backward()
    saved = {"events": np.array(EVENTS)}
    for (name, p), q in zip(model.module.named_parameters(), plain.parameters()):
        dist.all_reduce(q.grad, dist.ReduceOp.AVG)
        saved[f"ddp/{name}"], saved[f"plain/{name}"] = p.grad.numpy().copy(), q.grad.numpy().copy()
    np.savez(f"{out_dir}/rank{rank}.npz", **saved)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(int(sys.argv[1]), *sys.argv[2:])
