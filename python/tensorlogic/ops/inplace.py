"""The in-place forms PyTorch has of elementwise ops (`x.sigmoid_()`, `torch.tanh_(x)`, `x.clamp_min_(0)`):
Tensor methods, and torch-level functions where torch has them. A unary kernel runs in place in the
tensor's memory; any other op computes its result and writes it back. Under autograd each is recorded as
the out-of-place op on the tensor's previous value (autograd.inplace.inplace), so a leaf that requires
grad refuses them, as in PyTorch."""
from .. import _core
from ..tensor import Tensor, tensor_method
from . import composite, elementwise, special
from .elementwise import _inplace_unary, _written_back

_U = _core.UnaryOp

# unary kernels: written in place by the kernel itself
for _name in ("tan", "sinh", "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh", "expm1", "sinc", "rsqrt",
              "log1p", "reciprocal", "sign", "erf", "erfc", "erfinv"):
    _inplace_unary(getattr(_U, _name), getattr(special, _name, None) or getattr(elementwise, _name), _name + "_")
for _alias, _name in (("arcsin_", "asin_"), ("arccos_", "acos_"), ("arctan_", "atan_"), ("arcsinh_", "asinh_"),
                      ("arccosh_", "acosh_"), ("arctanh_", "atanh_"), ("absolute_", "abs_"), ("negative_", "neg_")):
    tensor_method(_alias)(getattr(Tensor, _name))


for _module, _names in (
        (elementwise, ("round", "trunc", "pow", "remainder", "floor_divide", "true_divide", "eq", "ne", "lt", "le",
                       "gt", "ge", "logical_not", "logical_and", "logical_or")),
        (composite, ("frac", "log2", "log10", "fmod", "clamp_min", "clamp_max", "nan_to_num", "logical_xor",
                    "masked_scatter")),
        (special, ("exp2", "logit", "deg2rad", "rad2deg", "sgn", "atan2", "hypot", "copysign", "xlogy", "heaviside",
                   "float_power"))):
    for _name in _names:
        if not hasattr(Tensor, _name + "_"):
            _written_back(getattr(_module, _name), _name + "_")
for _alias, _name in (("arctan2_", "atan2_"), ("fix_", "trunc_"), ("divide_", "div_"), ("multiply_", "mul_"),
                      ("subtract_", "sub_"), ("greater_", "gt_"), ("greater_equal_", "ge_"), ("less_", "lt_"),
                      ("less_equal_", "le_"), ("not_equal_", "ne_")):
    tensor_method(_alias)(getattr(Tensor, _name))

# torch-level functions of the same names (torch.sigmoid_(x), torch.clamp_(x, 0, 1), ...)
_TORCH_LEVEL = ("abs_", "acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_",
                "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_",
                "cosh_", "deg2rad_", "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "index_put_",
                "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_", "negative_", "rad2deg_",
                "reciprocal_", "relu_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_",
                "tan_", "tanh_", "trunc_", "xlogy_", "zero_")
globals().update({_name: getattr(Tensor, _name) for _name in _TORCH_LEVEL})
__all__ = list(_TORCH_LEVEL)
