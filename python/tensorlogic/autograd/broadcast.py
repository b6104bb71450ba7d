"""Undoing broadcasting in gradients: a gradient of the broadcast shape is summed back to the input's shape."""


def sum_to(grad, shape):
    """Sums `grad` over the dims that broadcasting added or stretched so that it has `shape`."""
    shape = tuple(shape)
    if tuple(grad.shape) == shape:
        return grad
    lead = grad.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and grad.shape[lead + i] != 1)
    if dims:
        grad = grad.sum(dim=dims, keepdim=True)
    return grad.reshape(shape) if tuple(grad.shape) != shape else grad
