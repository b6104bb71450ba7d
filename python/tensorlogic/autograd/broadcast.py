"""Undoing broadcasting in gradients: a gradient of the broadcast shape is summed back to the input's shape."""


def sum_to(grad, shape):
    """Sums `grad` over the dims that broadcasting added or stretched so that it has `shape`."""
    if grad._a.shape == shape:  # the usual case, and the shapes a node records are tuples already
        return grad
    shape = tuple(shape)
    if grad._a.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and grad.shape[lead + i] != 1)
    if dims:
        grad = grad.sum(dim=dims, keepdim=True)
    return grad.reshape(shape) if tuple(grad.shape) != shape else grad
