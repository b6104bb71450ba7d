"""tl.save / tl.load with file objects, and malformed or foreign files: one typed error naming the file."""
import io
import json
import os
import struct

import numpy as np
import pytest
import torch
from safetensors.numpy import save as safetensors_bytes
from safetensors.torch import save as torch_bytes, save_file as torch_save_file

import tensorlogic as tl


def _checkpoint(rng):
    return {"w": tl.Tensor(rng.standard_normal((3, 4)).astype(np.float16)), "step": 3, "names": ["a", None]}


def _assert_same(back, obj):
    np.testing.assert_array_equal(back["w"].numpy(), obj["w"].numpy())
    assert back["step"] == obj["step"] and back["names"] == obj["names"]


def test_file_objects_round_trip(tmp_path, rng):
    obj = _checkpoint(rng)
    buffer = io.BytesIO()
    tl.save(obj, buffer)
    buffer.seek(0)
    _assert_same(tl.load(buffer), obj)
    with open(tmp_path / "m.pt", "wb") as f:  # the data loss of issue 10: the open file must get the data
        tl.save(obj, f)
    assert not list(tmp_path.glob("<*"))  # no stray file named after the file object
    with open(tmp_path / "m.pt", "rb") as f:
        _assert_same(tl.load(f), obj)
    _assert_same(tl.load(str(tmp_path / "m.pt")), obj)


def test_bad_destinations_raise(tmp_path):
    with pytest.raises(TypeError):
        tl.save({"a": tl.zeros(2)}, 42)
    with pytest.raises(TypeError):
        tl.load(3.5)
    (tmp_path / "t.txt").write_bytes(safetensors_bytes({"a": np.zeros(2, np.float16)}))
    with open(tmp_path / "t.txt", "r", encoding="latin-1") as f, pytest.raises(TypeError, match="binary"):
        tl.load(f)


def test_complex_tensors_are_refused_by_name(tmp_path, rng):
    """A complex tensor is not stored (checkpoints hold real tensors): a TypeError that names it, where it is and
    the way around it, and no file is written; the way around it round-trips."""
    z = tl.view_as_complex(tl.Tensor(rng.standard_normal((3, 2)).astype(np.float16)))
    with pytest.raises(TypeError, match=r"complex tensors cannot be saved \(a complex32 tensor at 'a.0'\).*"
                                        r"view_as_real"):
        tl.save({"a": [z]}, tmp_path / "c.safetensors")
    assert not (tmp_path / "c.safetensors").exists()
    tl.save({"a": tl.view_as_real(z)}, tmp_path / "r.safetensors")
    back = tl.view_as_complex(tl.load(tmp_path / "r.safetensors")["a"])
    np.testing.assert_array_equal(back.numpy(), z.numpy())


def _valid_bytes(rng):
    buffer = io.BytesIO()
    tl.save(_checkpoint(rng), buffer)
    return buffer.getvalue()


def test_every_truncation_raises_serialization_error(tmp_path, rng):
    data = _valid_bytes(rng)
    for cut in range(len(data)):
        path = tmp_path / "cut.safetensors"
        path.write_bytes(data[:cut])
        for source in (path, io.BytesIO(data[:cut])):
            with pytest.raises(tl.SerializationError, match="cut.safetensors|BytesIO"):
                tl.load(source)


def test_random_corruption_loads_or_raises_serialization_error(rng):
    data = bytearray(_valid_bytes(rng))
    for _ in range(300):
        bad = bytearray(data)
        for i in rng.integers(0, len(bad), rng.integers(1, 4)):
            bad[i] = rng.integers(0, 256)
        try:
            tl.load(io.BytesIO(bytes(bad)))
        except (tl.SerializationError, tl.PrecisionOverflowError):
            pass


def _with_header(header, payload=b""):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + payload


def _with_structure(structure):
    data = np.zeros(2, np.float16).tobytes()
    header = {"__metadata__": {"tensorlogic.structure": structure},
              "w": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}}
    return _with_header(header, data)


@pytest.mark.parametrize("structure", [
    '{"tensor": "missing"}', '{"dict": [["a", {"tensor": 5}]]}', '{"dict": 7}', '{"dict": [[1.5, {"value": 1}]]}',
    '{"dict": [["a"]]}', '{"list": {"a": 1}}', '{"value": [1, 2]}', '{"what": 1}', '{}', '[1, 2]', '"text"',
    '{"tensor": "w", "list": []}', "[" * 100000 + "]" * 100000, '{"list": [' * 5000 + '{"value": 1}' + ']}' * 5000,
    "not json",
])
def test_hostile_structure_metadata(structure):
    with pytest.raises(tl.SerializationError, match="tensorlogic.structure|not a valid checkpoint"):
        tl.load(io.BytesIO(_with_structure(structure)))


def test_an_integer_parameter_that_requires_grad_is_a_malformed_file():
    """Parameter() raised its RuntimeError from inside tl.load."""
    header = {"__metadata__": {"tensorlogic.structure": json.dumps({"parameter": ["w", True]})},
              "w": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}}
    with pytest.raises(tl.SerializationError, match="parameter 'w' requires grad but is int64"):
        tl.load(io.BytesIO(_with_header(header, b"\0" * 8)))


def test_what_a_file_cannot_hold_is_refused_at_save(rng):
    """Each of these was written (or failed with the safetensors library's own error type) and could not be
    loaded: the key '__metadata__', numpy dtypes safetensors lacks, integers JSON's reader refuses. What it can hold
    round-trips: every numpy dtype it lists, big-endian ones too, and an integer of 14,000 bits."""
    for obj, error, says in (({"__metadata__": tl.ones(2)}, ValueError, "the key '__metadata__'"),
                             ({"a": np.array([object()])}, TypeError, "numpy array of dtype object \\(at 'a'\\)"),
                             ({"a": np.zeros(2, "M8[s]")}, TypeError, "dtype datetime64"),
                             ({"a": [np.zeros(2, np.complex128)]}, TypeError, "dtype complex128 \\(at 'a.0'\\)"),
                             ({"a": 3**9000}, ValueError, "the integer at 'a' has 14265 bits")):
        buffer = io.BytesIO()
        with pytest.raises(error, match=says):
            tl.save(obj, buffer)
        assert buffer.getvalue() == b""
    arrays = {name: np.abs(rng.standard_normal(5) * 50).astype(name) for name in
              ("bool", "int8", "uint8", ">i2", "uint16", "int32", ">u4", "int64", "uint64", "float16", ">f4",
               "float64", "complex64")}
    buffer = io.BytesIO()
    tl.save({"arrays": arrays, "n": 2**13999 + 1}, buffer)
    buffer.seek(0)
    back = tl.load(buffer)
    assert back["n"] == 2**13999 + 1
    for name, array in arrays.items():
        np.testing.assert_array_equal(back["arrays"][name], array)


@pytest.mark.parametrize("data", [
    b"", b"\x01\x02", b"\xff" * 16, struct.pack("<Q", 2**63) + b"{}", struct.pack("<Q", 4) + b"[1]x",
    struct.pack("<Q", 2) + b"\xff\xfe", _with_header({"w": {"dtype": "F16", "shape": [2**40], "data_offsets": [0, 4]}}, b"\0" * 4),
    _with_header({"w": {"dtype": "F16", "shape": [2], "data_offsets": [0, 2**62]}}, b"\0" * 4),
    _with_header({"w": {"dtype": "F16", "shape": [2], "data_offsets": [4, 0]}}, b"\0" * 4),
    _with_header({"w": {"dtype": "Q99", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4),
    _with_header({"__metadata__": {"a": 1}}),
    _with_header({"__metadata__": {"tensorlogic.structure": 5}}),
    _with_header({"__metadata__": {"tensorlogic.devices": "[1]"}}),
    _with_header({"__metadata__": {"tensorlogic.devices": '{"w": 3}'}}),
])
def test_malformed_files(data, tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(data)
    with pytest.raises(tl.SerializationError, match="bad.safetensors"):
        tl.load(path)
    with pytest.raises(tl.SerializationError):
        tl.load(io.BytesIO(data))


@pytest.mark.parametrize("legacy", [False, True])
def test_pytorch_checkpoint_is_recognised(tmp_path, legacy):
    path = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(2)}, path, _use_new_zipfile_serialization=not legacy)
    with pytest.raises(tl.SerializationError, match="model.pt.*PyTorch.*safetensors.torch"):
        tl.load(path)


def test_bfloat16_files_load_as_float16(tmp_path, rng):
    """A bfloat16 checkpoint (PyTorch's and Hugging Face's usual kind), which numpy cannot hold, loads as float16
    with PyTorch's values, from a path and from a file object; float8 data is a SerializationError naming the file."""
    weights = {"w": torch.from_numpy(rng.standard_normal((3, 5)).astype(np.float32) * 30).to(torch.bfloat16),
               "ids": torch.from_numpy(rng.integers(-9, 9, size=4))}
    torch_save_file(weights, tmp_path / "bf16.safetensors")
    for source in (tmp_path / "bf16.safetensors", io.BytesIO(torch_bytes(weights))):
        back = tl.load(source)
        assert back["w"].dtype is tl.float16
        np.testing.assert_array_equal(back["w"].numpy(), weights["w"].to(torch.float16).numpy())
        np.testing.assert_array_equal(back["ids"].numpy(), weights["ids"].numpy())
    torch_save_file({"w": torch.tensor([0.5, -2.0]).to(torch.float8_e4m3fn)}, tmp_path / "f8.safetensors")
    with pytest.raises(tl.SerializationError, match="f8.safetensors.*F8_E4M3"):
        tl.load(tmp_path / "f8.safetensors")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX's")
def test_a_named_pipe_is_refused_instead_of_waiting_for_a_writer_or_reader(tmp_path):
    """open() of a FIFO blocks until the other end opens: tl.load and tl.save of one hung for ever."""
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)
    with pytest.raises(tl.SerializationError, match="not a regular file"):
        tl.load(fifo)
    with pytest.raises(OSError, match="a named pipe"):
        tl.save({"a": tl.zeros(2)}, fifo)
    with pytest.raises(tl.SerializationError, match="not a regular file"):
        tl.load(tmp_path)
