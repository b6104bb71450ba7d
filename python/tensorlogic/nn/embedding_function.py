"""tl.nn.functional.embedding with PyTorch's options: padding_idx and scale_grad_by_freq shape the weight's
gradient per looked-up position (so a weight shared with another layer, as a tied decoder, still gets that layer's
gradient in the padding row), max_norm renormalises the looked-up rows in place."""
from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from ..ops.counting import bincount, unique
from ..ops.elementwise import where
from ..ops.indexing import embedding as _embedding
from ..tensor import Tensor
from .sparse_rows import recorded


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """Rows of weight [num_embeddings, dim] picked by the integer indices in input: [...] -> [..., dim]. Positions
    whose index is padding_idx pass no gradient to weight; scale_grad_by_freq divides each position's gradient by
    its index's count in input; max_norm first rescales (in place, without gradient) every looked-up row whose
    norm_type-norm exceeds it to that norm. sparse gradients are dense here (the same values); their rows are recorded
    for optim.SparseAdam (sparse_rows.py)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"embedding: input must be a Tensor of indices, got {type(input).__name__}")
    if not isinstance(weight, Tensor):
        raise TypeError(f"embedding: weight must be a Tensor, got {type(weight).__name__}")
    if padding_idx is not None and weight.ndim == 2:  # (a weight of another rank: the lookup's ShapeMismatchError)
        padding_idx = padding_index(padding_idx, weight.shape[0])
    if max_norm is not None:
        _renorm_rows(weight, input, float(max_norm), float(norm_type))
    out = _embedding(weight, input)
    if sparse:
        out = recorded(out, weight, input if padding_idx is None else input[input != padding_idx])
    if not out.requires_grad or (padding_idx is None and not scale_grad_by_freq):
        return out
    scale = None
    if scale_grad_by_freq:
        counts = bincount(input.flatten().long(), minlength=weight.shape[0])
        scale = 1.0 / counts[input].to(weight.dtype)
    if padding_idx is not None:
        keep = input != padding_idx
        scale = keep.to(weight.dtype) if scale is None else scale * keep
    return _ScaledGradient.apply(out, scale.unsqueeze(-1))


class _ScaledGradient(Function):
    """The identity, whose gradient is multiplied by a constant `scale` (broadcast against it)."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.scale, None


def padding_index(padding_idx, num_embeddings):
    """padding_idx in [0, num_embeddings) (a negative one counted from the end), or None; it must be an int."""
    if padding_idx is None:
        return None
    if isinstance(padding_idx, Tensor) or not hasattr(type(padding_idx), "__index__"):
        raise TypeError(f"embedding: padding_idx must be an int, got {type(padding_idx).__name__}")
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError("Padding_idx must be within num_embeddings")
    return int(padding_idx) % num_embeddings


def _renorm_rows(weight, input, max_norm, norm_type):
    """torch.embedding_renorm_: each row of weight that input names, of norm above max_norm, scaled to it."""
    with no_grad():
        rows = unique(input.flatten().long())
        picked = weight[rows]
        norms = picked.norm(p=norm_type, dim=1, keepdim=True)
        weight[rows] = where(norms > max_norm, picked * (max_norm / (norms + 1e-7)), picked)
