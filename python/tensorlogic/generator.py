"""tl.Generator: a random stream of its own, for the host-side randomness of data pipelines (shuffling,
random_split, samplers), like torch.Generator passed as `generator=`.

It is numpy's Philox counter-based generator, so a seed gives the same sequence on every machine. The
global stream behind tl.rand/randn (the native Philox of cpp/core) stays separate: code that draws from a
Generator does not move it. Without a generator, host_rng() seeds a fresh host stream from the global one,
so tl.manual_seed alone makes shuffling reproducible (as torch.manual_seed does). This module sits below
the ops (it uses only the native core), so ops that take `generator=` can draw from host_rng(generator)."""
import copy

import numpy as np

from . import _core
from .device import device as _device

_U64 = (1 << 64) - 1


class Generator:
    """A host random stream for data pipelines (shuffling, random_split, samplers), passed as `generator=` like
    torch.Generator. It is numpy's Philox: a seed gives the same sequence on every machine. It does not drive
    tl.rand/randn, which draw from the global native stream (tl.manual_seed)."""
    def __init__(self, device="cpu"):
        self.device = _device(device)
        self.manual_seed(int(np.random.SeedSequence().entropy) & _U64)

    def manual_seed(self, seed):
        """Restarts the stream from `seed` (negative seeds wrap to 64 bits, as in PyTorch); returns self."""
        self._seed = checked_seed(seed, "Generator.manual_seed")
        self._rng = np.random.Generator(np.random.Philox(self._seed))
        return self

    def seed(self):
        """Reseeds from the operating system's entropy; returns the new seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy) & _U64)
        return self._seed

    def initial_seed(self):
        """The seed the stream last started from (manual_seed or seed)."""
        return self._seed

    def __copy__(self):
        """A stream of its own at the same position, as copy.copy of a torch.Generator (a shallow copy shared
        numpy's stream: drawing from either advanced both)."""
        return copy.deepcopy(self)

    def get_state(self):
        """The stream's position (an opaque dict; set_state restores it)."""
        return self._rng.bit_generator.state

    def set_state(self, state):
        """Restores a position saved by get_state(); returns self."""
        self._rng.bit_generator.state = state
        return self

    def __repr__(self):
        return f"<tensorlogic.Generator seed={self._seed} device={self.device}>"


def checked_seed(seed, op):
    """`seed` as the 64-bit value a stream starts from (negative seeds wrap, as in PyTorch)."""
    if isinstance(seed, bool) or not hasattr(type(seed), "__index__"):
        raise TypeError(f"{op}: seed must be an int, got {type(seed).__name__}")
    seed = int(seed)
    if seed < -(1 << 63) or seed > _U64:
        raise ValueError(f"{op}: seed must be in [-2**63, 2**64 - 1], got {seed}")
    return seed & _U64


class _DefaultGenerator(Generator):
    """tl.default_generator: the global native stream behind tl.rand/randn/dropout as a Generator object, which
    tl.manual_seed returns (as torch.manual_seed returns torch.default_generator). Passed as `generator=`, it is the
    same as passing none."""

    def __init__(self):
        self.device = _device("cpu")

    def manual_seed(self, seed):
        """Restarts the global stream from `seed` (tl.manual_seed); returns self."""
        _core.manual_seed(checked_seed(seed, "manual_seed"))
        return self

    def seed(self):
        """Reseeds the global stream from the operating system's entropy; returns the new seed."""
        value = int(np.random.SeedSequence().entropy) & _U64
        _core.manual_seed(value)
        return value

    def initial_seed(self):
        """The seed the global stream last started from."""
        return _core.random_state()[0]

    def get_state(self):
        """The stream's (seed, offset); set_state restores it (tl.get_rng_state gives the same as a tensor)."""
        return _core.random_state()

    def set_state(self, state):
        """Restores a (seed, offset) saved by get_state(); returns self."""
        seed, offset = state
        _core.set_random_state(int(seed) & _U64, int(offset))
        return self

    def __repr__(self):
        return f"<tensorlogic.default_generator (the global stream) seed={self.initial_seed()}>"


default_generator = _DefaultGenerator()


def own_stream(generator):
    """The Generator to draw from when `generator` is a stream of its own; None for the global stream (None or
    tl.default_generator)."""
    if generator is None or generator is default_generator:
        return None
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a tl.Generator, got {type(generator).__name__}")
    return generator


def host_rng(generator=None):
    """A numpy Generator to draw from: `generator`'s own stream, or one seeded from the global tl stream."""
    if own_stream(generator) is not None:
        return generator._rng
    halves = np.asarray(_core.randint(0, 2**31 - 1, [2], "cpu")).astype(np.int64)
    seed = int(halves @ np.array([1 << 31, 1]))
    return np.random.Generator(np.random.Philox(seed))
