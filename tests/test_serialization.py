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
        "indices": tl.Tensor(np.array([[1, 2], [3, 4]], dtype=np.int32), device=device),
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
    loss = tl.Tensor(np.float16(rng.standard_normal()), device=device)
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
