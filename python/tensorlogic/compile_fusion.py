"""The fusions of tl.compile's programs (backend "inductor", the default; "eager" and "aot_eager" replay the ops as
recorded, bit for bit eager's): rewrites of a captured program's steps into fewer kernels whose forward and
backward compute what the recorded ops compute, within one f16 rounding.

- linear, then add of a tensor of the linear's shape: `x + self.proj(y)`, the residual connection of every
  transformer block. One GEMM whose epilogue adds the residual before the single rounding (on CUDA cuBLASLt's C
  operand with beta = 1; on the CPU the GEMM's f32 result plus the residual): the linear's output is never
  written, nor read back by an add kernel. The backward is the linear's, and the residual's gradient is the
  output's, as add's is; the node saves what linear saves (not the residual: add saves nothing, so an in-place
  change of the residual after the add stays legal).

A step is (forward, args, kwargs, ((argument position, slot, raw), ...), first result slot, Function class,
result count); `layouts` maps a slot to (shape, dtype, device, contiguous) of the value the capture saw there."""
from . import _core
from .autograd.function import _NULL, Function
from .ops.elementwise import _Binary
from .ops.linalg import _Linear, _native
from .tensor import Tensor, _wrap

__all__ = []

_ADD = _core.BinaryOp.add


def layout(t):
    """What a fusion needs to know of a tensor: (shape, dtype, device, contiguous)."""
    a = t._a
    return a.shape, a.dtype, a.device, a.is_contiguous()


class _LinearAdd(Function):
    """linear(x, w, bias) + residual, rounded once (see the module doc). Not marked native_forward (which would
    spare a grad-mode switch, ~0.2 us a call): tests/test_autograd_native_forward.py checks every marked class
    through the public ops, and this one has none."""

    @staticmethod
    def forward(ctx, x, w, bias, residual):
        if ctx is not _NULL:
            ctx.activation = "none"  # read by _Linear.backward
            ctx.save_for_backward(x, w, bias, None)
        return _wrap(_core.linear(_native(x), _native(w, x), None if bias is None else bias._a, "none", residual._a))

    @staticmethod
    def backward(ctx, g):
        gx, gw, gb, _ = _Linear.backward(ctx, g)
        return gx, gw, gb, g if ctx.needs_input_grad[3] else None


def fuse(steps, constants, outputs, layouts):
    """The steps (and each step's constants) with every fusion applied where its conditions hold."""
    readers = {}
    for k, step in enumerate(steps):
        for _, s, _ in step[3]:
            readers[s] = readers.get(s, 0) + 1
    for s, _ in outputs:
        readers[s] = readers.get(s, 0) + 1
    out_steps, out_constants = [], []
    k = 0
    while k < len(steps):
        fused = _linear_add(steps[k], steps[k + 1], readers, layouts) if k + 1 < len(steps) else None
        if fused is None:
            out_steps.append(steps[k])
            out_constants.append(constants[k])
            k += 1
        else:
            out_steps.append(fused)
            out_constants.append(constants[k] + constants[k + 1])
            k += 2
    return out_steps, out_constants


def _linear_add(lin, add, readers, layouts):
    """The fused step of a linear followed at once by an add of its result (read by nothing else) and a
    contiguous tensor of the same layout; None where the two steps do not have that form."""
    _, largs, lkwargs, lrefs, lfirst, lcls, _ = lin
    _, aargs, akwargs, arefs, afirst, acls, _ = add
    if lcls is not _Linear or acls is not _Binary or lkwargs or akwargs or aargs[0] is not _ADD:
        return None
    if largs[3] is not None or largs[4] != "none" or any(i == 3 for i, _, _ in lrefs):
        return None  # a linear that adds a residual or applies an activation already
    if readers.get(lfirst) != 1 or lfirst not in layouts:
        return None
    mine = [(i, s) for i, s, raw in arefs if s == lfirst and not raw]
    if len(mine) != 1:
        return None  # x + x of the linear's result, or it reaches the add otherwise
    other = 3 - mine[0][0]  # the add's other operand: argument 1 or 2
    other_ref = [(s, raw) for i, s, raw in arefs if i == other]
    if other_ref:
        slot, raw = other_ref[0]
        if raw or slot not in layouts:
            return None
        residual_layout, residual_arg, refs = layouts[slot], None, ((3, slot, False),)
    elif isinstance(aargs[other], Tensor):
        residual_layout, residual_arg, refs = layout(aargs[other]), aargs[other], ()
    else:
        return None  # a number: no residual operand
    if residual_layout != layouts[lfirst] or not residual_layout[3]:
        return None
    args = tuple(largs[:3]) + (residual_arg,)
    return (_LinearAdd.forward, args, {}, tuple(lrefs) + refs, afirst, _LinearAdd, 1)
