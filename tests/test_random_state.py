"""tl.random (torch.random's functions) and the top-level seed functions: the state of the one Philox stream
saved and restored, forks that leave the stream as they found it, seeds."""
import numpy as np
import pytest
import torch

import tensorlogic as tl


def test_state_round_trip_replays_every_kind_of_draw(device):
    tl.manual_seed(1234)
    tl.rand(5, device=device)
    state = tl.random.get_rng_state()
    assert state.dtype == tl.int64 and tuple(state.shape) == (2,) and state.tolist()[0] == 1234
    first = [tl.rand(7, device=device), tl.randn(3, 3, device=device), tl.randint(0, 100, (6,), device=device),
             tl.randperm(9, device=device), tl.nn.functional.dropout(tl.ones(50, device=device), 0.5)]
    tl.random.set_rng_state(state)
    again = [tl.rand(7, device=device), tl.randn(3, 3, device=device), tl.randint(0, 100, (6,), device=device),
             tl.randperm(9, device=device), tl.nn.functional.dropout(tl.ones(50, device=device), 0.5)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy())
    assert tl.get_rng_state().tolist() == tl.random.get_rng_state().tolist()


def test_fork_rng_restores_the_stream_even_on_errors(device):
    tl.manual_seed(7)
    expected = tl.rand(4, device=device).cpu().numpy()
    tl.manual_seed(7)
    with tl.random.fork_rng(devices=[0]):
        tl.randn(100, device=device)
    np.testing.assert_array_equal(tl.rand(4, device=device).cpu().numpy(), expected)
    tl.manual_seed(7)
    with pytest.raises(KeyError):
        with tl.random.fork_rng():
            tl.rand(10)
            raise KeyError("inside")
    np.testing.assert_array_equal(tl.rand(4, device=device).cpu().numpy(), expected)
    tl.manual_seed(7)
    with tl.random.fork_rng(enabled=False):
        tl.rand(3)
    assert tl.random.get_rng_state().tolist()[1] != 0  # not restored: disabled


def test_seeds():
    tl.random.manual_seed(2**64 - 5)
    assert tl.initial_seed() == 2**64 - 5 == tl.random.initial_seed()
    state = tl.random.get_rng_state()
    assert state.tolist()[0] == -5  # the seed's 64 bits as a signed int64
    tl.rand(3)
    tl.random.set_rng_state(state)
    assert tl.initial_seed() == 2**64 - 5
    s = tl.seed()
    assert 0 <= s < 2**64 and tl.initial_seed() == s and tl.random.seed() != s
    tl.manual_seed(-1)
    assert tl.initial_seed() == 2**64 - 1


def test_bad_states_raise_typed_errors():
    with pytest.raises(TypeError):
        tl.random.set_rng_state([1, 2])
    with pytest.raises(ValueError):
        tl.random.set_rng_state(tl.tensor([1, 2, 3]))
    with pytest.raises(ValueError):
        tl.random.set_rng_state(tl.tensor([1.0, 2.0]))
    with pytest.raises(ValueError):
        tl.random.set_rng_state(tl.tensor([1, -2]))
    with pytest.raises(TypeError):
        with tl.random.fork_rng(devices=3):
            pass


def test_a_generator_draws_its_own_reproducible_stream(device, rng):
    """rand/randn/randint/randperm with generator= (as custom samplers and splits call them) draw from the
    Generator's stream: a seed replays the draws, and the global stream does not move."""
    seed = int(rng.integers(1 << 30))
    tl.manual_seed(seed)
    expected = tl.rand(4, device=device).cpu().numpy()
    draws = []
    for _ in range(2):
        tl.manual_seed(seed)
        g = tl.Generator().manual_seed(seed)
        draws.append([tl.randperm(10, generator=g, device=device), tl.randint(3, 9, (50,), generator=g, device=device),
                      tl.rand(2, 3, generator=g, device=device), tl.randn(200, generator=g, device=device)])
        np.testing.assert_array_equal(tl.rand(4, device=device).cpu().numpy(), expected)
    for a, b in zip(*draws):
        assert a.device.type == device and a.dtype == b.dtype
        np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy())
    perm, ints, uniform, normal = (t.cpu().numpy().astype(np.float64) for t in draws[0])
    assert sorted(perm) == list(range(10)) and draws[0][0].dtype == tl.int64
    assert ints.min() >= 3 and ints.max() < 9 and draws[0][1].dtype == tl.int64
    assert uniform.min() >= 0 and uniform.max() < 1 and np.all(uniform * 2**11 == np.round(uniform * 2**11))
    assert abs(normal.mean()) < 0.35 and 0.7 < normal.std() < 1.3, (seed, normal.mean(), normal.std())
    with pytest.raises(ValueError, match="low < high"):
        tl.randint(5, 5, (2,), generator=g)
    with pytest.raises(TypeError, match="tl.Generator"):
        tl.randperm(3, generator=np.random.default_rng(0))


def test_manual_seed_returns_the_default_generator_which_is_the_global_stream(device):
    """tl.manual_seed returns tl.default_generator (torch.manual_seed returns torch.default_generator); passed as
    generator= it draws what no generator draws, and its seed and state are the global stream's."""
    seed = int(np.random.SeedSequence().entropy) % 10**9
    g = tl.manual_seed(seed)
    assert g is tl.default_generator and isinstance(g, tl.Generator)
    assert type(torch.manual_seed(seed)) is type(torch.default_generator)  # the behaviour copied
    assert g.initial_seed() == tl.initial_seed() == seed
    plain = [tl.rand(5, device=device), tl.randn(4, device=device), tl.randint(0, 9, (6,), device=device),
             tl.randperm(7, device=device)]
    tl.manual_seed(seed)
    given = [tl.rand(5, generator=g, device=device), tl.randn(4, generator=g, device=device),
             tl.randint(0, 9, (6,), generator=g, device=device), tl.randperm(7, generator=g, device=device)]
    for a, b in zip(plain, given):
        np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy())
    state = g.get_state()
    drawn = tl.rand(3, device=device)
    assert g.set_state(state) is g
    np.testing.assert_array_equal(tl.rand(3, device=device).cpu().numpy(), drawn.cpu().numpy())
    assert g.manual_seed(seed + 1) is g and tl.initial_seed() == seed + 1 and tl.manual_seed(2.0).initial_seed() == 2
    with pytest.raises(TypeError):
        g.manual_seed(1.5)  # as torch.default_generator.manual_seed


@pytest.mark.skipif(tl.cuda.is_available(), reason="the behaviour without CUDA")
def test_cuda_states_without_cuda_are_torchs():

    assert tl.cuda.get_rng_state_all() == [] == torch.cuda.get_rng_state_all()
    assert tl.cuda.set_rng_state_all([]) is None
    with pytest.raises(tl.DeviceError, match="no CUDA device"):
        tl.cuda.get_rng_state()
    with pytest.raises(tl.DeviceError, match="no CUDA device"):
        tl.cuda.set_rng_state(tl.get_rng_state(), 0)


@pytest.mark.skipif(not tl.cuda.is_available(), reason="needs CUDA")
def test_cuda_state_round_trip_replays_the_device_draws():
    tl.manual_seed(99)
    tl.randn(3, device="cuda")
    saved, saved_all = tl.cuda.get_rng_state(), tl.cuda.get_rng_state_all()
    assert len(saved_all) == tl.cuda.device_count()
    first = [tl.rand(8, device="cuda").cpu().numpy(), tl.randn(4, 4, device="cuda").cpu().numpy()]
    tl.cuda.set_rng_state(saved)
    np.testing.assert_array_equal(tl.rand(8, device="cuda").cpu().numpy(), first[0])
    tl.cuda.set_rng_state_all(saved_all)
    np.testing.assert_array_equal(tl.rand(8, device="cuda").cpu().numpy(), first[0])
    np.testing.assert_array_equal(tl.randn(4, 4, device="cuda").cpu().numpy(), first[1])
    with pytest.raises(tl.DeviceError, match="does not exist"):
        tl.cuda.get_rng_state(tl.cuda.device_count())
