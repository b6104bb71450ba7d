"""tl.save / tl.load: safetensors files, nested structures, readable by other safetensors readers."""
import io

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

import tensorlogic as tl


def _tensor(rng, shape, device):
    return tl.Tensor(rng.standard_normal(shape).astype(np.float16), device=device)


def test_round_trip_nested(tmp_path, device, rng):
    obj = {
        "model": {"0.weight": _tensor(rng, (3, 4), device), "0.bias": _tensor(rng, (3,), device)},
        "optimizer": {"state": {0: {"step": 5, "exp_avg": rng.standard_normal((3, 4)).astype(np.float32)}},
                      "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999), "params": [0, 1], "name": None}]},
        "indices": tl.tensor(np.array([[1, 2], [3, 4]], dtype=np.int32), device=device),
        "empty": _tensor(rng, (0, 2), device),
        "epoch": 7,
    }
    path = tmp_path / "ckpt.safetensors"
    tl.save(obj, path)
    back = tl.load(path)
    assert back["epoch"] == 7
    np.testing.assert_array_equal(back["model"]["0.weight"].numpy(), obj["model"]["0.weight"].numpy())
    assert back["indices"].dtype == tl.int32
    np.testing.assert_array_equal(back["indices"].numpy(), [[1, 2], [3, 4]])
    assert back["empty"].shape == (0, 2)
    state = back["optimizer"]["state"][0]
    assert state["step"] == 5 and state["exp_avg"].dtype == np.float32
    np.testing.assert_array_equal(state["exp_avg"], obj["optimizer"]["state"][0]["exp_avg"])
    group = back["optimizer"]["param_groups"][0]
    assert group["betas"] == (0.9, 0.999) and group["params"] == [0, 1] and group["name"] is None


def test_other_readers_see_dotted_keys(tmp_path, rng):
    w = _tensor(rng, (2, 5), "cpu")
    tl.save({"layer": {"weight": w}}, tmp_path / "m.safetensors")
    raw = load_file(str(tmp_path / "m.safetensors"))
    assert list(raw) == ["layer.weight"] and raw["layer.weight"].dtype == np.float16
    np.testing.assert_array_equal(raw["layer.weight"], w.numpy())


def test_foreign_file_loads_flat(tmp_path):
    save_file({"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1, 2], dtype=np.int64)},
              str(tmp_path / "f.safetensors"))
    back = tl.load(tmp_path / "f.safetensors")
    assert back["a"].dtype == tl.float16 and back["b"].dtype == tl.int64
    np.testing.assert_array_equal(back["a"].numpy(), np.arange(6).reshape(2, 3))


def test_module_state_dict_round_trip(tmp_path, rng):
    class Net(tl.nn.Module):
        def __init__(self, values):
            super().__init__()
            self.w = tl.nn.Parameter(tl.Tensor(values))

    a, b = Net(rng.standard_normal((4, 4))), Net(np.zeros((4, 4)))
    tl.save(a.state_dict(), tmp_path / "net.safetensors")
    b.load_state_dict(tl.load(tmp_path / "net.safetensors"))
    np.testing.assert_array_equal(a.w.numpy(), b.w.numpy())


def test_zero_dim_tensors_keep_their_shape(device, rng):
    """A BatchNorm's num_batches_tracked is 0-d: its state_dict goes through a file object and loads back into
    the module (the shape was once saved as (1,))."""
    bn = tl.nn.BatchNorm2d(3).to(device)
    bn(tl.Tensor(rng.standard_normal((4, 3, 2, 2)).astype(np.float16), device=device))
    loss = tl.tensor(np.float16(rng.standard_normal()), device=device)
    buffer = io.BytesIO()
    tl.save({"bn": bn.state_dict(), "loss": loss, "array": np.array(2.5)}, buffer)
    buffer.seek(0)
    back = tl.load(buffer)
    assert back["bn"]["num_batches_tracked"].shape == () and back["bn"]["num_batches_tracked"].item() == 1
    assert back["loss"].shape == () and back["loss"].item() == loss.item() and back["array"].shape == ()
    fresh = tl.nn.BatchNorm2d(3)
    fresh.load_state_dict(back["bn"])
    np.testing.assert_array_equal(fresh.running_mean.numpy(), bn.running_mean.numpy())


def test_unsupported_values_raise(tmp_path):
    with pytest.raises(TypeError):
        tl.save({"f": lambda: 0}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError):
        tl.save({(1, 2): 3}, tmp_path / "x.safetensors")
    with pytest.raises(ValueError):
        tl.save({"a.b": np.zeros(1), "a": {"b": np.zeros(1)}}, tmp_path / "x.safetensors")


def test_map_location_in_torch_load_forms(device, rng):
    """map_location as torch.load takes it: a device, a dict from saved to wanted devices, or a function given each
    tensor on the CPU and the device it was saved from (torch's own: `lambda storage, loc: storage`)."""
    torch = pytest.importorskip("torch")
    w, n = _tensor(rng, (3, 4), device), tl.tensor(np.arange(3), device=device)
    saved_from = w._a.device
    buffer = io.BytesIO()
    tl.save({"w": w, "n": n, "epoch": 2}, buffer)
    tbuffer = io.BytesIO()
    torch.save({"w": torch.from_numpy(w.cpu().numpy().astype(np.float32))}, tbuffer)

    def load(map_location, lib=tl, data=buffer):
        data.seek(0)
        return lib.load(data, map_location=map_location)

    seen, tseen = [], []
    back = load(lambda storage, loc: seen.append(loc) or storage)
    load(lambda storage, loc: tseen.append(loc) or storage, torch, tbuffer)
    assert seen == [saved_from] * 2 and tseen == ["cpu"] and back["epoch"] == 2
    assert back["w"].device == "cpu" and back["n"].dtype == tl.int64
    np.testing.assert_array_equal(back["w"].numpy(), w.cpu().numpy())
    assert load({saved_from: "cpu"})["w"].device == "cpu" and load(torch.device("cpu"))["n"].device == "cpu"
    assert load({"metal:7": "cpu"})["w"].device == tl.get_default_device()  # (not saved there: the default)
    assert load("cpu")["w"].device == "cpu" and load(tl.device("cpu"))["w"].device == "cpu"
    doubled = load(lambda storage, loc: storage * 2)
    np.testing.assert_array_equal(doubled["n"].numpy(), np.arange(3) * 2)
    with pytest.raises(ZeroDivisionError):  # the function's own error, as torch.load lets it through
        load(lambda storage, loc: 1 / 0)
    with pytest.raises(TypeError, match="not a tensor"):
        load(lambda storage, loc: None)
    with pytest.raises(TypeError, match="map_location"):
        load(5)
