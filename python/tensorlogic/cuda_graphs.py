"""tl.cuda.CUDAGraph and tl.cuda.graph: capture of arbitrary tensor work into a CUDA graph, replayed with one
launch, as torch.cuda.CUDAGraph and torch.cuda.graph.

Inside `with tl.cuda.graph(g):` every op of this thread on the graph's device is recorded, not run; the
tensors made there live in the graph's private memory pool (_core.Graph, cpp/include/tensorlogic/device.h)
and are the graph's static outputs, which each g.replay() overwrites; inputs are tensors made before the
capture, which the caller fills (copy_) before each replay. As in torch, run the work once before capture
(a warm-up) so that lazy setups that wait for the device (the matmul library's workspace and plans) are
done; the pool may grow during capture. Host reads (item(), numpy(), a range check read back) fail the
capture. Work that draws random numbers (rand, dropout) is refused at capture end with a RuntimeError:
torch keeps a per-replay Philox offset for it, but here the counter of the one Philox stream is advanced on
the host at each draw, so a graph would repeat the numbers it captured. There is one stream per device, so
capture and warm-up run on it (torch's side stream for warm-up keeps its caching allocator's per-stream
pools apart; one stream needs none). This module sits below autograd: make_graphed_callables (for training)
is in graphed_callables.py."""
import gc

from . import _core
from .errors import DeviceError

_CAPTURE_MODES = ("global", "thread_local", "relaxed")


def _cuda_device():
    default = _core.default_device()
    name = default if default.partition(":")[0] == "cuda" else "cuda"
    if not _core.is_available("cuda"):
        raise DeviceError(f"CUDA graphs need a CUDA device; this machine has {_core.available_devices()}")
    return name


class _Pool:
    """A memory pool that graphs can share (torch's pool token): from CUDAGraph.pool() or graph_pool_handle().
    It keeps the native graph that owns the pool alive."""

    def __init__(self, owner):
        self._owner = owner

    def __repr__(self):
        return f"<graph pool on {self._owner.device}>"


def graph_pool_handle():
    """A new memory pool for CUDAGraph.capture_begin(pool=...) or tl.cuda.graph(..., pool=...): graphs captured
    with it may reuse each other's freed memory, safe when they are replayed in the order they were captured
    (torch.cuda.graph_pool_handle)."""
    return _Pool(_core.Graph(_cuda_device()))


class CUDAGraph:
    """A CUDA graph (torch.cuda.CUDAGraph): capture_begin() ... capture_end() records the ops run between them on
    the current CUDA device, replay() launches them again on the same memory. Usually driven by tl.cuda.graph.
    DeviceError where CUDA is not available."""

    def __init__(self):
        self._device = _cuda_device()
        self._graph = None
        self._captured = False
        self._drawn = None

    def capture_begin(self, pool=None, capture_error_mode="thread_local"):
        """Starts recording this thread's work on the device into the graph (its allocations from the graph's
        pool, or `pool`'s). capture_error_mode: "thread_local" only (a host wait or copy of this thread fails
        the capture; torch's "global" also fails on other threads' waits, "relaxed" fails on none)."""
        if capture_error_mode not in _CAPTURE_MODES:
            raise ValueError(f"CUDAGraph.capture_begin: capture_error_mode must be one of {_CAPTURE_MODES}, got "
                             f"{capture_error_mode!r}")
        if capture_error_mode != "thread_local":
            raise ValueError(f"CUDAGraph.capture_begin: capture_error_mode={capture_error_mode!r} is not supported; "
                             "captures use 'thread_local' (only the capturing thread's host waits fail it)")
        if pool is not None and not isinstance(pool, _Pool):
            raise TypeError(f"CUDAGraph.capture_begin: pool must come from graph_pool_handle() or CUDAGraph.pool(), "
                            f"got {type(pool).__name__}")
        if self._graph is not None:
            raise RuntimeError("CUDAGraph.capture_begin: this graph was already captured; call reset() first")
        graph = _core.Graph(self._device)
        if pool is not None:
            graph.share_pool(pool._owner)
        self._drawn = _core.random_offset()
        graph.capture_begin()
        self._graph = graph

    def capture_end(self):
        """Stops recording and makes the graph replayable; RuntimeError (and no graph) when the capture failed,
        saying why, or when the captured work drew random numbers."""
        if self._graph is None or self._captured:
            raise RuntimeError("CUDAGraph.capture_end: no capture in progress")
        status = self._graph.capture_end()
        drew = _core.random_offset() != self._drawn
        if status or drew:
            self._graph = None  # its pool lives on while tensors made during the capture do
            raise RuntimeError("CUDAGraph.capture_end: " + (status or (
                "the captured work draws random numbers (rand, randn, dropout, ...), which a graph would repeat at "
                "every replay; draw them outside the graph and pass them in as inputs")))
        self._captured = True

    def replay(self):
        """Launches the captured work (after any work queued before it); the static outputs are overwritten."""
        if not self._captured:
            raise RuntimeError("CUDAGraph.replay: the graph has not been captured (capture_begin/capture_end)")
        self._graph.launch()

    def reset(self):
        """Drops the captured graph (its pool is freed once the tensors made in it are gone); capture again."""
        self._graph = None
        self._captured = False

    def pool(self):
        """This graph's memory pool, for another graph's capture to share (torch's CUDAGraph.pool())."""
        if self._graph is None:
            raise RuntimeError("CUDAGraph.pool: the graph has no pool before capture_begin")
        return _Pool(self._graph)


class graph:  # noqa: N801 (PyTorch's name: torch.cuda.graph)
    """Context manager capturing the work in its body into `cuda_graph` (torch.cuda.graph): waits for the device
    (raising errors of earlier work) and collects garbage first, as torch does, then capture_begin(pool=pool);
    capture_end() at the end of the body. `stream` may only be the device's one stream (tl.cuda.current_stream())
    or None. An exception in the body ends the capture, drops the graph and propagates."""

    def __init__(self, cuda_graph, pool=None, stream=None, capture_error_mode="thread_local"):
        if not isinstance(cuda_graph, CUDAGraph):
            raise TypeError(f"tl.cuda.graph: expected a CUDAGraph, got {type(cuda_graph).__name__}")
        if stream is not None and getattr(stream, "device", None) != cuda_graph._device:
            raise ValueError(f"tl.cuda.graph: stream must be the one stream of {cuda_graph._device} "
                             f"(tl.cuda.current_stream()), got {stream!r}")
        self.cuda_graph, self.pool, self.capture_error_mode = cuda_graph, pool, capture_error_mode

    def __enter__(self):
        _core.synchronize(self.cuda_graph._device)
        gc.collect()  # tensors that are garbage give their memory back before the pool is filled
        # No collection during capture: a collected graph's pool would be freed then (cudaFree waits for the
        # device, which fails the capture).
        self._collecting = gc.isenabled()
        gc.disable()
        try:
            self.cuda_graph.capture_begin(pool=self.pool, capture_error_mode=self.capture_error_mode)
        except BaseException:
            self._restore_gc()
            raise
        return self.cuda_graph

    def _restore_gc(self):
        if self._collecting:
            gc.enable()

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.cuda_graph.capture_end()
                return False
            try:
                self.cuda_graph.capture_end()
            except RuntimeError:
                pass  # the body's exception says what went wrong; the failed capture is a consequence
            self.cuda_graph.reset()
            return False
        finally:
            self._restore_gc()
