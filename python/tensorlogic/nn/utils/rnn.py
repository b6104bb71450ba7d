"""torch.nn.utils.rnn: pad_sequence (a list of variable-length sequences stacked into one padded tensor) and
unpad_sequence (back); packed sequences (PackedSequence, pack_padded_sequence, pad_packed_sequence,
pack_sequence, unpack_sequence), which the recurrent layers take as PyTorch's do."""
import math
import numbers
import operator
from typing import NamedTuple, Optional

from ...creation import full, tensor
from ...dtypes import int64
from ...ops.index_update import index_copy
from ...ops.indexing import index_select
from ...ops.shape import cat, stack
from ...tensor import Tensor


class PackedSequence(NamedTuple):
    """Variable-length sequences packed time step by time step, longest first, as PyTorch's: data [sum of the
    lengths, *] holds at each step the sequences still running, batch_sizes (int64, on the CPU) how many run at
    each step, sorted_indices the batch order by decreasing length (None when the batch came sorted) and
    unsorted_indices its inverse."""
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Optional[Tensor] = None
    unsorted_indices: Optional[Tensor] = None

    def to(self, *args, **kwargs):
        """The same packing with data (and the indices) moved or converted by Tensor.to; batch_sizes stays."""
        data = self.data.to(*args, **kwargs)
        move = (lambda t: None if t is None else t.to(device=data.device))
        return PackedSequence(data, self.batch_sizes, move(self.sorted_indices), move(self.unsorted_indices))


def _lengths(lengths, op):
    """lengths (a sequence of numbers or a 1-d tensor) as a list of ints, truncated as PyTorch converts them; a
    TypeError for another kind, a ValueError for NaN, an infinity or a tensor of another rank."""
    if isinstance(lengths, Tensor):
        if lengths.ndim != 1:
            raise ValueError(f"{op}: lengths must be a 1-d tensor, got {lengths.ndim}-d")
        lengths = lengths.tolist()
    if isinstance(lengths, (str, bytes)) or not hasattr(lengths, "__iter__"):
        raise TypeError(f"{op}: lengths must be a sequence of ints or a 1-d tensor, got {type(lengths).__name__}")
    values = []
    for n in lengths:
        if not isinstance(n, numbers.Real):
            raise TypeError(f"{op}: lengths must hold numbers, got {type(n).__name__}")
        if not math.isfinite(n):
            raise ValueError(f"{op}: a length of {n} cannot be converted to an integer")
        values.append(int(n))
    return values


def _index_list(indices, batch, name, op):
    """sorted_indices or unsorted_indices of a PackedSequence as a list: None, or a 1-d integer tensor holding a
    permutation of range(batch)."""
    if indices is None:
        return None
    if not isinstance(indices, Tensor) or indices.ndim != 1 or indices.dtype.name not in ("int32", "int64"):
        raise TypeError(f"{op}: {name} must be None or a 1-d integer tensor, got "
                        + (f"{indices.ndim}-d {indices.dtype.name}" if isinstance(indices, Tensor)
                           else type(indices).__name__))
    order = indices.tolist()
    if sorted(order) != list(range(batch)):
        raise ValueError(f"{op}: {name} must be a permutation of the batch's {batch} indices, got {order}")
    return order


def _check_packed(sequence, op):
    """(batch_sizes as a list, the sorted order as a list or None) of a PackedSequence whose parts agree, as
    pack_padded_sequence makes them: batch_sizes a 1-d integer tensor of positive, non-increasing counts that sum
    to data's first dimension; the indices permutations of the batch. A TypeError or ValueError says which part
    does not."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{op}: expected a PackedSequence, got {type(sequence).__name__}")
    data, batch_sizes = sequence.data, sequence.batch_sizes
    if not isinstance(data, Tensor) or data.ndim < 1:
        raise TypeError(f"{op}: a PackedSequence's data must be a tensor of at least 1 dimension, got "
                        + (f"shape {list(data.shape)}" if isinstance(data, Tensor) else type(data).__name__))
    if (not isinstance(batch_sizes, Tensor) or batch_sizes.ndim != 1
            or batch_sizes.dtype.name not in ("int32", "int64")):
        raise TypeError(f"{op}: a PackedSequence's batch_sizes must be a 1-d integer tensor, got "
                        + (f"{batch_sizes.ndim}-d {batch_sizes.dtype.name}" if isinstance(batch_sizes, Tensor)
                           else type(batch_sizes).__name__))
    sizes = batch_sizes.tolist()
    if not sizes or sizes[-1] <= 0 or any(a < b for a, b in zip(sizes, sizes[1:])):
        raise ValueError(f"{op}: batch_sizes must be positive and non-increasing, got {sizes}")
    if sum(sizes) != data.shape[0]:
        raise ValueError(f"{op}: batch_sizes {sizes} count {sum(sizes)} rows, but data has {data.shape[0]}")
    order = _index_list(sequence.sorted_indices, sizes[0], "sorted_indices", op)
    _index_list(sequence.unsorted_indices, sizes[0], "unsorted_indices", op)
    return sizes, order


def _number(value, name, op):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__}")
    return value


def _positions(batch_sizes, order, batch):
    """The rows of a time-major padded [T * batch, *] tensor that packed data's rows come from, in order."""
    return [t * batch + order[j] for t, size in enumerate(batch_sizes) for j in range(size)]


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """A PackedSequence of the padded batch input ([T, B, *], or [B, T, *] with batch_first) whose sequence b
    is its first lengths[b] steps. With enforce_sorted the lengths must not increase; otherwise the batch is
    sorted by decreasing length (sorted_indices). Differentiable (the data is picked by index_select)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"pack_padded_sequence: input must be a Tensor, got {type(input).__name__}")
    lengths = _lengths(lengths, "pack_padded_sequence")
    if input.ndim < 2:
        raise ValueError(f"pack_padded_sequence: expected a padded batch of 2 dims or more, got {input.ndim}-d")
    if batch_first:
        input = input.transpose(0, 1)
    steps, batch = input.shape[0], input.shape[1]
    if batch == 0:
        raise ValueError("pack_padded_sequence: cannot pack empty tensors (the batch has no sequence)")
    if len(lengths) != batch:
        raise ValueError(f"pack_padded_sequence: expected {batch} lengths (the batch size), got {len(lengths)}")
    if any(n <= 0 for n in lengths):
        raise ValueError("Length of all samples has to be greater than 0, but found an element in 'lengths' that "
                         "is <= 0")
    if max(lengths) > steps:
        raise ValueError(f"pack_padded_sequence: a length of {max(lengths)} exceeds the {steps} padded steps")
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise ValueError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                             "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                             "sidestep this requirement if you do not need ONNX exportability.")
        order, sorted_indices, unsorted_indices = list(range(batch)), None, None
    else:
        order = sorted(range(batch), key=lambda b: -lengths[b])
        inverse = [0] * batch
        for position, b in enumerate(order):
            inverse[b] = position
        sorted_indices = tensor(order, dtype=int64, device=input.device)
        unsorted_indices = tensor(inverse, dtype=int64, device=input.device)
    batch_sizes = [sum(1 for n in lengths if n > t) for t in range(max(lengths))]
    rows = tensor(_positions(batch_sizes, order, batch), dtype=int64, device=input.device)
    data = index_select(input.reshape((steps * batch,) + tuple(input.shape[2:])), 0, rows)
    return PackedSequence(data, tensor(batch_sizes, dtype=int64, device="cpu"), sorted_indices, unsorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """(padded, lengths): the packed sequences as a padded batch [T, B, *] ([B, T, *] with batch_first) in their
    original order, padding_value after each one's end, T the longest length (or total_length), and the lengths
    (int64). Differentiable (index_copy of the data)."""
    batch_sizes, order = _check_packed(sequence, "pad_packed_sequence")
    _number(padding_value, "padding_value", "pad_packed_sequence")
    data, batch, steps = sequence.data, batch_sizes[0], len(batch_sizes)
    if total_length is not None:
        try:
            total_length = operator.index(total_length)
        except TypeError:
            raise TypeError(f"pad_packed_sequence: total_length must be an int or None, got "
                            f"{type(total_length).__name__}") from None
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the longest sequence ({steps}), "
                             f"but got total_length={total_length}")
        if total_length * batch >= 2**63:
            raise MemoryError(f"pad_packed_sequence: {total_length} steps of {batch} sequences are beyond any memory")
        steps = total_length
    order = list(range(batch)) if order is None else order
    rows = tensor(_positions(batch_sizes, order, batch), dtype=int64, device=data.device)
    trailing = tuple(data.shape[1:])
    padded = full((steps * batch,) + trailing, padding_value, dtype=data.dtype, device=data.device)
    padded = index_copy(padded, 0, rows, data).reshape((steps, batch) + trailing)
    lengths = [0] * batch
    for position, b in enumerate(order):
        lengths[b] = sum(1 for size in batch_sizes if size > position)
    return (padded.transpose(0, 1) if batch_first else padded), tensor(lengths, dtype=int64, device="cpu")


def _packed_like(padded, like):
    """The time-major padded batch [T, B, *] (original batch order) packed as the PackedSequence `like` is: the
    same batch_sizes and indices (how a recurrent layer returns its output for a packed input)."""
    batch_sizes = like.batch_sizes.tolist()  # checked by the pad_packed_sequence that made `padded`
    batch = batch_sizes[0]
    order = list(range(batch)) if like.sorted_indices is None else like.sorted_indices.tolist()
    rows = tensor(_positions(batch_sizes, order, batch), dtype=int64, device=padded.device)
    data = index_select(padded.reshape((padded.shape[0] * batch,) + tuple(padded.shape[2:])), 0, rows)
    return PackedSequence(data, like.batch_sizes, like.sorted_indices, like.unsorted_indices)


def pack_sequence(sequences, enforce_sorted=True):
    """The list of tensors [L_i, *] packed: pack_padded_sequence of their pad_sequence."""
    sequences = list(sequences)
    return pack_padded_sequence(pad_sequence(sequences), [s.shape[0] for s in sequences],
                                enforce_sorted=enforce_sorted)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Tensors [L_i, *] padded with padding_value to the longest L and stacked: [L, B, *], or [B, L, *] with
    batch_first; padding_side 'left' pads before each sequence. Differentiable (cat and stack)."""
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got {padding_side!r}")
    _number(padding_value, "padding_value", "pad_sequence")
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__iter__"):
        raise TypeError(f"pad_sequence: expected a sequence of tensors, got {type(sequences).__name__}")
    sequences = list(sequences)
    if not sequences or not all(isinstance(s, Tensor) for s in sequences):
        raise TypeError("pad_sequence: expected a non-empty sequence of tensors")
    trailing = tuple(sequences[0].shape[1:])
    if any(tuple(s.shape[1:]) != trailing or s.ndim < 1 for s in sequences):
        raise ValueError("pad_sequence: every sequence must have the same trailing dimensions, got "
                         + ", ".join(str(list(s.shape)) for s in sequences))
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        if missing:
            fill = full((missing,) + trailing, padding_value, dtype=s.dtype, device=s.device)
            s = cat([s, fill] if padding_side == "right" else [fill, s], 0)
        padded.append(s)
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences pad_sequence (right-padded) made: sequence i is its first lengths[i] steps."""
    if not isinstance(padded_sequences, Tensor) or padded_sequences.ndim < 2:
        raise TypeError("unpad_sequence: padded_sequences must be a tensor of at least 2 dimensions, got "
                        + (f"shape {list(padded_sequences.shape)}" if isinstance(padded_sequences, Tensor)
                           else type(padded_sequences).__name__))
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    lengths = _lengths(lengths, "unpad_sequence")
    batch, steps = padded_sequences.shape[:2]
    if len(lengths) != batch or any(not 0 <= n <= steps for n in lengths):
        raise ValueError(f"unpad_sequence: expected {batch} lengths (the batch size) in [0, {steps}], got {lengths}")
    return [padded_sequences[i, :n] for i, n in enumerate(lengths)]


def unpack_sequence(packed_sequences):
    """The list of tensors pack_sequence packed, in their original order: pad_packed_sequence, then
    unpad_sequence."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pack_sequence", "pad_sequence",
           "unpad_sequence", "unpack_sequence"]
