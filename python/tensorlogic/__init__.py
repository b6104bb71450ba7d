"""TensorLogic: an f16-first tensor engine and language."""
from . import errors  # noqa: F401  (must load before _core, which maps native errors to these classes)
from . import _core  # noqa: F401
from . import coreml, memory  # coreml installs the ane device's model provider (Apple builds)
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

__version__ = "0.1.0"
