"""AdaptiveLogSoftmaxWithLoss (Grave et al., 2017, "Efficient softmax approximation for GPUs"), as torch.nn's: the
frequent classes (those below cutoffs[0]) and one entry per cluster of rarer classes share a head softmax; a
cluster's classes get a softmax of their own over a smaller projection (in_features / div_value ** (i + 1)), added
to their cluster's head log-probability. PyTorch's submodules and state_dict keys (head, tail.i.0, tail.i.1)."""
import collections
import numbers

import numpy as np

from ..creation import tensor
from ..errors import ShapeMismatchError
from ..ops.rows import log_softmax
from ..ops.shape import cat
from .container import ModuleList, Sequential
from .layers import Linear
from .module import Module

_ASMoutput = collections.namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """forward(input [N, in_features] or [in_features], target [N] or []) gives (output, loss): each row's
    log-probability of its target, and the mean of their negatives. log_prob(input) gives every class's
    log-probability [N, n_classes]; predict(input) the most probable class (int64). cutoffs: increasing ints in
    [1, n_classes - 1]; head_bias adds a bias to the head only, as in PyTorch."""

    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False, device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if not cutoffs:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        # (the ints are checked first: a tensor or array among them has no single truth value to compare by)
        if (any(not isinstance(c, numbers.Integral) for c in cutoffs) or cutoffs != sorted(cutoffs)
                or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1 or len(set(cutoffs)) != len(cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in an increasing order, "
                             "where each value is between 1 and n_classes-1")
        if not div_value > 0:  # each cluster's projection is in_features // div_value ** (i + 1) wide
            raise ValueError(f"AdaptiveLogSoftmaxWithLoss: div_value must be positive, got {div_value}")
        self.in_features, self.n_classes, self.div_value, self.head_bias = in_features, n_classes, div_value, head_bias
        self.cutoffs = cutoffs + [n_classes]
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, device=device, dtype=dtype)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            size = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hidden, bias=False, device=device, dtype=dtype),
                                        Linear(hidden, size, bias=False, device=device, dtype=dtype)))

    def reset_parameters(self):
        """Every projection's own initialisation again (Linear's)."""
        self.head.reset_parameters()
        for projection in self.tail:
            for layer in projection:
                layer.reset_parameters()

    def _rows(self, input, target):
        if target.ndim == 0:
            if input.ndim != 1:
                raise ShapeMismatchError(f"AdaptiveLogSoftmaxWithLoss: a 0-d target needs a 1-d input, got "
                                         f"{list(input.shape)}")
            return input.unsqueeze(0), target.unsqueeze(0)
        if target.ndim != 1 or input.ndim != 2:
            raise ShapeMismatchError(f"AdaptiveLogSoftmaxWithLoss: expected input [N, in_features] and target [N], got "
                                     f"{list(input.shape)} and {list(target.shape)}")
        if input.shape[0] != target.shape[0]:
            raise ShapeMismatchError("Input and target should have the same size in the batch dimension.")
        return input, target

    def forward(self, input, target):
        """(output, loss): each row's log-probability of its target, and the mean of their negatives."""
        x, t = self._rows(input, target)
        t = t.long()
        classes = t.detach().cpu().numpy()
        if classes.size and (classes.min() < 0 or classes.max() >= self.n_classes):
            raise IndexError(f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                             f"[{classes.min()}, {classes.max()}] were found.")
        cluster = np.searchsorted(self.cutoffs, classes, side="right")  # 0: the shortlist; i: cluster i
        head_column = np.where(cluster == 0, classes, self.shortlist_size + cluster - 1)
        head = log_softmax(self.head(x), 1)
        output = head.gather(1, tensor(head_column, device=x.device).reshape(-1, 1)).reshape(-1)
        for i in range(1, self.n_clusters + 1):
            rows = np.flatnonzero(cluster == i)
            if rows.size == 0:
                continue
            picked = tensor(rows, device=x.device)
            local = log_softmax(self.tail[i - 1](x.index_select(0, picked)), 1)
            inside = (t.index_select(0, picked) - self.cutoffs[i - 1]).reshape(-1, 1)
            output = output.index_add(0, picked, local.gather(1, inside).reshape(-1))
        loss = (-output).mean()
        return _ASMoutput(output.reshape(()) if target.ndim == 0 else output, loss)

    def log_prob(self, input):
        """Every class's log-probability: [N, n_classes] for [N, in_features] input ([n_classes] for 1-d)."""
        if input.ndim not in (1, 2):
            raise ShapeMismatchError(f"AdaptiveLogSoftmaxWithLoss: expected a 1-d or 2-d input, got {list(input.shape)}")
        x = input if input.ndim == 2 else input.unsqueeze(0)
        head = log_softmax(self.head(x), 1)
        parts = [head[:, :self.shortlist_size]]
        for i, projection in enumerate(self.tail):
            parts.append(log_softmax(projection(x), 1) + head[:, self.shortlist_size + i:self.shortlist_size + i + 1])
        out = cat(parts, 1)
        return out if input.ndim == 2 else out.squeeze(0)

    def predict(self, input):
        """The most probable class of each row (int64): argmax of log_prob."""
        return self.log_prob(input).argmax(-1)
