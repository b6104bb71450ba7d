"""TensorLogic: an f16-first tensor engine and language."""
from . import errors  # noqa: F401  (must load before _core, which maps native errors to these classes)
from . import _core  # noqa: F401
from . import memory
from .device import ane, available_devices, cuda, device, get_default_device, metal, set_default_device
from .dtypes import dtype, float16, half, int32
from .errors import (
    DeviceError,
    EinsumError,
    PrecisionOverflowError,
    ShapeMismatchError,
    TensorLogicSyntaxError,
    TensorLogicTypeError,
)
from .tensor import Tensor
from .creation import *  # noqa: F401,F403  (tensor, zeros, arange, from_numpy, from_dlpack, ...)
from .ops.elementwise import *  # noqa: F401,F403
from .ops.shape import *  # noqa: F401,F403
from .ops.indexing import *  # noqa: F401,F403

__version__ = "0.1.0"
