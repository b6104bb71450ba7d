"""The PyTorch examples' polynomial regression (features x, x^2, x^3, x^4; one Linear; smooth L1 loss; a
hand-written SGD step on param.data), written against a module `torch`. `fit` is the example's loop as it
is: batches from torch.randn, lr 0.1, until one batch's loss is below 1e-3; `train` runs a given list of
batches at lr 0.02 instead (the same for both libraries, so their trajectories can be compared)."""
from itertools import count

POLY_DEGREE = 4


def example_functions(torch, W_target, b_target):
    """The example's helpers: make_features, f (the target function) and poly_desc."""

    def make_features(x):
        """Builds features i.e. a matrix with columns [x, x^2, x^3, x^4]."""
        x = x.unsqueeze(1)
        return torch.cat([x ** i for i in range(1, POLY_DEGREE + 1)], 1)

    def f(x):
        """Approximated function."""
        return x.mm(W_target) + b_target.item()

    def poly_desc(W, b):
        """Creates a string description of a polynomial."""
        result = "y = "
        for i, w in enumerate(W):
            result += "{:+.2f} x^{} ".format(w, i + 1)
        result += "{:+.2f}".format(b[0])
        return result

    return make_features, f, poly_desc


def sgd_step(torch, fc, batch_x, batch_y, lr):
    """One of the example's steps: smooth L1 loss, backward, param.data -= lr * grad; returns the loss."""
    fc.zero_grad()
    output = torch.nn.functional.smooth_l1_loss(fc(batch_x), batch_y)
    loss = output.item()
    output.backward()
    for param in fc.parameters():
        param.data.add_(-lr * param.grad)
    return loss


def fit(torch, fc, W_target, b_target, batch_indices=None):
    """The example's main loop; batch_indices (default count(1), as the example) lets a test bound it.
    Returns (the last loss, the number of batches, the learned function's description)."""
    make_features, f, poly_desc = example_functions(torch, W_target, b_target)

    def get_batch(batch_size=32):
        """Builds a batch i.e. (x, f(x)) pair."""
        random = torch.randn(batch_size)
        x = make_features(random)
        y = f(x)
        return x, y

    for batch_idx in count(1) if batch_indices is None else batch_indices:
        batch_x, batch_y = get_batch()
        loss = sgd_step(torch, fc, batch_x, batch_y, 0.1)
        if loss < 1e-3:
            break
    return loss, batch_idx, poly_desc(fc.weight.view(-1), fc.bias)


def train(torch, fc, w_target, b_target, batches):
    """The example's step on given batches (numpy arrays of x); returns (losses, description)."""
    make_features, f, poly_desc = example_functions(torch, torch.from_numpy(w_target), torch.from_numpy(b_target))
    losses = []
    for random in batches:
        batch_x = make_features(torch.from_numpy(random))
        losses.append(sgd_step(torch, fc, batch_x, f(batch_x), 0.02))
    return losses, poly_desc(fc.weight.view(-1), fc.bias)


def build(torch):
    return torch.nn.Linear(POLY_DEGREE, 1)
