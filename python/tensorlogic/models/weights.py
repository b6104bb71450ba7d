"""From the tensors of a checkpoint (any format) to the model's parameters: each parameter is one or more
checkpoint tensors (q, k and v are concatenated into one GEMM), each checked against the shape the config
implies, converted to f16 and moved to the device. float16 data with no transform is handed over without
a copy (a memory-mapped file's pages become the CPU tensor's memory). The matrices of linear layers stored
in a GGUF block format named in `keep` stay in it (QuantizedWeight: rows permuted and concatenated as
blocks, which hold whole rows), so the products dequantise them in the kernel."""
from dataclasses import dataclass

import numpy as np

from .._convert import numpy_to_array
from ..dtypes import float16
from ..errors import PrecisionOverflowError
from ..ops.quantized import QuantizedWeight
from ..tensor import _wrap
from .decoder import parameter_shapes
from .errors import MissingTensorError, TensorShapeError


@dataclass(frozen=True)
class Part:
    """One checkpoint tensor: its name, the shape it must have there, and whether it is stored transposed
    (GPT-2's Conv1D keeps [in, out]) or with its rows permuted per head (GGUF's llama q and k)."""
    name: str
    shape: tuple
    transpose: bool = False
    unpermute_heads: int = 0


def _unpermute(rows, heads):
    """Undoes the row order llama.cpp's converter gives q and k (pairs interleaved within each head):
    back to the rotate-half order of Hugging Face checkpoints."""
    shape = rows.shape
    return rows.reshape(heads, rows.shape[0] // heads // 2, 2, *shape[1:]).swapaxes(1, 2).reshape(shape)


def _prepare_check(source, part):
    if part.name not in source:
        raise MissingTensorError(f"{source.path}: the tensor '{part.name}' is missing")
    shape = tuple(source.shape(part.name))
    if shape != tuple(part.shape):
        raise TensorShapeError(f"{source.path}: the tensor '{part.name}' has shape {list(shape)}, the config implies "
                               f"{list(part.shape)}")


def _prepare(source, part):
    _prepare_check(source, part)
    a = source.array(part.name)  # float16 or float32, numpy layout
    if part.transpose:
        a = a.T
    if part.unpermute_heads:
        a = _unpermute(a, part.unpermute_heads)
    return np.ascontiguousarray(a)  # the GEMMs read weights row-major; a no-op for mapped f16 data


# The parameters that are weights of linear layers (the others are embeddings and norms, read by rows or
# elementwise).
_LINEAR_WEIGHTS = ("qkv_weight", "o_weight", "gate_weight", "up_weight", "down_weight", "lm_head")


def _quantized(source, parts, shape, device, keep):
    """The QuantizedWeight of a linear layer's parts when all are stored in one block format of `keep`, else
    None."""
    if any(part.transpose or part.name not in source for part in parts):
        return None  # a missing tensor is reported by the f16 path
    for part in parts:  # before the blocks are cut into rows (a tensor of no rows has none to cut)
        _prepare_check(source, part)
    blocks = [source.blocks(part.name) for part in parts]
    if any(b is None for b in blocks) or len({qtype for qtype, _ in blocks}) != 1 or blocks[0][0] not in keep:
        return None
    rows = [_unpermute(b, part.unpermute_heads) if part.unpermute_heads else b
            for (_, b), part in zip(blocks, parts)]
    return QuantizedWeight(rows[0] if len(rows) == 1 else np.concatenate(rows, axis=0), blocks[0][0], shape[1],
                           device)


def load_parameters(config, recipe, source, device, keep=()):
    """{parameter: Tensor or QuantizedWeight} for every name of parameter_shapes(config); `recipe` maps each
    to its Parts; linear weights in the GGUF formats named in `keep` stay quantised."""
    tensors = {}
    for name, shape in parameter_shapes(config).items():
        if keep and name.endswith(_LINEAR_WEIGHTS):
            weight = _quantized(source, recipe[name], shape, device, keep)
            if weight is not None:
                tensors[name] = weight
                continue
        arrays = [_prepare(source, part) for part in recipe[name]]
        a = arrays[0] if len(arrays) == 1 else np.concatenate(arrays, axis=0)
        if a.shape != shape:  # a recipe that disagrees with the model (a bug here, not in the file)
            raise TensorShapeError(f"{source.path}: '{name}' assembled to {list(a.shape)}, expected {list(shape)}")
        try:
            tensors[name] = _wrap(numpy_to_array(a, float16, device, False))
        except PrecisionOverflowError as err:
            raise PrecisionOverflowError(f"{source.path}: {', '.join(p.name for p in recipe[name])}: {err}") from None
    return tensors
