"""tl.cuda.Stream, tl.cuda.stream(...), Event.record/wait with a stream and Tensor.record_stream: PyTorch's stream
API over the one in-order stream a device has. A program that puts work on a side stream and joins it back gets
the results PyTorch's gets; without a GPU, asking for a stream is a DeviceError as PyTorch's is a RuntimeError."""
import numpy as np
import pytest
import torch

import tensorlogic as tl

HAS_CUDA = tl.cuda.is_available()


@pytest.mark.skipif(HAS_CUDA, reason="the machine has a CUDA device")
def test_stream_without_a_gpu_is_a_device_error():
    with pytest.raises(tl.DeviceError, match="needs a cuda device"):
        tl.cuda.Stream()
    with pytest.raises(RuntimeError):  # as PyTorch's
        torch.cuda.Stream()


def test_stream_arguments_are_checked():
    with pytest.raises(TypeError, match="tl.cuda.Stream or None"):
        tl.cuda.stream("side")
    with pytest.raises(TypeError, match="priority must be an int"):
        tl.cuda.Stream(priority="high")
    with pytest.raises(TypeError, match="expected a tl.cuda.Stream"):
        tl.ones(2).record_stream(3)
    with pytest.raises(TypeError, match="expected a tl.cuda.Stream"):
        tl.Event().record(stream="s")
    with tl.cuda.stream(None) as s:  # PyTorch's no-op form
        assert s is None


@pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA device")
def test_side_stream_program_matches_torch():
    """The prefetch pattern of PyTorch's examples: a copy and a product on a side stream, joined by wait_stream,
    an event and record_stream, against PyTorch CPU float32 on the same f16 inputs."""
    rng = np.random.default_rng()
    a = rng.standard_normal((64, 32)).astype(np.float16)
    b = rng.standard_normal((32, 16)).astype(np.float16)
    side = tl.cuda.Stream()
    main = tl.cuda.current_stream()
    assert side == main and side.priority == 0
    with tl.cuda.stream(side):
        x = tl.tensor(a).to("cuda", non_blocking=True)
        y = x @ tl.tensor(b, device="cuda")
        done = side.record_event()
    main.wait_stream(side)
    main.wait_event(done)
    done.wait(main)
    y.record_stream(main)
    side.synchronize()
    assert side.query() and done.query()
    expected = torch.from_numpy(a).float() @ torch.from_numpy(b).float()
    np.testing.assert_allclose(y.cpu().numpy().astype(np.float32), expected.numpy(), rtol=2e-2, atol=2e-2)


@pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA device")
def test_stream_of_another_device_is_refused():
    with pytest.raises(ValueError, match="not on"):
        tl.ones(2, device="cpu").record_stream(tl.cuda.Stream())  # a CPU tensor, a CUDA stream
