"""TensorLogic: an f16-first tensor engine and language."""
from . import errors  # noqa: F401  (must load before _core, which maps native errors to these classes)
from . import _core  # noqa: F401
from . import coreml, memory, planner  # coreml installs the ane device's model provider (Apple builds)
from .device import Event, ane, available_devices, cuda, device, get_default_device, metal, set_default_device
from .dtypes import dtype, float16, half, int32
from .errors import (
    DeviceError,
    EinsumError,
    PrecisionOverflowError,
    ShapeMismatchError,
    TensorLogicRuntimeError,
    TensorLogicSyntaxError,
    TensorLogicTypeError,
)
from .tensor import Tensor
from .ops.random import manual_seed, rand, rand_like, randint, randn, randn_like
from .ops.reduction import amax, amin, argmax, argmin, logsumexp, max, mean, min, norm, prod, std, sum, var
from .ops.rows import layer_norm, log_softmax, rms_norm, softmax
from .ops.conv import avg_pool2d, conv2d, fold, max_pool2d, scaled_dot_product_attention, unfold
from .ops.linalg import bmm, einsum, linear, matmul, mm, tril, triu
from .creation import *  # noqa: F401,F403  (tensor, zeros, arange, from_numpy, from_dlpack, ...)
from . import tensor_new  # noqa: F401  (Tensor.new_zeros/... and .data)
from .ops.elementwise import *  # noqa: F401,F403
from .ops.shape import *  # noqa: F401,F403
from .ops.indexing import *  # noqa: F401,F403
from . import autograd, amp, nn, optim  # noqa: E402  (autograd attaches its Tensor methods on import)
from . import distributed  # noqa: E402
from .ops import fused  # noqa: E402  (tl.fused.<name>: the fused ops of SPEC §4)
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from . import accelerator, backends, utils  # noqa: E402
from .amp import autocast
from .generator import Generator
from .threads import get_num_threads, set_num_threads
from .serialization import load, save
from . import lang  # noqa: E402  (tl.lang.run / tl.lang.compile)

__version__ = "0.1.0"
