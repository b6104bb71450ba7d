"""tl.cuda's random-state functions, as torch.cuda's: get_rng_state, set_rng_state and their _all forms. One Philox
stream serves every device (tl.random), so a CUDA device's state is that stream's [seed, offset]: restoring a saved
state replays the numbers drawn after it, on the device and everywhere else. PyTorch's is a byte tensor of the
device's own generator, which this is not."""
from . import _core
from .device import cuda
from .errors import DeviceError
from .random import get_rng_state as _stream_state, set_rng_state as _set_stream_state

__all__ = ["get_rng_state", "set_rng_state", "get_rng_state_all", "set_rng_state_all"]


def _check_device(device, caller):
    """The device must be a present CUDA device (PyTorch checks CUDA before it reads the argument)."""
    if not cuda.is_available():
        raise DeviceError(f"tl.cuda.{caller}: no CUDA device; this build and machine have "
                          f"{list(_core.available_devices())}")
    name = cuda._device(device)
    index = int(name.partition(":")[2] or cuda.current_device())
    if index >= cuda.device_count():
        raise DeviceError(f"tl.cuda.{caller}: device {name} does not exist; this machine has "
                          f"{cuda.device_count()} CUDA device(s)")


def get_rng_state(device="cuda"):
    """The random state of a CUDA device as an int64 tensor [seed, offset] on the CPU (the one stream's, as
    tl.get_rng_state); DeviceError without a CUDA device."""
    _check_device(device, "get_rng_state")
    return _stream_state()


def set_rng_state(new_state, device="cuda"):
    """Restores a state from get_rng_state: the numbers drawn next on the device are those drawn after it was
    saved; DeviceError without a CUDA device."""
    _check_device(device, "set_rng_state")
    _set_stream_state(new_state)


def get_rng_state_all():
    """A list with the state of each CUDA device: empty without CUDA, as torch.cuda's."""
    return [get_rng_state(index) for index in range(cuda.device_count())]


def set_rng_state_all(new_states):
    """Restores each device's state from get_rng_state_all's list, the i-th to device i (nothing to do for an empty
    list, as without CUDA)."""
    for index, state in enumerate(new_states):
        set_rng_state(state, index)
