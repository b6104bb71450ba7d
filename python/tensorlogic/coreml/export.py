"""tl.coreml.export: an nn.Module tree as a Core ML ML program (fp16 input and output, the module's
parameters as fp16 constants, macOS 13+), for prediction on the Neural Engine. The module is read
layer by layer (Sequential of Linear, LayerNorm, ReLU, GELU, SiLU, Tanh, Identity, Dropout in eval
form); other modules and plain functions raise TypeError naming what cannot be exported."""
import numpy as np

from . import programs


def _layers(module, nn):
    if isinstance(module, nn.Sequential):
        for child in module:
            yield from _layers(child, nn)
    elif isinstance(module, (nn.Linear, nn.LayerNorm, nn.ReLU, nn.GELU, nn.SiLU, nn.Tanh)):
        yield module
    elif isinstance(module, (nn.Identity, nn.Dropout)):
        return  # identity at inference
    else:
        raise TypeError(f"coreml.export: cannot export {type(module).__name__}; supported: Sequential, Linear, "
                        "LayerNorm, ReLU, GELU, SiLU, Tanh, Identity, Dropout")


def _const(tensor):
    return np.ascontiguousarray(tensor.detach().numpy(), dtype=np.float16)


def _emit(mb, nn, layer, x, index):
    name = f"layer{index}"
    if isinstance(layer, nn.Linear):
        bias = _const(layer.bias) if layer.bias is not None else np.zeros(layer.out_features, np.float16)
        return mb.linear(x=x, weight=_const(layer.weight), bias=bias, name=name)
    if isinstance(layer, nn.LayerNorm):
        axes = list(range(-len(layer.normalized_shape), 0))
        kwargs = {}
        if layer.weight is not None:
            kwargs["gamma"] = _const(layer.weight)
        if layer.bias is not None:
            kwargs["beta"] = _const(layer.bias)
        return mb.layer_norm(x=x, axes=axes, epsilon=np.float16(layer.eps), name=name, **kwargs)
    if isinstance(layer, nn.ReLU):
        return mb.relu(x=x, name=name)
    if isinstance(layer, nn.GELU):
        return mb.gelu(x=x, mode="TANH_APPROXIMATION" if layer.approximate == "tanh" else "EXACT", name=name)
    if isinstance(layer, nn.SiLU):
        return mb.silu(x=x, name=name)
    return mb.tanh(x=x, name=name)


def export(module, example_inputs, path):
    """Writes `module` (applied to one input shaped like example_inputs) to `path` (.mlpackage); returns path."""
    from .. import nn

    if not isinstance(module, nn.Module):
        raise TypeError(f"coreml.export: expected an nn.Module, got {type(module).__name__} "
                        "(plain functions cannot be exported: there is no tracer yet)")
    example = example_inputs[0] if isinstance(example_inputs, (tuple, list)) else example_inputs
    if isinstance(example_inputs, (tuple, list)) and len(example_inputs) != 1:
        raise ValueError(f"coreml.export: the supported modules take one input, got {len(example_inputs)}")
    layers = list(_layers(module, nn))
    ct = programs._ct()
    from coremltools.converters.mil import Builder as mb

    shape = tuple(int(s) for s in example.shape)

    def body(x):
        for i, layer in enumerate(layers):
            x = _emit(mb, nn, layer, x, i)
        return mb.identity(x=x, name="out")

    specs = [("x", shape)]
    model = programs._convert(programs._program(ct, specs, body), specs, {}, "export")
    model.save(str(path))
    return str(path)
