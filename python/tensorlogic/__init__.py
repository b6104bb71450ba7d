"""TensorLogic: an f16-first tensor engine and language. Its namespace follows torch's, constants included: pi, e,
inf, nan and newaxis (None) are torch's values."""
import sys as _sys

from . import errors  # noqa: F401  (must load before _core, which maps native errors to these classes)
from . import _core  # noqa: F401
from . import coreml, memory, planner  # coreml installs the ane device's model provider (Apple builds)
from .device import Event, ane, available_devices, cuda, device, get_default_device, metal, set_default_device
from .dtypes import bool, complex32, dtype, float16, half, int32, int64, long  # noqa: A004 (PyTorch's names)
from .dtypes import int8, int16, short, uint8  # names only: every op refuses them (see dtypes)
from .memory_formats import channels_last, channels_last_3d, contiguous_format, memory_format, preserve_format
from .layouts import layout, strided

# PyTorch's float dtype names all mean float16 (SPEC §1); `tl.int` is int32, as `torch.int` is. Its complex names
# all mean complex32 (float16 parts), the dtype of tensorlogic.complex_tensors' ComplexTensor.
float32 = float = float64 = double = bfloat16 = float16  # noqa: A001
int = int32  # noqa: A001
chalf = complex64 = cfloat = complex128 = cdouble = complex32
from .errors import (
    DeviceError,
    EinsumError,
    OutOfMemoryError,
    PrecisionOverflowError,
    SerializationError,
    ShapeMismatchError,
    TensorLogicRuntimeError,
    TensorLogicSyntaxError,
    TensorLogicTypeError,
)
from .tensor import Tensor
from .ops.random import (bernoulli, manual_seed, multinomial, rand, rand_like, randint, randint_like, randn, randn_like,
                         randperm)
from .ops.reduction import all, amax, amin, any, argmax, argmin, logsumexp, max, mean, min, norm, prod, std, sum, var  # noqa: A004
from .ops.rows import layer_norm, log_softmax, rms_norm, softmax
from .ops.conv import avg_pool2d, conv2d, fold, max_pool2d, scaled_dot_product_attention, unfold
from .ops.conv_nd import conv1d, conv3d
from .ops.linalg import bmm, einsum, linear, matmul, mm, tril, triu
from .creation import *  # noqa: F401,F403  (tensor, zeros, arange, from_numpy, from_dlpack, ...)
from . import tensor_new  # noqa: F401  (Tensor.new_zeros/... and .data)
from . import shared_memory  # noqa: F401  (Tensor.share_memory_ and is_shared)
from . import storage  # noqa: F401  (Tensor.storage and untyped_storage)
from .ops.elementwise import *  # noqa: F401,F403
from .ops.shape import *  # noqa: F401,F403
from .ops.indexing import *  # noqa: F401,F403
from .ops.ordering import *  # noqa: F401,F403
from .ops.composite import *  # noqa: F401,F403  (outer, dot, diag, lerp, isclose, meshgrid, hstack, ...)
from .ops.special import *  # noqa: F401,F403  (tan, asin, atan2, hypot, logaddexp, xlogy, fmax, ...)
from .ops.float_parts import *  # noqa: F401,F403  (frexp, ldexp, nextafter)
from .ops.bitwise import *  # noqa: F401,F403  (bitwise_and, ..., and the operators & | ^ ~ << >> on integers)
from .ops.statistics import *  # noqa: F401,F403  (median, kthvalue, mode, quantile, aminmax, var_mean, ...)
from .ops.scans import *  # noqa: F401,F403  (cummax, cummin, logcumsumexp, diff)
from .ops.counting import *  # noqa: F401,F403  (unique, bincount, histc, searchsorted, bucketize)
from .ops.add_products import *  # noqa: F401,F403  (addcmul, addcdiv, addmv, addr, baddbmm, addbmm)
from .ops.products import *  # noqa: F401,F403  (tensordot, inner, vdot, kron, cross, cdist)
from .ops.index_update import *  # noqa: F401,F403  (index_add, index_copy, index_fill, take, argwhere, isin)
from .ops.foreach import *  # noqa: F401,F403  (torch._foreach_add_, _foreach_lerp_, ... over lists of tensors)
from .ops import windows  # noqa: F401  (Tensor.unfold)
from .ops.as_strided import as_strided
from .ops import host_apply  # noqa: F401  (Tensor.apply_)
from .window_functions import *  # noqa: F401,F403  (hann_window, hamming_window, blackman_window, ...)
from .ops.sampling import binomial, normal, poisson
from .ops.arrange import *  # noqa: F401,F403  (atleast_1d, rot90, diag_embed, block_diag, cartesian_prod, ...)
from ._repr import get_printoptions, set_printoptions
from .legacy_tensors import *  # noqa: F401,F403  (FloatTensor, LongTensor, ...: PyTorch's typed constructors)
from .type_info import Size, finfo, get_default_dtype, iinfo, set_default_dtype
from .promotion import can_cast, promote_types, result_type
from .ops.inplace import *  # noqa: F401,F403  (sigmoid_, tanh_, clamp_, ... as torch-level functions)
from .ops.inplace_views import *  # noqa: F401,F403  (resize_as_; Tensor.t_, unsqueeze_, resize_, ...)
from . import autograd, amp, nn, optim  # noqa: E402  (autograd attaches its Tensor methods on import)
from . import _cuda_amp  # noqa: E402
# tl.cuda.amp (torch.cuda.amp's spellings), attached here: amp's GradScaler works on tensors, a layer above device
cuda.amp = _cuda_amp
# torch.cuda is a package: `import tensorlogic.cuda` and `from tensorlogic.cuda.amp import autocast` find these
# entries, since the import system looks in sys.modules before it searches for files
_sys.modules[__name__ + ".cuda"] = cuda
_sys.modules[__name__ + ".cuda.amp"] = _cuda_amp
from . import distributed  # noqa: E402
from . import distributions  # noqa: E402
from .ops import fused  # noqa: E402  (tl.fused.<name>: the fused ops of SPEC §4)
from . import linalg  # noqa: E402  (tl.linalg: torch.linalg's norms, products and factorisations)
from .linalg.aliases import *  # noqa: E402,F401,F403  (inverse, det, logdet, slogdet, pinverse, svd, qr, ...)
from .ops.special_functions import i0, mvlgamma  # noqa: E402  (torch's top-level forms of two of torch.special's)
from .ops.incomplete_gamma import igamma, igammac  # noqa: E402  (torch.special.gammainc and gammaincc)
# complex tensors: ComplexTensor, complex, view_as_real, ..., and the forms of tensor, zeros, rand, abs, einsum, ...
# that also take complex data, replacing the real-only ones imported above
from .complex_tensors import *  # noqa: E402,F401,F403
from . import fft, random, special, testing  # noqa: E402  (torch.fft, torch.random, torch.special, torch.testing)
from .spectral import istft, stft  # noqa: E402  (torch.stft, torch.istft and their Tensor methods)
from .random import get_rng_state, initial_seed, seed, set_rng_state  # noqa: E402
from . import cuda_random as _cuda_random  # noqa: E402
# tl.cuda's random-state functions, attached here: they need tl.random, a layer above device.py
cuda.get_rng_state, cuda.set_rng_state = _cuda_random.get_rng_state, _cuda_random.set_rng_state
cuda.get_rng_state_all, cuda.set_rng_state_all = _cuda_random.get_rng_state_all, _cuda_random.set_rng_state_all
# torch's top-level forms of functional ops whose signatures are the same
from .nn.functional import (avg_pool1d, bilinear, celu, channel_shuffle, conv_transpose1d, conv_transpose2d,  # noqa: E402
                            conv_transpose3d, cosine_similarity, hardshrink, max_pool1d, max_pool1d_with_indices,
                            max_pool3d, pairwise_distance,
                            pixel_shuffle, pixel_unshuffle, prelu, rrelu, selu, threshold)
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .autograd.grad_mode import is_inference_mode_enabled
from . import accelerator, backends, utils  # noqa: E402
from . import multiprocessing  # noqa: E402  (torch.multiprocessing; registers how tensors travel between processes)
# tl.autograd.functional uses ops, which import autograd: loaded here, after them, as a submodule of tl.autograd
from .autograd import functional as _autograd_functional  # noqa: E402
del _autograd_functional
from . import func  # noqa: E402  (tl.func: torch.func's transforms)
from .backends.cuda import get_float32_matmul_precision, set_float32_matmul_precision  # noqa: E402
from .determinism import (are_deterministic_algorithms_enabled, get_deterministic_debug_mode,  # noqa: E402
                          is_deterministic_algorithms_warn_only_enabled, set_deterministic_debug_mode,
                          use_deterministic_algorithms)
from .autocast_mode import *  # noqa: E402,F401,F403  (autocast, is_autocast_enabled, get_autocast_dtype, ...)
from .generator import Generator, default_generator
from .torch_forms import *  # noqa: E402,F401,F403  (torch.dropout, batch_norm, select, rsub, ...: torch's forms)
from .threads import (get_num_interop_threads, get_num_threads, set_flush_denormal, set_num_interop_threads,
                      set_num_threads)
from .warn_mode import is_warn_always_enabled, set_warn_always
from .serialization import load, save
from .compiler import compile  # noqa: A001  (torch.compile; the builtin stays reachable as builtins.compile)
from . import module_compile  # noqa: E402,F401  (nn.Module.compile: it needs tl.compile, a layer above nn)
from . import jit  # noqa: E402  (torch.jit's names: script returns its argument, trace compiles with tl.compile)
from .graphed_callables import make_graphed_callables as _make_graphed_callables  # noqa: E402
cuda.make_graphed_callables = _make_graphed_callables  # tl.cuda's: it needs autograd and nn, layers above device.py
from . import lang  # noqa: E402  (tl.lang.run / tl.lang.compile)
from . import profiler  # noqa: E402  (tl.profiler: swaps in timed ops only while a profile is active)
from ._argcheck import guard_namespace as _guard_namespace, guard_tensor_methods as _guard_tensor_methods
from ._argcheck import guard_static_functionals as _guard_static_functionals

# Every public op explains a failed call by its arguments (SPEC §6); see _argcheck.
_guarded = {}
_guard_tensor_methods(_guarded)
for _namespace in (globals(), vars(nn.functional), vars(fused), vars(linalg)):
    _guard_namespace(_namespace, list(_namespace), _guarded)
for _module in (fft, special):  # their own functions, not the helpers they import
    _guard_namespace(vars(_module), _module.__all__, _guarded)
_guard_namespace(vars(nn.utils.rnn), nn.utils.rnn.__all__, _guarded)  # its imported helpers stay as they are
# The module utilities (nn.init, nn.utils and its parts) explain an argument of the wrong kind; their other errors
# stay as they are: most name the module's missing parameter, and some of these functions run the user's modules.
for _module in (nn.init, nn.utils, nn.utils.prune, nn.utils.parametrize, nn.utils.parametrizations,
                nn.utils.stateless):
    _guard_namespace(vars(_module), [_name for _name, _value in vars(_module).items()
                                     if getattr(_value, "__module__", "").startswith(_module.__name__)], _guarded,
                     keep_unexplained=True)
_guard_static_functionals([c for c in map(vars(nn).get, nn.__all__) if isinstance(c, type)], _guarded)
del _guarded, _namespace, _module
# torch.vmap, after the guarding: like tl.func's other transforms it runs the user's function, whose errors must reach
# the user as they are
from .func import vmap  # noqa: E402

import math as _math

pi, e, inf, nan, newaxis = _math.pi, _math.e, _math.inf, _math.nan, None  # torch's constants

from . import version  # noqa: E402  (torch.version's fields)
from .version import __version__  # noqa: E402
