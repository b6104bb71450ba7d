"""NCCL through ctypes: the library of the nvidia-nccl wheel (the one PyTorch's CUDA build installs) or of
the system, loaded on first use. Buffers are device pointers of contiguous tensors and every call is
enqueued on a CUDA stream the caller passes (TensorLogic's stream of the tensor's device), so the
collectives run in order with the kernels around them, with no copy and no host synchronisation."""
import ctypes
import functools
import importlib.metadata

from .errors import DistBackendError

# nccl.h's enums (stable since NCCL 2.0; ncclAvg since 2.10)
DTYPES = {"float16": 6, "int32": 2, "int64": 4}
BYTES = 1  # ncclUint8: data moved without arithmetic (broadcast, gathers, send/recv) travels as bytes
OPS = {"sum": 0, "product": 1, "max": 2, "min": 3, "avg": 4}
_WHEELS = ("nvidia-nccl-cu13", "nvidia-nccl-cu12", "nvidia-nccl-cu11")


class UniqueId(ctypes.Structure):
    _fields_ = [("internal", ctypes.c_char * 128)]  # NCCL_UNIQUE_ID_BYTES


def _wheel_library():
    """The path of libnccl.so.2 in an installed nvidia-nccl wheel, or None."""
    for name in _WHEELS:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        for f in dist.files or ():
            if f.name == "libnccl.so.2":
                return str(dist.locate_file(f))
    return None


_P, _I, _S = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t
_SIGNATURES = {
    "ncclGetVersion": [ctypes.POINTER(_I)],
    "ncclGetUniqueId": [ctypes.POINTER(UniqueId)],
    "ncclCommInitRank": [ctypes.POINTER(_P), _I, UniqueId, _I],
    "ncclCommDestroy": [_P],
    "ncclCommAbort": [_P],
    "ncclCommGetAsyncError": [_P, ctypes.POINTER(_I)],
    "ncclAllReduce": [_P, _P, _S, _I, _I, _P, _P],
    "ncclBroadcast": [_P, _P, _S, _I, _I, _P, _P],
    "ncclAllGather": [_P, _P, _S, _I, _P, _P],
    "ncclReduceScatter": [_P, _P, _S, _I, _I, _P, _P],
    "ncclSend": [_P, _S, _I, _I, _P, _P],
    "ncclRecv": [_P, _S, _I, _I, _P, _P],
    "ncclGroupStart": [],
    "ncclGroupEnd": [],
}


@functools.cache
def library():
    """The loaded library with its functions' signatures; DistBackendError (why) if there is none."""
    path = _wheel_library() or "libnccl.so.2"
    try:
        lib = ctypes.CDLL(path)
    except OSError as e:
        raise DistBackendError(f"NCCL is not available: cannot load {path} ({e}); pip install nvidia-nccl-cu12 "
                               "(or -cu13, matching the CUDA driver)") from None
    for name, argtypes in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = argtypes, _I
    lib.ncclGetErrorString.argtypes, lib.ncclGetErrorString.restype = [_I], ctypes.c_char_p
    lib.ncclGetLastError.argtypes, lib.ncclGetLastError.restype = [_P], ctypes.c_char_p
    return lib


def is_loadable():
    try:
        library()
    except DistBackendError:
        return False
    return True


def _check(rc, what, comm=None):
    if rc != 0:
        lib = library()
        detail = (lib.ncclGetLastError(comm) or b"").decode(errors="replace")
        raise DistBackendError(f"NCCL {what} failed: {lib.ncclGetErrorString(rc).decode()}"
                               + (f" ({detail})" if detail else ""))


def version():
    """NCCL's version as (major, minor, patch)."""
    code = _I()
    _check(library().ncclGetVersion(ctypes.byref(code)), "ncclGetVersion")
    v = code.value  # 2.9+ encodes major*10000 + minor*100 + patch
    return v // 10000, v // 100 % 100, v % 100


def unique_id():
    """A new communicator id (rank 0 makes it and sends it to the others), as bytes."""
    uid = UniqueId()
    _check(library().ncclGetUniqueId(ctypes.byref(uid)), "ncclGetUniqueId")
    return bytes(ctypes.string_at(ctypes.addressof(uid), ctypes.sizeof(uid)))


class Communicator:
    """One rank's NCCL communicator, bound to the CUDA device current on this thread when it is made."""

    def __init__(self, size, rank, uid):
        self.size, self.rank, self._comm, self.aborted = size, rank, _P(), None
        _check(library().ncclCommInitRank(ctypes.byref(self._comm), size, UniqueId.from_buffer_copy(uid), rank),
               f"ncclCommInitRank (rank {rank} of {size})")

    def _call(self, name, *args):
        if self.aborted:
            raise DistBackendError(f"NCCL {name}: this rank's communicator was aborted ({self.aborted})")
        _check(getattr(library(), name)(*args), name, self._comm)

    def all_reduce(self, src, dst, count, dtype, op, stream):
        self._call("ncclAllReduce", src, dst, count, DTYPES[dtype], OPS[op], self._comm, stream)

    def broadcast(self, src, dst, nbytes, root, stream):
        self._call("ncclBroadcast", src, dst, nbytes, BYTES, root, self._comm, stream)

    def all_gather(self, src, dst, nbytes, stream):
        self._call("ncclAllGather", src, dst, nbytes, BYTES, self._comm, stream)

    def reduce_scatter(self, src, dst, count, dtype, op, stream):
        self._call("ncclReduceScatter", src, dst, count, DTYPES[dtype], OPS[op], self._comm, stream)

    def send(self, src, nbytes, peer, stream):
        self._call("ncclSend", src, nbytes, BYTES, peer, self._comm, stream)

    def recv(self, dst, nbytes, peer, stream):
        self._call("ncclRecv", dst, nbytes, BYTES, peer, self._comm, stream)

    def group_start(self):
        """Point-to-point calls up to group_end() run as one operation (an all-to-all cannot deadlock)."""
        _check(library().ncclGroupStart(), "ncclGroupStart")

    def group_end(self):
        _check(library().ncclGroupEnd(), "ncclGroupEnd", self._comm)

    def async_error(self):
        """The error a collective in flight hit (a peer that died), or None."""
        code = _I()
        _check(library().ncclCommGetAsyncError(self._comm, ctypes.byref(code)), "ncclCommGetAsyncError")
        return None if code.value == 0 else library().ncclGetErrorString(code.value).decode()

    def abort(self, reason):
        """Ends the communicator at once: NCCL's kernels still waiting for a peer return, so the device's
        stream moves again; every later call raises DistBackendError with `reason`."""
        if not self.aborted:
            self.aborted = reason
            _check(library().ncclCommAbort(self._comm), "ncclCommAbort")
            self._comm = _P()

    def destroy(self):
        if self._comm:
            _check(library().ncclCommDestroy(self._comm), "ncclCommDestroy")
            self._comm = _P()
