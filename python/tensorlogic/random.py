"""tl.random: torch.random's functions over the one Philox stream behind tl.rand, randn, randint, dropout and the
samplers' host streams (tl.manual_seed's). Its whole state is (seed, offset): restoring a saved state replays the
numbers drawn after it, on every device. tl.Generator objects are streams of their own and are not touched."""
import contextlib

from . import _core
from .creation import tensor
from .dtypes import int64
from .generator import default_generator
from .ops.random import manual_seed
from .tensor import Tensor

__all__ = ["manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "fork_rng"]

_U64 = (1 << 64) - 1


def seed():
    """Seeds the stream from the operating system's entropy (a non-deterministic seed) and returns that seed."""
    return default_generator.seed()


def initial_seed():
    """The seed the stream last started from (manual_seed or seed; PyTorch's default seed before either)."""
    return default_generator.initial_seed()


def get_rng_state():
    """The stream's state as an int64 tensor [seed, offset] (the seed's 64 bits as a signed number); set_rng_state
    takes it back. PyTorch's is a byte tensor of its own generator's state, which this is not."""
    s, offset = _core.random_state()
    return tensor([s - (1 << 64) if s >> 63 else s, offset], dtype=int64, device="cpu")


def set_rng_state(new_state):
    """Restores a state from get_rng_state: the numbers drawn next are those drawn after it was saved."""
    if not isinstance(new_state, Tensor):
        raise TypeError(f"set_rng_state: new_state must be a Tensor from get_rng_state, not {type(new_state).__name__}")
    if new_state.dtype is not int64 or tuple(new_state.shape) != (2,):
        raise ValueError(f"set_rng_state: new_state must be get_rng_state's int64 tensor of shape (2,), got "
                         f"{new_state.dtype.name} {tuple(new_state.shape)}")
    s, offset = (int(v) for v in new_state.tolist())
    if offset < 0:
        raise ValueError(f"set_rng_state: the offset must be non-negative, got {offset}")
    _core.set_random_state(s & _U64, offset)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type="cuda"):
    """Runs the block on a fork of the stream: the state is restored on leaving it (even through an exception),
    as torch.random.fork_rng. One stream serves every device, so `devices` and `device_type` change nothing."""
    if devices is not None and not isinstance(devices, (list, tuple, set, range)):
        raise TypeError(f"{_caller}: {_devices_kw} must be an iterable of devices, not {type(devices).__name__}")
    if not enabled:
        yield
        return
    saved = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(saved)
