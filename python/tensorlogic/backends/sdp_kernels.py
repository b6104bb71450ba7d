"""The context managers that choose scaled-dot-product-attention backends: torch.nn.attention's SDPBackend and
sdpa_kernel, and the deprecated torch.backends.cuda.sdp_kernel. They set tl.backends.cuda's sdp flags for their
block and restore them after, as PyTorch's do; the flags are stored and change nothing (tl picks its attention kernel
by shape and device), so a block asking for one backend computes what any other block does."""
import contextlib
import enum
import warnings

# tl.backends.cuda's flags (enable_flash_sdp, flash_sdp_enabled, ...), kept here for the context managers below
sdp_flags = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}
_FLAGS = {"MATH": "math", "FLASH_ATTENTION": "flash", "EFFICIENT_ATTENTION": "mem_efficient",
          "CUDNN_ATTENTION": "cudnn"}


class SDPBackend(enum.IntEnum):
    """torch.nn.attention.SDPBackend's members and values."""
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


@contextlib.contextmanager
def _flags(enabled):
    before = dict(sdp_flags)
    sdp_flags.update(enabled)
    try:
        yield
    finally:
        sdp_flags.update(before)


def sdpa_kernel(backends, set_priority=False):
    """A context manager letting only `backends` (an SDPBackend or a list of them) run scaled dot-product attention
    inside it, as torch.nn.attention.sdpa_kernel: the flags of tl.backends.cuda (flash_sdp_enabled, ...) say so
    there. set_priority is accepted (PyTorch orders its backends by it; tl has one kernel per shape and device)."""
    chosen = [backends] if isinstance(backends, SDPBackend) else backends
    if not isinstance(chosen, (list, tuple)) or not all(isinstance(b, SDPBackend) for b in chosen):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend instances, got "
                             f"{type(backends).__name__}")
    return _flags({flag: SDPBackend[name] in chosen for name, flag in _FLAGS.items()})


def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True, enable_cudnn=True):
    """Deprecated torch.backends.cuda.sdp_kernel (its FutureWarning): the flags of tl.backends.cuda set as given
    inside the block. Use torch.nn.attention.sdpa_kernel."""
    warnings.warn("`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this context manager will be "
                  "removed. Please see `torch.nn.attention.sdpa_kernel()` for the new context manager, with updated "
                  "signature.", FutureWarning, stacklevel=2)
    return _flags({"flash": bool(enable_flash), "math": bool(enable_math), "mem_efficient": bool(enable_mem_efficient),
                   "cudnn": bool(enable_cudnn)})
