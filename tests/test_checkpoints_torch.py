"""Checkpoints across the two libraries: a PyTorch state_dict written with safetensors.torch loads into
the same TensorLogic model (and the outputs agree); saving a whole module is refused with a clear message."""
import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import tensorlogic as tl
from tensorlogic import nn

from oracle import f16_randn, host


def _net(m):
    return m.Sequential(m.Conv2d(2, 4, 3, padding=1), m.BatchNorm2d(4), m.ReLU(), m.Flatten(), m.Linear(4 * 5 * 5, 3))


def test_pytorch_safetensors_state_dict_loads(tmp_path, device, rng):
    tmodel = _net(torch.nn)
    tmodel.train()
    tmodel(torch.randn(6, 2, 5, 5))  # moves the BatchNorm running statistics off their initial values
    tmodel.eval()
    path = tmp_path / "model.safetensors"
    save_file(tmodel.state_dict(), str(path))
    model = _net(nn).to(device)
    model.load_state_dict(tl.load(path, map_location=device))
    model.eval()
    assert int(model[1].num_batches_tracked.item()) == 1
    x = f16_randn(rng, (2, 2, 5, 5))
    want = tmodel(torch.tensor(x.astype(np.float32))).detach().numpy()
    np.testing.assert_allclose(host(model(tl.tensor(x, device=device))).astype(np.float64), want, rtol=2e-2, atol=2e-2)


def test_saving_a_whole_optimizer_says_what_to_do(tmp_path):
    model = nn.Linear(2, 2)  # (a whole module saves: test_serialization_modules.py)
    with pytest.raises(TypeError, match=r"state_dict\(\)"):
        tl.save(tl.optim.SGD(model.parameters(), lr=0.1), tmp_path / "o.safetensors")
    tl.save(model.state_dict(), tmp_path / "m.safetensors")
    nn.Linear(2, 2).load_state_dict(tl.load(tmp_path / "m.safetensors"))
