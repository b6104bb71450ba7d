"""tl.backends.mps: PyTorch's Apple-GPU queries. TensorLogic's Apple GPU device is named "metal", not
"mps", so is_available() is False everywhere and code written as `"mps" if ... else "cpu"` takes the cpu
branch; use tl.accelerator (or tl.metal.is_available()) to reach the Apple GPU."""


def is_available():
    """False: the Apple GPU is the 'metal' device here, not 'mps' (see tl.metal.is_available())."""
    return False


def is_built():
    """False: there is no 'mps' backend (the Apple GPU backend is 'metal')."""
    return False
