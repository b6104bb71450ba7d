"""tl.save / tl.load in the safetensors format (SPEC §5), readable by any safetensors reader.

Every tensor is stored under a dotted key (a state_dict's own names: "0.weight"); tensors keep their dtype
(float16, int32, int64, bool), numpy arrays (e.g. optimizer state in float32) are stored as they are. The nesting of
dicts (OrderedDicts kept as such), lists, tuples and sets, the key types and the non-tensor values (numbers,
strings, None, devices, dtypes) are kept as JSON in the metadata entry "tensorlogic.structure", from which tl.load
rebuilds the object, and the devices of the tensors saved from a GPU in "tensorlogic.devices" (what a map_location
dict or function is told). A file without them (written by another program) loads as a flat dict of tensors.

A whole nn.Module (torch.save(model, path)), alone or inside the saved object, is stored as its class's name and its
attributes, and rebuilt from that class by tl.load; no code is stored or loaded (serialization_modules.py says what
a module may hold). Its tensors are stored under their state_dict keys, once each: tensors and modules met again
(tied weights) are references, so they come back shared. SPEC §5 makes tl.save safetensors, and this keeps it so:
a PyTorch pickle could restore any object, which is why PyTorch's own torch.load refuses whole modules by default.

Both take a path or a binary file object, as torch.save / torch.load do. A file that is not a well-formed
checkpoint raises SerializationError naming it and what is wrong: the header's declared length is checked
against the file's size before it is read, the safetensors library checks every tensor's offsets against
the data the file holds, and the structure metadata is checked node by node (it may only refer to tensors
of the file). PyTorch's own formats (zip or pickle) are recognised and the message says how to convert."""
import inspect
import json
import numbers
import os
import stat
import struct
from collections import OrderedDict

import numpy as np
from safetensors import SafetensorError, deserialize
from safetensors.numpy import save as _save_bytes, save_file

from ._convert import safetensors_array
from .complex_tensors.tensor import ComplexTensor
from .creation import tensor
from .device import device as _device
from .dtypes import _BY_NAME, dtype as _dtype
from .errors import PrecisionOverflowError, SerializationError
from .nn.module import Module
from .nn.parameter import Parameter
from .serialization_modules import fill_module, global_name, is_table, module_attributes, new_module, resolve_global
from .tensor import Tensor

_STRUCTURE = "tensorlogic.structure"
_DEVICES = "tensorlogic.devices"  # {tensor key: the device it was saved from}, for the tensors not on the CPU
_MAX_HEADER = 100 * 1024 * 1024  # the safetensors library's own limit on its JSON header
# numpy dtypes safetensors stores (float16 to float64, integers to 64 bits, bool, complex64), in native byte order
_SAFETENSORS_NUMPY = {np.dtype(d) for d in ("bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64",
                                            "uint64", "float16", "float32", "float64", "complex64")}
_MAX_INT_BITS = 14000  # below Python's default limit of 4300 digits on converting an int to and from text
_MAX_DEPTH = 200  # nesting of the structure metadata (far below Python's recursion limit)
_TO_SAFETENSORS = ("convert it with PyTorch: `from safetensors.torch import save_file; "
                   "save_file(torch.load(path, weights_only=True), 'model.safetensors')` (a flat dict of tensors, "
                   "such as a state_dict), then load that file")
_FOREIGN = ((b"PK\x03\x04", "a zip archive (PyTorch's torch.save format); " + _TO_SAFETENSORS),
            *((b"\x80" + bytes([protocol]), "a Python pickle (PyTorch's legacy torch.save format); " + _TO_SAFETENSORS)
              for protocol in range(2, 6)),
            (b"GGUF", "a GGUF file, not a safetensors file"),
            (b"\x93NUMPY", "a numpy .npy file, not a safetensors file"),
            (b"\x89HDF", "an HDF5 file, not a safetensors file"))


def _encode(obj, path, arrays, memo, depth=0, in_module=False):
    """The structure node of obj. memo (id -> (reference, obj)) holds the modules met so far and the tensors met
    inside modules: met again, they become references (tied weights stay tied). Tensors outside modules are stored
    at their own keys each time, so a state_dict's file keeps every key for other safetensors readers."""
    # np.asarray(order="C"), not np.ascontiguousarray, which makes a 0-d array (a BatchNorm's
    # num_batches_tracked, a loss) 1-d.
    if depth > _MAX_DEPTH:  # what tl.load would refuse; a list that contains itself ends here too
        raise ValueError(f"tl.save: the object nests deeper than {_MAX_DEPTH} levels (at '{path[:200]}...'; does it "
                         "contain itself?)")
    if id(obj) in memo:
        return {"ref": memo[id(obj)][0]}
    if isinstance(obj, Module):
        memo[id(obj)] = (f"module:{path}", obj)
        items = []
        for name, value in module_attributes(obj, path).items():
            inner = path if is_table(name) else (f"{path}.{name}" if path else name)  # state_dict keys for tensors
            items.append([name, _encode(value, inner, arrays, memo, depth + 1, True)])
        return {"module": [global_name(type(obj), path), memo[id(obj)][0], {"dict": items}]}
    if isinstance(obj, Tensor):
        key = _put(path, np.asarray(obj.numpy(), order="C"), arrays)
        if obj._a.device != "cpu":  # the location a map_location dict or function is given at load
            arrays.devices[key] = obj._a.device
        if not in_module:
            return {"tensor": key}
        memo[id(obj)] = (key, obj)
        if isinstance(obj, Parameter):
            return {"parameter": [key, bool(obj.requires_grad)]}
        return {"tensor": key}
    if isinstance(obj, np.ndarray):
        if obj.dtype.newbyteorder("=") not in _SAFETENSORS_NUMPY:
            raise TypeError(f"tl.save: cannot store a numpy array of dtype {obj.dtype} (at '{path or '<root>'}'): "
                            f"safetensors holds {', '.join(sorted(str(d) for d in _SAFETENSORS_NUMPY))}")
        return {"array": _put(path, np.asarray(obj, order="C"), arrays)}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"tl.save: dict keys must be str or int, got {type(k).__name__} at '{path}'")
            items.append([k, _encode(v, f"{path}.{k}" if path else str(k), arrays, memo, depth + 1, in_module)])
        return {"odict" if isinstance(obj, OrderedDict) else "dict": items}
    if isinstance(obj, (list, tuple, set, frozenset)):
        kind = "list" if isinstance(obj, list) else "tuple" if isinstance(obj, tuple) else "set"
        if kind == "set":  # (sorted by their repr, so that a file does not depend on the hash seed)
            obj = sorted(obj, key=repr)
        return {kind: [_encode(v, f"{path}.{i}" if path else str(i), arrays, memo, depth + 1, in_module)
                       for i, v in enumerate(obj)]}
    if obj is None or isinstance(obj, (bool, str)) or isinstance(obj, numbers.Real):  # (JSON has no complex)
        if isinstance(obj, int) and obj.bit_length() > _MAX_INT_BITS:  # (which JSON's reader refuses at tl.load)
            raise ValueError(f"tl.save: the integer at '{path or '<root>'}' has {obj.bit_length()} bits; JSON "
                             f"metadata holds integers of up to {_MAX_INT_BITS}")
        return {"value": obj.item() if isinstance(obj, np.generic) else obj}
    if isinstance(obj, _device):
        return {"device": str(obj)}
    if isinstance(obj, _dtype):
        return {"dtype": obj.name}
    if in_module and (inspect.isclass(obj) or inspect.isroutine(obj)):
        return {"global": global_name(obj, path)}
    if isinstance(obj, ComplexTensor):
        raise TypeError(f"tl.save: complex tensors cannot be saved (a {obj.dtype.name} tensor at "
                        f"'{path or '<root>'}'): checkpoints hold real tensors; save tl.view_as_real(t) and rebuild it "
                        "after tl.load with tl.view_as_complex")
    raise TypeError(f"tl.save: cannot store a {type(obj).__name__} (at '{path or '<root>'}'); tensors, numpy arrays, "
                    "dicts, lists, tuples, sets, numbers, strings, None, devices, dtypes and whole nn.Modules can be "
                    "saved")


class _Written(dict):
    """The arrays tl.save writes, by key, and the devices of the tensors among them that were not on the CPU."""

    def __init__(self):
        super().__init__()
        self.devices = {}


def _put(path, array, arrays):
    key = path or "tensor"
    if key == "__metadata__":
        raise ValueError("tl.save: the key '__metadata__' is the safetensors header's own entry; store the tensor "
                         "under another name")
    if key in arrays:
        raise ValueError(f"tl.save: two entries flatten to the same key '{key}'")
    arrays[key] = array
    return key


def save(obj, f):
    """Writes `obj` (a tensor, a whole nn.Module, or nested dicts/lists of tensors, modules and plain values) in the
    safetensors format to `f`, a path or a binary file object (open for writing)."""
    if callable(getattr(obj, "state_dict", None)) and not isinstance(obj, Module):  # an optimizer, a scheduler
        raise TypeError(f"tl.save: cannot store a whole {type(obj).__name__} object (safetensors holds tensors, not "
                        f"code); save its state_dict() instead: tl.save(obj.state_dict(), path), and restore it with "
                        f"load_state_dict(tl.load(path))")
    written = _Written()
    metadata = {_STRUCTURE: json.dumps(_encode(obj, "", written, {}))}
    if written.devices:
        metadata[_DEVICES] = json.dumps(written.devices)
    if isinstance(f, (str, os.PathLike)):
        if stat.S_ISFIFO(os.stat(f).st_mode if os.path.exists(f) else 0):  # its open() waits for a reader for ever
            raise OSError(f"tl.save: cannot write {os.fspath(f)!r}: a named pipe, not a regular file")
        try:
            save_file(written, os.fspath(f), metadata=metadata)
        except SafetensorError as error:  # the library's I/O errors (a missing folder, a directory) as OSError
            raise OSError(f"tl.save: cannot write {os.fspath(f)!r}: {error}") from None
    elif hasattr(f, "write"):
        f.write(_save_bytes(written, metadata=metadata))
    else:
        raise TypeError(f"tl.save: f must be a path or a binary file object, got {type(f).__name__}")


def load(f, map_location=None, weights_only=True):
    """Reads a file written by tl.save (the same nesting back), or any safetensors file (a flat dict of
    tensors), from `f`: a path or a binary file object (read from its current position to its end).
    A whole module comes back as an instance of its class, which the program must have imported (tl.load imports
    nothing). Tensors go to the default device, or as map_location says, in torch.load's forms: a device (or its
    name), a dict from the device a tensor was saved from to the one it goes to ({"cuda:0": "cpu"}; tensors of
    other devices go to the default one), or a function(tensor on the CPU, the device it was saved from) that
    returns the tensor to use (`lambda storage, loc: storage` keeps them on the CPU). weights_only is accepted for
    PyTorch's signature and changes nothing: a safetensors file holds only data, never code, so whole modules load
    either way (PyTorch's weights_only=True refuses them because its pickles could hold any code)."""
    if not (map_location is None or callable(map_location) or isinstance(map_location, (str, _device, dict))
            or hasattr(map_location, "type")):  # (a torch.device)
        raise TypeError(f"tl.load: map_location must be a device, a dict or a function, got "
                        f"{type(map_location).__name__}")
    if isinstance(f, (str, os.PathLike)):
        name, data = os.fspath(f), None
        if os.path.exists(name) and not os.path.isfile(name):  # a FIFO's open() waits for a writer for ever
            raise SerializationError(f"{name}: not a regular file (a checkpoint is one)")
    elif hasattr(f, "read"):
        name, data = str(getattr(f, "name", f"<{type(f).__name__}>")), f.read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"tl.load: {name} gives {type(data).__name__}, not bytes; open it in binary mode ('rb')")
        data = bytes(data)
    else:
        raise TypeError(f"tl.load: f must be a path or a binary file object, got {type(f).__name__}")
    try:
        header = _header(name, data)
        metadata = header.get("__metadata__") or {}
        if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
            raise SerializationError(f"{name}: malformed safetensors header: __metadata__ must map names to strings")
        if data is None:
            with open(name, "rb") as file:
                data = file.read()
        arrays = _arrays(name, data)
        source = _Source(arrays, map_location, _saved_devices(metadata))
        if _STRUCTURE in metadata:
            obj = _decode(_structure(metadata[_STRUCTURE]), source, 0, {})
        else:
            obj = {k: source.tensor(k) for k in arrays}  # other dtypes convert with the f16/integer range checks
    except _MapLocationError as error:  # the caller's function raised: its own exception, not the file's fault
        raise error.__cause__
    except (SerializationError, PrecisionOverflowError):
        raise
    except ImportError as error:  # a module's class whose module the program has not imported
        raise SerializationError(f"{name}: {error}") from None
    except (SafetensorError, TypeError, ValueError, OverflowError, KeyError, RecursionError, UnicodeError) as error:
        raise SerializationError(f"{name}: not a valid checkpoint: {error}") from None
    return obj


class _MapLocationError(Exception):
    """Carries (as its __cause__) what a map_location function raised, past load's checks of the file."""


class _Source:
    """The file's arrays, and its tensors made where map_location puts them."""

    def __init__(self, arrays, map_location, saved):
        self.arrays, self.map_location, self.saved = arrays, map_location, saved

    def array(self, key):
        if not isinstance(key, str) or key not in self.arrays:
            raise ValueError(f"{_STRUCTURE} metadata refers to {str(key)[:80]!r}, which is not a tensor of the file")
        return self.arrays[key]

    def tensor(self, key):
        array, where = self.array(key), self.map_location
        if where is None:
            return tensor(array)
        location = self.saved.get(key, "cpu")
        if isinstance(where, dict):
            target = where.get(location)
            return tensor(array) if target is None else tensor(array, device=str(target))
        if callable(where):
            try:
                placed = where(tensor(array, device="cpu"), location)
            except Exception as error:
                raise _MapLocationError() from error
            if not isinstance(placed, Tensor):
                raise _MapLocationError() from TypeError(
                    f"tl.load: map_location returned a {type(placed).__name__} for '{key}', not a tensor")
            return placed
        return tensor(array, device=str(where))


def _arrays(name, data):
    """The file's arrays by name, checked by the safetensors library; bfloat16 comes as float32 (tensors make it
    float16, with the range check), float8 kinds, which numpy cannot hold, are a SerializationError."""
    arrays = {}
    for key, entry in deserialize(data):
        array = safetensors_array(entry["dtype"], entry["data"], entry["shape"])
        if array is None:
            raise SerializationError(f"{name}: tensor {key[:80]!r} has dtype {entry['dtype']}, which tl.load cannot "
                                     "read (float, integer, bool and bfloat16 data load)")
        arrays[key] = array
    return arrays


def _saved_devices(metadata):
    """The file's {tensor key: device it was saved from} (empty when it has none)."""
    if _DEVICES not in metadata:
        return {}
    saved = _structure(metadata[_DEVICES])
    if not isinstance(saved, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in saved.items()):
        raise ValueError(f"malformed {_DEVICES} metadata: expected an object of strings")
    return saved


def _header(name, data):
    """The safetensors JSON header of the file (a path when `data` is None), checked against its size."""
    if data is None:
        with open(name, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            head = file.read(8)
            length = struct.unpack("<Q", head)[0] if len(head) == 8 else None
            text = file.read(length) if length is not None and length <= min(size - 8, _MAX_HEADER) else b""
    else:
        size, head = len(data), data[:8]
        length = struct.unpack("<Q", head)[0] if len(head) == 8 else None
        text = data[8:8 + length] if length is not None and length <= min(size - 8, _MAX_HEADER) else b""
    problem = None
    if length is None:
        problem = f"truncated: {size} bytes, fewer than the 8 that give the header's length"
    elif length > size - 8 or length > _MAX_HEADER:
        problem = f"bad header: it declares {length} bytes but the file has {size - 8} after the length"
    elif not text.lstrip().startswith(b"{"):
        problem = "bad header: not a JSON object"
    if problem is None:
        try:
            header = json.loads(text.decode("utf-8"))
        except (ValueError, RecursionError) as error:
            problem = f"bad header: not valid JSON ({error})"
    if problem is None and not isinstance(header, dict):
        problem = "bad header: not a JSON object"
    if problem is not None:
        foreign = next((what for magic, what in _FOREIGN if head.startswith(magic)), None)
        raise SerializationError(f"{name}: {foreign or 'not a safetensors file: ' + problem}")
    return header


def _structure(text):
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ValueError(f"malformed {_STRUCTURE} metadata: {error}") from None


def _decode(node, source, depth, memo):
    """The object a structure node describes; every node is checked (the metadata may be hostile). memo: the
    tensors and modules decoded so far, by the reference a later "ref" node gives."""
    if depth > _MAX_DEPTH:
        raise ValueError(f"{_STRUCTURE} metadata nests deeper than {_MAX_DEPTH} levels")
    if not isinstance(node, dict) or len(node) != 1:
        raise ValueError(f"{_STRUCTURE} metadata: a node must be an object with one key, got {str(node)[:80]}")
    ((kind, value),) = node.items()
    if kind == "parameter":
        if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], bool)):
            raise ValueError(f"{_STRUCTURE} metadata: a parameter node must hold [key, requires_grad]")
        tensor = source.tensor(value[0])
        if value[1] and not tensor.is_floating_point():
            raise ValueError(f"{_STRUCTURE} metadata: parameter {value[0][:80]!r} requires grad but is "
                             f"{tensor.dtype.name}")
        memo[value[0]] = Parameter(tensor, requires_grad=value[1])
        return memo[value[0]]
    if kind == "array":
        return source.array(value)
    if kind == "tensor":
        memo[value] = source.tensor(value)
        return memo[value]
    if kind == "ref":
        if not isinstance(value, str) or value not in memo:
            raise ValueError(f"{_STRUCTURE} metadata: a reference to {str(value)[:80]!r}, which comes before nothing")
        return memo[value]
    if kind == "value":
        if value is not None and not isinstance(value, (bool, int, float, str)):
            raise ValueError(f"{_STRUCTURE} metadata: a value must be a number, a string, a bool or null")
        return value
    if kind == "device":
        return _device(_text(kind, value))
    if kind == "dtype":
        if _text(kind, value) not in _BY_NAME:
            raise ValueError(f"{_STRUCTURE} metadata: unknown dtype {value[:40]!r}")
        return _BY_NAME[value]
    if kind == "global":
        return resolve_global(_text(kind, value))
    if not isinstance(value, list):
        raise ValueError(f"{_STRUCTURE} metadata: a {str(kind)[:40]} node must hold a list")
    if kind == "module":
        if len(value) != 3 or not isinstance(value[1], str) or not isinstance(value[2], dict) or list(value[2]) != [
                "dict"]:
            raise ValueError(f"{_STRUCTURE} metadata: a module node must hold [class name, reference, dict node]")
        module = memo[value[1]] = new_module(value[0])  # in the memo first: its attributes may refer back to it
        return fill_module(module, _decode(value[2], source, depth + 1, memo))
    if kind in ("dict", "odict"):
        out = {} if kind == "dict" else OrderedDict()
        for item in value:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], (str, int))
                    and not isinstance(item[0], bool)):
                raise ValueError(f"{_STRUCTURE} metadata: a dict item must be a [str or int key, node] pair")
            out[item[0]] = _decode(item[1], source, depth + 1, memo)
        return out
    if kind in ("list", "tuple", "set"):
        items = [_decode(v, source, depth + 1, memo) for v in value]
        return items if kind == "list" else tuple(items) if kind == "tuple" else set(items)
    raise ValueError(f"{_STRUCTURE} metadata: unknown node kind {str(kind)[:40]!r}")


def _text(kind, value):
    if not isinstance(value, str):
        raise ValueError(f"{_STRUCTURE} metadata: a {kind} node must hold a string")
    return value
