"""tl.coreml.export: a function or an nn.Module (run in eval mode) as a Core ML ML program for deployment:
fp16 inputs (x for one input, x0, x1, ... for several) and one fp16 output `out`, every tensor the function
reads but does not compute from its inputs (weights, captured tensors) as an fp16 constant, macOS 13+, meant
for CPU + Neural Engine. The function is traced on the example inputs (coreml/trace.py) and the recorded ops
are lowered to MIL (coreml/lower.py); an op without a Core ML counterpart raises UnsupportedOpError naming
it, and a function whose ops or constants depend on the input values raises TraceError."""
from .. import nn
from . import programs
from .lower import UnsupportedOpError, check_supported, lower
from .trace import TraceError, check_static, record

__all__ = ["export", "TraceError", "UnsupportedOpError"]


def _examples(example_inputs):
    if isinstance(example_inputs, (tuple, list)):
        if not example_inputs:
            raise ValueError("coreml.export: needs at least one example input")
        return list(example_inputs)
    return [example_inputs]


def export(module_or_function, example_inputs, path):
    """Writes `module_or_function` applied to inputs shaped like `example_inputs` (a Tensor or a sequence of
    them) to `path` (.mlpackage); returns the path as a string. Nothing is written when it raises."""
    if not callable(module_or_function):
        raise TypeError(f"coreml.export: expected an nn.Module or a function, got {type(module_or_function).__name__}")
    examples = _examples(example_inputs)
    fn = module_or_function
    modes = [(m, m.training) for m in fn.modules()] if isinstance(fn, nn.Module) else []
    if modes:
        fn.eval()  # dropout is the identity at inference
    try:
        graph = record(fn, examples)
        check_supported(graph)
        check_static(fn, examples, graph)
    finally:
        for m, training in modes:  # each submodule's own mode back
            object.__setattr__(m, "training", training)
    ct = programs._ct()
    mb = ct.converters.mil.Builder

    names = ["x"] if len(examples) == 1 else [f"x{i}" for i in range(len(examples))]
    specs = [(name, tuple(int(s) for s in x.shape)) for name, x in zip(names, examples)]

    def body(**inputs):
        return mb.identity(x=lower(mb, graph, [inputs[name] for name in names]), name="out")

    model = programs._convert(programs._program(ct, specs, body), specs, {}, "export")
    model.save(str(path))
    return str(path)
