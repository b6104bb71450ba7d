"""Collectives with torch.distributed's names and semantics: on CPU tensors over MPI (here), on CUDA tensors
over NCCL for a group of the nccl backend (nccl_collectives; each function below hands those on).

Every call is MPI's nonblocking form, waited on with the group's deadline, so a peer that died raises
DistBackendError instead of hanging. Reductions of float16 run in float32: each rank widens its tensor, MPI
sums the float32 buffers (MPI has no float16 sum) and the result is rounded to float16 once, so gradients
far below one rank's rounding step survive the sum. Data moved without arithmetic (broadcast, gathers,
send/recv) travels as its own bytes."""
import enum
import time

import numpy as np

from ..errors import DeviceError
from ..tensor import Tensor
from . import nccl_collectives
from .process_group import MPI, DistBackendError, default_group


class ReduceOp(enum.Enum):
    """The reductions of all_reduce and reduce_scatter: SUM, AVG (the sum divided by the world size; floating
    tensors only), PRODUCT, MIN, MAX, as torch.distributed.ReduceOp."""
    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


def _mpi_op(op):
    if op is ReduceOp.AVG:
        return MPI.SUM  # divided by the world size after the sum
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX}[op]


class Work:
    """The handle of a collective started with async_op=True; wait() finishes it (copies results back)."""

    def __init__(self, group, requests, finish=None):
        self._group, self._requests, self._finish, self._done = group, requests, finish, False
        self._statuses = [MPI.Status() for _ in requests]
        self._result = None

    def is_completed(self):
        """True when the operation has finished (it does not wait)."""
        return self._done or MPI.Request.Testall(self._requests, self._statuses)

    def wait(self, timeout=None):
        """Waits for the operation (up to `timeout`, default the group's timeout; DistBackendError when a peer died
        or stopped) and copies its results into place; returns True."""
        if self._done:
            return True
        limit = (timeout or self._group.timeout).total_seconds()
        deadline, pause = time.monotonic() + limit, 0.0
        try:
            while not MPI.Request.Testall(self._requests, self._statuses):
                if time.monotonic() > deadline:
                    raise DistBackendError(f"collective timed out after {limit:g} s on rank {self._group.rank()} of "
                                           f"{self._group.size()}: a peer died or stopped calling it")
                time.sleep(pause)  # spin first (latency), then back off to 1 ms (CPU shared with the peers)
                pause = min(1e-3, pause + 1e-5)
        except MPI.Exception as e:
            raise DistBackendError(f"MPI failed on rank {self._group.rank()}: {e}") from None
        self._done = True
        if self._finish is not None:
            self._result = self._finish()
        return True

    def result(self):
        """Waits, then returns the operation's result (irecv: the sender's rank; None for most collectives)."""
        self.wait()
        return self._result


def _view(tensor, what):
    """The host array a collective reads and writes in place."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{what}: expected a Tensor, got {type(tensor).__name__}")
    if tensor.device.type != "cpu":
        raise DeviceError(f"{what}: the mpi backend takes CPU tensors, got one on {tensor.device}")
    if not tensor.is_contiguous():
        raise ValueError(f"{what}: Tensors must be contiguous")
    return tensor.detach().numpy()


def _bytes(array):
    return array.reshape(-1).view(np.uint8)


def _wide(array):
    """float16 widened to float32 for the reduction; other dtypes reduce as they are."""
    return array.astype(np.float32) if array.dtype == np.float16 else array.copy()


def _started(group, requests, finish, async_op):
    work = Work(group, requests, finish)
    if async_op:
        return work
    work.wait()
    return None


def all_reduce_array(array, op=ReduceOp.SUM, group=None, into=None):
    """Starts an all-reduce of a host array; when it completes the result (AVG divided by the world size)
    is written into `into` (rounded to its dtype) or, without it, given by Work.result()."""
    pg = default_group(group)
    if op is ReduceOp.AVG and array.dtype.kind != "f":
        raise ValueError(f"all_reduce: ReduceOp.AVG needs a floating tensor, got {array.dtype}")
    out, size = np.empty_like(array), pg.size()

    def finish():
        if op is ReduceOp.AVG:
            np.divide(out, size, out=out)
        if into is None:
            return out
        into[...] = out  # float32 -> float16: the one rounding
        return None
    return Work(pg, [pg.comm.Iallreduce(array, out, _mpi_op(op))], finish)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduces `tensor` (a contiguous tensor: CPU with mpi/gloo, CUDA with nccl) over all ranks with `op` and
    leaves the result in it on every rank. float16 is reduced in float32 and rounded once. With async_op=True it returns a Work to wait() on, else
    None once done."""
    pg = default_group(group)
    if pg.nccl is not None:
        return nccl_collectives.all_reduce(pg, tensor, op.value, async_op)
    view = _view(tensor, "all_reduce")
    work = all_reduce_array(_wide(view), op, pg, into=view)
    return work if async_op else work.wait() and None


def broadcast(tensor, src, group=None, async_op=False):
    """Copies `tensor` of rank `src` into `tensor` on every other rank (its bytes, no arithmetic). With
    async_op=True it returns a Work to wait() on, else None once done."""
    pg = default_group(group)
    if pg.nccl is not None:
        return nccl_collectives.broadcast(pg, tensor, src, async_op)
    view = _view(tensor, "broadcast")
    return _started(pg, [pg.comm.Ibcast(_bytes(view), root=src)], None, async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """output_tensor holds world_size inputs, concatenated along dim 0 (or stacked)."""
    pg = default_group(group)
    if pg.nccl is not None:
        return nccl_collectives.all_gather_into_tensor(pg, output_tensor, input_tensor, async_op)
    out, inp = _view(output_tensor, "all_gather_into_tensor"), _view(input_tensor, "all_gather_into_tensor")
    if out.dtype != inp.dtype or out.size != inp.size * pg.size():
        raise ValueError(f"all_gather_into_tensor: output {out.shape} {out.dtype} must hold {pg.size()} inputs "
                         f"of shape {inp.shape} {inp.dtype}")
    return _started(pg, [pg.comm.Iallgather(_bytes(inp), _bytes(out))], None, async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fills tensor_list (world_size tensors of tensor's shape and dtype) with every rank's `tensor`, in rank order.
    With async_op=True it returns a Work to wait() on, else None once done."""
    pg = default_group(group)
    if pg.nccl is not None:
        return nccl_collectives.all_gather(pg, tensor_list, tensor, async_op)
    inp = _view(tensor, "all_gather")
    outs = [_view(t, "all_gather") for t in tensor_list]
    if len(outs) != pg.size() or any(o.shape != inp.shape or o.dtype != inp.dtype for o in outs):
        raise ValueError(f"all_gather: tensor_list must hold {pg.size()} tensors of shape {inp.shape} {inp.dtype}")
    gathered = np.empty((pg.size(),) + inp.shape, inp.dtype)

    def finish():
        for o, g in zip(outs, gathered):
            o[...] = g
    return _started(pg, [pg.comm.Iallgather(_bytes(inp), _bytes(gathered))], finish, async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduces `input` (world_size blocks along dim 0) over ranks; rank r keeps block r in `output`."""
    pg = default_group(group)
    if pg.nccl is not None:
        return nccl_collectives.reduce_scatter_tensor(pg, output, input, op.value, async_op)
    out, inp = _view(output, "reduce_scatter_tensor"), _view(input, "reduce_scatter_tensor")
    if out.dtype != inp.dtype or inp.size != out.size * pg.size():
        raise ValueError(f"reduce_scatter_tensor: input {inp.shape} must hold {pg.size()} blocks of the output's "
                         f"shape {out.shape} (same dtype)")
    return _reduce_scatter(pg, out, _wide(inp).reshape(-1), op, async_op)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduces input_list (world_size tensors of output's shape) over ranks with `op`; rank r receives the reduction
    of everyone's input_list[r] in `output`. With async_op=True it returns a Work to wait() on, else None once done."""
    pg = default_group(group)
    if pg.nccl is not None:
        return nccl_collectives.reduce_scatter(pg, output, input_list, op.value, async_op)
    out = _view(output, "reduce_scatter")
    ins = [_view(t, "reduce_scatter") for t in input_list]
    if len(ins) != pg.size() or any(i.shape != out.shape or i.dtype != out.dtype for i in ins):
        raise ValueError(f"reduce_scatter: input_list must hold {pg.size()} tensors of shape {out.shape} {out.dtype}")
    return _reduce_scatter(pg, out, np.concatenate([_wide(i).reshape(-1) for i in ins]), op, async_op)


def _reduce_scatter(pg, out, wide, op, async_op):
    if op is ReduceOp.AVG and wide.dtype.kind != "f":
        raise ValueError(f"reduce_scatter: ReduceOp.AVG needs a floating tensor, got {out.dtype}")
    block = np.empty(out.size, wide.dtype)

    def finish():
        out.reshape(-1)[...] = block / pg.size() if op is ReduceOp.AVG else block
    return _started(pg, [pg.comm.Ireduce_scatter_block(wide, block, _mpi_op(op))], finish, async_op)


def isend(tensor, dst, group=None, tag=0):
    """Starts sending `tensor` to rank `dst` (with `tag`); returns a Work."""
    pg = default_group(group)
    if pg.nccl is not None:
        return nccl_collectives.isend(pg, tensor, dst)
    return Work(pg, [pg.comm.Isend(_bytes(_view(tensor, "send")), dest=dst, tag=tag)])


def irecv(tensor, src=None, group=None, tag=0):
    """Receives into `tensor`; src=None takes any sender. Work.result() is the sender's rank."""
    pg = default_group(group)
    if pg.nccl is not None:
        return nccl_collectives.irecv(pg, tensor, src)
    source = MPI.ANY_SOURCE if src is None else src
    work = Work(pg, [pg.comm.Irecv(_bytes(_view(tensor, "recv")), source=source, tag=tag)])
    work._finish = lambda: work._statuses[0].Get_source()
    return work


def send(tensor, dst, group=None, tag=0):
    """Sends `tensor` to rank `dst` and waits until it has gone."""
    isend(tensor, dst, group, tag).wait()


def recv(tensor, src=None, group=None, tag=0):
    """Receives into `tensor`; returns the sender's rank (src itself on nccl, which needs it)."""
    result = irecv(tensor, src, group, tag).result()
    return src if result is None else result


def barrier(group=None, async_op=False, device_ids=None):
    """Waits until every rank of the group has reached the barrier (device_ids is accepted and ignored). With
    async_op=True it returns a Work to wait() on, else None once done."""
    pg = default_group(group)
    if pg.nccl is not None:
        return nccl_collectives.barrier(pg, async_op)
    return _started(pg, [pg.comm.Ibarrier()], None, async_op)
