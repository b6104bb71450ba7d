"""The errors of tl.cuda's graph API that need no GPU: wrong arguments get torch's TypeError/ValueError naming
the argument, and graphs without CUDA (or over CPU tensors) get DeviceError, a RuntimeError as torch raises.
tests/test_cuda_graphs.py runs the graphs themselves on CUDA."""
import numpy as np
import pytest

import tensorlogic as tl
from tensorlogic import nn

no_cuda = pytest.mark.skipif("cuda" in tl.available_devices(), reason="checks the machine without CUDA")


@no_cuda
@pytest.mark.parametrize("make", [tl.cuda.CUDAGraph, tl.cuda.graph_pool_handle], ids=["CUDAGraph", "pool"])
def test_graphs_need_cuda(make):
    with pytest.raises(tl.DeviceError, match="CUDA device") as info:
        make()
    assert isinstance(info.value, RuntimeError)


def test_graph_takes_a_cuda_graph():
    with pytest.raises(TypeError, match="expected a CUDAGraph"):
        tl.cuda.graph(object())


def _x(rng):
    return tl.tensor(rng.standard_normal((2, 4)).astype(np.float16), device="cpu")


def test_make_graphed_callables_over_cpu_tensors_is_a_device_error(rng):
    with pytest.raises(tl.DeviceError, match=r"one CUDA device, got \['cpu'\]"):
        tl.cuda.make_graphed_callables(nn.Linear(4, 3, device="cpu"), (_x(rng),))
    with pytest.raises(tl.DeviceError, match=r"callable 0 \(function\)"):
        tl.cuda.make_graphed_callables((lambda x: x, lambda x: x * 2), ((_x(rng),), (_x(rng),)))


@pytest.mark.parametrize("callables, sample_args, error, match", [
    ("not callable", (), TypeError, "not callable"),
    (lambda x: x, [1.0], TypeError, "tuple of Tensors"),
    (lambda x: x, ("x",), TypeError, "tuple of Tensors"),
    ((lambda x: x, lambda x: x), ((),), TypeError, "one tuple of Tensors per callable"),
], ids=["callable", "list", "non-tensor", "count"])
def test_make_graphed_callables_argument_errors(callables, sample_args, error, match):
    with pytest.raises(error, match=match):
        tl.cuda.make_graphed_callables(callables, sample_args)


def test_parameters_may_not_be_sample_args_and_warmups_count(rng):
    lin = nn.Linear(4, 4)
    with pytest.raises(ValueError, match="parameter of the module"):
        tl.cuda.make_graphed_callables(lin, (lin.weight,))
    with pytest.raises(ValueError, match="num_warmup_iters"):
        tl.cuda.make_graphed_callables(lin, (_x(rng),), num_warmup_iters=-1)
