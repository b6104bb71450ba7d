"""tl.compile's CUDA-graph replay (mode="reduce-overhead" or backend="cudagraphs", inference on CUDA): the
kernels of one program's replay are captured into a CUDA graph once and the graph is launched afterwards, so
a call costs a few launches instead of one Python step and one kernel launch per op.

The graph is a tl.cuda.CUDAGraph (cuda_graphs.py) with its private memory pool: the replay runs once
first (a warm-up: lazy setups such as cuBLASLt's workspace and plans, which wait for the device, are done),
then once more under capture, during which no host copy or wait may happen. Inputs are copied into the
graph's static input buffers before each launch; the outputs live in the pool and are overwritten by the
next launch, so each call returns copies of them (torch's cudagraph trees return the static outputs
themselves and document that a later call overwrites them). Work that draws random numbers is refused (a
graph would repeat the numbers it captured), and so is any failure of the capture (the error is the
reason): the program then replays without a graph."""
import threading

from . import _core
from .cuda_graphs import CUDAGraph, graph
from .tensor import _wrap


class GraphUnavailable(Exception):
    """Why a program is not replayed as a CUDA graph (the message says)."""


class GraphReplay:
    """A CUDA graph of run(inputs): `run` maps a list of input tensors to the program's flat list of outputs;
    computed[j] says whether output j is computed by the program's ops (else it is None, an input or a
    tensor that does not depend on the inputs, returned as the eager call returns it)."""

    def __init__(self, run, inputs, computed):
        devices = {str(x.device) for x in inputs}
        if len(devices) != 1 or not next(iter(devices)).startswith("cuda"):
            raise GraphUnavailable(f"its tensor inputs are on {sorted(devices) or 'no device'}, not on one CUDA device")
        self._computed = computed
        self._lock = threading.Lock()  # a launch's input copies, launch and output copies go together
        for x in inputs:
            if not x._a.is_contiguous():
                raise GraphUnavailable(f"an input with strides {x._a.strides} (the graph's input buffers are "
                                       "contiguous)")
        self._static = [_wrap(_core.clone(x._a)) for x in inputs]
        drawn = _core.random_offset()
        try:
            run(self._static)  # the warm-up
        except Exception as e:  # noqa: BLE001 - the plain replay that follows meets a real error again
            raise GraphUnavailable(f"the warm-up failed: {type(e).__name__}: {e}") from e
        if _core.random_offset() != drawn:  # said before capturing work that would be refused at its end
            raise GraphUnavailable("it draws random numbers, which a graph would repeat at every launch")
        self._graph = CUDAGraph()
        if _core.parse_device(self._graph._device) != _core.parse_device(next(iter(devices))):
            raise GraphUnavailable(f"its inputs are on {next(iter(devices))}, not on the current CUDA device "
                                   f"{self._graph._device} that graphs capture")
        try:
            with graph(self._graph):
                outputs = run(self._static)
        except Exception as e:  # noqa: BLE001 - any failure under capture means: replay without a graph
            raise GraphUnavailable(f"capture failed: {type(e).__name__}: {e}") from e
        by_id = {id(s): i for i, s in enumerate(self._static)}
        # (None, static output) for a computed output, (input position, None) for a returned input, else
        # (None, the tensor or None itself)
        self._outputs = [(None, o) if c or id(o) not in by_id else (by_id[id(o)], None)
                         for o, c in zip(outputs, computed)]

    def __call__(self, inputs):
        """The outputs for `inputs` (same shapes, strides, dtypes and device as at capture), as a list."""
        with self._lock:
            for s, x in zip(self._static, inputs):
                _core.copy_(s._a, x._a)
            self._graph.replay()
            return [inputs[i] if i is not None else _wrap(_core.clone(o._a)) if c else o
                    for (i, o), c in zip(self._outputs, self._computed)]
