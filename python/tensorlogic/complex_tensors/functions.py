"""PyTorch's functions that make or take complex tensors: view_as_real view_as_complex complex polar real imag conj
conj_physical resolve_conj resolve_neg is_conj is_neg angle abs is_complex, and einsum with complex operands (tl's
einsum otherwise); on a real tl.Tensor, the methods and properties of these names, with PyTorch's results for real
input."""
import math

from ..dtypes import float16
from ..errors import ShapeMismatchError
from ..ops import elementwise
from ..ops.elementwise import cos, isnan, sin, where
from ..ops.linalg import _einsum_spec, einsum_arguments
from ..ops.linalg import einsum as _real_einsum
from ..ops.shape import broadcast_tensors, stack
from ..tensor import Tensor, tensor_method
from .tensor import ComplexTensor, _pair

__all__ = ["ComplexTensor", "view_as_real", "view_as_complex", "complex", "polar", "real", "imag", "conj",
           "conj_physical", "resolve_conj", "resolve_neg", "is_conj", "is_neg", "angle", "abs", "is_complex", "einsum"]


def _float_tensor(x, name, what):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{what}' must be Tensor, not {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name}(): expected a floating point tensor as '{what}', got {x.dtype.name}")
    return x


def view_as_real(input):
    """The real form of a complex tensor: float16 [..., 2] (real and imaginary parts), sharing its memory."""
    if not isinstance(input, ComplexTensor):
        raise TypeError(f"view_as_real is only supported for complex tensors, got {type(input).__name__}")
    return input._ri


def view_as_complex(input):
    """The complex tensor whose real form is `input` (float16, last dimension of size 2), sharing its memory: writes
    to either show in the other, and gradients reach `input`."""
    _float_tensor(input, "view_as_complex", "input")
    if input.ndim == 0 or input.shape[-1] != 2:
        raise ShapeMismatchError(f"view_as_complex: the tensor must have a last dimension of size 2, got shape "
                                 f"{list(input.shape)}")
    return ComplexTensor(input)


def complex(real, imag):
    """The complex tensor real + i imag (float16 tensors, broadcast against each other)."""
    _float_tensor(real, "complex", "real")
    _float_tensor(imag, "complex", "imag")
    return ComplexTensor(stack(broadcast_tensors(real, imag), -1))


def polar(abs, angle):  # noqa: A002 (PyTorch's parameter names)
    """abs (cos(angle) + i sin(angle)), each part computed and rounded to f16."""
    _float_tensor(abs, "polar", "abs")
    _float_tensor(angle, "polar", "angle")
    return _pair(abs * cos(angle), abs * sin(angle))


def real(input):
    """The real parts of a complex tensor (a view); a real tensor itself (Tensor.real, a property)."""
    if isinstance(input, ComplexTensor):
        return input.real
    if isinstance(input, Tensor):
        return input
    raise TypeError(f"real(): argument 'input' must be Tensor, not {type(input).__name__}")


def imag(input):
    """The imaginary parts of a complex tensor (a view); PyTorch's error for a real one."""
    if isinstance(input, ComplexTensor):
        return input.imag
    if isinstance(input, Tensor):
        raise RuntimeError(f"imag is not implemented for tensors with non-complex dtypes (got {input.dtype.name})")
    raise TypeError(f"imag(): argument 'input' must be Tensor, not {type(input).__name__}")


@tensor_method("conj", "conj_physical")
def conj(input):
    """The complex conjugate; a real tensor itself (conj_physical is the same function)."""
    return input.conj() if isinstance(input, ComplexTensor) else real(input)


conj_physical = conj


@tensor_method("resolve_conj", "resolve_neg")
def resolve_conj(input):
    """The tensor itself: conj() computes the conjugate (and neg() the negation), so there is no lazy conjugate or
    negation to resolve. resolve_neg is the same function."""
    _tensor_argument(input, "resolve_conj")
    return input


resolve_neg = resolve_conj


@tensor_method("is_conj", "is_neg")
def is_conj(input):
    """False: conjugation and negation are never lazy here (see resolve_conj). is_neg is the same function."""
    _tensor_argument(input, "is_conj")
    return False


is_neg = is_conj


def _tensor_argument(input, name):
    if not isinstance(input, (Tensor, ComplexTensor)):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")


@tensor_method()
def angle(input):
    """The argument of each element: atan2(im, re) for a complex tensor; pi for negative reals, 0 for the others
    (NaN stays NaN), as torch.angle."""
    if isinstance(input, ComplexTensor):
        return input.angle()
    x = real(input)
    if not x.is_floating_point():
        x = x.to(float16)
    return where(isnan(x), x, (x < 0).to(float16) * math.pi)


def abs(input):  # noqa: A001 (torch.abs)
    """|x|: the magnitude of a complex tensor (float16), tl's abs for a real one."""
    return input.abs() if isinstance(input, ComplexTensor) else elementwise.abs(input)


Tensor.real = property(real, doc="The tensor itself (a real tensor is its own real part), as in PyTorch.")
Tensor.imag = property(imag, doc="PyTorch's RuntimeError: a real tensor has no imaginary part to view.")


def is_complex(input):
    """True for a complex tensor, False for a real one."""
    if isinstance(input, ComplexTensor):
        return True
    if isinstance(input, Tensor):
        return False
    raise TypeError(f"is_complex(): argument 'input' must be Tensor, not {type(input).__name__}")


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def einsum(equation, *operands):
    """torch.einsum; with complex operands, one real einsum over their real forms. A complex z = a + bi acts as the
    2x2 real matrix M(z) = [[a, -b], [b, a]], so a product z_1 ... z_m is M(z_1) ... M(z_(m-1)) times z_m's (a, b):
    each complex operand but the last enters as M(z) on two new letters chained operand to operand, the last as its
    real form, and the output gains the chain's first letter (its real and imaginary parts). The sums of products run
    in one contraction, accumulated in f32 and rounded once (for two operands; more contract pairwise, as einsum)."""
    equation, operands = einsum_arguments(equation, operands)
    complex_at = [i for i, o in enumerate(operands) if isinstance(o, ComplexTensor)]
    if not complex_at:
        return _real_einsum(equation, *operands)
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the equation must be a string, got {type(equation).__name__}")
    for o in operands:
        if not isinstance(o, (Tensor, ComplexTensor)):
            raise TypeError(f"einsum: operands must be tensors, got {type(o).__name__}")
    subs, out = _einsum_spec(equation, [tuple(o.shape) for o in operands])
    if len(subs) != len(operands):
        raise ValueError(f"einsum: the equation has {len(subs)} operands, {len(operands)} were given")
    spare = [c for c in _LETTERS if c not in "".join(subs) + out]
    if len(spare) < len(complex_at):
        raise ValueError("einsum: too many letters in use to add the complex operands' own")
    chain = spare[:len(complex_at)]
    new_subs, new_operands = list(subs), list(operands)
    for k, i in enumerate(complex_at):
        ri = operands[i]._ri
        if k + 1 < len(complex_at):  # M(z)[r, c]: rows (re, im) of z times (re, im) of what follows
            turned = ri.flip(-1) * ri.new_tensor([-1.0, 1.0])  # (-b, a)
            new_operands[i] = stack([ri, turned], -1)  # [..., r, c]: M[0] = (a, -b), M[1] = (b, a)
            new_subs[i] = subs[i] + chain[k] + chain[k + 1]
        else:
            new_operands[i] = ri
            new_subs[i] = subs[i] + chain[k]
        # a real operand stays as it is: it scales the product
    for i, o in enumerate(new_operands):
        if isinstance(o, Tensor) and not o.is_floating_point():
            new_operands[i] = o.to(float16)
    return ComplexTensor(_real_einsum(",".join(new_subs) + "->" + out + chain[0], *new_operands))
