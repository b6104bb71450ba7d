"""torch.nn.utils.convert_parameters: parameters as one vector and back."""
from ...ops.shape import cat
from ...tensor import Tensor


def parameters_to_vector(parameters):
    """The parameters flattened and joined into one vector (differentiable)."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Writes consecutive slices of `vec` into the parameters (in place, outside autograd)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected a Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if total != vec.numel():
        raise ValueError(f"vector_to_parameters: the vector has {vec.numel()} values, the parameters {total}")
    offset = 0
    for p in params:
        n = p.numel()
        p.data = vec[offset:offset + n].detach().reshape(p.shape).clone()
        offset += n


__all__ = ["parameters_to_vector", "vector_to_parameters"]
