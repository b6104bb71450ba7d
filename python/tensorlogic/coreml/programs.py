"""Core ML ML programs (coremltools MIL) for the ops the Neural Engine runs: matmul, linear (+ bias,
+ residual, + activation), conv2d and the fused elementwise ops. Every input and output is fp16, weights
are inputs (one model serves any weight values, and Metal buffers are passed without copying), the
leading dimension is enumerated, and the minimum deployment target is macOS 13 (macOS 15 where two inputs
have enumerated shapes, which older Core ML cannot take)."""
import numpy as np

ACTIVATIONS = ("none", "relu", "gelu", "gelu_tanh", "silu")
FUSED = ("add_relu", "mul_relu", "affine")


def _ct():
    """coremltools, imported on first use: the one import inside a function in tensorlogic (see
    tests/test_layering.py), because it is optional and loading it takes seconds (it loads torch)."""
    try:
        import coremltools as ct
    except ImportError as e:  # an optional dependency: the `apple` extra
        raise ImportError("tensorlogic.coreml needs coremltools: pip install 'tensorlogic[apple]'") from e
    return ct


def _activation(mb, y, activation, name):
    if activation == "none":
        return mb.identity(x=y, name=name)
    if activation == "relu":
        return mb.relu(x=y, name=name)
    if activation == "gelu":
        return mb.gelu(x=y, mode="EXACT", name=name)
    if activation == "gelu_tanh":
        return mb.gelu(x=y, mode="TANH_APPROXIMATION", name=name)
    return mb.silu(x=y, name=name)


def _convert(prog, inputs, enumerated, op):
    """inputs: [(name, shape)]; enumerated: {name: [shapes]} for inputs whose leading size varies."""
    ct = _ct()
    # Core ML accepts one input with enumerated shapes before macOS 15 (iOS 18).
    several = sum(len(shapes) > 1 for shapes in enumerated.values()) > 1
    target = ct.target.macOS15 if several else ct.target.macOS13
    types = []
    for name, shape in inputs:
        if name in enumerated:
            choices = [tuple(s) for s in enumerated[name]]
            shape = ct.EnumeratedShapes(shapes=choices, default=choices[0]) if len(choices) > 1 else choices[0]
        types.append(ct.TensorType(name=name, shape=shape, dtype=np.float16))
    model = ct.convert(prog, convert_to="mlprogram", inputs=types, outputs=[ct.TensorType(name="out", dtype=np.float16)],
                       minimum_deployment_target=target, compute_precision=ct.precision.FLOAT16,
                       compute_units=ct.ComputeUnit.CPU_AND_NE)
    # Compute units are a load option, not part of the spec: record the intended ones for the loader.
    model.user_defined_metadata["tensorlogic.op"] = op
    model.user_defined_metadata["tensorlogic.compute_units"] = "CPU_AND_NE"
    return model


def _program(ct, specs, body):
    """A MIL program whose inputs are the named fp16 tensors of `specs`; body(**inputs) -> output var."""
    mb, mil = ct.converters.mil.Builder, ct.converters.mil.mil
    Function, Program, types = mil.Function, mil.Program, mil.types
    with Function({name: mb.TensorSpec(shape=shape, dtype=types.fp16) for name, shape in specs},
                  ct.target.macOS13) as func:
        func.set_outputs([body(**{name: func.inputs[name] for name, _ in specs})])
    prog = Program()
    prog.add_function("main", func)
    return prog


def _enumerate(values):
    """(the dimension: a symbol when several sizes are enumerated, else the size; the sorted sizes)."""
    get_new_symbol = _ct().converters.mil.mil.get_new_symbol
    values = sorted(set(int(v) for v in values))
    if not values or values[0] < 1:
        raise ValueError(f"coreml: enumerated sizes must be positive, got {values}")
    return (get_new_symbol() if len(values) > 1 else values[0]), values


def matmul(m_values, k, n, batch=(), transpose_b=False):
    """out[..., m, n] = a[..., m, k] @ b[..., k, n] (b given as [..., n, k] when transpose_b)."""
    ct = _ct()
    mb = ct.converters.mil.Builder

    batch = tuple(int(b) for b in batch)
    m_dim, ms = _enumerate(m_values)
    specs = [("a", batch + (m_dim, k)), ("b", batch + ((n, k) if transpose_b else (k, n)))]

    def body(a, b):
        return mb.matmul(x=a, y=b, transpose_y=transpose_b, name="out")

    return _convert(_program(ct, specs, body), specs, {"a": [batch + (m, k) for m in ms]}, "matmul")


def linear(m_values, in_features, out_features, bias=True, activation="none", residual=False):
    """out = activation(x @ w.T + bias + residual), x [m, in], w [out, in]: the fused linear family."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"coreml.linear: activation must be one of {ACTIVATIONS}, got {activation!r}")
    ct = _ct()
    mb = ct.converters.mil.Builder

    m_dim, ms = _enumerate(m_values)
    specs = [("x", (m_dim, in_features)), ("w", (out_features, in_features))]
    if bias:
        specs.append(("b", (out_features,)))
    if residual:
        specs.append(("residual", (m_dim, out_features)))

    def body(**v):
        y = mb.matmul(x=v["x"], y=v["w"], transpose_y=True, name="matmul")
        if bias:
            y = mb.add(x=y, y=v["b"], name="bias")
        if residual:
            y = mb.add(x=y, y=v["residual"], name="add_residual")
        return _activation(mb, y, activation, "out")

    enumerated = {"x": [(m, in_features) for m in ms]}
    if residual:
        enumerated["residual"] = [(m, out_features) for m in ms]
    return _convert(_program(ct, specs, body), specs, enumerated, "linear")


def conv2d(n_values, in_shape, weight_shape, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1, bias=True,
           activation="none"):
    """NCHW conv2d: x [n, c, h, w] (n enumerated), weight [o, c / groups, kh, kw], bias [o]."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"coreml.conv2d: activation must be one of {ACTIVATIONS}, got {activation!r}")
    c, h, w = in_shape
    o, cg, kh, kw = weight_shape
    if any(d != 1 for d in dilation):
        raise ValueError(f"coreml.conv2d: dilation {tuple(dilation)} is not supported: Core ML convolutions whose "
                         "weights are inputs take no dilation (such convolutions run on Metal)")
    if c != cg * groups or o % groups != 0:
        raise ValueError(f"coreml.conv2d: input channels {c} and weight {tuple(weight_shape)} do not match groups={groups}")
    ct = _ct()
    mb = ct.converters.mil.Builder

    n_dim, ns = _enumerate(n_values)
    specs = [("x", (n_dim, c, h, w)), ("w", tuple(weight_shape))]
    if bias:
        specs.append(("b", (o,)))

    def body(**v):
        y = mb.conv(x=v["x"], weight=v["w"], strides=list(stride), pad_type="custom",
                    pad=[padding[0], padding[0], padding[1], padding[1]], dilations=list(dilation), groups=groups,
                    name="conv")
        if bias:
            y = mb.add(x=y, y=mb.reshape(x=v["b"], shape=[1, o, 1, 1], name="bias_nchw"), name="bias")
        return _activation(mb, y, activation, "out")

    return _convert(_program(ct, specs, body), specs, {"x": [(n, c, h, w) for n in ns]}, "conv2d")


def fused(op, shape):
    """add_relu(a, b), mul_relu(a, b) and affine(a, b, c) = a * b + c over one shape."""
    if op not in FUSED:
        raise ValueError(f"coreml.fused: op must be one of {FUSED}, got {op!r}")
    ct = _ct()
    mb = ct.converters.mil.Builder

    shape = tuple(int(s) for s in shape)
    names = ["a", "b", "c"] if op == "affine" else ["a", "b"]
    specs = [(name, shape) for name in names]

    def body(a, b, c=None):
        if op == "affine":
            return mb.add(x=mb.mul(x=a, y=b, name="mul"), y=c, name="out")
        y = mb.add(x=a, y=b, name="sum") if op == "add_relu" else mb.mul(x=a, y=b, name="product")
        return mb.relu(x=y, name="out")

    return _convert(_program(ct, specs, body), specs, {}, op)
