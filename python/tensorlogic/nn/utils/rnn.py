"""torch.nn.utils.rnn's padding helpers: pad_sequence (a list of variable-length sequences stacked into one
padded tensor) and unpad_sequence (back). Packed sequences (pack_padded_sequence) are not provided: the
recurrent layers take padded batches only."""
from ...creation import full
from ...ops.shape import cat, stack
from ...tensor import Tensor


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Tensors [L_i, *] padded with padding_value to the longest L and stacked: [L, B, *], or [B, L, *] with
    batch_first; padding_side 'left' pads before each sequence. Differentiable (cat and stack)."""
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got {padding_side!r}")
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
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    lengths = lengths.tolist() if isinstance(lengths, Tensor) else list(lengths)
    return [padded_sequences[i, :int(n)] for i, n in enumerate(lengths)]


__all__ = ["pad_sequence", "unpad_sequence"]
