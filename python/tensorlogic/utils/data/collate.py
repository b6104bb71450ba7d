"""default_collate and default_convert: samples (tensors, numpy arrays, numbers, dicts, tuples) to batches."""
import collections.abc

import numpy as np

from ...creation import tensor
from ...ops.shape import stack
from ...tensor import Tensor


def default_collate(batch):
    """Stacks a list of samples along a new first dimension, keeping their structure (PyTorch's rules):
    tensors and numpy arrays stack into a tensor, Python and numpy numbers become a 1-d tensor, strings
    stay a list, dicts collate per key, namedtuples per field, other sequences per position (tuples give a
    list). Floats are float16 and ints the integer dtype, as everywhere in TensorLogic."""
    if not isinstance(batch, collections.abc.Sequence) or isinstance(batch, (str, bytes)):
        raise TypeError(f"default_collate: expected a list of samples, got {type(batch).__name__}")
    if not batch:
        raise ValueError("default_collate: the batch is empty (a batch sampler gave no indices?)")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind not in "biuf":
            raise TypeError(f"default_collate: numpy arrays of dtype {elem.dtype} cannot become tensors")
        return stack([tensor(b) for b in batch], 0)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, (bool, int, float, np.number, np.bool_)):
        return tensor([b.item() if isinstance(b, np.generic) else b for b in batch])
    if isinstance(elem, collections.abc.Mapping):
        if any(not isinstance(d, collections.abc.Mapping) or d.keys() != elem.keys() for d in batch):
            raise ValueError(f"default_collate: every sample of the batch must be a dict with the keys of the first, "
                             f"{sorted(map(str, elem.keys()))}")
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(collated)  # OrderedDict and other mapping types keep their type
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(samples)) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(list(samples)) for samples in zip(*batch)]
        return columns if isinstance(elem, tuple) else type(elem)(columns)
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found "
                    f"{type(elem).__name__}")


def default_convert(data):
    """What a DataLoader with batch_size=None returns per sample: numpy arrays and numbers inside become
    tensors (numbers stay as they are, as in PyTorch), the structure is kept."""
    if isinstance(data, np.ndarray) and data.dtype.kind in "biuf":
        return tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return type(data)([default_convert(d) for d in data])
    return data
