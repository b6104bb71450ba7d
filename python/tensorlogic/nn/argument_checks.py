"""Argument checks for tl.nn's modules (SPEC §6): their constructors' arguments are checked before a constructor
runs, and their forward()s explain a failure by a bad argument.

PyTorch's modules take their hyperparameters on trust and fail later, deep inside (a tensor given for `bias` is
"truth value ... ambiguous", a size past int64 a native cast message). Here each constructor parameter whose name
has one kind across PyTorch's modules (sizes, flags, numbers, names, kernel shapes) is checked by that kind, and a
bad one gets a TypeError (or MemoryError/OverflowError for a size no memory holds) naming the module and the
argument. Values each module must range-check itself (a negative size, groups of 0) are left to it. A forward()
given a str for its input gets PyTorch's "argument 'input' (position 1) must be Tensor" through the guard every
public op has (_argcheck.guard), at no cost to a call that succeeds.
"""
import functools
import inspect
import numbers

import numpy as np

from .._argcheck import argument_problem, guard
from .container import ModuleDict, ModuleList, Sequential
from .parallel import DataParallel
from .module import Module

# Parameter kinds by name (not padding: each module checks its own, an int, a tuple or a name such as 'same'; nor
# the recurrent layers' sizes and nonlinearity, which they check with PyTorch's messages)
_SIZES = {"in_features", "out_features", "in1_features", "in2_features", "num_features", "num_channels", "num_groups",
          "in_channels", "out_channels", "embed_dim", "num_heads", "embedding_dim", "num_embeddings", "d_model",
          "nhead", "dim_feedforward", "num_parameters", "n_classes", "num_encoder_layers", "num_decoder_layers",
          "groups", "kdim", "vdim", "upscale_factor", "downscale_factor"}
_INTS = {"blank", "ignore_index", "padding_idx", "start_dim", "end_dim", "dim"}
_FLAGS = {"bias", "affine", "track_running_stats", "batch_first", "bidirectional", "ceil_mode", "count_include_pad",
          "return_indices", "inplace", "elementwise_affine", "log_input", "full", "log_target", "sparse",
          "scale_grad_by_freq", "include_last_offset", "add_bias_kv", "add_zero_attn", "zero_infinity", "norm_first",
          "keepdim", "swap", "head_bias", "enable_nested_tensor", "mask_check", "size_average", "reduce",
          "align_corners"}
_NUMBERS = {"eps", "momentum", "alpha", "beta", "lambd", "margin", "delta", "negative_slope", "init", "lower", "upper",
            "label_smoothing", "div_value", "max_norm", "norm_type", "dropout", "layer_norm_eps", "p", "k", "min_val",
            "max_val", "threshold", "value"}
_NAMES = {"reduction", "padding_mode", "approximate", "mode"}
_SHAPES = {"kernel_size", "stride", "dilation", "output_padding", "normalized_shape", "size"}
_KINDS = {**{n: "size" for n in _SIZES}, **{n: "int" for n in _INTS}, **{n: "flag" for n in _FLAGS},
          **{n: "number" for n in _NUMBERS}, **{n: "str" for n in _NAMES}, **{n: "shape" for n in _SHAPES},
          "scale_factor": "scale", "output_size": "output_size"}


def _problem(module, name, kind, value):
    where = f"argument '{name}'"
    if kind == "flag":  # PyTorch's modules test flags by truth: 0 and 1 are flags too, an array is not
        ok = isinstance(value, (bool, np.bool_)) or (isinstance(value, numbers.Integral) and value in (0, 1))
        return None if ok else TypeError(f"{module}(): {name} should be a bool, got: {type(value).__name__}")
    if kind == "output_size":  # an adaptive pool's: a size, or one per dim where None keeps the input's
        if not isinstance(value, (tuple, list)):
            return argument_problem(module, where, "size", value)
        return next((p for p in (argument_problem(module, f"{where} (element {i})", "int", v)
                                 for i, v in enumerate(value) if v is not None) if p), None)
    if kind == "scale" and isinstance(value, (tuple, list)):  # a number, or one per spatial dim
        return next((p for p in (argument_problem(module, where, "number", v) for v in value) if p), None)
    return argument_problem(module, where, "number" if kind == "scale" else kind, value)


def check_arguments(module, arguments):
    """Raises the error the first bad one of `arguments` (name -> value of module's constructor) deserves by the
    kind its name has. None passes: PyTorch's modules take it for most of these (momentum, size_average, stride,
    kdim, ...), and where one does not, the module's own check refuses it."""
    for name, value in arguments.items():
        kind = _KINDS.get(name)
        if kind is None or value is None:
            continue
        problem = _problem(module, name, kind, value)
        if problem is not None:
            raise problem


def _checked(init):
    signature = inspect.signature(init)

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError:
            bound = None  # the constructor's own call raises Python's error for it
        if bound is not None:
            check_arguments(type(self).__name__, bound.arguments)
        init(self, *args, **kwargs)

    __init__._tl_checked = True
    return __init__


# The containers and DataParallel run the user's modules on inputs of any kind: their forward()s are not guarded.
# (Those that run user code on tensors, a custom encoder or distance function, are: keep_unexplained leaves that
# code's own errors as they are.)
_CONTAINERS = (Sequential, ModuleList, ModuleDict, DataParallel)
# forward() parameters that take a tensor, under names the op tables do not know as tensors (MultiheadAttention's
# value is a number elsewhere)
_FORWARD_TENSORS = {"anchor", "positive", "negative", "input1", "input2", "x1", "x2", "x", "log_probs", "targets",
                    "var", "log_input", "src", "tgt", "memory", "value"}


def _checked_forward(cls):
    """The forward() cls defines itself, guarded under cls's name (a private base's without its underscore); None
    where cls defines none or is a container."""
    forward = vars(cls).get("forward")
    if (not inspect.isfunction(forward) or getattr(forward, "_tl_guarded", False) or cls is Module
            or issubclass(cls, _CONTAINERS)):
        return None
    # keep_unexplained: a parametrization of a weight is user code inside even these forward()s
    tensors = _FORWARD_TENSORS & set(inspect.signature(forward).parameters)
    return guard(forward, f"{cls.__name__.lstrip('_')}.forward", keep_unexplained=True, tensors=tensors)


def check_module_arguments(classes):
    """Puts the checks before the __init__, and guards the forward(), of each class and of each of its tensorlogic
    bases that defines one."""
    for cls in classes:
        for base in cls.__mro__:
            if not base.__module__.startswith("tensorlogic."):
                continue
            init = vars(base).get("__init__")
            if inspect.isfunction(init) and not getattr(init, "_tl_checked", False):
                base.__init__ = _checked(init)
            forward = _checked_forward(base)
            if forward is not None:
                base.forward = forward
