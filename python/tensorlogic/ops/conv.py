"""The convolution family (NCHW) with torch.nn.functional's signatures: conv2d, max_pool2d,
avg_pool2d, unfold/fold (im2col/col2im) and scaled_dot_product_attention."""
import math
import numbers

import numpy as np

from .. import _core
from .._convert import numpy_to_array
from ..autograd.broadcast import sum_to
from ..autograd.function import _NULL, Function
from ..autograd.grad_mode import is_grad_enabled
from ..creation import arange, full, tensor
from ..determinism import are_deterministic_algorithms_enabled, on_cuda
from ..tensor import Tensor, _wrap
from .bias_grad import bias_grad
from .elementwise import where
from .linalg import triu
from .rows import softmax
from .shape import pad


def _pair(value, name):
    if isinstance(value, numbers.Integral):
        return (int(value), int(value))
    value = tuple(value)
    if len(value) == 1:
        return (int(value[0]), int(value[0]))
    if len(value) != 2 or not all(isinstance(v, numbers.Integral) for v in value):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return (int(value[0]), int(value[1]))


def _pool_stride(stride, kernel):
    """PyTorch's pooling default: the stride is the kernel size when it is None (or empty)."""
    if stride is None or (not isinstance(stride, numbers.Integral) and len(stride) == 0):
        return kernel
    return _pair(stride, "stride")


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
            if any(t % 2 for t in total):  # uneven: the odd one on the bottom/right, as PyTorch
                input = pad(input, (total[1] // 2, total[1] - total[1] // 2, total[0] // 2, total[0] - total[0] // 2))
                total = [0, 0]
            padding = (total[0] // 2, total[1] // 2)
        else:
            raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    if input.ndim == 3:  # unbatched: through differentiable unsqueeze/squeeze
        return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    return _Conv2d.apply(input, weight, bias, stride, _pair(padding, "padding"), dilation, int(groups))


# ---- autograd: the convolution family's backward is built from unfold/fold (each the other's adjoint),
# matmul and reductions, so derivatives of every order exist. Where no graph of the backward is recorded,
# conv2d's runs the device's fused kernel instead when it has one (the CPU's: f32 GEMMs over the batch).
class _Conv2d(Function):
    @staticmethod
    def forward(ctx, x, w, bias, stride, padding, dilation, groups):
        ctx.args = (stride, padding, dilation, groups)
        ctx.save_for_backward(x, w)
        return _wrap(_core.conv2d(x._a, w._a, None if bias is None else bias._a, stride, padding, dilation, groups))

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.args
        if not is_grad_enabled():  # the device's fused kernels, where it has them (they have no derivatives)
            grads = _core.conv2d_backward(x._a, w._a, g.contiguous()._a, stride, padding, dilation, groups,
                                          list(ctx.needs_input_grad[:3]))
            if grads is not None:
                return tuple(None if a is None else _wrap(a) for a in grads)
        n, c, h, wd = x.shape
        o, cg, kh, kw = w.shape
        L = g.shape[2] * g.shape[3]
        gz = g.reshape(n, groups, o // groups, L)
        wg = w.reshape(groups, o // groups, cg * kh * kw)
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gcols = (wg.mT @ gz).reshape(n, c * kh * kw, L)
            gx = fold(gcols, (h, wd), (kh, kw), dilation, padding, stride)
        if ctx.needs_input_grad[1]:
            cols = unfold(x, (kh, kw), dilation, padding, stride).reshape(n, groups, cg * kh * kw, L)
            gw = (gz @ cols.mT).sum(0).reshape(w.shape)
        if ctx.needs_input_grad[2]:
            gb = bias_grad(g, (0, 2, 3), x, w)
        return gx, gw, gb


def _window_pad(x, y_hw, kernel, stride, padding, dilation):
    """Bottom/right padding that makes unfold produce every window of a ceil_mode pool (0 otherwise)."""
    extra = []
    for i in range(2):
        need = (y_hw[i] - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1
        extra.append(max(0, need - (x.shape[2 + i] + 2 * padding[i])))
    return extra


def _pool_grad(x, g, kernel, stride, padding, dilation, weights_of):
    """Gradient of a pool: window columns of x (padded explicitly, ceil_mode windows included) get
    weights_of(cols) * g, then fold sums them back and the padding is cropped (pad's own backward)."""
    n, c, h, w = x.shape
    oh, ow = g.shape[2], g.shape[3]
    eh, ew = _window_pad(x, (oh, ow), kernel, stride, padding, dilation)
    ph, pw = padding
    xp = pad(x, (pw, pw + ew, ph, ph + eh), value=float("-inf"))
    kk = kernel[0] * kernel[1]
    cols = unfold(xp, kernel, dilation, 0, stride).reshape(n, c, kk, oh * ow)
    gcols = (weights_of(cols) * g.reshape(n, c, 1, oh * ow)).reshape(n, c * kk, oh * ow)
    full = fold(gcols, (xp.shape[2], xp.shape[3]), kernel, dilation, 0, stride)
    return pad(full, (-pw, -(pw + ew), -ph, -(ph + eh)))


class _Pool(Function):
    @staticmethod
    def name(ctx):
        return ctx.kind

    @staticmethod
    def forward(ctx, x, kind, kernel, stride, padding, dilation, ceil_mode, count_include_pad):
        ctx.kind, ctx.args = kind, (kernel, stride, padding, dilation, ceil_mode, count_include_pad)
        ctx.save_for_backward(x)
        if kind == "max_pool2d":
            return _wrap(_core.max_pool2d(x._a, kernel, stride, padding, dilation, ceil_mode))
        return _wrap(_core.avg_pool2d(x._a, kernel, stride, padding, ceil_mode, count_include_pad))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        kernel, stride, padding, dilation, ceil_mode, count_include_pad = ctx.args
        if not is_grad_enabled():  # the device's fused kernel, where it has one (it has no derivatives)
            gx = _core.pool2d_backward(ctx.kind == "max_pool2d", x._a, g.contiguous()._a, kernel, stride, padding,
                                       dilation, ceil_mode, count_include_pad)
            if gx is not None:
                return _wrap(gx)
        if ctx.kind == "max_pool2d":
            def first_max(cols):  # the whole gradient to the first maximum of each window, as PyTorch does
                slot = arange(cols.shape[2], dtype="int32", device=cols.device).reshape(1, 1, -1, 1)
                return slot == cols.argmax(2, keepdim=True)

            return _pool_grad(x, g, kernel, stride, padding, dilation, first_max)
        divisor = _avg_divisor(x.shape[2:], g.shape[2:], kernel, stride, padding, ceil_mode, count_include_pad)
        d = tensor(divisor.reshape(1, 1, 1, -1), device=g.device)
        return _pool_grad(x, g, kernel, stride, padding, (1, 1), lambda cols: d.expand(cols.shape))


def _avg_divisor(in_hw, out_hw, kernel, stride, padding, ceil_mode, count_include_pad):
    """1 / (PyTorch's divisor) of each output window, as float16 data."""
    per_dim = []
    for i in range(2):
        start = np.arange(out_hw[i]) * stride[i] - padding[i]
        end = np.minimum(start + kernel[i], in_hw[i] + padding[i])
        size = end - start
        valid = np.minimum(end, in_hw[i]) - np.maximum(start, 0)
        per_dim.append(size if count_include_pad else valid)
    return (1.0 / np.outer(per_dim[0], per_dim[1]).astype(np.float64)).astype(np.float16)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over sliding windows; padding never wins (it is -inf). With return_indices also the int64 flat
    position (h * W + w) in its plane of each window's first maximum, as PyTorch's (what max_unpool2d takes)."""
    kernel = _pair(kernel_size, "kernel_size")
    stride = _pool_stride(stride, kernel)
    if input.ndim == 3:
        out = max_pool2d(input.unsqueeze(0), kernel, stride, padding, dilation, ceil_mode, return_indices)
        return (out[0].squeeze(0), out[1].squeeze(0)) if return_indices else out.squeeze(0)
    padding, dilation = _pair(padding, "padding"), _pair(dilation, "dilation")
    out = _Pool.apply(input, "max_pool2d", kernel, stride, padding, dilation, bool(ceil_mode), True)
    if not return_indices:
        return out
    return out, _max_indices(input.detach(), tuple(out.shape[2:]), kernel, stride, padding, dilation)


def _max_indices(x, out_hw, kernel, stride, padding, dilation):
    """The flat input position of each window's first maximum: argmax over the window's columns (the input
    padded with -inf, ceil_mode windows included), its slot turned into a row and a column."""
    n, c, h, w = x.shape
    eh, ew = _window_pad(x, out_hw, kernel, stride, padding, dilation)
    ph, pw = padding
    xp = pad(x, (pw, pw + ew, ph, ph + eh), value=float("-inf"))
    cols = unfold(xp, kernel, dilation, 0, stride).reshape(n, c, kernel[0] * kernel[1], out_hw[0], out_hw[1])
    slot = cols.argmax(2).long()
    rows = arange(out_hw[0], device=x.device).long().reshape(-1, 1) * stride[0] - ph
    starts = arange(out_hw[1], device=x.device).long() * stride[1] - pw
    return (rows + slot // kernel[1] * dilation[0]) * w + starts + slot % kernel[1] * dilation[1]


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """Mean over sliding windows, with PyTorch's count_include_pad and ceil_mode rules."""
    if divisor_override is not None:
        raise ValueError("avg_pool2d: divisor_override is not supported")
    kernel = _pair(kernel_size, "kernel_size")
    stride = _pool_stride(stride, kernel)
    if input.ndim == 3:
        return avg_pool2d(input.unsqueeze(0), kernel, stride, padding, ceil_mode, count_include_pad).squeeze(0)
    return _Pool.apply(input, "avg_pool2d", kernel, stride, _pair(padding, "padding"), (1, 1), bool(ceil_mode),
                       bool(count_include_pad))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col: [N, C, H, W] -> [N, C*kh*kw, L] sliding blocks (torch.nn.functional.unfold)."""
    if input.ndim == 3:
        return unfold(input.unsqueeze(0), kernel_size, dilation, padding, stride).squeeze(0)
    return _Unfold.apply(input, _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation"),
                         _pair(padding, "padding"), _pair(stride, "stride"))


class _Unfold(Function):
    @staticmethod
    def forward(ctx, x, kernel, dilation, padding, stride):
        ctx.args = (kernel, dilation, padding, stride)
        return _wrap(_core.im2col(x._a, kernel, stride, padding, dilation))

    @staticmethod
    def backward(ctx, g):
        return fold(g, tuple(ctx.input_shapes[0][2:]), *ctx.args)


class _Fold(Function):
    @staticmethod
    def forward(ctx, cols, output_size, kernel, dilation, padding, stride):
        ctx.args = (kernel, dilation, padding, stride)
        return _wrap(_core.col2im(cols._a, output_size, kernel, stride, padding, dilation))

    @staticmethod
    def backward(ctx, g):
        return unfold(g, *ctx.args)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im: sums sliding blocks [N, C*kh*kw, L] back into [N, C, H, W] (torch.nn.functional.fold)."""
    if input.ndim == 2:
        return fold(input.unsqueeze(0), output_size, kernel_size, dilation, padding, stride).squeeze(0)
    return _Fold.apply(input, _pair(output_size, "output_size"), _pair(kernel_size, "kernel_size"),
                       _pair(dilation, "dilation"), _pair(padding, "padding"), _pair(stride, "stride"))


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(q @ k^T * scale + mask) @ v in one fused op, rounded once.

    A float mask is added to the scores; a boolean mask (numpy or anything with a bool dtype) keeps the
    positions where it is True. is_causal masks keys after each query (top-left aligned). enable_gqa:
    grouped-query attention, as PyTorch's: key and value have Hkv heads (axis -3) where query has Hq, a
    multiple, and query head i reads key/value head i // (Hq / Hkv)."""
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"scaled_dot_product_attention: dropout_p must be in [0, 1], got {dropout_p}")
    mask = None
    if isinstance(attn_mask, Tensor) and attn_mask.dtype.name == "bool":  # True keeps the position
        attn_mask = where(attn_mask, 0.0, float("-inf"))
    if attn_mask is not None:
        if isinstance(attn_mask, Tensor):
            mask = attn_mask._a
        else:
            values = np.asarray(attn_mask)
            if values.dtype == np.bool_:
                values = np.where(values, np.float16(0), np.float16(-np.inf))
            mask = numpy_to_array(values, None, query._a.device, False)
    mask = None if mask is None else (attn_mask if isinstance(attn_mask, Tensor) else _wrap(mask))
    if enable_gqa:
        groups = _query_groups(query, key, value, mask)
        if groups > 1:
            q, k, v, m = _grouped_views(query, key, value, mask, groups)
            out = scaled_dot_product_attention(q, k, v, m, dropout_p, is_causal, scale)
            return out.reshape(*out.shape[:-4], query.shape[-3], *out.shape[-2:])
    scale = float(scale) if scale is not None else (None if query.shape[-1] else _default_scale(query))
    drop = None
    if dropout_p > 0:  # reserves this call's Philox counters; the backward regenerates the same mask from them
        drop = _core.attention_dropout_draw(query._a, key._a, value._a, None if mask is None else mask._a,
                                            float(dropout_p))
    return _Attention.apply(query, key, value, mask, bool(is_causal), scale, drop)


def _query_groups(query, key, value, mask):
    """Query heads per key/value head under enable_gqa (heads on axis -3), checked as PyTorch checks them."""
    if min(query.ndim, key.ndim, value.ndim) < 3:
        raise ValueError("scaled_dot_product_attention: enable_gqa needs a heads axis (-3) in query, key and value")
    hq, hk = query.shape[-3], key.shape[-3]
    if value.shape[-3] != hk:
        raise ValueError(f"scaled_dot_product_attention: enable_gqa needs as many key heads as value heads, got "
                         f"{hk} and {value.shape[-3]}")
    if hq == hk:
        return 1
    if hk == 0 or hq % hk:
        raise ValueError(f"scaled_dot_product_attention: enable_gqa needs the query heads ({hq}) to be a multiple "
                         f"of the key/value heads ({hk})")
    if mask is not None and mask.ndim >= 3 and mask.shape[-3] not in (1, hq):
        raise ValueError(f"scaled_dot_product_attention: the mask's heads ({mask.shape[-3]}) broadcast to neither 1 "
                         f"nor the query's {hq}")
    return hq // hk


def _grouped_views(query, key, value, mask, groups):
    """Views with each group of query heads on an axis of its own, [..., Hkv, groups, L, E], beside key and value
    as [..., Hkv, 1, S, E]: a batch axis the attention broadcasts (no copies of K and V; their gradients sum over
    the group). The Hopper kernels read a broadcast batch axis at one coordinate (tensor_maps_sm90a.h)."""
    hk = key.shape[-3]
    q = query.reshape(*query.shape[:-3], hk, groups, *query.shape[-2:])
    if mask is not None and mask.ndim >= 3:
        mask = (mask.unsqueeze(-3) if mask.shape[-3] == 1 else
                mask.reshape(*mask.shape[:-3], hk, groups, *mask.shape[-2:]))
    return q, key.unsqueeze(-3), value.unsqueeze(-3), mask


def _default_scale(q):
    """1/sqrt(head dim). With a zero-size head dim every score is an empty sum, 0 under any finite scale,
    so the softmax is uniform (as PyTorch); 1.0 stands in for the infinite 1/sqrt(0)."""
    return 1.0 / math.sqrt(q.shape[-1]) if q.shape[-1] else 1.0


def _probabilities(q, k, mask, causal, scale):
    """softmax(q @ k^T * scale + mask) with tensor ops, rows whose keys are all masked zero (as the kernels)."""
    scale = scale if scale is not None else _default_scale(q)
    scores = (q @ k.mT) * scale
    if mask is not None:
        scores = scores + mask
    if causal:  # keys after the query (top-left aligned, as the fused kernel)
        L, S = scores.shape[-2], scores.shape[-1]
        scores = scores + triu(full((L, S), float("-inf"), device=q.device), 1)
    p = softmax(scores, -1)
    return where(scores.amax(-1, keepdim=True) > float("-inf"), p, 0.0)


def _dropout_factors(q, k, v, mask, drop):
    """The factor (1 / (1 - p) or 0) of each probability under the dropout `drop`, [batch..., L, S] over the
    batch axes of all operands: the kernels' exact mask, evaluated on the host (cpp/core/philox.h)."""
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2], () if mask is None else mask.shape[:-2])
    keep = _wrap(_core.attention_dropout_keep(list(batch) + [q.shape[-2], k.shape[-2]], drop, q._a.device))
    return keep * (0.0 if drop[0] >= 1.0 else 1.0 / (1.0 - drop[0]))


class _Attention(Function):
    """Fused forward, with dropout on the probabilities where `drop` (p, seed, offset) is given. The backward
    runs the device's fused kernels where it has them, unless the mask needs a gradient, a graph of the
    backward is recorded (they have no derivatives of their own) or deterministic algorithms are asked for on
    CUDA (whose kernels add dQ atomically); otherwise it recomputes the probabilities
    with tensor ops (softmax, matmul) and the dropout's mask from its counters. When a graph is recorded the
    forward keeps its output and each row's log-sum-exp where the device can (CUDA's tiled kernels), so the
    fused backward does not run the forward again. A device without a dropout kernel (Metal) composes the
    forward from tensor ops with the same mask."""

    @staticmethod
    def forward(ctx, q, k, v, mask, causal, scale, drop):
        ctx.causal, ctx.scale, ctx.drop = causal, scale, drop
        m = None if mask is None else mask._a
        if drop is not None:
            fused = _core.scaled_dot_product_attention_dropout(q._a, k._a, v._a, m, causal, scale, drop)
            if fused is None:
                out, ctx.stats = _probabilities(q, k, mask, causal, scale) * _dropout_factors(q, k, v, mask, drop) @ v, None
            else:
                out, ctx.stats = _wrap(fused[0]), fused[1]
        elif ctx is _NULL:
            return _wrap(_core.scaled_dot_product_attention(q._a, k._a, v._a, m, causal, scale))
        else:
            out, ctx.stats = _core.scaled_dot_product_attention_keeping_stats(q._a, k._a, v._a, m, causal, scale)
            out = _wrap(out)
        if ctx is not _NULL:
            ctx.save_for_backward(q, k, v, mask, out if ctx.stats is not None else None)
        return out

    @staticmethod
    def backward(ctx, g):
        q, k, v, mask, out = ctx.saved_tensors
        fused = not (are_deterministic_algorithms_enabled() and on_cuda(q._a))
        if (mask is None or not ctx.needs_input_grad[3]) and not is_grad_enabled() and fused:
            saved_out = None if out is None else out._a
            grads = _core.scaled_dot_product_attention_backward(q._a, k._a, v._a, None if mask is None else mask._a,
                                                                g._a, ctx.causal, ctx.scale, saved_out,
                                                                ctx.stats if saved_out is not None else None, ctx.drop)
            if grads is not None:
                return tuple(sum_to(_wrap(a), x.shape) if need else None
                             for a, x, need in zip(grads, (q, k, v), ctx.needs_input_grad)) + (None,)
        scale = ctx.scale if ctx.scale is not None else _default_scale(q)
        p = _probabilities(q, k, mask, ctx.causal, scale)
        gp = g @ v.mT
        pz = p
        if ctx.drop is not None:  # output (P z) V: dP = z (dO V^T), dV = (P z)^T dO
            z = _dropout_factors(q, k, v, mask, ctx.drop)
            gp, pz = gp * z, p * z
        gs = p * (gp - (gp * p).sum(-1, keepdim=True))
        gq = sum_to((gs @ k) * scale, q.shape) if ctx.needs_input_grad[0] else None
        gk = sum_to((gs.mT @ q) * scale, k.shape) if ctx.needs_input_grad[1] else None
        gv = sum_to(pz.mT @ g, v.shape) if ctx.needs_input_grad[2] else None
        gm = sum_to(gs, mask.shape) if mask is not None and ctx.needs_input_grad[3] else None
        return gq, gk, gv, gm
