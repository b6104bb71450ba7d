"""DistributedDataParallel: one replica of a module per rank, gradients averaged over ranks during backward.

Parameters are grouped in buckets in reverse order (roughly the order backward completes their gradients);
each parameter's post-accumulate-grad hook marks it ready, and the hook that completes a bucket starts that
bucket's non-blocking all-reduce at once, while the engine goes on with the earlier layers. The hook of the
last parameter waits for every bucket and writes the averages back into .grad. A bucket is one flat
tensor of the parameters' dtype on their device, reduced with ReduceOp.AVG by the process group's engine
(float16 on MPI: summed in float32 and rounded once, see tl.distributed.collectives; on NCCL: NCCL's
float16 all-reduce, see tl.distributed.nccl_collectives)."""
import contextlib

from ...autograd.grad_mode import no_grad
from ...distributed import ReduceOp, all_reduce, broadcast
from ...distributed.process_group import default_group
from ...creation import zeros
from ...ops.shape import cat
from ...tensor import Tensor
from ..module import Module

_FIRST_BUCKET_BYTES = 2 ** 20  # torch.distributed._DEFAULT_FIRST_BUCKET_BYTES: with the default cap, the first
#                                bucket is small so that communication starts early


class _Bucket:
    """Parameters (indices into DDP's list) whose gradients travel in one all-reduce."""

    def __init__(self, indices):
        self.indices, self.pending, self.flat, self.work = indices, len(indices), None, None


def _bucket_indices(params, cap_bytes, first_cap_bytes):
    """PyTorch's assignment: parameters in reverse order, a bucket closed once it holds cap bytes
    (first_cap_bytes for the first); buckets never mix dtypes or devices."""
    buckets, open_ = [], {}
    for i in reversed(range(len(params))):
        p = params[i]
        key = (p.dtype, str(p.device))
        indices, size = open_.get(key, ([], 0))
        indices.append(i)
        size += p.numel() * p.element_size()
        if size >= (cap_bytes if buckets else first_cap_bytes):
            buckets.append(indices)
            open_.pop(key, None)
        else:
            open_[key] = (indices, size)
    buckets.extend(indices for indices, _ in open_.values())
    return buckets


class DistributedDataParallel(Module):
    """Wraps `module` (its state_dict keys gain torch's "module." prefix). Each rank runs forward and backward on
    its own batch; after backward every parameter's .grad is the average over ranks. bucket_cap_mb (default
    25; then the first bucket is 1 MiB) bounds a bucket's size in the parameters' bytes, as in PyTorch.
    device_ids, output_device, dim, check_reduction, gradient_as_bucket_view and static_graph are accepted
    for torch's signature and change nothing here (one device per process; buckets are copies)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        self.module = module
        self.process_group = default_group(process_group)
        self.broadcast_buffers, self.find_unused_parameters = broadcast_buffers, find_unused_parameters
        self.require_backward_grad_sync = True
        self._params = [p for p in module.parameters() if p.requires_grad]
        for t in list(module.parameters()) + list(module.buffers()):
            broadcast(t, 0, group=self.process_group)
        cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 2 ** 20)
        first_cap = _FIRST_BUCKET_BYTES if bucket_cap_mb is None else cap
        self._buckets = [_Bucket(indices) for indices in _bucket_indices(self._params, cap, first_cap)]
        self._bucket_of = {i: b for b in self._buckets for i in b.indices}
        self._ready = [False] * len(self._params)
        self._unready, self._next = len(self._params), 0  # _next: the first bucket not yet started
        for i, p in enumerate(self._params):
            p.register_post_accumulate_grad_hook(self._hook(i))

    def forward(self, *inputs, **kwargs):
        """The wrapped module's output (buffers first broadcast from rank 0 when broadcast_buffers); the backward
        that follows averages the gradients over the ranks. RuntimeError when the previous iteration left parameters
        without a gradient (see find_unused_parameters)."""
        if self._unready < len(self._params):
            raise RuntimeError("DistributedDataParallel: the previous iteration did not finish its reduction: "
                               f"{self._unready} parameter(s) got no gradient; pass find_unused_parameters=True "
                               "if some parameters do not take part in the loss")
        if self.broadcast_buffers:
            for b in self.module.buffers():
                broadcast(b, 0, group=self.process_group)
        output = self.module(*inputs, **kwargs)
        if self.find_unused_parameters and self.require_backward_grad_sync and self.training:
            reached = _reached_leaves(output)
            for i, p in enumerate(self._params):
                if id(p) not in reached:  # gets no gradient this step: reduce its current .grad (or zeros)
                    if p.grad is None:
                        p.grad = zeros(p.shape, dtype=p.dtype, device=p.device)
                    self._mark_ready(i)
        return output

    def _hook(self, i):
        def hook(p):
            if self.require_backward_grad_sync:  # under no_sync() .grad just accumulates
                self._mark_ready(i)
        return hook

    def _mark_ready(self, i):
        if self._ready[i]:
            raise RuntimeError(f"DistributedDataParallel: parameter {i} got a gradient twice in one iteration "
                               "(reentrant backward or a parameter used by two backward calls); not supported")
        self._ready[i] = True
        self._unready -= 1
        for bucket in self._buckets:  # polling lets the engine (MPI without a progress thread) move earlier buckets
            if bucket.work is not None:
                bucket.work.is_completed()
        self._bucket_of[i].pending -= 1
        # Buckets start in index order, as PyTorch's reducer does, so every rank issues the same sequence of
        # collectives even where the engine completes a layer's gradients in another order.
        while self._next < len(self._buckets) and self._buckets[self._next].pending == 0:
            bucket = self._buckets[self._next]
            with no_grad():
                bucket.flat = cat([self._params[j].grad.reshape(-1) for j in bucket.indices])
            bucket.work = all_reduce(bucket.flat, ReduceOp.AVG, group=self.process_group, async_op=True)
            self._next += 1
        if self._unready == 0:
            self._finish()

    def _finish(self):
        """Waits for every bucket (at the end of backward) and copies the averages into .grad."""
        with no_grad():
            for bucket in self._buckets:
                bucket.work.wait()
                offset = 0
                for j in bucket.indices:
                    grad = self._params[j].grad
                    grad.copy_(bucket.flat[offset:offset + grad.numel()].view(grad.shape))
                    offset += grad.numel()
                bucket.pending, bucket.flat, bucket.work = len(bucket.indices), None, None
        self._ready = [False] * len(self._params)
        self._unready, self._next = len(self._params), 0

    @contextlib.contextmanager
    def no_sync(self):
        """Gradients accumulate locally inside; the first backward after it reduces the accumulated sum."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous


def _reached_leaves(output):
    """ids of the leaf tensors the autograd graph of `output` (tensors in nested lists/tuples/dicts) reaches."""
    stack, seen, leaves = [], set(), set()
    pending = [output]
    while pending:
        x = pending.pop()
        if isinstance(x, Tensor):
            if x.grad_fn is not None:
                stack.append(x.grad_fn)
            elif x.requires_grad:
                leaves.add(id(x))
        elif isinstance(x, (list, tuple)):
            pending.extend(x)
        elif isinstance(x, dict):
            pending.extend(x.values())
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for edge in node.next:
            if isinstance(edge, Tensor):
                leaves.add(id(edge))
            elif edge is not None:
                stack.append(edge)
    return leaves
