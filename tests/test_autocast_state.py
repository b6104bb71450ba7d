"""tl.autocast's state and its queries (is_autocast_enabled, get_autocast_dtype, set_..., the deprecated cpu/gpu forms,
the cache flag and the nesting count) side by side with torch's: the same calls give the same answers, per thread and
per device type; autocast itself casts nothing (every float is float16)."""
import threading
import warnings

import pytest
import torch

import tensorlogic as tl


def _answers(lib, cuda_present):
    """What a program sees from the state functions through a sequence of autocast regions (dtypes by name: the
    engine's float dtypes are all float16, so dtypes are compared as 'float' or not)."""
    floaty = lambda d: d.is_floating_point  # noqa: E731
    seen = [lib.is_autocast_enabled(), lib.is_autocast_enabled("cpu"), lib.is_autocast_cache_enabled()]
    with lib.autocast("cpu", dtype=lib.bfloat16):
        seen += [lib.is_autocast_enabled("cpu"), lib.is_autocast_enabled(), floaty(lib.get_autocast_dtype("cpu"))]
        other = []
        thread = threading.Thread(target=lambda: other.append(lib.is_autocast_enabled("cpu")))
        thread.start()
        thread.join()
        seen += other  # per thread: a new thread starts with autocast off
        with lib.autocast("cpu", enabled=False, cache_enabled=False):
            seen += [lib.is_autocast_enabled("cpu"), lib.is_autocast_cache_enabled()]
        seen += [lib.is_autocast_enabled("cpu"), lib.is_autocast_cache_enabled()]
    seen += [lib.is_autocast_enabled("cpu")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with lib.autocast("cuda", dtype=lib.float16):
            seen += [lib.is_autocast_enabled("cuda") == cuda_present, lib.is_autocast_enabled() == cuda_present]
        with lib.autocast("cpu", dtype=lib.int32):  # not a float dtype: warns and stays off
            seen += [lib.is_autocast_enabled("cpu")]
    lib.set_autocast_enabled("cpu", True)
    lib.set_autocast_dtype("cpu", lib.float16)
    seen += [lib.is_autocast_enabled("cpu"), lib.get_autocast_dtype("cpu") == lib.float16]
    lib.set_autocast_enabled("cpu", False)
    lib.set_autocast_enabled(True)  # the one-argument form: CUDA's
    seen += [lib.is_autocast_enabled(), lib.is_autocast_enabled("cuda:0")]
    lib.set_autocast_enabled(False)
    seen += [lib.autocast_increment_nesting(), lib.autocast_decrement_nesting(), lib.autocast_decrement_nesting(),
             lib.autocast_increment_nesting()]
    lib.clear_autocast_cache()
    return seen


def test_the_state_answers_as_torch_does():
    assert _answers(tl, tl.cuda.is_available()) == _answers(torch, torch.cuda.is_available())


def test_deprecated_forms_warn_and_answer_the_device_forms():
    for get, set_, device in ((tl.get_autocast_cpu_dtype, tl.set_autocast_cpu_dtype, "cpu"),
                              (tl.get_autocast_gpu_dtype, tl.set_autocast_gpu_dtype, "cuda")):
        with pytest.warns(DeprecationWarning, match="deprecated"):
            set_(tl.bfloat16)
        with pytest.warns(DeprecationWarning, match="deprecated"):
            assert get() == tl.get_autocast_dtype(device) == tl.float16
    with pytest.warns(DeprecationWarning):
        tl.set_autocast_cpu_enabled(True)
    with pytest.warns(DeprecationWarning):
        assert tl.is_autocast_cpu_enabled() and tl.is_autocast_enabled("cpu")
    tl.set_autocast_enabled("cpu", False)


def test_autocast_without_cuda_warns_and_stays_off():
    if tl.cuda.is_available():
        with tl.autocast("cuda"):
            assert tl.is_autocast_enabled("cuda") and tl.is_autocast_enabled()
        assert not tl.is_autocast_enabled()
        return
    for lib in (torch, tl):
        with pytest.warns(UserWarning, match="CUDA is not available"):
            ctx = lib.autocast("cuda")
        with ctx:
            assert not lib.is_autocast_enabled("cuda")


def test_bad_arguments_raise_torch_errors():
    for lib in (torch, tl):
        with pytest.raises(RuntimeError, match="device type"):
            lib.is_autocast_enabled("foo")
        with pytest.raises(RuntimeError, match="device type"):
            lib.get_autocast_dtype("foo")
        with pytest.raises(RuntimeError, match="device type"):
            lib.autocast("foo")
        with pytest.raises(TypeError, match="device_type"):
            lib.is_autocast_enabled(3)
        with pytest.raises(TypeError, match="enabled"):
            lib.set_autocast_enabled("cpu", 3)
        with pytest.raises(TypeError, match="dtype"):
            lib.set_autocast_dtype("cpu", "float16")
        with pytest.raises(TypeError, match="bool"):
            lib.set_autocast_cache_enabled(0)
    assert not tl.is_autocast_enabled("cpu") and tl.is_autocast_cache_enabled()
