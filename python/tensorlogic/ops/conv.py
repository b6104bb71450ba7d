"""The convolution family (NCHW) with torch.nn.functional's signatures: conv2d, max_pool2d,
avg_pool2d, unfold/fold (im2col/col2im) and scaled_dot_product_attention."""
import numbers

import numpy as np

from .. import _core
from .._convert import numpy_to_array
from ..tensor import Tensor, _wrap


def _pair(value, name):
    if isinstance(value, numbers.Integral):
        return (int(value), int(value))
    value = tuple(value)
    if len(value) == 1:
        return (int(value[0]), int(value[0]))
    if len(value) != 2 or not all(isinstance(v, numbers.Integral) for v in value):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return (int(value[0]), int(value[1]))


def _batched(op, x, ndim):
    """Adds the batch axis to an unbatched input (like PyTorch); returns the array and whether it did."""
    if x.ndim == ndim - 1:
        return _core.unsqueeze(x._a, 0), True
    return x._a, False


def _unbatch(array, added):
    return _wrap(_core.squeeze(array, [0]) if added else array)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution of [N, C, H, W] (or [C, H, W]) by [O, C/groups, kh, kw]; padding may be 'valid' or 'same'."""
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError("conv2d: padding='same' is not supported for strided convolutions")
            total = [d * (k - 1) for d, k in zip(dilation, weight.shape[2:])]
            if any(t % 2 for t in total):
                raise ValueError(
                    "conv2d: padding='same' would need uneven padding here (even kernel extent); "
                    "only symmetric padding is supported"
                )
            padding = (total[0] // 2, total[1] // 2)
        else:
            raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    x, added = _batched("conv2d", input, 4)
    b = None if bias is None else bias._a
    out = _core.conv2d(x, weight._a, b, stride, _pair(padding, "padding"), dilation, int(groups))
    return _unbatch(out, added)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over sliding windows; padding never wins (it is -inf)."""
    if return_indices:
        raise ValueError("max_pool2d: return_indices=True is not supported")
    kernel = _pair(kernel_size, "kernel_size")
    stride = kernel if stride is None or (not isinstance(stride, numbers.Integral) and len(stride) == 0) else _pair(stride, "stride")
    x, added = _batched("max_pool2d", input, 4)
    out = _core.max_pool2d(x, kernel, stride, _pair(padding, "padding"), _pair(dilation, "dilation"), bool(ceil_mode))
    return _unbatch(out, added)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """Mean over sliding windows, with PyTorch's count_include_pad and ceil_mode rules."""
    if divisor_override is not None:
        raise ValueError("avg_pool2d: divisor_override is not supported")
    kernel = _pair(kernel_size, "kernel_size")
    stride = kernel if stride is None or (not isinstance(stride, numbers.Integral) and len(stride) == 0) else _pair(stride, "stride")
    x, added = _batched("avg_pool2d", input, 4)
    out = _core.avg_pool2d(x, kernel, stride, _pair(padding, "padding"), bool(ceil_mode), bool(count_include_pad))
    return _unbatch(out, added)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col: [N, C, H, W] -> [N, C*kh*kw, L] sliding blocks (torch.nn.functional.unfold)."""
    x, added = _batched("unfold", input, 4)
    out = _core.im2col(x, _pair(kernel_size, "kernel_size"), _pair(stride, "stride"), _pair(padding, "padding"),
                       _pair(dilation, "dilation"))
    return _unbatch(out, added)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im: sums sliding blocks [N, C*kh*kw, L] back into [N, C, H, W] (torch.nn.functional.fold)."""
    x, added = _batched("fold", input, 3)
    out = _core.col2im(x, _pair(output_size, "output_size"), _pair(kernel_size, "kernel_size"), _pair(stride, "stride"),
                       _pair(padding, "padding"), _pair(dilation, "dilation"))
    return _unbatch(out, added)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(q @ k^T * scale + mask) @ v in one fused op, rounded once.

    A float mask is added to the scores; a boolean mask (numpy or anything with a bool dtype) keeps the
    positions where it is True. is_causal masks keys after each query (top-left aligned)."""
    if dropout_p:
        raise ValueError("scaled_dot_product_attention: dropout_p > 0 is not supported")
    if enable_gqa:
        raise ValueError("scaled_dot_product_attention: enable_gqa is not supported")
    mask = None
    if attn_mask is not None:
        if isinstance(attn_mask, Tensor):
            mask = attn_mask._a
        else:
            values = np.asarray(attn_mask)
            if values.dtype == np.bool_:
                values = np.where(values, np.float16(0), np.float16(-np.inf))
            mask = numpy_to_array(values, None, query._a.device, False)
    return _wrap(_core.scaled_dot_product_attention(query._a, key._a, value._a, mask, bool(is_causal),
                                                    None if scale is None else float(scale)))
