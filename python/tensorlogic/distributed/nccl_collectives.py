"""The collectives of a process group on the nccl backend: CUDA tensors of the group's device, their
device pointers handed to NCCL on the device's stream (TensorLogic runs every op of a device on one
stream), so a collective starts after the kernels that wrote its input and the kernels queued after it
read its result, with no copy and no host wait. async_op's Work records an event: wait() has nothing to
do for later work on the device (the stream orders it), as torch's wait() on an NCCL Work only orders
the current stream; is_completed() asks the event. wait(timeout) and barrier() make the host wait, with a
deadline (the group's timeout for barrier): a peer that died or a deadline passed aborts the communicator
(NCCL's kernels waiting for the peer return) and raises DistBackendError instead of hanging.

NCCL's float16 all-reduce adds in float32 but the partial sums that travel between GPUs are float16, so
with more than two ranks a sum would be rounded more than once (with two it is rounded once). float16 SUM
and AVG over more than two ranks therefore take exact_f16_all_reduce: the same bytes on the wire as a ring
all-reduce, one rounding."""
import time

from .. import _core
from ..autograd.grad_mode import no_grad
from ..creation import empty, zeros
from ..device import device
from ..errors import DeviceError
from ..ops.shape import cat
from ..tensor import Tensor
from .errors import DistBackendError


class Work:
    """The handle of an NCCL collective started with async_op=True."""

    def __init__(self, group):
        self._group = group
        self._event = _core.Event(group.device, False)
        self._event.record()

    def is_completed(self):
        error = self._group.nccl.async_error()
        if error is not None:
            raise DistBackendError(f"NCCL failed on rank {self._group.rank()}: {error}")
        return self._event.query()

    def wait(self, timeout=None):
        """Later work on the device is queued behind the collective on the same stream, so without a timeout
        there is nothing to wait for; with one (a timedelta) the host waits for the collective (torch's
        blocking wait)."""
        if timeout is not None:
            block(self._group, self._event, timeout, "wait")
        return True

    def result(self):
        return None


def block(group, event, timeout, what):
    """Waits until `event` has passed on the device; a peer that died (NCCL's asynchronous error) or the
    deadline passing aborts the communicator and raises DistBackendError."""
    limit = timeout.total_seconds()
    deadline, pause = time.monotonic() + limit, 0.0
    while not event.query():
        error = group.nccl.async_error()
        if error is not None or time.monotonic() > deadline:
            reason = f"NCCL reported: {error}" if error else f"timed out after {limit:g} s"
            group.nccl.abort(reason)
            raise DistBackendError(f"{what} on rank {group.rank()} of {group.size()}: {reason}; a peer died or "
                                   "stopped calling collectives (the communicator is aborted)")
        time.sleep(pause)  # spin first (latency), then back off to 1 ms
        pause = min(1e-3, pause + 1e-5)


def _ptr(group, tensor, what):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{what}: expected a Tensor, got {type(tensor).__name__}")
    if tensor.device != device(group.device):
        raise DeviceError(f"{what}: the nccl backend of this rank takes tensors on {group.device}, got one on "
                          f"{tensor.device}")
    if not tensor.is_contiguous():
        raise ValueError(f"{what}: Tensors must be contiguous")
    return tensor.data_ptr()


def _stream(group):
    return _core.stream_handle(group.device)  # also makes the group's device current for NCCL's call


def _dtype(tensor, op, what):
    """The tensor's dtype name for NCCL, checked against `op` (ReduceOp's value: "sum", "avg", ...)."""
    name = tensor.dtype.name
    if name not in ("float16", "int32", "int64"):
        raise TypeError(f"{what}: the nccl backend reduces float16, int32 and int64 tensors, got {name}")
    if op == "avg" and name != "float16":
        raise ValueError(f"{what}: ReduceOp.AVG needs a floating tensor, got {name}")
    return name


def _done(group, async_op):
    return Work(group) if async_op else None


def all_reduce(group, tensor, op, async_op):
    p = _ptr(group, tensor, "all_reduce")
    dtype = _dtype(tensor, op, "all_reduce")
    if tensor.numel() and dtype == "float16" and op in ("sum", "avg") and group.size() > 2:
        exact_f16_all_reduce(group, tensor, op)
    elif tensor.numel():
        group.nccl.all_reduce(p, p, tensor.numel(), dtype, op, _stream(group))
    return _done(group, async_op)


def exact_f16_all_reduce(group, tensor, op):
    """float16 SUM or AVG (op "sum"/"avg") of a contiguous tensor, rounded once, with float16 on the wire: an
    all-to-all gives each rank the n copies of its n-th of the tensor, one TensorLogic reduction adds them
    in float32 and rounds once, and an all-gather brings the n reduced parts to every rank. Each rank sends
    2(n-1)/n of the tensor's bytes, as in a ring all-reduce."""
    n, numel = group.size(), tensor.numel()
    chunk = -(-numel // n)
    flat = tensor.reshape(-1)
    if chunk * n != numel:
        flat = cat([flat, zeros(chunk * n - numel, device=group.device)])
    parts, gathered = empty(n, chunk, device=group.device), empty(n * chunk, device=group.device)
    stream, nbytes = _stream(group), chunk * 2
    group.nccl.group_start()
    try:
        for peer in range(n):
            group.nccl.send(flat.data_ptr() + peer * nbytes, nbytes, peer, stream)
            group.nccl.recv(parts.data_ptr() + peer * nbytes, nbytes, peer, stream)
    finally:
        group.nccl.group_end()
    mine = parts.sum(0) if op == "sum" else parts.mean(0)
    group.nccl.all_gather(mine.data_ptr(), gathered.data_ptr(), nbytes, stream)
    with no_grad():  # a collective writes the tensor's data, as NCCL's own all-reduce does, outside autograd
        tensor.copy_(gathered[:numel].view(tensor.shape))


def broadcast(group, tensor, src, async_op):
    p = _ptr(group, tensor, "broadcast")
    if tensor.numel():
        group.nccl.broadcast(p, p, tensor.numel() * tensor.element_size(), src, _stream(group))
    return _done(group, async_op)


def all_gather_into_tensor(group, output, input, async_op):
    out, inp = _ptr(group, output, "all_gather_into_tensor"), _ptr(group, input, "all_gather_into_tensor")
    if output.dtype != input.dtype or output.numel() != input.numel() * group.size():
        raise ValueError(f"all_gather_into_tensor: output {tuple(output.shape)} {output.dtype} must hold "
                         f"{group.size()} inputs of shape {tuple(input.shape)} {input.dtype}")
    if input.numel():
        group.nccl.all_gather(inp, out, input.numel() * input.element_size(), _stream(group))
    return _done(group, async_op)


def _check_list(group, tensors, like, what, name):
    """Checks that `tensors` (the argument `what` of collective `name`) holds one tensor per rank, each of
    `like`'s shape and dtype on the group's device."""
    _ptr(group, like, name)
    if len(tensors) != group.size() or any(t.shape != like.shape or t.dtype != like.dtype for t in tensors):
        raise ValueError(f"{name}: {what} must hold {group.size()} tensors of shape {tuple(like.shape)} {like.dtype}")
    for t in tensors:
        _ptr(group, t, name)


def all_gather(group, tensor_list, tensor, async_op):
    _check_list(group, tensor_list, tensor, "tensor_list", "all_gather")
    gathered = empty((group.size(),) + tuple(tensor.shape), dtype=tensor.dtype, device=group.device)
    all_gather_into_tensor(group, gathered, tensor, False)
    with no_grad():
        for t, g in zip(tensor_list, gathered.unbind(0)):
            t.copy_(g)  # queued behind the gather on the same stream
    return _done(group, async_op)


def reduce_scatter_tensor(group, output, input, op, async_op):
    out, inp = _ptr(group, output, "reduce_scatter_tensor"), _ptr(group, input, "reduce_scatter_tensor")
    if output.dtype != input.dtype or input.numel() != output.numel() * group.size():
        raise ValueError(f"reduce_scatter_tensor: input {tuple(input.shape)} must hold {group.size()} blocks of "
                         f"the output's shape {tuple(output.shape)} (same dtype)")
    dtype = _dtype(output, op, "reduce_scatter_tensor")
    if output.numel():
        group.nccl.reduce_scatter(inp, out, output.numel(), dtype, op, _stream(group))
    return _done(group, async_op)


def reduce_scatter(group, output, input_list, op, async_op):
    _check_list(group, input_list, output, "input_list", "reduce_scatter")
    return reduce_scatter_tensor(group, output, cat([t.reshape(-1) for t in input_list]), op, async_op)


def isend(group, tensor, dst):
    p = _ptr(group, tensor, "send")
    group.nccl.send(p, tensor.numel() * tensor.element_size(), dst, _stream(group))
    return Work(group)


def irecv(group, tensor, src):
    if src is None:
        raise ValueError("recv: the nccl backend needs src (NCCL has no receive from any rank)")
    p = _ptr(group, tensor, "recv")
    group.nccl.recv(p, tensor.numel() * tensor.element_size(), src, _stream(group))
    return Work(group)


def barrier(group, async_op):
    """An all-reduce of one element, then (unless async_op) the host waits for it, as torch's nccl barrier,
    within the group's timeout."""
    flag = empty(1, dtype="int32", device=group.device)
    all_reduce(group, flag.fill_(0), "sum", False)
    work = Work(group)
    if async_op:
        return work
    block(group, work._event, group.timeout, "barrier")
    return None
