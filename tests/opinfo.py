"""The op database of the tests (after PyTorch's OpInfo): each elementwise op once, with its PyTorch
reference, the inputs it is tested on, its call variants, whether it has a gradient, its dtypes, and
whether its f32 math is approximate; each reduction kernel once, with its reference and the calls whose
gradients are checked; the softmax rows. Test files and the Metal harness select from UNARY, BINARY,
REDUCTIONS and ROWS instead
of keeping tables of their own; tolerances come from oracle.py (stated once, from f16 rounding).

Adding an op: one entry here; every test that reads the database then covers it (kernel on every f16
value, Tensor API and strided views, gradients, fuzzing, the Metal kernels)."""
import dataclasses
import functools
import math
import operator as _operator
from typing import Callable, Optional

import numpy as np
import torch
import torch.nn.functional as TF

import tensorlogic as tl
from oracle import ATOL
from tensorlogic.ops.linalg import _ACTIVATIONS as _EPILOGUES


# ---- input domains ------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Domain:
    """Where an op's inputs come from: the open interval (low, high) the op is defined on, optionally
    kept away from zero (divisors) or integral (floor_divide: both sides then floor exactly)."""
    name: str
    low: float = -math.inf
    high: float = math.inf
    nonzero: bool = False
    integral: bool = False

    def sample(self, rng, shape, scale=1.0):
        """Normal f16 data times `scale`, moved into the domain (value tests)."""
        x = rng.standard_normal(shape) * scale
        if self.integral:
            x = np.rint(2 * x)
            if self.nonzero:
                x = np.where(x < 0, x - 1, x + 1)
        elif self.nonzero:
            x = np.where(x < 0, x - 0.5, x + 0.5)
        if self.low > -math.inf and self.high == math.inf:
            x = self.low + np.abs(x) + 0.1
        elif self.low > -math.inf:
            x = self.low + (self.high - self.low) / (1 + np.exp(-x))
        return np.asarray(x).astype(np.float16)

    def gradient_sample(self, rng, shape):
        """Uniform f16 values where gradients are well conditioned: within 2 of zero, inside the bounds by
        0.5 (a tenth of a narrow domain's width at most), at least 0.5 from zero for divisors."""
        margin = min(0.5, (self.high - self.low) / 20)
        low, high = max(-2.0, self.low + margin), min(2.0, self.high - margin)
        if self.nonzero:
            x = rng.uniform(0.5, high, shape) * rng.choice([-1.0, 1.0], shape)
        else:
            x = rng.uniform(low, high, shape)
        return np.asarray(x).astype(np.float16)


REAL = Domain("real")
POSITIVE = Domain("positive", low=0.0)
NONZERO = Domain("nonzero", nonzero=True)
INTEGERS = Domain("integers", integral=True)
NONZERO_INTEGERS = Domain("nonzero integers", integral=True, nonzero=True)
UNIT = Domain("unit", low=-1.0, high=1.0)  # erfinv: +-inf at the bounds, NaN outside
PROBABILITY = Domain("probability", low=0.0, high=1.0)  # logit
AT_LEAST_1 = Domain("at least 1", low=1.0)  # acosh
NO_POLES = Domain("no poles", low=-1.5, high=1.5)  # tan: away from +-pi/2


# ---- entries --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Variant:
    """One way of calling an op: arguments after the tensor(s), the same for TensorLogic and PyTorch, and
    the native kernel's scalar parameters they amount to."""
    suffix: str = ""  # appended to the op's name in test ids
    args: tuple = ()
    kwargs: dict = dataclasses.field(default_factory=dict)
    params: tuple = ()  # the kernel's scalar parameters (p0, p1) for these arguments
    kernel: Optional[str] = None  # a kernel of its own for this variant (gelu's tanh form)
    method: str = ""  # the Tensor method it calls when not the op's own (a reduction's amax, std)


@dataclasses.dataclass(frozen=True)
class OpInfo:
    name: str  # PyTorch's name: tl.<name>, and Tensor.<name> unless `method` says otherwise
    ref: Callable  # PyTorch on float64 (or int32) tensors, with the variant's arguments
    kernel: Optional[str]  # the member of _core.UnaryOp / BinaryOp; None: no elementwise kernel of its own
    domains: tuple = (REAL,)  # one per tensor input
    grad: bool = True  # differentiable: first and second derivatives checked against torch.autograd
    int32: bool = False  # defined on int32 too (and the result stays int32)
    approximate: bool = False  # f32 math approximated (vector CPU math, Metal's library): backends agree within ULPS
    f32_oracle: bool = False  # rounds an inner a / b to f32 first: a float64 oracle splits its ties differently
    variants: tuple = (Variant(),)
    fn: Optional[Callable] = None  # TensorLogic's function when it is not tl.<name>
    method: Optional[str] = ""  # the Tensor method ("" means `name`; None: there is none)
    atol: float = ATOL  # absolute slack of the value tests, where a result far below 1 has fewer digits
    operator: Optional[Callable] = None  # its Python operator (operator.add for +), numbers on either side

    @property
    def domain(self):
        return self.domains[0]

    @property
    def public(self):
        """Reachable from Python (else a kernel only, tested through _core)."""
        return self.fn is not None or hasattr(tl, self.name)

    def call(self, *tensors, variant=None):
        variant = variant or self.variants[0]
        fn = self.fn or getattr(tl, self.name)
        return fn(*tensors, *variant.args, **variant.kwargs)

    def call_method(self, tensor, *others, variant=None):
        variant = variant or self.variants[0]
        return getattr(tensor, self.method or self.name)(*others, *variant.args, **variant.kwargs)

    def reference(self, *tensors, variant=None):
        variant = variant or self.variants[0]
        return self.ref(*tensors, *variant.args, **variant.kwargs)

    def kernel_of(self, variant):
        return variant.kernel or self.kernel


def cases(ops):
    """(op, variant) pairs and their ids, for pytest.mark.parametrize."""
    pairs = [(op, v) for op in ops for v in op.variants]
    return pairs, [op.name + v.suffix for op, v in pairs]


def _gelu_tanh_backward(g, x):
    # PyTorch's formula has 1 - tanh(u)^2, exactly 0 in float64 beyond |u| ~ 19, where the derivative is a tiny
    # nonzero number (so grad = inf gave NaN there): the same derivative with sigmoids, which do not cancel.
    c = 2.0 * math.sqrt(2.0 / math.pi)
    u2 = c * (x + 0.044715 * x**3)
    s, r = torch.sigmoid(u2), torch.sigmoid(-u2)
    return g * (s + x * s * r * c * (1.0 + 3 * 0.044715 * x**2))


def _sign(t):
    return torch.where(torch.isnan(t), t, torch.sign(t))  # torch.sign(nan) is 0; ours keeps the NaN


def _limit_at_infinity(fn, at_inf, positive_only=False):
    """fn with its values at +-inf (+inf only with positive_only) replaced by the function's limits: PyTorch's
    Cephes kernels give NaN there (bessel_j0(inf), i0(inf)); ours give the limits."""
    def ref(t):
        out = fn(t)
        where = torch.isinf(t) & (t > 0) if positive_only else torch.isinf(t)
        return torch.where(where, at_inf(t).to(out.dtype), out)
    return ref


def _bessel_y1(t):
    # PyTorch's bessel_y1 loses digits beside its zeros (at 5.43 it gives -2.622e-6 for -2.198e-6, 7 f16 ulps off);
    # scipy's keeps them. Its limit at +inf is 0 (PyTorch: NaN).
    import scipy.special
    out = torch.from_numpy(np.asarray(scipy.special.y1(t.numpy())))
    return out.where(~(torch.isinf(t) & (t > 0)), torch.tensor(0.0))


def _zeta(x, q):
    """PyTorch's zeta with NaN propagated (it gives +inf at x = 1 or a pole q whatever the other side is) and the
    limits at +inf where it gives NaN: zeta(x, +inf) = 0 and zeta(+inf, q) = 0 for q > 1."""
    x, q = torch.broadcast_tensors(x, q)
    out = torch.special.zeta(x, q)
    out = torch.where((q == math.inf) & (x > 1), 0.0, out)
    out = torch.where((x == math.inf) & (q > 1), 0.0, out)
    return torch.where(torch.isnan(x) | torch.isnan(q), math.nan, out).to(x.dtype)


def _polygamma(n, t):
    # PyTorch's polygamma gives NaN (n >= 2) at +inf and +-inf at -inf, artefacts of its zeta; the limit at +inf is 0
    # and there is none at -inf
    return torch.where(torch.isinf(t), torch.where(t > 0, 0.0, math.nan), torch.polygamma(n, t)).to(t.dtype)


def _nextafter_f16(a, b):
    """torch.nextafter on the float16 grid where two tensors give a float (PyTorch's own call elsewhere: it refuses
    integers and numbers)."""
    if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)) or not torch.result_type(a, b).is_floating_point:
        return torch.nextafter(a, b)
    return torch.nextafter(a.half(), b.half()).to(torch.result_type(a, b))


# PyTorch has no double backward for hardsigmoid (NotImplementedError): relu6(x + 3) / 6 is the same function, with
# one (zero second derivative, the slope 1/6 on (-3, 3) as hardsigmoid's).
_REFERENCES = {"hardsigmoid": lambda t: TF.relu6(t + 3.0) / 6.0}

UNARY = [
    OpInfo("neg", torch.neg, "neg", int32=True),
    OpInfo("abs", torch.abs, "abs", int32=True),
    OpInfo("exp", torch.exp, "exp", approximate=True),
    OpInfo("log", torch.log, "log", domains=(POSITIVE,), approximate=True),
    OpInfo("log1p", torch.log1p, "log1p", domains=(POSITIVE,), approximate=True),
    OpInfo("sqrt", torch.sqrt, "sqrt", domains=(POSITIVE,)),
    OpInfo("rsqrt", torch.rsqrt, "rsqrt", domains=(POSITIVE,), approximate=True),
    OpInfo("sin", torch.sin, "sin", approximate=True),
    OpInfo("cos", torch.cos, "cos", approximate=True),
    OpInfo("tanh", torch.tanh, "tanh", approximate=True),
    OpInfo("sigmoid", torch.sigmoid, "sigmoid", approximate=True),
    OpInfo("relu", torch.relu, "relu", int32=True),
    OpInfo("gelu", TF.gelu, "gelu", approximate=True,
           variants=(Variant(), Variant("_tanh", kwargs={"approximate": "tanh"}, kernel="gelu_tanh"))),
    OpInfo("silu", TF.silu, "silu", approximate=True),
    OpInfo("softplus", TF.softplus, "softplus", approximate=True,
           variants=(Variant(params=(1.0, 20.0)),
                     Variant("_beta2", kwargs={"beta": 2.0, "threshold": 3.0}, params=(2.0, 3.0)))),
    OpInfo("reciprocal", torch.reciprocal, "reciprocal", domains=(POSITIVE,)),
    OpInfo("square", torch.square, "square", int32=True),
    OpInfo("sign", _sign, "sign", int32=True),  # floor to trunc: zero gradients, as in PyTorch
    OpInfo("floor", torch.floor, "floor"),
    OpInfo("ceil", torch.ceil, "ceil"),
    OpInfo("round", torch.round, "round"),
    OpInfo("trunc", torch.trunc, None),
    OpInfo("clamp", torch.clamp, "clamp", int32=True, variants=(Variant(args=(-1.5, 2.0), params=(-1.5, 2.0)),)),
    OpInfo("step", lambda t: (t > 0).double(), "step", grad=False),  # relu's derivative
    OpInfo("logical_not", torch.logical_not, "logical_not", grad=False),
    OpInfo("erf", torch.erf, "erf", approximate=True),  # Metal has no erf: its own f32 erfc fit
    OpInfo("erfc", torch.erfc, "erfc", approximate=True),
    OpInfo("erfinv", torch.erfinv, "erfinv", domains=(UNIT,), approximate=True),
    # x ** exponent and base ** x: the binary pow with a scalar on one side, each a kernel of its own
    OpInfo("pow", torch.pow, "pow", domains=(POSITIVE,), approximate=True,
           variants=(Variant("2", (2.0,), params=(2.0,)), Variant("_half", (0.5,), params=(0.5,)),
                     Variant("_m1", (-1.0,), params=(-1.0,)), Variant("_2_5", (2.5,), params=(2.5,)),
                     Variant("3", (3.0,), params=(3.0,)), Variant("_m_half", (-0.5,), params=(-0.5,)))),
    OpInfo("rpow", lambda t, base: torch.pow(base, t), "rpow", approximate=True, fn=lambda t, base: base ** t,
           method="__rpow__", variants=(Variant("2", (2.0,), params=(2.0,)),)),
    # ops/special.py's kernels
    OpInfo("tan", torch.tan, "tan", domains=(NO_POLES,), approximate=True),
    OpInfo("sinh", torch.sinh, "sinh", approximate=True),
    OpInfo("cosh", torch.cosh, "cosh", approximate=True),
    OpInfo("asin", torch.asin, "asin", domains=(UNIT,), approximate=True),
    OpInfo("acos", torch.acos, "acos", domains=(UNIT,), approximate=True),
    OpInfo("atan", torch.atan, "atan", approximate=True),
    OpInfo("asinh", torch.asinh, "asinh", approximate=True),
    OpInfo("acosh", torch.acosh, "acosh", domains=(AT_LEAST_1,), approximate=True),
    OpInfo("atanh", torch.atanh, "atanh", domains=(UNIT,), approximate=True),
    OpInfo("expm1", torch.expm1, "expm1", approximate=True),
    OpInfo("sinc", torch.sinc, "sinc", approximate=True),
    # the gamma family (ops/special.py): double math away from Metal; digamma is the polygamma kernel at n = 0
    OpInfo("lgamma", torch.lgamma, "lgamma", domains=(POSITIVE,), approximate=True),
    OpInfo("digamma", torch.digamma, "polygamma", domains=(POSITIVE,), approximate=True,
           variants=(Variant(params=(0.0,)),)),
    OpInfo("polygamma", lambda t, n: _polygamma(n, t), "polygamma", domains=(POSITIVE,), approximate=True,
           fn=lambda t, n: tl.polygamma(n, t),
           variants=tuple(Variant(str(n), (n,), params=(float(n),)) for n in (1, 2, 3))),
] + [  # torch.special's kernels (ops/special_functions.py): double math away from Metal; torch.special's names only
    OpInfo(name, ref, kernel or name, domains=(domain,), approximate=True, grad=grad, fn=getattr(tl.special, name),
           method=None)
    for name, ref, kernel, domain, grad in [
        ("erfcx", torch.special.erfcx, None, REAL, True),
        ("ndtr", torch.special.ndtr, None, REAL, True),
        ("log_ndtr", torch.special.log_ndtr, None, REAL, True),
        ("ndtri", torch.special.ndtri, None, PROBABILITY, True),
        ("entr", torch.special.entr, None, POSITIVE, True),
        ("i1", _limit_at_infinity(torch.special.i1, lambda t: t), None, REAL, True),
        ("i0e", torch.special.i0e, None, REAL, True),
        ("i1e", torch.special.i1e, None, REAL, True),
        # no gradient, as PyTorch's
        ("bessel_j0", _limit_at_infinity(torch.special.bessel_j0, torch.zeros_like), None, REAL, False),
        ("bessel_j1", _limit_at_infinity(torch.special.bessel_j1, torch.zeros_like), None, REAL, False),
        ("bessel_y0", _limit_at_infinity(torch.special.bessel_y0, torch.zeros_like, True), None, POSITIVE, False),
        ("bessel_y1", _bessel_y1, None, POSITIVE, False),
        ("modified_bessel_k0", torch.special.modified_bessel_k0, "bessel_k0", POSITIVE, False),
        ("modified_bessel_k1", torch.special.modified_bessel_k1, "bessel_k1", POSITIVE, False),
        ("scaled_modified_bessel_k0", torch.special.scaled_modified_bessel_k0, "bessel_k0e", POSITIVE, False),
        ("scaled_modified_bessel_k1", torch.special.scaled_modified_bessel_k1, "bessel_k1e", POSITIVE, False),
        ("spherical_bessel_j0", torch.special.spherical_bessel_j0, None, REAL, False)]
] + [
    OpInfo("i0", _limit_at_infinity(torch.special.i0, lambda t: torch.full_like(t, math.inf)), "i0",
           approximate=True),  # torch.i0 and Tensor.i0
    # compositions: multigammaln of lgamma (Tensor.mvlgamma), angle of a real tensor (0 or pi; complex_tensors)
    OpInfo("multigammaln", lambda t, p: torch.special.multigammaln(t, p), None, domains=(AT_LEAST_1,),
           approximate=True, fn=lambda t, p: tl.special.multigammaln(t, p), method="mvlgamma",
           variants=tuple(Variant(str(p), (p,)) for p in (1, 2, 3))),
    OpInfo("angle", torch.angle, None, method=None),
] + [  # torch.nn.functional's activations composed of the ops above (no kernel, no Tensor method of their own)
    OpInfo(name, _REFERENCES.get(name, getattr(TF, name)), None, approximate=True, fn=getattr(tl.nn.functional, name),
           method=None, variants=variants)
    for name, variants in [
        ("relu6", (Variant(),)), ("hardtanh", (Variant(), Variant("_range", (-0.5, 1.5)))),
        ("hardsigmoid", (Variant(),)), ("hardswish", (Variant(),)), ("mish", (Variant(),)), ("selu", (Variant(),)),
        ("celu", (Variant(), Variant("_alpha", (0.7,)))), ("softsign", (Variant(),)), ("tanhshrink", (Variant(),)),
        ("softshrink", (Variant(), Variant("_1", (1.0,)))), ("hardshrink", (Variant(),)),
        ("threshold", (Variant("", (0.25, -1.5)),))]
] + [  # tl functions and Tensor methods composed of the ops above (ops/composite.py)
    OpInfo("log2", torch.log2, None, domains=(POSITIVE,), approximate=True),
    OpInfo("log10", torch.log10, None, domains=(POSITIVE,), approximate=True),
    OpInfo("frac", torch.frac, None),
    # ops/special.py's compositions and aliases
    OpInfo("arcsin", torch.arcsin, None, domains=(UNIT,), approximate=True),
    OpInfo("arctanh", torch.arctanh, None, domains=(UNIT,), approximate=True),
    OpInfo("exp2", torch.exp2, None, approximate=True),
    OpInfo("logit", torch.logit, None, domains=(PROBABILITY,), approximate=True,
           variants=(Variant(), Variant("_eps", (0.25,)))),
    OpInfo("deg2rad", torch.deg2rad, None),
    OpInfo("rad2deg", torch.rad2deg, None),
    OpInfo("sgn", _sign, None),  # sign for real tensors: keeps the NaN, as sign does
    OpInfo("signbit", torch.signbit, None, grad=False),
    OpInfo("isposinf", torch.isposinf, None, grad=False),
    OpInfo("isneginf", torch.isneginf, None, grad=False),
]

BINARY = [
    OpInfo("add", torch.add, "add", domains=(REAL, REAL), int32=True, operator=_operator.add),
    OpInfo("sub", torch.sub, "sub", domains=(REAL, REAL), int32=True, operator=_operator.sub),
    OpInfo("mul", torch.mul, "mul", domains=(REAL, REAL), int32=True, operator=_operator.mul),
    OpInfo("div", torch.div, "div", domains=(REAL, NONZERO), operator=_operator.truediv),
    OpInfo("pow", torch.pow, "pow", domains=(POSITIVE, REAL), approximate=True, int32=True, operator=_operator.pow),
    OpInfo("maximum", torch.maximum, "maximum", domains=(REAL, REAL), int32=True),
    OpInfo("minimum", torch.minimum, "minimum", domains=(REAL, REAL), int32=True),
    # integers: ties happen
    OpInfo("eq", torch.eq, "eq", domains=(INTEGERS, INTEGERS), grad=False, operator=_operator.eq),
    OpInfo("ne", torch.ne, "ne", domains=(INTEGERS, INTEGERS), grad=False, operator=_operator.ne),
    OpInfo("lt", torch.lt, "lt", domains=(REAL, REAL), grad=False, operator=_operator.lt),
    OpInfo("le", torch.le, "le", domains=(INTEGERS, INTEGERS), grad=False, operator=_operator.le),
    OpInfo("gt", torch.gt, "gt", domains=(REAL, REAL), grad=False, operator=_operator.gt),
    OpInfo("ge", torch.ge, "ge", domains=(INTEGERS, INTEGERS), grad=False, operator=_operator.ge),
    OpInfo("add_relu", lambda a, b: torch.relu(a + b), "add_relu", domains=(REAL, REAL),
           fn=tl.fused.add_relu, method=None),
    OpInfo("mul_relu", lambda a, b: torch.relu(a * b), "mul_relu", domains=(REAL, REAL),
           fn=tl.fused.mul_relu, method=None),
    OpInfo("logical_and", torch.logical_and, "logical_and", domains=(REAL, REAL), grad=False),
    OpInfo("logical_or", torch.logical_or, "logical_or", domains=(REAL, REAL), grad=False),
    # the activations' backward kernels (grad, x), kernel-only: their derivatives are checked through gelu/silu
    OpInfo("gelu_backward", torch.ops.aten.gelu_backward, "gelu_backward", domains=(REAL, REAL), grad=False,
           approximate=True),
    OpInfo("gelu_tanh_backward", _gelu_tanh_backward, "gelu_tanh_backward", domains=(REAL, REAL), grad=False, approximate=True),
    OpInfo("silu_backward", torch.ops.aten.silu_backward, "silu_backward", domains=(REAL, REAL), grad=False,
           approximate=True),
    OpInfo("tanh_backward", torch.ops.aten.tanh_backward, "tanh_backward", domains=(REAL, REAL), grad=False),
    OpInfo("floor_divide", torch.floor_divide, "floor_divide", domains=(INTEGERS, NONZERO_INTEGERS), grad=False,
           int32=True, f32_oracle=True, operator=_operator.floordiv),
    OpInfo("remainder", torch.remainder, "remainder", domains=(INTEGERS, NONZERO_INTEGERS), grad=False, int32=True,
           f32_oracle=True, operator=_operator.mod),
    OpInfo("fmod", torch.fmod, None, domains=(INTEGERS, NONZERO_INTEGERS), grad=False, f32_oracle=True),
    # ops/special.py's kernels and compositions
    OpInfo("atan2", torch.atan2, "atan2", domains=(REAL, NONZERO), approximate=True),
    OpInfo("hypot", torch.hypot, "hypot", domains=(NONZERO, REAL)),
    OpInfo("copysign", torch.copysign, "copysign", domains=(NONZERO, REAL)),
    OpInfo("logaddexp", torch.logaddexp, "logaddexp", domains=(REAL, REAL), approximate=True),
    OpInfo("logaddexp2", torch.logaddexp2, "logaddexp2", domains=(REAL, REAL), approximate=True),
    OpInfo("xlogy", torch.xlogy, "xlogy", domains=(REAL, POSITIVE), approximate=True),
    OpInfo("fmax", torch.fmax, None, domains=(REAL, REAL)),
    OpInfo("fmin", torch.fmin, None, domains=(REAL, REAL)),
    OpInfo("heaviside", torch.heaviside, None, domains=(REAL, REAL), grad=False),
    OpInfo("float_power", torch.float_power, None, domains=(POSITIVE, REAL), approximate=True),
    OpInfo("arctan2", torch.arctan2, None, domains=(REAL, NONZERO), approximate=True),
    # torch.special's (ops/special_functions.py): zeta's gradient reaches only q (tests/test_special_functions.py)
    OpInfo("xlog1py", torch.special.xlog1py, "xlog1py", domains=(REAL, POSITIVE), approximate=True,
           fn=tl.special.xlog1py, method=None),
    OpInfo("zeta", _zeta, "zeta", domains=(AT_LEAST_1, POSITIVE), approximate=True, grad=False, fn=tl.special.zeta,
           method=None),
    # ops/float_parts.py: ldexp with a float exponent is input * exp2(other); nextafter's oracle steps on the f16 grid
    OpInfo("ldexp", torch.ldexp, None, domains=(REAL, INTEGERS), approximate=True),
    OpInfo("nextafter", lambda a, b: _nextafter_f16(a, b), None, domains=(REAL, REAL), grad=False),
]


def _mask(lib, *operands):
    """A condition for where and masked_fill (the same in either library): true at every third element of the
    operands' broadcast shape, on the device of the first tensor among them."""
    tensors = [x for x in operands if hasattr(x, "shape")]
    shape = tuple(np.broadcast_shapes(*(tuple(x.shape) for x in tensors)))
    return lib.arange(math.prod(shape), device=tensors[0].device).reshape(shape) % 3 == 0


def _lib(x):
    return torch if isinstance(x, torch.Tensor) else tl


def _where(lib):
    return lambda a, b: lib.where(_mask(lib, a, b), a, b)


def _masked_fill(method):
    """input.<method>(mask, value) (masked_fill, or masked_fill_ on a copy of input)."""
    def call(input, value):
        if not hasattr(input, method) or getattr(value, "ndim", 0):  # PyTorch: a number or a 0-d tensor value
            raise TypeError(f"{method}: input must be a tensor and value a number or a 0-d tensor")
        return getattr(input.clone(), method)(_mask(_lib(input), input), value)
    return call


def _tensors_only(fn):
    """fn's binary form, which takes two tensors (max(t, 1) is a reduction over dim 1)."""
    def call(a, b):
        if not (hasattr(a, "shape") and hasattr(b, "shape")):
            raise TypeError(f"{fn.__name__}: the binary form takes two tensors")
        return fn(a, b)
    return call


# Ops beyond BINARY whose tensor and number operands promote together (PyTorch's result_type), each with the
# domains of those operands (where's and masked_fill's condition is _mask); tests/test_promotion.py reads them
# with BINARY.
PROMOTING = [
    OpInfo("where", _where(torch), None, domains=(REAL, REAL), fn=_where(tl), method=None),
    OpInfo("masked_fill", _masked_fill("masked_fill"), None, domains=(REAL, REAL), fn=_masked_fill("masked_fill")),
    OpInfo("masked_fill_", _masked_fill("masked_fill_"), None, domains=(REAL, REAL), fn=_masked_fill("masked_fill_")),
    OpInfo("clamp", torch.clamp, None, domains=(REAL, REAL, REAL)),
    OpInfo("clamp_min", torch.clamp_min, None, domains=(REAL, REAL)),
    OpInfo("clamp_max", torch.clamp_max, None, domains=(REAL, REAL)),
    OpInfo("max", _tensors_only(torch.max), None, domains=(REAL, REAL), fn=_tensors_only(tl.max)),  # maximum
    OpInfo("min", _tensors_only(torch.min), None, domains=(REAL, REAL), fn=_tensors_only(tl.min)),  # minimum
    OpInfo("lerp", torch.lerp, None, domains=(REAL, REAL, REAL)),
    OpInfo("addcmul", torch.addcmul, None, domains=(REAL, REAL, REAL),
           variants=(Variant(), Variant("_value2", kwargs={"value": 2}))),
    OpInfo("addcdiv", torch.addcdiv, None, domains=(REAL, REAL, NONZERO),
           variants=(Variant(), Variant("_value_half", kwargs={"value": 0.5}))),
    # add and sub scaled by alpha (an integer alpha keeps integers; a float one is refused for them, as in PyTorch)
    OpInfo("add", torch.add, None, domains=(REAL, REAL),
           variants=(Variant("_alpha2", kwargs={"alpha": 2}), Variant("_alpha_half", kwargs={"alpha": 0.5}))),
    OpInfo("sub", torch.sub, None, domains=(REAL, REAL),
           variants=(Variant("_alpha2", kwargs={"alpha": 2}), Variant("_alpha_half", kwargs={"alpha": 0.5}))),
    # integer division: the rounding modes of div (floor_divide and true division are in BINARY)
    OpInfo("div", torch.div, None, domains=(INTEGERS, NONZERO_INTEGERS),
           variants=(Variant("_floor", kwargs={"rounding_mode": "floor"}),
                     Variant("_trunc", kwargs={"rounding_mode": "trunc"}))),
]


# softmax rows sum to 1 (small values keep their digits); log_softmax values are logs, any magnitude
ROWS = [
    OpInfo("softmax", torch.softmax, None, atol=1e-4, variants=(Variant("", (-1,)), Variant("_dim0", (0,)))),
    OpInfo("log_softmax", torch.log_softmax, None, atol=2e-3, variants=(Variant("", (1,)),)),
]


def _activations():
    """The fused linear epilogue's activations ('none' first, in the kernels' order), each the PyTorch
    reference of its UNARY entry and variant."""
    refs = {op.name + v.suffix: functools.partial(op.reference, variant=v) for op in UNARY for v in op.variants}
    return {name: refs[name] if name != "none" else (lambda t: t) for name in _EPILOGUES}


ACTIVATIONS = _activations()


def kernel_cases(ops):
    """{native kernel name: (op, variant)}: the first variant that runs each kernel."""
    found = {}
    for op in ops:
        for v in op.variants:
            if op.kernel_of(v) is not None:
                found.setdefault(op.kernel_of(v), (op, v))
    return found


def by_name(ops):
    return {op.name: op for op in ops}


def approximate_kernels():
    """The native kernels (unary and binary) whose f32 math is approximate on some backend."""
    return {op.kernel_of(v) for op in UNARY + BINARY if op.approximate for v in op.variants}


# ---- reductions ---------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Reduction:
    name: str  # the _core.ReduceOp member; tl.<name> reduces over dims unless `fn` says otherwise
    ref: Callable  # PyTorch on float64: ref(t, dims, keepdim, **kwargs) with dims a tuple (all of them: full)
    fn: str = ""  # tl's function over a tuple of dims when not `name` (max over dims is amax)
    indices: bool = False  # int32 positions (argmax, argmin): compared exactly, no gradient
    domain: Domain = REAL  # inputs of the gradient checks
    variants: tuple = ()  # Tensor method calls (the same on tl and torch tensors) whose gradients are checked

    def call(self, x, variant):
        """x.<method>(*args, **kwargs), the values of a (values, indices) result."""
        out = getattr(x, variant.method or self.name)(*variant.args, **variant.kwargs)
        return out.values if isinstance(out, tuple) else out


def _prod(t, dims, keepdim):
    """torch.prod takes one dim: reduce them one at a time, the last first."""
    for d in sorted((d % max(t.ndim, 1) for d in dims), reverse=True):
        t = t.prod(dim=d, keepdim=keepdim) if t.ndim else t
    return t


def _arg(name):
    def ref(t, dims, keepdim):
        """One dim, or all of them (the flat index)."""
        if not t.ndim:
            return getattr(torch, name)(t)
        if len(dims) == 1:
            return getattr(torch, name)(t, dim=dims[0], keepdim=keepdim)
        flat = getattr(torch, name)(t)
        return flat.reshape([1] * t.ndim) if keepdim else flat
    return ref


REDUCTIONS = [
    Reduction("sum", lambda t, dims, keepdim: torch.sum(t, dims, keepdim),
              variants=(Variant("", (1,)), Variant("_all"))),
    Reduction("mean", lambda t, dims, keepdim: torch.mean(t, dims, keepdim),
              variants=(Variant("_keepdim", ((0, 2),), {"keepdim": True}),)),
    # magnitudes >= 0.5: a product of small f16 values underflows (y / x then loses all digits)
    Reduction("prod", _prod, domain=NONZERO, variants=(Variant("", (2,)),)),
    Reduction("max", lambda t, dims, keepdim: torch.amax(t, dims, keepdim), fn="amax",
              variants=(Variant("_amax", (1,), method="amax"), Variant("_dim", (2,)))),
    Reduction("min", lambda t, dims, keepdim: torch.amin(t, dims, keepdim), fn="amin", variants=(Variant("_all"),)),
    Reduction("argmax", _arg("argmax"), indices=True),
    Reduction("argmin", _arg("argmin"), indices=True),
    Reduction("var", lambda t, dims, keepdim, correction=1.0: torch.var(t, dims, keepdim=keepdim, correction=correction),
              variants=(Variant("", (1,)), Variant("_std", ((1, 2),), {"correction": 0}, method="std"))),
    Reduction("logsumexp", lambda t, dims, keepdim: torch.logsumexp(t, dims, keepdim), variants=(Variant("", (2,)),)),
    Reduction("norm", lambda t, dims, keepdim, p=2.0: torch.linalg.vector_norm(t, p, dims, keepdim),
              variants=(Variant("2", kwargs={"dim": 1}), Variant("1", (1,), {"dim": 2}), Variant("3", (3,), {"dim": 2}),
                        Variant("_inf", (float("inf"),)))),
]


# ---- tl.fft's transforms ---------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Transform:
    """One tl.fft function: torch.fft's of the same name is its reference (float64/complex128 on the same f16
    inputs); whether its input is real (else complex); the calls (n or s, dim, norm) whose values and gradients
    are checked, on inputs of SPECTRAL_SHAPE."""
    name: str
    real_input: bool
    variants: tuple

    def call(self, lib, x, variant):
        return getattr(lib.fft, self.name)(x, *variant.args, **variant.kwargs)


SPECTRAL_SHAPE = (3, 6, 8)
_ONE_DIM = (Variant(), Variant("_n_pad", kwargs={"n": 11}), Variant("_n_crop_dim0", kwargs={"n": 2, "dim": 0}),
            Variant("_ortho", kwargs={"dim": 1, "norm": "ortho"}))
_TWO_DIM = (Variant(), Variant("_s_dims_ortho", kwargs={"s": (5, 7), "dim": (0, 2), "norm": "ortho"}))
_N_DIM = (Variant(), Variant("_s", kwargs={"s": (4, 9)}),
          Variant("_dims_forward", kwargs={"dim": (1, 0), "norm": "forward"}))
FFTS = [Transform(name, name.startswith(("rfft", "ihfft")), variants)
        for stem, variants in (("", _ONE_DIM), ("2", _TWO_DIM), ("n", _N_DIM))
        for name in (f"fft{stem}", f"ifft{stem}", f"rfft{stem}", f"irfft{stem}", f"hfft{stem}", f"ihfft{stem}")]


# ---- convolution and pooling shapes -------------------------------------------------------------------
# conv2d's cases (x shape, w shape, stride, padding, dilation, groups), forward and backward.
CONV2D_CASES = [
    ((2, 3, 8, 8), (4, 3, 3, 3), 1, 0, 1, 1),
    ((1, 3, 9, 7), (5, 3, 3, 2), (2, 1), (1, 2), 1, 1),
    ((2, 4, 10, 10), (6, 2, 3, 3), 1, 1, 2, 2),
    ((2, 4, 7, 7), (4, 1, 3, 3), 2, 1, 1, 4),  # depthwise
    ((3, 2, 5, 5), (3, 2, 1, 1), 1, 0, 1, 1),
    ((2, 4, 6, 5), (6, 2, 1, 1), 1, 0, 3, 2),  # pointwise with groups: no unfolding
    ((2, 4, 6, 5), (6, 4, 1, 1), 2, 1, 1, 1),  # 1x1 but strided and padded: unfolded
    ((1, 1, 4, 4), (1, 1, 4, 4), 1, 0, 1, 1),
    ((0, 3, 6, 6), (2, 3, 3, 3), 1, 0, 1, 1),
    ((2, 8, 12, 12), (16, 8, 3, 3), 1, 1, 1, 1),
    ((2, 3, 6, 9), (2, 3, 2, 4), (3, 2), (1, 3), (2, 1), 1),  # padding wider than some windows reach
    ((4, 3, 32, 32), (6, 3, 5, 5), 1, 0, 1, 1),  # the CIFAR-10 tutorial's first layer
]

# max_pool2d's and avg_pool2d's cases (x shape, kernel, stride, padding, dilation, ceil_mode), forward and backward.
POOL2D_CASES = [
    ((2, 3, 8, 8), 2, None, 0, 1, False),
    ((1, 2, 9, 7), 3, 2, 1, 1, False),
    ((1, 2, 9, 7), 3, 2, 1, 1, True),
    ((2, 1, 10, 11), (3, 2), (2, 3), (1, 1), 1, True),
    ((1, 3, 6, 6), 2, 2, 1, 1, True),
    ((1, 2, 11, 9), 3, 1, 1, 2, False),
    ((0, 2, 6, 6), 2, 2, 0, 1, False),
    ((4, 6, 28, 28), 2, None, 0, 1, False),  # the CIFAR-10 tutorial's first pool
    # windows longer than the input, padding past it and strides wider than it (the loops visit only the taps
    # inside the input: a 2^62 kernel with 2^61 padding once hung)
    ((1, 2, 3, 4), 8, 5, 4, 1, True),
    ((2, 1, 2, 3), (6, 7), (1, 9), (3, 3), 1, True),
    ((1, 2, 4, 3), (5, 4), (7, 2), (2, 2), (2, 1), True),
]
