"""Core ML models that run ops on the Apple Neural Engine (the `ane` device, SPEC §3 and §8).

`build(op, **attrs)` returns the path of a cached .mlpackage (an fp16 ML program for macOS 13+ with
enumerated leading sizes) for one of: matmul, linear, conv2d, add_relu, mul_relu, affine. Building needs
coremltools (the `apple` extra) and works on any OS; tl.planner decides which shapes get a model, and
compiling and running the models happens in the native `ane` backend on macOS.
`ACTIVATIONS` names the activations a linear or conv2d model may end with, and `FUSED` the fused
elementwise ops build() accepts.
`export(module_or_function, example_inputs, path)` traces a function or an nn.Module on example inputs and
writes the recorded ops as one ML program with its weights as constants.
"""
from . import programs
from .cache import cache_dir, cached_package, model_key
from .export import TraceError, UnsupportedOpError, export
from .programs import ACTIVATIONS, FUSED

__all__ = ["ACTIVATIONS", "FUSED", "TraceError", "UnsupportedOpError", "build", "cache_dir", "export", "is_available",
           "programs"]


def is_available():
    """Whether coremltools is installed (needed to build models, not to run cached ones)."""
    try:
        programs._ct()
    except ImportError:
        return False
    return True


def _plain(value):
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or isinstance(value, str):
        return value
    return int(value)


_BUILDERS = {
    "matmul": programs.matmul,
    "linear": programs.linear,
    "conv2d": programs.conv2d,
}


def build(op, **attrs):
    """The .mlpackage path for `op` with these attributes, built on first use and cached on disk.

    matmul(m_values, k, n, batch=(), transpose_b=False); linear(m_values, in_features, out_features,
    bias=True, activation='none', residual=False); conv2d(n_values, in_shape, weight_shape, stride,
    padding, dilation, groups, bias, activation); add_relu / mul_relu / affine (shape).
    """
    attrs = {k: _plain(v) for k, v in attrs.items()}
    if op in FUSED:
        builder = lambda: programs.fused(op, **attrs)  # noqa: E731
    elif op in _BUILDERS:
        builder = lambda: _BUILDERS[op](**attrs)  # noqa: E731
    else:
        raise ValueError(f"coreml.build: unknown op {op!r}; expected one of {sorted(_BUILDERS) + list(FUSED)}")
    version = programs._ct().__version__  # ImportError with the install hint before touching the cache
    return cached_package(model_key(op, attrs, version), builder)

