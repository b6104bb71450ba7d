"""The small PyTorch-compatibility surface: tl.accelerator, tl.backends flags, tl.cuda seeds and amp,
set_num_threads, inference_mode, autocast, Generator."""
import ctypes
import importlib
import os
import threading

import numpy as np
import pytest
import scipy_openblas32
import torch

import tensorlogic as tl
from tensorlogic.generator import host_rng


def test_accelerator_reports_the_gpu_backend():
    present = {name.partition(":")[0] for name in tl.available_devices()}
    gpu = [d for d in ("cuda", "metal") if d in present]
    assert tl.accelerator.is_available() == bool(gpu)
    acc = tl.accelerator.current_accelerator()
    if gpu:
        assert acc.type == gpu[0] and tl.accelerator.device_count() >= 1
        tl.accelerator.synchronize()
        assert tl.accelerator.current_device_index() >= 0
    else:
        assert acc is None and tl.accelerator.device_count() == 0
        with pytest.raises(RuntimeError):
            tl.accelerator.synchronize()
    device = tl.accelerator.current_accelerator().type if tl.accelerator.is_available() else "cpu"
    assert tl.zeros(1, device=device).device.type == device


def test_backend_flags_are_kept():
    tl.backends.cudnn.benchmark = True
    tl.backends.cudnn.deterministic = True
    tl.backends.cuda.matmul.allow_tf32 = True
    tl.backends.cudnn.allow_tf32 = True
    assert tl.backends.cudnn.benchmark and tl.backends.cuda.matmul.allow_tf32
    tl.backends.cuda.enable_flash_sdp(False)
    assert not tl.backends.cuda.flash_sdp_enabled()
    tl.backends.cuda.enable_flash_sdp(True)
    assert tl.backends.mps.is_available() is False
    assert tl.cuda.is_bf16_supported() is False


SDP_FLAGS = ["flash_sdp_enabled", "mem_efficient_sdp_enabled", "math_sdp_enabled", "cudnn_sdp_enabled"]


def _sdp_flags(lib):
    return [getattr(lib.backends.cuda, name)() for name in SDP_FLAGS]


@pytest.mark.parametrize("chosen", [["MATH"], ["FLASH_ATTENTION", "EFFICIENT_ATTENTION"], ["CUDNN_ATTENTION"], []])
def test_sdpa_kernel_sets_the_sdp_flags_in_its_block_as_torch(chosen, rng):
    """torch.nn.attention's sdpa_kernel (a backend or a list) and the deprecated torch.backends.cuda.sdp_kernel set
    the flags inside their block as PyTorch's do and restore them after; attention computes the same there."""
    q = tl.tensor(rng.standard_normal((1, 2, 5, 4)).astype(np.float16))
    plain = tl.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True).numpy()
    assert [(b.name, int(b)) for b in tl.nn.attention.SDPBackend] == [
        (b.name, int(b)) for b in torch.nn.attention.SDPBackend.__members__.values()]
    seen = {}
    for lib in (torch, tl):
        attention = importlib.import_module(lib.__name__ + ".nn.attention")
        backends = [getattr(attention.SDPBackend, name) for name in chosen]
        with attention.sdpa_kernel(backends[0] if len(backends) == 1 else backends):
            seen[lib] = _sdp_flags(lib)
            if lib is tl:
                inside = tl.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True).numpy()
        assert _sdp_flags(lib) == [True] * 4
        with pytest.warns(FutureWarning, match="sdp_kernel"):
            with lib.backends.cuda.sdp_kernel(enable_flash=False, enable_cudnn=False):
                assert _sdp_flags(lib) == [False, True, True, False]
        with pytest.raises(AssertionError, match="SDPBackend"):
            with attention.sdpa_kernel("math"):
                pass
    assert seen[tl] == seen[torch] and (inside == plain).all()


def test_cuda_seed_functions_seed_the_shared_stream():
    tl.cuda.manual_seed_all(123)
    a = tl.rand(5).tolist()
    tl.cuda.manual_seed(123)
    b = tl.rand(5).tolist()
    tl.manual_seed(123)
    assert a == b == tl.rand(5).tolist()
    assert tl.cuda.amp.GradScaler is tl.amp.GradScaler


def test_cuda_and_cuda_amp_import_as_packages():
    """`from torch.cuda.amp import GradScaler, autocast`, which older AMP code opens with, works with tensorlogic."""
    amp = importlib.import_module("tensorlogic.cuda.amp")
    assert importlib.import_module("tensorlogic.cuda") is tl.cuda
    assert (amp.GradScaler, amp.autocast) == (tl.amp.GradScaler, tl.cuda.amp.autocast)


def _openblas_threads():
    """The thread count of the OpenBLAS that the CPU GEMMs call (the scipy-openblas32 wheel's library)."""
    lib = ctypes.CDLL(os.path.join(scipy_openblas32.get_lib_dir(), "libscipy_openblas.so"))
    return lib.scipy_openblas_get_num_threads()


def test_set_num_threads_resizes_the_cpu_pool_and_openblas_stays_on_one():
    # OpenBLAS is held to one thread: the pool splits large products itself (cpp/cpu/gemm.cpp sgemm_f32)
    before = tl.get_num_threads()
    try:
        tl.set_num_threads(1)
        assert tl.get_num_threads() == 1 and _openblas_threads() == 1
        x = tl.randn(300, 300, device="cpu")
        single = (x @ x).numpy().copy()
        tl.set_num_threads(3)
        assert tl.get_num_threads() == 3 and _openblas_threads() == 1
        np.testing.assert_allclose((x @ x).numpy().astype(np.float32), single.astype(np.float32), rtol=2e-3, atol=2e-2)
    finally:
        tl.set_num_threads(before)
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError):
            tl.set_num_threads(bad)


def test_inference_mode_and_autocast():
    w = tl.ones(3, requires_grad=True)
    with tl.inference_mode():
        assert not (w * 2).requires_grad
    with tl.inference_mode(False):
        assert (w * 2).requires_grad

    @tl.inference_mode()
    def f(x):
        return x * 2

    @tl.inference_mode
    def g(x):
        return x * 2

    assert not f(w).requires_grad and not g(w).requires_grad and (w * 2).requires_grad
    seen = []
    thread = threading.Thread(target=lambda: seen.append((w * 2).requires_grad))
    with tl.inference_mode():
        thread.start()
        thread.join()
    assert seen == [True]  # per thread, like grad mode
    for ctx in (tl.autocast("cuda", dtype="bfloat16"), tl.amp.autocast("cpu"), tl.cuda.amp.autocast(),
                tl.autocast(device_type="cuda", enabled=False)):
        with ctx:
            y = w * 2
        assert y.requires_grad and y.dtype == tl.float16
    assert tl.autocast("cuda")(lambda: 5)() == 5
    with pytest.raises(ValueError):
        torch.autocast(1)
    with pytest.raises(ValueError):
        tl.autocast(1)


def test_generator_streams():
    a = tl.Generator().manual_seed(7)
    b = tl.Generator().manual_seed(7)
    assert a.initial_seed() == 7
    assert host_rng(a).permutation(10).tolist() == host_rng(b).permutation(10).tolist()
    state = a.get_state()
    first = host_rng(a).random(3).tolist()
    a.set_state(state)
    assert host_rng(a).random(3).tolist() == first
    with pytest.raises(TypeError):
        host_rng(torch.Generator())


def test_size():
    size = tl.Size([2, 3, 4])
    assert size == (2, 3, 4) == tl.zeros(2, 3, 4).shape and isinstance(size, tuple)
    assert size.numel() == 24 == torch.Size([2, 3, 4]).numel() and tl.Size().numel() == 1
    assert repr(size) == "Size([2, 3, 4])" and tl.zeros(size).shape == size and size[1:] == (3, 4)


def test_shapes_are_sizes_as_torch_shapes():
    ours, theirs = tl.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    cases = [lambda x: x.shape, lambda x: x.size(), lambda x: x.shape[1:], lambda x: x.shape[::-1],
             lambda x: x.shape + (5,), lambda x: (5,) + x.shape, lambda x: x.shape * 2, lambda x: 2 * x.size(),
             lambda x: x.shape[0], lambda x: x.size(-1), lambda x: x.shape[:0]]
    for case in cases:
        got, want = case(ours), case(theirs)
        assert got == tuple(want) if isinstance(want, tuple) else got == want
        assert (type(got) is tl.Size) == (type(want) is torch.Size), (got, want)
    assert hash(ours.shape) == hash((2, 3, 4)) and ours.shape == (2, 3, 4) and ours.shape != [2, 3, 4]


def test_tensor_class_takes_sizes_as_torchs():
    """torch.Tensor(2, 3) is an uninitialised float tensor of that size (old code: Parameter(torch.Tensor(out, in))),
    torch.Tensor() an empty one, one sequence is data; negative sizes and mixed arguments are refused."""
    for args in [(3,), (2, 3), (np.int64(4), 1), (), ([1.5, 2.0],), ([[1.0], [2.5]],)]:
        ours, theirs = tl.Tensor(*args), torch.Tensor(*args)
        assert tuple(ours.shape) == tuple(theirs.shape) and ours.dtype == tl.float16, args
    assert tl.Tensor(tl.Size([2, 5])).shape == (2, 5)
    assert tl.Tensor([[1.5, 2.0]]).tolist() == [[1.5, 2.0]]
    w = tl.nn.Parameter(tl.Tensor(4, 5))
    assert w.shape == (4, 5) and w.requires_grad and w.is_leaf
    tl.nn.init.uniform_(w, -0.5, 0.5)
    assert np.abs(w.detach().numpy()).max() <= 0.5
    with pytest.raises(RuntimeError, match="negative dimension"):
        tl.Tensor(2, -1)
    with pytest.raises(TypeError, match="sizes"):
        tl.Tensor(2, "a")


def test_tensor_class_makes_float_data_as_torchs():
    """torch.Tensor(data) is always the default float dtype (float16 here), whatever the data's element type; a tensor
    is shared as it is, whatever its dtype; a lone number or a string is a TypeError. The typed forms keep theirs."""
    rng = np.random.default_rng()
    ints = rng.integers(-2000, 2000, (3, 4))
    bools = rng.random(5) < 0.5
    for data in [ints, ints.astype(np.int32), ints.tolist(), bools, bools.tolist(), range(7), np.array(2.5)]:
        ours, theirs = tl.Tensor(data), torch.Tensor(data)
        assert ours.dtype == tl.float16 and ours.shape == theirs.shape
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy().astype(np.float16))
    for number in [2.5, True, np.float32(1.5)]:
        with pytest.raises(TypeError, match="must be a sequence"):
            tl.Tensor(number)
        with pytest.raises(TypeError, match="must be a sequence"):
            torch.Tensor(number)
    with pytest.raises(TypeError, match="invalid data type 'str'"):
        tl.Tensor("ab")
    with pytest.raises(TypeError):
        tl.Tensor([1], dtype=tl.int64)  # torch.Tensor takes no dtype either
    index = tl.tensor(ints)
    assert tl.Tensor(index) is not index and tl.Tensor(index).dtype == tl.int64 == tl.tensor(ints).dtype
    assert tl.Tensor(index).data_ptr() == index.data_ptr() and torch.Tensor(torch.tensor(ints)).dtype == torch.int64
    assert tl.LongTensor(ints.tolist()).dtype == tl.int64 and tl.IntTensor(bools).tolist() == torch.IntTensor(bools).tolist()
    assert tl.BoolTensor(ints.tolist()).tolist() == torch.BoolTensor(ints.tolist()).tolist()


def test_legacy_typed_constructors():
    """torch.FloatTensor(sizes) / torch.LongTensor(data) and isinstance with them, as pygcn writes them."""
    w = tl.FloatTensor(3, 4)
    assert w.shape == (3, 4) == torch.FloatTensor(3, 4).shape and w.dtype == tl.float16
    assert tl.FloatTensor(tl.Size([5])).shape == (5,) and tl.DoubleTensor(2).shape == (2,)
    idx = tl.LongTensor(np.array([3, 1, 2]))
    assert idx.dtype == tl.int64 and idx.tolist() == torch.LongTensor(np.array([3, 1, 2])).tolist()
    assert tl.FloatTensor([[1.5, 2]]).tolist() == [[1.5, 2.0]] and tl.BoolTensor([True]).dtype == tl.bool
    assert tl.IntTensor([1]).dtype == tl.int32
    assert isinstance(w, tl.FloatTensor) and not isinstance(w, tl.LongTensor) and isinstance(idx, tl.LongTensor)
    assert idx.type(tl.FloatTensor).dtype == tl.float16 and str(tl.LongTensor) == "torch.LongTensor"
    with pytest.raises(TypeError):
        tl.FloatTensor(idx)
    with pytest.raises(TypeError):
        tl.FloatTensor(2, "3")


def test_legacy_constructors_read_zero_d_integer_arrays_as_sizes():
    """PyTorch reads a 0-d integer array (through __index__) as a size in torch.Tensor, the typed constructors and
    Tensor.new: torch.Tensor(np.array(3)) is uninitialised of size 3; a 0-d float or bool array is data; a lone float
    or bool, numpy's too, is a TypeError."""
    rng = np.random.default_rng()
    n, m = (int(k) for k in rng.integers(0, 6, 2))
    value = float(np.float16(rng.normal()))
    makers = [(tl.Tensor, torch.Tensor), (tl.FloatTensor, torch.FloatTensor), (tl.LongTensor, torch.LongTensor),
              (tl.zeros(1).new, torch.zeros(1).new)]
    for ours, theirs in makers:
        for sizes in [(np.array(n),), (np.array(n, dtype=np.int32),), (np.uint8(n),), (np.array(n), m)]:
            assert ours(*sizes).shape == theirs(*sizes).shape == tuple(int(s) for s in sizes)
        for data in [np.array(value), np.array(value < 0)]:
            assert ours(data).shape == theirs(data).shape == ()
            assert ours(data).item() == theirs(data).item()
        for number in [np.float64(value), np.bool_(value < 0), value, True]:
            with pytest.raises(TypeError, match="must be a sequence"):
                theirs(number)
            with pytest.raises(TypeError, match="must be a sequence"):
                ours(number)
