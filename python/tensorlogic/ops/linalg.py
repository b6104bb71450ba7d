"""Linear algebra: matmul (and the @ operator), mm, bmm, linear, einsum, tril, triu."""
import numbers

from .. import _core
from .._convert import numpy_to_array
from ..autograd.broadcast import sum_to
from ..autograd.function import _NULL, Function
from ..autograd.grad_mode import is_grad_enabled
from ..creation import eye
from ..errors import ShapeMismatchError
from ..tensor import Tensor, _wrap, tensor_method
from .elementwise import _UNARY_GRAD, kept_column_sums
from .integer_products import exact_integer_operands, integer_einsum, integer_matmul
from .reduction import _Reduce
from .shape import _Reshape

_ACTIVATIONS = ("none", "relu", "gelu", "gelu_tanh", "silu")
_SUM = _core.ReduceOp.sum


def _native(value, like=None):
    """The native array of a Tensor, or of array-like data placed on the device of `like`."""
    if isinstance(value, Tensor):
        return value._a
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        raise TypeError(f"expected a tensor, got a Python scalar {value!r}")
    device = like._a.device if isinstance(like, Tensor) else "cpu"
    return numpy_to_array(value, None, device, False)


@tensor_method()
def matmul(input, other):
    """Matrix product with PyTorch's rules: 1-d operands are vectors, batch dimensions broadcast."""
    if not isinstance(input, Tensor):
        input = _wrap(_native(input, other))
    if not isinstance(other, Tensor):
        other = _wrap(_native(other, input))
    if exact_integer_operands((input, other)):
        return integer_matmul(input, other)
    return _Matmul.apply(input, other)


# ---- autograd (backward formulas in differentiable tensor ops) -------------------------------------
class _Matmul(Function):
    native_forward = True  # (see Function: no grad-mode switch around it)

    @staticmethod
    def forward(ctx, a, b):
        if ctx is not _NULL:  # (the null ctx's methods are Python calls that do nothing: ~0.1 us each)
            ctx.save_for_backward(a, b)
        return _wrap(_core.matmul(a._a, b._a))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a2 = a.reshape(1, a.shape[0]) if a.ndim == 1 else a  # vectors as matrices, as the forward treats them
        b2 = b.reshape(b.shape[0], 1) if b.ndim == 1 else b
        if a.ndim == 1 and b.ndim == 1:
            g2 = g.reshape(1, 1)
        elif a.ndim == 1:
            g2 = g.reshape(tuple(g.shape[:-1]) + (1, g.shape[-1]))
        elif b.ndim == 1:
            g2 = g.reshape(tuple(g.shape) + (1,))
        else:
            g2 = g
        # _Matmul.apply, not `@`: the operands are tensors already (matmul() only converts and dispatches)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = sum_to(_Matmul.apply(g2, b2.mT), a2.shape)
            ga = ga.reshape(a.shape) if a2 is not a else ga
        if ctx.needs_input_grad[1]:
            gb = sum_to(_Matmul.apply(a2.mT, g2), b2.shape)
            gb = gb.reshape(b.shape) if b2 is not b else gb
        return ga, gb


@tensor_method("__matmul__")
def _matmul_operator(self, other):
    return matmul(self, other)


@tensor_method("__rmatmul__")
def _rmatmul_operator(self, other):
    return matmul(other, self)


@tensor_method()
def mm(input, mat2):
    """Product of two 2-d matrices (no broadcasting)."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise ShapeMismatchError(f"mm: expected two 2-d matrices, got shapes {list(input.shape)} and {list(mat2.shape)}")
    return matmul(input, mat2)


@tensor_method()
def bmm(input, mat2):
    """Batched product of [B, n, m] and [B, m, p] (no broadcasting)."""
    if input.ndim != 3 or mat2.ndim != 3 or input.shape[0] != mat2.shape[0]:
        raise ShapeMismatchError(
            f"bmm: expected [B, n, m] and [B, m, p] with one batch size, got shapes {list(input.shape)} and {list(mat2.shape)}"
        )
    return matmul(input, mat2)


def linear(input, weight, bias=None, activation="none", residual=None):
    """input @ weight.T (+ bias) (+ residual), then the activation, rounded once (a fused kernel)."""
    if activation is None:
        activation = "none"
    if activation not in _ACTIVATIONS:
        raise ValueError(f"linear: unknown activation {activation!r}; expected one of {', '.join(_ACTIVATIONS)}")
    if not isinstance(input, Tensor):
        input = _wrap(_native(input, weight))
    if not isinstance(bias, (Tensor, type(None))):
        bias = _wrap(_native(bias, input))
    if not isinstance(residual, (Tensor, type(None))):
        residual = _wrap(_native(residual, input))
    return _Linear.apply(input, weight, bias, residual, activation)


class _Linear(Function):
    """The fused linear family. With an activation, the backward recomputes the pre-activation z with
    linear() (so the formula stays differentiable) and applies the activation's derivative table."""

    native_forward = True  # (see Function: no grad-mode switch around it)

    @staticmethod
    def forward(ctx, x, w, bias, residual, activation):
        if ctx is not _NULL:
            ctx.activation = activation
            ctx.save_for_backward(x, w, bias, residual)
        return _wrap(_core.linear(_native(x), _native(w, x), None if bias is None else bias._a, activation,
                                  None if residual is None else residual._a))

    @staticmethod
    def wants_column_sums(node):
        """Whether this node's backward would sum its output gradient's columns (its bias gradient): an activation
        after it then sums them in its own backward pass (ops/elementwise.py)."""
        return node.activation == "none" and node.needs_input_grad[2]

    @staticmethod
    def backward(ctx, g):
        x, w, bias, residual = ctx.saved_tensors
        if ctx.activation != "none":
            z = linear(x, w, bias, "none", residual)
            op = getattr(_core.UnaryOp, ctx.activation)
            g = _UNARY_GRAD[op](g, z, None, 0.0, 0.0)
        need = ctx.needs_input_grad
        gx = _Matmul.apply(g, w) if need[0] else None
        gb = kept_column_sums(g) if bias is not None and need[2] else None
        if gb is None and bias is not None and need[1] and need[2] and (g.requires_grad or not is_grad_enabled()):
            # Both from one native call: one pass over g where the backend sums the bias in the weight GEMM's
            # epilogue (CUDA, opt-in: TL_CUDA_BGRAD in cuda/gemm.cpp), else the GEMM and the column sum. (With
            # create_graph and a g that requires no grad, its node would make gb require grad through x, where
            # PyTorch's gb, g's sum alone, requires none.)
            gw, gb = _LinearWeightBiasGrad.apply(g, x)
        else:
            out_features, in_features = w._a.shape
            # Batch dims flattened for the weight's gradient, through _Reshape itself (the public reshape's guard
            # and argument parsing cost as much as the view).
            g2 = g if g._a.ndim == 2 else _Reshape.apply(g, _core.reshape, (-1, out_features))
            x2 = x if x._a.ndim == 2 else _Reshape.apply(x, _core.reshape, (-1, in_features))
            gw = _Matmul.apply(g2.mT, x2) if need[1] else None
            # The bias's sum through its Function, not the public sum(): its guard and argument parsing cost 2x
            # the native reduce (every linear's backward; makemore's RNN runs 17 per step)
            if gb is None and bias is not None and need[2]:
                gb = _Reduce.apply(_SUM, g2, [0], False, 1.0, 2.0)
        gr = sum_to(g, residual.shape) if residual is not None and need[3] else None
        return gx, gw, gb, gr


class _LinearWeightBiasGrad(Function):
    """(gw, gb) = (g^T x, g summed over its rows) of linear's output gradient g [..., N] and input x [..., K], the
    leading dims flattened to rows, in one native call (_core.linear_weight_bias_grad). Differentiable: as gw is
    bilinear in g and x and gb linear in g, the backward of (ggw, ggb) is g's gradient linear(x, ggw, ggb) and
    x's gradient g @ ggw."""

    multi_output = True

    @staticmethod
    def forward(ctx, g, x):
        if ctx is not _NULL:
            ctx.save_for_backward(g, x)
        gw, gb = _core.linear_weight_bias_grad(g._a, x._a)
        return _wrap(gw), _wrap(gb)

    @staticmethod
    def backward(ctx, ggw, ggb):
        g, x = ctx.saved_tensors
        need = ctx.needs_input_grad
        gg = gx = None
        if need[0]:
            if ggw is not None:
                gg = linear(x, ggw, ggb)
            else:  # only gb's gradient arrived: each row of g gets it
                gg = ggb.expand(tuple(g.shape))
        if need[1] and ggw is not None:
            gx = _Matmul.apply(g, ggw)
        return gg, gx


def einsum_arguments(equation, operands):
    """(equation, operands) of an einsum call in either of torch.einsum's forms: an equation and the operands (or
    one list of them), or the sublist form einsum(op1, [0, 1], op2, [1, 2], [0, 2]) whose labels are ints in
    [0, 52) (0-25 written A-Z, 26-51 a-z, so that an implicit output keeps their order, as PyTorch's does) or
    Ellipsis."""
    if isinstance(equation, str):
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
        return equation, operands
    args = (equation,) + tuple(operands)
    output = args[-1] if len(args) % 2 else None
    tensors, sublists = args[0:len(args) - len(args) % 2:2], args[1::2]
    if len(args) < 2 or not all(isinstance(sub, (list, tuple)) for sub in sublists + (output or (),)):
        raise TypeError(f"einsum: the equation must be a string, got {type(equation).__name__}")

    def letters(sublist):
        out = ""
        for label in sublist:
            if label is Ellipsis:
                out += "..."
            elif isinstance(label, int) and not isinstance(label, bool) and 0 <= label < 52:
                out += chr(ord("A") + label) if label < 26 else chr(ord("a") + label - 26)
            else:
                raise ValueError(f"einsum(): subscript in subscript list is not within the valid range [0, 52), got "
                                 f"{label!r}")
        return out

    lhs = ",".join(letters(sub) for sub in sublists)
    return (lhs if output is None else lhs + "->" + letters(output)), tensors


def einsum(equation, *operands):
    """Einstein summation over any number of operands (a list is accepted too), like torch.einsum; also in its
    sublist form, einsum(op1, [0, 1], op2, [1, 2], [0, 2])."""
    equation, operands = einsum_arguments(equation, operands)
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the equation must be a string, got {type(equation).__name__}")
    first = next((o for o in operands if isinstance(o, Tensor)), None)
    operands = [o if isinstance(o, Tensor) else _wrap(_native(o, first)) for o in operands]
    if exact_integer_operands(operands):
        return integer_einsum(equation, operands)
    return _Einsum.apply(equation, *operands)


def _einsum_spec(equation, shapes):
    """The equation with '...' replaced by letters and an explicit output: ([subscripts], output)."""
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    subs = lhs.split(",")
    used = set(c for c in eq if c.isalpha())
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in used]
    width = max((len(shape) - (len(sub) - 3) for sub, shape in zip(subs, shapes) if "..." in sub), default=0)
    ell = "".join(spare[:width])
    subs = [sub.replace("...", ell[width - (len(shape) - (len(sub) - 3)):]) for sub, shape in zip(subs, shapes)]
    if arrow:
        out = out.replace("...", ell)
    else:
        counts = {}
        for c in "".join(subs):
            counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return subs, out


class _Einsum(Function):
    """The gradient of operand i is an einsum of g with the other operands onto operand i's subscripts;
    letters that only operand i has are broadcast back with expand, and broadcast size-1 dims summed."""

    @staticmethod
    def forward(ctx, equation, *operands):
        ctx.equation = equation
        ctx.save_for_backward(*operands)
        return _wrap(_core.einsum(equation, [o._a for o in operands]))

    @staticmethod
    def backward(ctx, g):
        operands = ctx.saved_tensors
        subs, out = _einsum_spec(ctx.equation, [o.shape for o in operands])
        grads = [None]
        for i, (sub, x) in enumerate(zip(subs, operands)):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            # A repeated index (a diagonal, "ii") is first differentiated as if it appeared once.
            uniq = "".join(dict.fromkeys(sub))
            uniq_shape = [x.shape[sub.index(c)] for c in uniq]
            others = [s for j, s in enumerate(subs) if j != i]
            reachable = set(out).union(*others) if others else set(out)
            target = "".join(c for c in uniq if c in reachable)
            spec = ",".join([out] + others) + "->" + target
            r = einsum(spec, g, *[o for j, o in enumerate(operands) if j != i])
            sizes = dict(zip(target, r.shape))
            r = r.reshape([sizes.get(c, 1) for c in uniq])
            if tuple(r.shape) != tuple(uniq_shape):  # letters only x has: expand; dims x broadcast: sum
                r = sum_to(r.expand([xs if rs == 1 else rs for rs, xs in zip(r.shape, uniq_shape)]), uniq_shape)
            if uniq != sub:
                r = _onto_diagonals(r, uniq, sub, set(out).union(*subs))
            grads.append(r)
        return tuple(grads)


def _onto_diagonals(r, uniq, sub, used):
    """Places r (subscripts `uniq`) on the diagonals of subscripts `sub`, where letters repeat: each repeat
    gets a fresh letter tied to the first by an identity matrix, so the result stays differentiable."""
    fresh = iter(c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in used)
    renamed, deltas, seen = [], [], set()
    for c in sub:
        if c in seen:
            d = next(fresh)
            n = r.shape[uniq.index(c)]
            deltas.append((c + d, eye(n, device=r.device)))
            renamed.append(d)
        else:
            seen.add(c)
            renamed.append(c)
    spec = ",".join([uniq] + [s for s, _ in deltas]) + "->" + "".join(renamed)
    return einsum(spec, r, *[e for _, e in deltas])


@tensor_method()
def tril(input, diagonal=0):
    """Keeps the lower triangle (elements with column - row <= diagonal) of the last two axes."""
    return _Tri.apply(input, _core.tril, int(diagonal))


@tensor_method()
def triu(input, diagonal=0):
    """Keeps the upper triangle (elements with column - row >= diagonal) of the last two axes."""
    return _Tri.apply(input, _core.triu, int(diagonal))


class _Tri(Function):
    @staticmethod
    def forward(ctx, x, op, diagonal):
        ctx.op, ctx.diagonal = op, diagonal
        return _wrap(op(x._a, diagonal))

    @staticmethod
    def backward(ctx, g):
        return _Tri.apply(g, ctx.op, ctx.diagonal)
