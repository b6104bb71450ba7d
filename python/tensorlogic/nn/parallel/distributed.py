"""DistributedDataParallel: one replica of a module per rank, gradients averaged over ranks after backward.

The engine delivers the gradients of leaves (parameters) through their hooks once the graph traversal is
done, so a bucket's all-reduce starts in the hook of its last parameter: the buckets' communication overlaps
the delivery of later buckets, not the traversal itself. Buckets are reduced in float32 (each rank's
float16 gradient widened, summed, divided by the world size, rounded once)."""
import contextlib

import numpy as np

from ...distributed import ReduceOp, broadcast
from ...distributed.process_group import default_group
from ...distributed.collectives import all_reduce_array
from ...creation import zeros
from ...tensor import Tensor
from ..module import Module


class _Bucket:
    """Parameters whose gradients travel in one float32 all-reduce."""

    def __init__(self, indices):
        self.indices, self.ready, self.work = indices, 0, None


class DistributedDataParallel(Module):
    """Wraps `module` (its state_dict keys gain torch's "module." prefix). Each rank runs forward and backward on
    its own batch; after backward every parameter's .grad is the average over ranks. device_ids,
    output_device, dim, check_reduction, gradient_as_bucket_view and static_graph are accepted for torch's
    signature and change nothing here (one CPU device per process, buckets are copies)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=25, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        self.module = module
        self.process_group = default_group(process_group)
        self.broadcast_buffers, self.find_unused_parameters = broadcast_buffers, find_unused_parameters
        self.require_backward_grad_sync = True
        self._params = [p for p in module.parameters() if p.requires_grad]
        for t in list(module.parameters()) + list(module.buffers()):
            broadcast(t, 0, group=self.process_group)
        self._buckets, self._bucket_of = [], {}
        cap, current, size = bucket_cap_mb * 2 ** 20, [], 0
        for i in reversed(range(len(self._params))):  # reverse order: roughly the order gradients arrive
            current.append(i)
            size += self._params[i].numel() * 4
            if size >= cap:
                self._add_bucket(current)
                current, size = [], 0
        if current:
            self._add_bucket(current)
        self._grads = [None] * len(self._params)  # the .grad tensors this step's reduction writes into
        self._ready = 0
        for i, p in enumerate(self._params):
            p.register_hook(self._hook(i))

    def _add_bucket(self, indices):
        for i in indices:
            self._bucket_of[i] = len(self._buckets)
        self._buckets.append(_Bucket(indices))

    def forward(self, *inputs, **kwargs):
        """The wrapped module's output (buffers first broadcast from rank 0 when broadcast_buffers); the backward
        that follows averages the gradients over the ranks. RuntimeError when the previous iteration left parameters
        without a gradient (see find_unused_parameters)."""
        if 0 < self._ready < len(self._params):
            raise RuntimeError("DistributedDataParallel: the previous iteration did not finish its reduction: "
                               f"{len(self._params) - self._ready} parameter(s) got no gradient; pass "
                               "find_unused_parameters=True if some parameters do not take part in the loss")
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
                    self._mark_ready(i, p.grad)
        return output

    def _hook(self, i):
        def hook(g):
            if not self.require_backward_grad_sync:
                return None
            p = self._params[i]
            total = g if p.grad is None else p.grad + g  # gradients accumulated under no_sync() join this sum
            p.grad = None
            out = total.detach().clone()  # becomes .grad; the reduction overwrites it in place
            self._mark_ready(i, out)
            return out
        return hook

    def _mark_ready(self, i, grad):
        self._grads[i] = grad
        self._ready += 1
        bucket = self._buckets[self._bucket_of[i]]
        bucket.ready += 1
        if bucket.ready == len(bucket.indices):
            flat = np.concatenate([self._grads[j].detach().numpy().reshape(-1).astype(np.float32)
                                   for j in bucket.indices])
            bucket.work = all_reduce_array(flat, ReduceOp.AVG, self.process_group)
        if self._ready == len(self._params):
            self._finish()

    def _finish(self):
        for bucket in self._buckets:
            flat, offset = bucket.work.result(), 0
            for j in bucket.indices:
                view = self._grads[j].detach().numpy()
                view[...] = flat[offset:offset + view.size].reshape(view.shape)  # the one rounding to float16
                offset += view.size
            bucket.ready, bucket.work = 0, None
        self._grads = [None] * len(self._params)
        self._ready = 0

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
