"""Lowering of a traced graph (coreml/trace.py) to MIL ops: one emitter per autograd Function family, the
family's op picked by name. Tensors the graph did not compute become fp16 constants. An op without a Core
ML counterpart here raises UnsupportedOpError naming it."""
import numpy as np

from ..tensor import Tensor
from .programs import _activation


class UnsupportedOpError(TypeError):
    """coreml.export met an op it cannot write as Core ML; `.op` is the op's name."""

    def __init__(self, op, detail=""):
        self.op = op
        super().__init__(f"coreml.export: {op} has no Core ML lowering{': ' + detail if detail else ''} "
                         f"(supported: {', '.join(sorted(supported_ops()))})")


def _pair(v):
    return [int(v), int(v)] if isinstance(v, (int, np.integer)) else [int(x) for x in v]


def _axes(dims, ndim):
    if dims is None or (isinstance(dims, (list, tuple)) and len(dims) == 0):
        return list(range(ndim))
    dims = [dims] if isinstance(dims, (int, np.integer)) else dims
    return [int(d) % ndim for d in dims]


def _scalar(v):
    return np.float16(v)


# ---- elementwise ---------------------------------------------------------------------------------------
_UNARY = {
    "neg": lambda mb, x, p0, p1, n: mb.mul(x=x, y=np.float16(-1), name=n),
    "abs": lambda mb, x, p0, p1, n: mb.abs(x=x, name=n),
    "exp": lambda mb, x, p0, p1, n: mb.exp(x=x, name=n),
    "log": lambda mb, x, p0, p1, n: mb.log(x=x, name=n),
    "sqrt": lambda mb, x, p0, p1, n: mb.sqrt(x=x, name=n),
    "rsqrt": lambda mb, x, p0, p1, n: mb.rsqrt(x=x, epsilon=np.float16(0), name=n),
    "sin": lambda mb, x, p0, p1, n: mb.sin(x=x, name=n),
    "cos": lambda mb, x, p0, p1, n: mb.cos(x=x, name=n),
    "tanh": lambda mb, x, p0, p1, n: mb.tanh(x=x, name=n),
    "sigmoid": lambda mb, x, p0, p1, n: mb.sigmoid(x=x, name=n),
    "relu": lambda mb, x, p0, p1, n: mb.relu(x=x, name=n),
    "gelu": lambda mb, x, p0, p1, n: mb.gelu(x=x, mode="EXACT", name=n),
    "gelu_tanh": lambda mb, x, p0, p1, n: mb.gelu(x=x, mode="TANH_APPROXIMATION", name=n),
    "silu": lambda mb, x, p0, p1, n: mb.silu(x=x, name=n),
    "reciprocal": lambda mb, x, p0, p1, n: mb.inverse(x=x, epsilon=np.float16(0), name=n),
    "square": lambda mb, x, p0, p1, n: mb.mul(x=x, y=x, name=n),
    "sign": lambda mb, x, p0, p1, n: mb.sign(x=x, name=n),
    "floor": lambda mb, x, p0, p1, n: mb.floor(x=x, name=n),
    "ceil": lambda mb, x, p0, p1, n: mb.ceil(x=x, name=n),
    "round": lambda mb, x, p0, p1, n: mb.round(x=x, name=n),
    "clamp": lambda mb, x, p0, p1, n: mb.clip(x=x, alpha=np.float16(max(p0, -65504.0)),
                                              beta=np.float16(min(p1, 65504.0)), name=n),
    "pow": lambda mb, x, p0, p1, n: mb.pow(x=x, y=np.float16(p0), name=n),
}

# Comparisons are absent: their masks are not recorded by autograd (they carry no gradient), so a traced
# function sees them as values computed outside the graph (trace.check_static rejects those).
_BINARY = {"add": "add", "sub": "sub", "mul": "mul", "div": "real_div", "pow": "pow", "maximum": "maximum",
           "minimum": "minimum"}


def _unary(mb, step, v, n):
    op, x = step.args[0], v(step.args[1])
    p0 = step.args[2] if len(step.args) > 2 else 0.0
    p1 = step.args[3] if len(step.args) > 3 else 0.0
    if op.name == "softplus" and p0 == 1.0:
        return mb.softplus(x=x, name=n)  # PyTorch's threshold (x > 20: x) differs from log1p(exp(x)) < an f16 ulp
    if op.name not in _UNARY:
        raise UnsupportedOpError(op.name)
    return _UNARY[op.name](mb, x, float(p0), float(p1), n)


def _binary(mb, step, v, n):
    op, a, b = step.args[0].name, v(step.args[1]), v(step.args[2])
    if op in ("add_relu", "mul_relu"):
        inner = (mb.add if op == "add_relu" else mb.mul)(x=a, y=b, name=n + "_inner")
        return mb.relu(x=inner, name=n)
    if op not in _BINARY:
        raise UnsupportedOpError(op)
    return getattr(mb, _BINARY[op])(x=a, y=b, name=n)


def _affine(mb, step, v, n):
    x, a, b = (v(t) for t in step.args[:3])
    return mb.add(x=mb.mul(x=x, y=a, name=n + "_mul"), y=b, name=n)


def _where(mb, step, v, n):
    cond, a, b = (v(t) for t in step.args[:3])
    keep = mb.not_equal(x=cond, y=np.float16(0), name=n + "_cond")
    return mb.select(cond=keep, a=a, b=b, name=n)


# ---- linear algebra, rows, reductions ------------------------------------------------------------------
def _matmul(mb, step, v, n):
    return mb.matmul(x=v(step.args[0]), y=v(step.args[1]), name=n)


def _linear(mb, step, v, graph, n):
    x, w, bias, residual, activation = step.args[:5]
    constant_w = not graph.is_traced(w) and (bias is None or not graph.is_traced(bias))
    if constant_w and len(w.shape) == 2:
        b = v(bias) if bias is not None else np.zeros(w.shape[0], np.float16)
        y = mb.linear(x=v(x), weight=v(w), bias=b, name=n + "_linear")
    else:
        y = mb.matmul(x=v(x), y=v(w), transpose_y=True, name=n + "_matmul")
        if bias is not None:
            y = mb.add(x=y, y=v(bias), name=n + "_bias")
    if residual is not None:
        y = mb.add(x=y, y=v(residual), name=n + "_residual")
    return _activation(mb, y, activation, n)


def _softmax(mb, step, v, n):
    x, dim = step.args[0], step.args[1]
    return mb.softmax(x=v(x), axis=int(dim) % len(x.shape), name=n)


def _log_softmax(mb, step, v, n):
    x, dim = step.args[0], step.args[1]
    xv = v(x)
    lse = mb.reduce_log_sum_exp(x=xv, axes=[int(dim) % len(x.shape)], keep_dims=True, name=n + "_lse")
    return mb.sub(x=xv, y=lse, name=n)


def _norm(mb, step, v, graph, n):
    x, weight, bias, shape, eps, rms = step.args[:6]
    axes = list(range(len(x.shape) - len(shape), len(x.shape)))
    xv = v(x)
    if rms:
        mean = mb.reduce_mean(x=mb.mul(x=xv, y=xv, name=n + "_sq"), axes=axes, keep_dims=True, name=n + "_ms")
        scale = mb.rsqrt(x=mb.add(x=mean, y=np.float16(eps), name=n + "_eps"), name=n + "_rstd")
        y = mb.mul(x=xv, y=scale, name=n + ("_normed" if weight is not None else ""))
        return y if weight is None else mb.mul(x=y, y=v(weight), name=n)
    constant = all(t is None or not graph.is_traced(t) for t in (weight, bias))
    kwargs = {}
    if constant:
        if weight is not None:
            kwargs["gamma"] = v(weight)
        if bias is not None:
            kwargs["beta"] = v(bias)
    tail = constant or (weight is None and bias is None)
    y = mb.layer_norm(x=xv, axes=axes, epsilon=np.float16(eps), name=n if tail else n + "_normed", **kwargs)
    if tail:
        return y
    if weight is not None:
        y = mb.mul(x=y, y=v(weight), name=n if bias is None else n + "_scaled")
    return y if bias is None else mb.add(x=y, y=v(bias), name=n)


_REDUCE = {"sum": "reduce_sum", "mean": "reduce_mean", "max": "reduce_max", "min": "reduce_min",
           "prod": "reduce_prod", "logsumexp": "reduce_log_sum_exp"}


def _reduce(mb, step, v, n):
    op, x, dims, keepdim = step.args[0].name, step.args[1], step.args[2], step.args[3]
    if op not in _REDUCE:
        raise UnsupportedOpError(op)
    if len(x.shape) == 0:
        return mb.identity(x=v(x), name=n)
    return getattr(mb, _REDUCE[op])(x=v(x), axes=_axes(dims, len(x.shape)), keep_dims=bool(keepdim), name=n)


# ---- shapes ----------------------------------------------------------------------------------------------
def _reshape(mb, step, v, n):
    return mb.reshape(x=v(step.args[0]), shape=list(step.out.shape), name=n)


def _permute(mb, step, v, n):
    x, dims = step.args[0], step.args[1]
    return mb.transpose(x=v(x), perm=[int(d) % len(x.shape) for d in dims], name=n)


def _expand(mb, step, v, n):
    x, out = step.args[0], tuple(step.out.shape)
    shape = (1,) * (len(out) - len(x.shape)) + tuple(x.shape)
    xv = v(x) if len(shape) == len(x.shape) else mb.reshape(x=v(x), shape=list(shape), name=n + "_rank")
    return mb.tile(x=xv, reps=[o // s for o, s in zip(out, shape)], name=n)


def _join(mb, step, v, n):
    op, dim, tensors = step.name, int(step.args[1]), step.args[2:]
    values = [v(t) for t in tensors]
    if op == "cat":
        return mb.concat(values=values, axis=dim % len(tensors[0].shape), name=n)
    if op == "stack":
        return mb.stack(values=values, axis=dim % (len(tensors[0].shape) + 1), name=n)
    raise UnsupportedOpError(op)


def _same_values(mb, step, v, n):
    return v(step.args[0])  # contiguous, clone, to(device): the same values


# ---- convolution ------------------------------------------------------------------------------------------
def _conv2d(mb, step, v, n):
    x, w, bias, stride, padding, dilation, groups = step.args[:7]
    p = _pair(padding)
    y = mb.conv(x=v(x), weight=v(w), strides=_pair(stride), pad_type="custom", pad=[p[0], p[0], p[1], p[1]],
                dilations=_pair(dilation), groups=int(groups), name=n if bias is None else n + "_conv")
    if bias is None:
        return y
    b = mb.reshape(x=v(bias), shape=[1, int(bias.shape[0]), 1, 1], name=n + "_bias_nchw")
    return mb.add(x=y, y=b, name=n)


def _pool(mb, step, v, n):
    x, kind, kernel, stride, padding, dilation, ceil_mode, count_include_pad = step.args[:8]
    if any(d != 1 for d in _pair(dilation)):
        raise UnsupportedOpError(kind, "dilated pooling")
    k = _pair(kernel)
    s = _pair(stride) if stride is not None and stride != [] else k
    p = _pair(padding)
    common = dict(x=v(x), kernel_sizes=k, strides=s, pad_type="custom", pad=[p[0], p[0], p[1], p[1]],
                  ceil_mode=bool(ceil_mode), name=n)
    if kind == "max_pool2d":
        return mb.max_pool(**common)
    return mb.avg_pool(exclude_padding_from_average=not count_include_pad, **common)


_EMITTERS = {
    "_Unary": _unary, "_Binary": _binary, "_Affine": _affine, "_Where": _where, "_Matmul": _matmul,
    "_Softmax": _softmax, "_LogSoftmax": _log_softmax, "_Reduce": _reduce, "_Reshape": _reshape,
    "_Permute": _permute, "_Expand": _expand, "_Join": _join, "_Copy": _same_values, "_Move": _same_values,
    "_Conv2d": _conv2d, "_Pool": _pool,
}
_GRAPH_EMITTERS = {"_Linear": _linear, "_Norm": _norm}  # these also ask which operands are constants


def supported_ops():
    names = set(_UNARY) | {"softplus"} | set(_BINARY) | {"add_relu", "mul_relu"} | set(_REDUCE)
    return names | {"affine", "where", "matmul", "linear", "softmax", "log_softmax", "layer_norm", "rms_norm",
                    "reshape", "view", "squeeze", "unsqueeze", "flatten", "permute", "transpose", "expand", "cat",
                    "stack", "contiguous", "clone", "to", "conv2d", "max_pool2d", "avg_pool2d"}


def check_supported(graph):
    """UnsupportedOpError for the first step that has no emitter at all (op-level checks come in lower)."""
    for step in graph.steps:
        if step.kind not in _EMITTERS and step.kind not in _GRAPH_EMITTERS:
            raise UnsupportedOpError(step.name)


def lower(mb, graph, inputs):
    """The MIL var of graph.output, given the MIL vars of graph.inputs (in order)."""
    env = {id(x): var for x, var in zip(graph.inputs, inputs)}

    def key(t):
        return ("node", id(t.grad_fn)) if t.grad_fn is not None else id(t)

    def value(t):
        if not isinstance(t, Tensor):
            return _scalar(t)
        k = key(t)
        if k in env:
            return env[k]
        return np.ascontiguousarray(t.detach().numpy(), dtype=np.float16)  # a constant of the graph

    for i, step in enumerate(graph.steps):
        name = f"{step.name}_{i}"
        if step.kind in _GRAPH_EMITTERS:
            var = _GRAPH_EMITTERS[step.kind](mb, step, value, graph, name)
        elif step.kind in _EMITTERS:
            var = _EMITTERS[step.kind](mb, step, value, name)
        else:
            raise UnsupportedOpError(step.name)
        env[step.key] = var
    return value(graph.output)
