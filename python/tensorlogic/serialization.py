"""tl.save / tl.load in the safetensors format (SPEC §5), readable by any safetensors reader.

Every tensor is stored under a dotted key (a state_dict's own names: "0.weight"); tensors keep their dtype
(float16, int32, int64, bool), numpy arrays (e.g. optimizer state in float32) are stored as they are. The nesting of
dicts, lists and tuples, the key types and the non-tensor values (numbers, strings, None) are kept as JSON
in the metadata entry "tensorlogic.structure", from which tl.load rebuilds the object. A file without it
(written by another program) loads as a flat dict of tensors."""
import json
import numbers

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file

from .tensor import Tensor

_STRUCTURE = "tensorlogic.structure"


def _encode(obj, path, arrays):
    if isinstance(obj, Tensor):
        return {"tensor": _put(path, np.ascontiguousarray(obj.numpy()), arrays)}
    if isinstance(obj, np.ndarray):
        return {"array": _put(path, np.ascontiguousarray(obj), arrays)}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"tl.save: dict keys must be str or int, got {type(k).__name__} at '{path}'")
            items.append([k, _encode(v, f"{path}.{k}" if path else str(k), arrays)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "tuple" if isinstance(obj, tuple) else "list"
        return {kind: [_encode(v, f"{path}.{i}" if path else str(i), arrays) for i, v in enumerate(obj)]}
    if obj is None or isinstance(obj, (bool, str)) or isinstance(obj, numbers.Number):
        return {"value": obj.item() if isinstance(obj, np.generic) else obj}
    raise TypeError(f"tl.save: cannot store a {type(obj).__name__} (at '{path or '<root>'}'); tensors, numpy arrays, "
                    "dicts, lists, tuples, numbers, strings and None can be saved")


def _put(path, array, arrays):
    key = path or "tensor"
    if key in arrays:
        raise ValueError(f"tl.save: two entries flatten to the same key '{key}'")
    arrays[key] = array
    return key


def save(obj, path):
    """Writes `obj` (a tensor, or nested dicts/lists of tensors and plain values) to a .safetensors file."""
    if callable(getattr(obj, "state_dict", None)):  # a whole module or optimizer: its code cannot be stored
        raise TypeError(f"tl.save: cannot store a whole {type(obj).__name__} object (safetensors holds tensors, not "
                        f"code); save its state_dict() instead: tl.save(obj.state_dict(), path), and restore it with "
                        f"load_state_dict(tl.load(path))")
    arrays = {}
    structure = _encode(obj, "", arrays)
    save_file(arrays, str(path), metadata={_STRUCTURE: json.dumps(structure)})


def _decode(node, arrays):
    if "tensor" in node:
        return Tensor(arrays[node["tensor"]])
    if "array" in node:
        return arrays[node["array"]]
    if "dict" in node:
        return {k: _decode(v, arrays) for k, v in node["dict"]}
    if "list" in node:
        return [_decode(v, arrays) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, arrays) for v in node["tuple"])
    return node["value"]


def load(path, map_location=None, weights_only=True):
    """Reads a file written by tl.save (the same nesting back), or any safetensors file (a flat dict of tensors).
    weights_only is accepted for PyTorch's signature: a safetensors file holds only data, never code."""
    with safe_open(str(path), framework="np") as f:
        metadata = f.metadata() or {}
        arrays = {k: f.get_tensor(k) for k in f.keys()}
    if _STRUCTURE in metadata:
        obj = _decode(json.loads(metadata[_STRUCTURE]), arrays)
    else:
        obj = {k: Tensor(v) for k, v in arrays.items()}  # other dtypes convert with the f16/integer range checks
    return _move(obj, map_location) if map_location is not None else obj


def _move(obj, device):
    if isinstance(obj, Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        return {k: _move(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_move(v, device) for v in obj)
    return obj
