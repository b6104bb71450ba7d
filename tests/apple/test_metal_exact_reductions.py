"""reduce_int.metal on the CPU harness: the exact reductions of bool, int32 and int64 data (sum and prod
wrapping, max/min values, argmax/argmin first indices) against the CPU backend, in one stage and split
in parts with a second stage, with ties and the int64 extremes."""
import numpy as np
import pytest

from metal_harness import params
from oracle import assert_same_bits
from tensorlogic import _core

KERNELS = {np.bool_: "reduce_int_b8", np.int32: "reduce_int_i32", np.int64: "reduce_int_i64"}
OPS = ("sum", "prod", "max", "min", "argmax", "argmin")


def run_reduce_int(lib, op, x, parts, threads):
    """x [outer, n, inner] reduced over n, as objc/metal_reduce.mm dispatches it."""
    outer, n, inner = x.shape
    outputs = outer * inner
    prm = params("ReduceParams", outer=outer, n=n, inner=inner, parts=parts, chunk=-(-n // parts))
    out = np.full(outputs, -7, np.int64)
    partials = np.zeros(2 * outputs * parts, np.int64)
    const = {"OP": int(_core.ReduceOp.__members__[op]), "FINAL": int(parts == 1)}
    lib.run(KERNELS[x.dtype.type], {0: x, 1: out, 2: partials, 3: prm}, [outputs, parts], [threads], const)
    if parts > 1:
        lib.run("reduce_int_partials", {0: partials, 1: out, 2: prm}, [outputs], [32], const)
    return out.reshape(outer, inner)


def inputs(rng, dtype, shape):
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    # Ties everywhere (arg* must pick the first); no zeros, so that products wrap instead of vanishing.
    x = rng.choice(np.array([-3, -2, -1, 1, 2, 3], dtype), shape)
    info = np.iinfo(dtype)
    x.flat[rng.integers(x.size, size=3)] = [info.min, info.max, info.max]
    return x


@pytest.mark.parametrize("dtype", [np.bool_, np.int32, np.int64])
@pytest.mark.parametrize("shape,parts,threads", [((2, 300, 3), 1, 64), ((1, 1000, 1), 5, 32), ((3, 1, 2), 1, 32),
                                                 ((1, 97, 1), 3, 96)])
def test_exact_reductions_match_cpu(metal_lib, rng, dtype, shape, parts, threads):
    lib = metal_lib("reduce_int.metal")
    x = inputs(rng, dtype, shape)
    for op in OPS:
        got = run_reduce_int(lib, op, x, parts, threads)
        want = np.asarray(_core.reduce(_core.ReduceOp.__members__[op], _core.from_numpy(x), [1], False, 1.0, 2.0))
        assert_same_bits(got, want.astype(np.int64))
