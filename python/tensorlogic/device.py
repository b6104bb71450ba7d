"""Device objects, availability and the default device (SPEC §3)."""
from . import _core
from . import cuda_graphs
from .errors import DeviceError, OutOfMemoryError


class device:
    """A device name: 'cpu', 'cuda', 'metal' or 'ane' (with an optional ':index'). As a context manager (`with
    tl.device("cuda"):`) it is the default device of the tensors made inside, as torch.device is."""

    __slots__ = ("type", "index", "_outer")

    def __init__(self, spec="cpu"):
        if isinstance(spec, device):
            self.type, self.index = spec.type, spec.index
            return
        name = _core.parse_device(str(spec))
        self.type, _, index = name.partition(":")
        self.index = int(index) if index else 0

    def __str__(self):
        return self.type if self.index == 0 else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}'" + (f", index={self.index})" if self.index else ")")

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __enter__(self):
        outer = getattr(self, "_outer", None)
        if outer is None:
            outer = self._outer = []  # (a list: the same device object may be entered again inside)
        outer.append(_core.default_device())
        _core.set_default_device(str(self))
        return self

    def __exit__(self, *exc):
        _core.set_default_device(self._outer.pop())
        return False


def device_name(value):
    """Normalises a device argument (None means the default device) to its canonical string."""
    if value is None:
        return _core.default_device()
    return _core.parse_device(str(value))


def get_default_device():
    """The device that new tensors go to when none is given (cpu unless set_default_device changed it)."""
    return device(_core.default_device())


def set_default_device(value):
    """Makes `value` (a tl.device or a string such as 'cuda:0' or 'metal') the device of new tensors."""
    _core.set_default_device(str(device(value)))


def available_devices():
    """The names of the devices this build can use on this machine, e.g. ['cpu', 'cuda:0']."""
    return list(_core.available_devices())


class DeviceProperties:
    """What the driver reports about one device (like torch.cuda.get_device_properties)."""

    __slots__ = ("name", "total_memory", "major", "minor", "multi_processor_count")

    def __init__(self, name, total_memory, major, minor, multi_processor_count):
        self.name, self.total_memory = name, total_memory
        self.major, self.minor, self.multi_processor_count = major, minor, multi_processor_count

    def __repr__(self):
        return (f"DeviceProperties(name='{self.name}', major={self.major}, minor={self.minor}, "
                f"total_memory={self.total_memory >> 20}MB, multi_processor_count={self.multi_processor_count})")


class Event:
    """A marker in a device's queue of work, like torch.cuda.Event.

    record() marks the end of the work queued so far on the event's device; synchronize() waits for it,
    query() says whether it is done, and start.elapsed_time(end) gives the milliseconds between two
    events recorded with enable_timing=True (measured on the GPU's clock, so host overhead is excluded).
    On the CPU, work is done when its call returns and events read the host clock."""

    def __init__(self, enable_timing=False, device=None):
        self._e = _core.Event(device_name(device), bool(enable_timing))

    @property
    def device(self):
        """The device whose queue the event marks."""
        return device(self._e.device)

    def record(self, stream=None):
        """Marks the end of the work queued so far on the event's device (`stream`, as in PyTorch, may name that
        device's stream: there is one)."""
        check_stream(stream, self._e.device)
        self._e.record()

    def wait(self, stream=None):
        """Makes later work on `stream` wait for this event: it already does, the device's one stream running its
        work in order."""
        check_stream(stream, self._e.device)

    def synchronize(self):
        """Waits until the work before the recorded mark has finished."""
        self._e.synchronize()

    def query(self):
        """True when the work before the recorded mark has finished (it does not wait)."""
        return self._e.query()

    def elapsed_time(self, end_event):
        """Milliseconds from this event to `end_event`; both must be recorded, with enable_timing=True."""
        return self._e.elapsed_ms(end_event._e)


class Stream:
    """A device's queue of work, like torch.cuda.Stream. Every op on a device runs on its one stream, in order, so
    tl.cuda.Stream() gives that stream: work a program puts on a "side" stream is ordered with the rest and never
    runs concurrently with it, which meets every ordering PyTorch's streams promise (wait_stream, wait_event and
    record_stream have nothing left to do) without the overlap. cuda_stream is the cudaStream_t (an int) for
    libraries that enqueue work in order with ours (NCCL in tl.distributed, CuPy); it is 0 on devices without
    one."""

    def __init__(self, device_name):
        self._name = device_name

    priority = 0

    def __eq__(self, other):
        return isinstance(other, Stream) and other._name == self._name

    def __hash__(self):
        return hash(self._name)

    def wait_stream(self, stream):
        """Makes later work here wait for the work queued so far on `stream`: with one stream per device it does."""
        check_stream(stream, self._name)

    def wait_event(self, event):
        """Makes later work here wait for `event`'s mark: it does, the stream running in order."""
        if not isinstance(event, Event):
            raise TypeError(f"wait_event expects a tl.Event, got {type(event).__name__}")

    def record_event(self, event=None):
        """Records `event` (a new one by default) at the end of the work queued so far; returns it."""
        event = Event(device=self._name) if event is None else event
        event.record(self)
        return event

    def query(self):
        """True when all work queued on the stream has finished (it does not wait)."""
        return self.record_event().query()

    @property
    def device(self):
        return device(self._name)

    @property
    def cuda_stream(self):
        return _core.stream_handle(self._name)

    def synchronize(self):
        """Waits for the work queued on the stream's device."""
        _core.synchronize(self._name)

    def __repr__(self):
        return f"<Stream device={self._name}>"


def check_stream(stream, device_name):
    """Refuses a stream argument that is not a tl stream of `device_name`'s device (None means that device's)."""
    if stream is None:
        return
    if not isinstance(stream, Stream):
        raise TypeError(f"expected a tl.cuda.Stream, got {type(stream).__name__}")
    if stream._name.partition(":")[0] != device_name.partition(":")[0] or \
            (stream._name.partition(":")[2] or "0") != (device_name.partition(":")[2] or "0"):
        raise ValueError(f"the stream is on {stream._name}, not on {device_name}")


class _StreamContext:
    """`with tl.cuda.stream(s):` runs its body's work on s: the device's one stream, where it runs anyway."""

    def __init__(self, stream):
        if stream is not None and not isinstance(stream, Stream):
            raise TypeError(f"tl.cuda.stream expects a tl.cuda.Stream or None, got {type(stream).__name__}")
        self.stream = stream

    def __enter__(self):
        return self.stream

    def __exit__(self, *exc):
        return False


class _Backend:
    """tl.cuda, tl.metal, tl.ane: availability, device count and properties, synchronisation, events."""

    def __init__(self, name):
        self._name = name

    def manual_seed(self, seed):
        """Seeds the random stream. One Philox stream serves every device (the same numbers on each), so this
        is tl.manual_seed(seed); manual_seed_all is the same call."""
        _core.manual_seed(int(seed) & ((1 << 64) - 1))

    manual_seed_all = manual_seed

    def current_device(self):
        """The index of the default device when it is of this type, else 0."""
        name, _, index = _core.default_device().partition(":")
        return int(index or 0) if name == self._name else 0

    def set_device(self, device):
        """Makes the given device of this type the default device."""
        _core.set_default_device(self._device(device))

    def is_bf16_supported(self, including_emulation=True):
        """False: there is no bfloat16 storage (the name bfloat16 means float16 here), so programs that pick
        bfloat16 when it is supported pick float16."""
        return False

    def _device(self, value):
        if value is None:
            default = _core.default_device()
            return default if default.partition(":")[0] == self._name else self._name
        if isinstance(value, int):
            return f"{self._name}:{value}"
        name = device_name(value)
        if name.partition(":")[0] != self._name:
            raise ValueError(f"expected a {self._name} device, got '{name}'")
        return name

    def is_available(self):
        """True when this build has the backend and the machine has a device for it."""
        return _core.is_available(self._name)

    def device_count(self):
        """The number of devices of this type (0 when not available)."""
        return _core.device_count(self._name)

    def synchronize(self, device=None):
        """Waits for the work queued on the device (default: the default device if it is of this type)."""
        _core.synchronize(self._device(device))

    def current_stream(self, device=None):
        """The stream all work of the device runs on (there is one per device, so it is also the default)."""
        return Stream(self._device(device))

    default_stream = current_stream

    def Stream(self, device=None, priority=0):  # noqa: N802 (PyTorch's name: tl.cuda.Stream)
        """The device's stream (see tl.Stream: one per device, so a new stream is that one). `priority` is
        accepted as PyTorch's and has no effect: there is no other stream to be ahead of."""
        if not isinstance(priority, int) or isinstance(priority, bool):
            raise TypeError(f"priority must be an int, got {type(priority).__name__}")
        if not self.is_available():
            raise DeviceError(f"tl.{self._name}.Stream needs a {self._name} device, and this machine has none "
                              f"(tl.{self._name}.is_available() is False)")
        return Stream(self._device(device))

    def stream(self, stream):
        """The context `with tl.cuda.stream(s):` (s a tl.cuda.Stream or None)."""
        return _StreamContext(stream)

    def set_stream(self, stream):
        """Makes `stream` current: it is already, the device having one."""
        check_stream(stream, stream._name if isinstance(stream, Stream) else self._name)

    def get_device_properties(self, device=None):
        """A DeviceProperties (name, total_memory, major, minor, multi_processor_count) of the device (default: the
        current one of this type)."""
        return DeviceProperties(**_core.device_properties(self._device(device)))

    def get_device_name(self, device=None):
        """The device's name as its driver reports it."""
        return _core.device_properties(self._device(device))["name"]

    def Event(self, enable_timing=False, device=None):  # noqa: N802 (PyTorch's name: tl.cuda.Event)
        """A tl.Event on a device of this type (tl.cuda.Event(enable_timing=True) as in PyTorch)."""
        return Event(enable_timing, self._device(device))

    # PyTorch's memory names over tl.memory: allocated = held by live tensors, reserved = also cached. Where the
    # backend is not available they report 0 and empty_cache does nothing, as torch.cuda's do on a machine without
    # CUDA (programs call them unconditionally).
    def _memory(self, device):
        if not self.is_available():
            return {"active_bytes": 0, "peak_active_bytes": 0, "cached_bytes": 0}
        return _core.memory_stats(self._device(device))

    def memory_allocated(self, device=None):
        """Bytes held by live tensors on the device (tl.memory's active_bytes); 0 without the backend."""
        return self._memory(device)["active_bytes"]

    def max_memory_allocated(self, device=None):
        """The peak of memory_allocated since the start or the last reset_peak_memory_stats; 0 without the
        backend."""
        return self._memory(device)["peak_active_bytes"]

    def memory_reserved(self, device=None):
        """Bytes the allocator holds on the device: those of live tensors plus its cache; 0 without the backend."""
        stats = self._memory(device)
        return stats["active_bytes"] + stats["cached_bytes"]

    def reset_peak_memory_stats(self, device=None):
        """Restarts the peak of max_memory_allocated from the bytes held now."""
        _core.reset_peak(self._device(device))

    def empty_cache(self, device=None):
        """Returns the allocator's cached, unused buffers on the device to the driver (nothing to do without the
        backend)."""
        if self.is_available():
            _core.clear_cache(self._device(device))


class _CudaBackend(_Backend):
    """tl.cuda: _Backend's queries, OutOfMemoryError and CUDA graphs (torch.cuda.CUDAGraph, graph, graph_pool_handle;
    the package attaches make_graphed_callables and the random-state functions, which need autograd and tl.random,
    layers above this module)."""

    OutOfMemoryError = OutOfMemoryError  # torch.cuda.OutOfMemoryError is torch.OutOfMemoryError, as here
    CUDAGraph = cuda_graphs.CUDAGraph
    graph = cuda_graphs.graph
    graph_pool_handle = staticmethod(cuda_graphs.graph_pool_handle)


cuda = _CudaBackend("cuda")
metal = _Backend("metal")
ane = _Backend("ane")
