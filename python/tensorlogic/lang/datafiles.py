"""Data files named by `load NAME from "file"`: their kind and shape (for the checker) and their
contents as numpy arrays (for the interpreter), read with numpy, never through the parser.

- `.tsv` / `.csv`: one fact per line, one column per argument, no header.  A column whose every
  field is an integer gives integer constants (`ann,90`: a name and a number to compare); any other
  column gives names (string constants).
- `.npy`: an integer or string array of shape [facts, arity] for a relation, or any numeric array
  for a tensor.
- `.safetensors`: tensors; the one named like the target (or the only one) is loaded.
"""
from __future__ import annotations

import os
import warnings

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file

KINDS = {".tsv": "table", ".csv": "table", ".npy": "npy", ".safetensors": "safetensors"}


class DataFileError(ValueError):
    """A data file that cannot be read; the message says why (the caller adds the location)."""


def data_path(default_file, node):
    """The path a `load` names, relative to the file it is written in."""
    file = node.span.file if node.span is not None and node.span.file else default_file
    base = os.path.dirname(file) if not file.startswith("<") else os.getcwd()
    return os.path.normpath(os.path.join(base, node.path))


def kind_of(path):
    kind = KINDS.get(os.path.splitext(path)[1].lower())
    if kind is None:
        raise DataFileError(f"cannot load '{path}': use a .tsv, .csv, .npy or .safetensors file")
    return kind


def _regular(path):
    if not os.path.isfile(path):
        raise DataFileError(f"cannot load '{path}': no such file" if not os.path.exists(path)
                            else f"cannot load '{path}': not a regular file")


def peek(path, name):
    """("relation", arity) or ("tensor", rank) without reading the whole file."""
    kind = kind_of(path)
    _regular(path)
    if kind == "table":
        with open(path, "rb") as f:
            first = f.readline(1 << 20).decode("utf-8", "replace").strip()
        if not first:
            raise DataFileError(f"'{path}' is empty")
        return "relation", len(_split_line(first, path))
    if kind == "npy":
        try:
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as err:
            raise DataFileError(f"'{path}' is not a .npy array: {err}") from None
        if arr.dtype.kind in "iuUS" and arr.ndim == 2:
            return "relation", arr.shape[1]
        return "tensor", arr.ndim
    return "tensor", read_tensor(path, name).ndim


def _split_line(line, path):
    return line.split("," if path.lower().endswith(".csv") else "\t")


def read_table(path):
    """The columns of a .tsv/.csv file (or a relation's .npy): an int64 numpy array for a column
    whose every field is an integer, else a list of str."""
    _regular(path)
    if kind_of(path) == "npy":
        arr = np.load(path, allow_pickle=False)
        if arr.ndim != 2:
            raise DataFileError(f"'{path}' holds shape {list(arr.shape)}; facts need [facts, arity]")
        return [arr[:, k].astype(np.int64) if arr.dtype.kind in "iu" else arr[:, k].astype(str).tolist()
                for k in range(arr.shape[1])]
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataFileError(f"'{path}' is not UTF-8 text (byte {err.start})") from None
    first = text.split("\n", 1)[0].strip()
    arity = len(_split_line(first, path)) if first else 0
    if arity == 0:
        return []
    sep = "," if path.lower().endswith(".csv") else "\t"
    flat = text.replace(sep, " ") if sep == "," else text
    ints = _all_ints(flat, arity)
    if ints is not None:
        return [ints[k::arity] for k in range(arity)]
    if " " in text:
        rows = [r.split(sep) for r in text.splitlines() if r.strip()]
        fields = [f.strip() for r in rows for f in r]
        if any(len(r) != arity for r in rows):
            bad = next(k for k, r in enumerate(rows) if len(r) != arity)
            raise DataFileError(f"'{path}' line {bad + 1} has {len(rows[bad])} fields, not {arity}")
    else:
        fields = flat.split()
    if len(fields) % arity:
        raise DataFileError(f"'{path}' has rows of different lengths (each needs {arity} fields)")
    return [_column(fields[k::arity]) for k in range(arity)]


def read_table_once(path, cache):
    """read_table through `cache` (path -> (signature, columns)): the checker reads a loaded table
    for its names and the run takes the same columns, unless the file changed in between."""
    _regular(path)
    st = os.stat(path)
    sig = (st.st_mtime_ns, st.st_size)
    hit = cache.get(path)
    if hit is None or hit[0] != sig:
        hit = cache[path] = (sig, read_table(path))
    return hit[1]


def _column(fields):
    """A column of names, or of integers when every field is one."""
    ints = _all_ints(" ".join(fields), 1)
    return ints if ints is not None and ints.size == len(fields) else fields


def _all_ints(text, arity):
    """The whitespace-separated integers of `text` when it holds nothing else (numpy's text
    parser warns where it stops early) and a multiple of `arity` of them, else None."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            values = np.fromstring(text, dtype=np.int64, sep=" ")
        except ValueError:
            return None
    if caught or values.size == 0 or values.size % arity:
        return None
    return values


def read_tensor(path, name):
    """A tensor's values: the .npy array, the .safetensors tensor named `name` (or the only one),
    or the numbers of a .tsv/.csv as a matrix."""
    kind = kind_of(path)
    _regular(path)
    if kind == "npy":
        try:
            return np.load(path, allow_pickle=False)
        except (ValueError, OSError) as err:
            raise DataFileError(f"'{path}' is not a .npy array: {err}") from None
    if kind == "safetensors":
        try:
            tensors = load_file(path)
        except (SafetensorError, OSError, ValueError) as err:
            raise DataFileError(f"'{path}' is not a safetensors file: {err}") from None
        if name in tensors:
            return tensors[name]
        if len(tensors) == 1:
            return next(iter(tensors.values()))
        raise DataFileError(f"'{path}' has no tensor named '{name}' (it has "
                            f"{', '.join(sorted(tensors)[:8])})")
    try:
        return np.loadtxt(path, delimiter="," if path.lower().endswith(".csv") else None,
                          dtype=np.float32, ndmin=2)
    except ValueError as err:
        raise DataFileError(f"'{path}' is not a table of numbers: {err}") from None
