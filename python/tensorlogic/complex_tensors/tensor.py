"""ComplexTensor: a complex tensor held as its real form, a float16 tensor of shape [..., 2] (real and imaginary
parts, PyTorch's complex32 layout: what view_as_real returns). Every operation is the library's real ops on that
form, so autograd, devices and in-place version checks are the real tensor's own, and a gradient is PyTorch's
(dL/dRe + i dL/dIm, as view_as_real shows it).

The set is minimal on purpose (docs/api.md lists it): attributes, real/imag/abs/angle/conj, arithmetic with complex,
real and Python operands, indexing, the reshaping views, sum/mean, device moves and host data. Any other Tensor
method is an AttributeError naming what there is; tl's real ops refuse a ComplexTensor with a TypeError."""
import math
import numbers

import numpy as np

from ..autograd.function import Function
from ..creation import zeros_like
from ..device import device
from ..dtypes import _ALIASES, _name_of, complex32, complex_dtype, float16
from ..ops.elementwise import where
from ..ops.shape import broadcast_tensors, stack
from ..ops.special import atan2, hypot
from ..tensor import Tensor, _shape_args

# What a ComplexTensor has, for the message of a Tensor method it lacks (stft and istft are attached by spectral.py).
_SUPPORTED = ("shape size dim ndim numel dtype device requires_grad grad grad_fn is_leaf real imag abs angle conj "
              "conj_physical resolve_conj resolve_neg is_complex is_floating_point is_conj + - * / == != neg add sub "
              "mul div reciprocal indexing reshape view permute transpose unsqueeze squeeze flatten expand sum mean "
              "clone detach contiguous to cpu cuda requires_grad_ retain_grad backward numpy tolist item stft istft")


def _dim(d, ndim, name):
    """A dimension of the complex shape as a non-negative index (the pair dimension lies beyond them all)."""
    if not isinstance(d, numbers.Integral) or isinstance(d, bool):
        raise TypeError(f"{name}(): dim must be int, not {type(d).__name__}")
    if not -max(ndim, 1) <= d < max(ndim, 1):
        raise IndexError(f"{name}(): dimension out of range (expected to be in range of [{-max(ndim, 1)}, "
                         f"{max(ndim, 1) - 1}], but got {d})")
    return int(d) % max(ndim, 1)


def _dims(dims, ndim, name):
    return tuple(_dim(d, ndim, name) for d in (dims if isinstance(dims, (tuple, list)) else (dims,)))


class _Abs(Function):
    """|z| = hypot(re, im), in f32 and rounded once; its gradient (re, im) / |z| is 0 at z = 0, as PyTorch's."""

    @staticmethod
    def forward(ctx, ri):
        ctx.save_for_backward(ri)
        return hypot(ri[..., 0], ri[..., 1])

    @staticmethod
    def backward(ctx, g):
        (ri,) = ctx.saved_tensors
        h = hypot(ri[..., 0], ri[..., 1])
        safe = where(h == 0, 1.0, h).unsqueeze(-1)  # at 0 both parts are 0, so the quotient is 0 there
        return g.unsqueeze(-1) * (ri / safe)


class _Angle(Function):
    """atan2(im, re); its gradient (-im, re) / |z|^2 (divided by |z| twice: no f16 overflow of the square) is 0 at
    z = 0, as PyTorch's."""

    @staticmethod
    def forward(ctx, ri):
        ctx.save_for_backward(ri)
        return atan2(ri[..., 1], ri[..., 0])

    @staticmethod
    def backward(ctx, g):
        (ri,) = ctx.saved_tensors
        h = hypot(ri[..., 0], ri[..., 1])
        safe = where(h == 0, 1.0, h).unsqueeze(-1)
        turned = ri.flip(-1) * ri.new_tensor([-1.0, 1.0])  # (-im, re)
        return g.unsqueeze(-1) * (turned / safe / safe)


class ComplexTensor:
    """A complex tensor (dtype tl.complex32: float16 real and imaginary parts). Made by tl.complex, tl.polar,
    tl.view_as_complex, tl.fft's transforms and the creation functions given a complex dtype; see the module's
    docstring for what it supports."""

    __slots__ = ("_ri", "__weakref__")
    __array_priority__ = 1001  # numpy defers to our reflected operators

    def __init__(self, ri):
        self._ri = ri  # float16 [..., 2]; made by the library's functions, which check it

    # ---- attributes ----------------------------------------------------------------------------------
    @property
    def shape(self):
        """The size of each dimension (the real form's without its last, the pair)."""
        return self._ri.shape[:-1]

    def size(self, dim=None):
        """The shape, or the size of dimension `dim`."""
        return self.shape if dim is None else self.shape[_dim(dim, self.ndim, "size")]

    @property
    def ndim(self):
        """The number of dimensions."""
        return self._ri.ndim - 1

    def dim(self):
        """The number of dimensions, as .ndim."""
        return self._ri.ndim - 1

    def numel(self):
        """The number of complex elements."""
        return self._ri.numel() // 2

    dtype = property(lambda self: complex32, doc="tl.complex32, the one complex dtype.")
    device = property(lambda self: self._ri.device, doc="The tl.device the data lives on.")
    is_cuda = property(lambda self: self._ri.is_cuda, doc="True when the data lives on a CUDA device.")
    grad_fn = property(lambda self: self._ri.grad_fn, doc="The autograd node that made the real form, or None.")
    is_leaf = property(lambda self: self._ri.grad_fn is None, doc="True when no recorded op made it.")

    @property
    def requires_grad(self):
        """Whether gradients flow to this tensor (its real form's flag; settable)."""
        return self._ri.requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self._ri.requires_grad = value

    @property
    def grad(self):
        """The accumulated gradient, complex (dL/dRe + i dL/dIm), or None."""
        return None if self._ri.grad is None else ComplexTensor(self._ri.grad)

    @property
    def real(self):
        """The real parts, a float16 view (writes show in this tensor)."""
        return self._ri[..., 0]

    @property
    def imag(self):
        """The imaginary parts, a float16 view."""
        return self._ri[..., 1]

    def is_complex(self):
        """True."""
        return True

    def is_floating_point(self):
        """False: complex is not a floating point dtype, as in PyTorch."""
        return False

    def is_conj(self):
        """False: conj() computes the conjugate, there is no lazy conjugate bit."""
        return False

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __getattr__(self, name):
        if not name.startswith("__") and hasattr(Tensor, name):
            raise AttributeError(f"complex tensors have no {name!r}: TensorLogic's complex32 supports only "
                                 f"{_SUPPORTED} (view_as_real gives the real form for anything else)")
        raise AttributeError(f"'ComplexTensor' object has no attribute {name!r}")

    # ---- parts ---------------------------------------------------------------------------------------
    def abs(self):
        """|z| as float16 (computed in f32 and rounded once: no overflow of re^2 + im^2)."""
        return _Abs.apply(self._ri)

    def angle(self):
        """The argument atan2(im, re) in (-pi, pi], float16."""
        return _Angle.apply(self._ri)

    def conj(self):
        """The complex conjugate (computed: there is no lazy conjugate view)."""
        return ComplexTensor(self._ri * self._ri.new_tensor([1.0, -1.0]))

    conj_physical = conj

    def resolve_conj(self):
        """The tensor itself (there is no lazy conjugate to resolve)."""
        return self

    def resolve_neg(self):
        """The tensor itself (there is no lazy negation to resolve)."""
        return self

    # ---- arithmetic ----------------------------------------------------------------------------------
    def _real_form(self, other, name):
        """other as something that broadcasts against [..., 2]: a ComplexTensor's real form, a real tensor with
        zero imaginary parts, a number as its two parts."""
        if isinstance(other, ComplexTensor):
            return other._ri
        if isinstance(other, Tensor):
            real = _float(other)
            return stack([real, zeros_like(real)], -1)
        if isinstance(other, numbers.Number):
            value = complex(other)
            return self._ri.new_tensor([value.real, value.imag])
        raise TypeError(f"{name}: unsupported operand of a complex tensor: {type(other).__name__}")

    def add(self, other, *, alpha=1):
        """self + alpha * other; other complex, a real tensor or a number (broadcasting)."""
        return ComplexTensor(self._ri + self._real_form(other if alpha == 1 else other * alpha, "add"))

    def sub(self, other, *, alpha=1):
        """self - alpha * other."""
        return ComplexTensor(self._ri - self._real_form(other if alpha == 1 else other * alpha, "sub"))

    def mul(self, other):
        """The product; by a complex operand (a + bi)(c + di) = (ac - bd) + (ad + bc)i, each product and each sum
        rounded to f16 (PyTorch's complex32 rounds once)."""
        if isinstance(other, Tensor):
            return ComplexTensor(self._ri * _float(other).unsqueeze(-1))
        if isinstance(other, numbers.Real):
            return ComplexTensor(self._ri * float(other))
        w = self._real_form(other, "mul")
        a, b, c, d = self._ri[..., 0], self._ri[..., 1], w[..., 0], w[..., 1]
        return _pair(a * c - b * d, a * d + b * c)

    def reciprocal(self):
        """1 / z = conj(z) / |z| / |z|: |z| by hypot, so nothing squares past f16's range."""
        h = hypot(self._ri[..., 0], self._ri[..., 1]).unsqueeze(-1)
        return ComplexTensor(self.conj()._ri / h / h)

    def div(self, other):
        """self / other: by a real operand part by part, by a complex one as self times other's reciprocal."""
        if isinstance(other, Tensor):
            return ComplexTensor(self._ri / _float(other).unsqueeze(-1))
        if isinstance(other, numbers.Number):
            return self.mul(1 / complex(other) if isinstance(other, complex) else 1 / float(other))
        if isinstance(other, ComplexTensor):
            return self.mul(other.reciprocal())
        raise TypeError(f"div: unsupported operand of a complex tensor: {type(other).__name__}")

    def neg(self):
        """-self."""
        return ComplexTensor(-self._ri)

    __add__ = __radd__ = add
    __sub__ = sub
    __mul__ = __rmul__ = mul
    __truediv__ = div
    __neg__ = neg

    def __rsub__(self, other):
        return self.neg().add(other)

    def __rtruediv__(self, other):
        return self.reciprocal().mul(other)

    def __pos__(self):
        return self

    def __eq__(self, other):
        if other is None or isinstance(other, str):
            return NotImplemented
        same = self._ri == self._real_form(other, "eq")
        return same[..., 0] & same[..., 1]

    def __ne__(self, other):
        if other is None or isinstance(other, str):
            return NotImplemented
        return ~self.__eq__(other)

    __hash__ = object.__hash__

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError("the truth value of a tensor with more than one element is ambiguous")
        return bool((self._ri != 0).any())

    # ---- indexing ------------------------------------------------------------------------------------
    def _key(self, key):
        return (key if isinstance(key, tuple) else (key,)) + (slice(None),)  # the pair dimension kept whole

    def __getitem__(self, key):
        return ComplexTensor(self._ri[self._key(key)])

    def __setitem__(self, key, value):
        if isinstance(value, ComplexTensor):
            value = value._ri
        elif isinstance(value, Tensor):
            value = self._real_form(value, "__setitem__")
        elif isinstance(value, numbers.Number):
            value = self._ri.new_tensor([complex(value).real, complex(value).imag])
        else:
            raise TypeError(f"complex tensors take complex, real tensor or number values, not {type(value).__name__}")
        self._ri[self._key(key)] = value

    # ---- views and reductions over the complex dimensions ----------------------------------------------
    def reshape(self, *shape):
        """The same elements in another shape (a view where the real form allows)."""
        return ComplexTensor(self._ri.reshape(*_shape_args(shape), 2))

    def view(self, *shape):
        """A view in another shape."""
        return ComplexTensor(self._ri.view(*_shape_args(shape), 2))

    def permute(self, *dims):
        """The dimensions reordered (a view)."""
        dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        return ComplexTensor(self._ri.permute(*_dims(tuple(dims), self.ndim, "permute"), self.ndim))

    def transpose(self, dim0, dim1):
        """Two dimensions swapped (a view)."""
        return ComplexTensor(self._ri.transpose(_dim(dim0, self.ndim, "transpose"), _dim(dim1, self.ndim, "transpose")))

    def unsqueeze(self, dim):
        """A dimension of size 1 inserted at `dim` (a view)."""
        return ComplexTensor(self._ri.unsqueeze(_dim(dim, self.ndim + 1, "unsqueeze")))

    def squeeze(self, dim=None):
        """Dimensions of size 1 removed (all of them, or those of `dim`)."""
        if dim is None:
            return ComplexTensor(self._ri.squeeze())  # the pair dimension has size 2: it stays
        return ComplexTensor(self._ri.squeeze(_dims(dim, self.ndim, "squeeze")))

    def flatten(self, start_dim=0, end_dim=-1):
        """Dimensions start_dim..end_dim merged into one."""
        if self.ndim == 0:
            return self.reshape(1)
        start, end = _dim(start_dim, self.ndim, "flatten"), _dim(end_dim, self.ndim, "flatten")
        return ComplexTensor(self._ri.flatten(start, end))

    def expand(self, *sizes):
        """A broadcast view to `sizes` (-1 keeps a size)."""
        return ComplexTensor(self._ri.expand(*_shape_args(sizes), 2))

    def sum(self, dim=None, keepdim=False):
        """The sum over dim (all dimensions by default), real and imaginary parts accumulated in f32."""
        dims = tuple(range(self.ndim)) if dim is None else _dims(dim, self.ndim, "sum")
        return ComplexTensor(self._ri.sum(dims, keepdim=keepdim) if dims else self._ri)

    def mean(self, dim=None, keepdim=False):
        """The mean over dim (all dimensions by default)."""
        dims = tuple(range(self.ndim)) if dim is None else _dims(dim, self.ndim, "mean")
        return ComplexTensor(self._ri.mean(dims, keepdim=keepdim) if dims else self._ri)

    # ---- copies, devices, autograd -------------------------------------------------------------------
    def clone(self):
        """A copy (recorded: gradients flow back through it)."""
        return ComplexTensor(self._ri.clone())

    def detach(self):
        """The same data without autograd history."""
        return ComplexTensor(self._ri.detach())

    def contiguous(self):
        """The data in row-major order (itself when it already is)."""
        return ComplexTensor(self._ri.contiguous())

    def to(self, *args, **kwargs):
        """Moves to a device (.to(device), .to(other), device=); a complex dtype keeps it complex, a real one is
        refused (PyTorch would drop the imaginary parts: take .real, .abs() or view_as_real)."""
        target, rest = kwargs.pop("dtype", None), []
        for a in args:
            if isinstance(a, (Tensor, ComplexTensor)):
                rest.append(a.device)
                target = a.dtype
            elif isinstance(a, (str, int, device)) and not _names_dtype(a):
                rest.append(a)
            else:
                target = a
        if target is not None and complex_dtype(target) is None:
            raise TypeError(f"to(): a complex tensor converts only to complex dtypes, not {target!r} (take .real, "
                            ".abs() or view_as_real for real data)")
        return ComplexTensor(self._ri.to(*rest, **kwargs))

    def cpu(self):
        """The tensor on the CPU."""
        return self.to("cpu")

    def cuda(self, device=None):
        """The tensor on a CUDA device (an index, a device or the current one)."""
        return ComplexTensor(self._ri.cuda(device))

    def requires_grad_(self, requires_grad=True):
        """Sets requires_grad in place and returns the tensor."""
        self._ri.requires_grad_(requires_grad)
        return self

    def retain_grad(self):
        """Keeps the gradient of this non-leaf tensor in .grad after backward."""
        self._ri.retain_grad()

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Backpropagates a complex output's `gradient` (complex, its shape); a complex output has no implicit one."""
        if not isinstance(gradient, ComplexTensor):
            raise RuntimeError("grad can be implicitly created only for real scalar outputs: pass a complex gradient")
        self._ri.backward(gradient._ri, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    # ---- host data -----------------------------------------------------------------------------------
    def numpy(self, *, force=False):
        """The values as a complex64 numpy array (a copy: numpy has no complex32)."""
        # the pairs reinterpreted, not re + 1j * im: 1j * inf is nan + inf j, which made an infinite imaginary part's
        # real part nan
        return np.ascontiguousarray(self._ri.detach().numpy(), dtype=np.float32).view(np.complex64)[..., 0]

    def __array__(self, dtype=None, copy=None):
        if copy is False:
            raise ValueError("__array__: a complex tensor's numpy form is always a copy")
        out = self.numpy()
        return out if dtype is None else out.astype(dtype)

    def tolist(self):
        """The values as nested lists of Python complex numbers."""
        return self.numpy().astype(np.complex128).tolist()

    def item(self):
        """The value of a one-element tensor as a Python complex."""
        if self.numel() != 1:
            raise ValueError(f"item(): a tensor with {self.numel()} elements cannot be converted to a Python scalar")
        return complex(self.numpy().reshape(-1)[0])

    def __complex__(self):
        return self.item()

    def __repr__(self):
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(",
                               formatter={"complex_kind": _format_complex}) if self.numel() else "[]"
        extras = ["dtype=tensorlogic.complex32"]
        if self._ri.device.type != "cpu":  # as tensor_repr's notes
            extras.append(f"device='{self._ri.device}'")
        if self._ri.grad_fn is not None:
            extras.append(f"grad_fn=<{self._ri.grad_fn.name}Backward>")
        elif self._ri.requires_grad:
            extras.append("requires_grad=True")
        if self.numel() == 0:
            extras.insert(0, f"size={tuple(self.shape)}")
        return f"tensor({body}, {', '.join(extras)})"


def _format_complex(z):
    """PyTorch's look of a complex element: 1.5000+2.0000j."""
    if math.isnan(z.imag) or math.copysign(1.0, z.imag) > 0:  # (-0.0 >= 0: the sign bit tells -0.0000j)
        return f"{z.real:.4f}+{z.imag:.4f}j"
    return f"{z.real:.4f}{z.imag:.4f}j"


def _pair(real, imag):
    """The complex tensor of two broadcastable real tensors (its parts: a copy)."""
    return ComplexTensor(stack(broadcast_tensors(real, imag), -1))


def _float(t):
    """A real operand as float16 (integer and bool tensors promote, as PyTorch's complex ops promote them)."""
    return t if t.is_floating_point() else t.to(float16)


def _names_dtype(value):
    """Whether a string names a dtype rather than a device ('complex64', 'float32' against 'cuda:1')."""
    return isinstance(value, str) and (complex_dtype(value) is not None or _name_of(value) in _ALIASES)
