"""The Metal kernels of the bool and int64 dtypes on the CPU harness: every converting copy, fills, tri,
gather and scatter of 1- and 8-byte words. The oracle is the CPU backend (_core)."""
import itertools

import numpy as np
import pytest

from metal_harness import elementwise_params, params
from oracle import assert_same_bits as same
from tensorlogic import _core

SHORT = {"f16": np.float16, "i32": np.int32, "i64": np.int64, "b8": np.bool_}
NAMES = {"f16": "float16", "i32": "int32", "i64": "int64", "b8": "bool"}


def strides_of(a):
    return [s // a.itemsize for s in a.strides]


def grid(n, threads=64):
    return [max(1, (n + threads - 1) // threads)], [threads]


def sample(rng, short, shape):
    if short == "f16":
        values = rng.uniform(-300, 300, shape).astype(np.float16)
        values.reshape(-1)[::4] = 0  # zeros, so conversions to bool see both outcomes
        return values
    if short == "b8":
        return rng.random(shape) < 0.5
    return rng.integers(-70000, 70000, shape).astype(SHORT[short])


def metal_view(a):
    """Bools travel as uchar 0/1 through the kernels."""
    return a.view(np.uint8) if a.dtype == np.bool_ else a


PAIRS = list(itertools.product(SHORT, SHORT))
# Spelled out so that the coverage check (test_metal_coverage.py) sees each kernel launched here.
COPY_KERNELS = ("copy_u8", "copy_u16", "copy_u32", "copy_u64", "copy_f16_i32", "copy_f16_i64", "copy_f16_b8",
                "copy_i32_f16", "copy_i32_i64", "copy_i32_b8", "copy_i64_f16", "copy_i64_i32", "copy_i64_b8",
                "copy_b8_f16", "copy_b8_i32", "copy_b8_i64")


@pytest.mark.parametrize("src,dst", PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_every_copy_matches_cpu_backend(metal_lib, rng, src, dst):
    lib = metal_lib("copy.metal")
    base = sample(rng, src, (6, 10))
    view = base.T[::2, 1:]  # [5, 5] strided
    want = np.asarray(_core.astype(_core.from_numpy(np.ascontiguousarray(view)), NAMES[dst]))
    out = np.zeros(view.shape, SHORT[dst])
    name = f"copy_u{8 * out.itemsize}" if src == dst else f"copy_{src}_{dst}"
    assert name in COPY_KERNELS
    p = elementwise_params(view.shape, {0: strides_of(view), 3: strides_of(out)})
    lib.run(name, {0: metal_view(view), 1: metal_view(out), 2: p}, *grid(view.size))
    same(out, want)


def test_fills_of_bytes_and_int64(metal_lib):
    lib = metal_lib("copy.metal")
    flags = np.zeros(10, np.uint8)
    lib.run("fill_u8", {0: flags, 1: elementwise_params((5,), {3: [2]}, iscalar_a=1)}, *grid(5))
    same(flags, np.array([1, 0] * 5, np.uint8))
    big = np.zeros(4, np.int64)
    value = -(3 << 40) - 5
    word = value & (2**64 - 1)
    lo, hi = [int(np.array(w, np.uint32).view(np.int32)) for w in (word & 0xFFFFFFFF, word >> 32)]
    lib.run("fill_u64", {0: big, 1: elementwise_params((4,), {3: [1]}, iscalar_a=lo, iscalar_b=hi)}, *grid(4))
    same(big, np.full(4, value, np.int64))


def test_tri_of_bytes_and_int64(metal_lib, rng):
    lib = metal_lib("tri.metal")
    for data, kernel in ((rng.random((4, 5)) < 0.7, "tri_u8"), (rng.integers(-9, 9, (4, 5)), "tri_u64")):
        out = np.zeros_like(data)
        lib.run(kernel, {0: metal_view(data), 1: metal_view(out), 2: elementwise_params((4, 5), {0: [5, 1], 3: [5, 1]}, k=1)},
                *grid(20), constants={"UPPER": 0})
        same(out, np.tril(data, 1))


def block_geometry(view, base):
    start = (view.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // base.itemsize
    return elementwise_params(view.shape, {0: strides_of(view)}), start


def test_gather_of_bytes_and_int64(metal_lib, rng):
    lib = metal_lib("indexing.metal")
    for data, kernel in ((rng.random((6, 8)) < 0.5, "index_gather_u8"),
                         (rng.integers(-(1 << 40), 1 << 40, (6, 8)), "index_gather_u64")):
        block = data[0, ::2]
        g, base = block_geometry(block, data)
        rows = rng.integers(0, 6, 7)
        offsets = (base + rows * 8).astype(np.int64)
        out = np.zeros((7, 4), data.dtype)
        lib.run(kernel, {0: metal_view(data), 1: offsets, 2: metal_view(out), 3: g, 4: params("BlockParams", blocks=7)},
                *grid(out.size))
        same(out, data[rows, ::2])


@pytest.mark.parametrize("accumulate", [False, True])
def test_scatter_of_bool_and_int64(metal_lib, rng, accumulate):
    lib = metal_lib("indexing.metal")
    for kind, kernel in (("b8", "index_scatter_b8"), ("i64", "index_scatter_i64")):
        dst = sample(rng, kind, (5, 3))
        values = sample(rng, kind, (9, 3))
        rows = rng.integers(0, 5, 9)
        want = dst.copy()
        for b, r in enumerate(rows):
            if not accumulate:
                want[r] = values[b]
            elif kind == "b8":
                want[r] = want[r] | values[b]
            else:
                want[r] = want[r] + values[b]
        order = np.argsort(rows, kind="stable").astype(np.int32)
        sorted_rows = rows[order]
        first = np.flatnonzero(np.r_[True, sorted_rows[1:] != sorted_rows[:-1]])
        seg_offsets = (sorted_rows[first] * 3).astype(np.int64)
        seg_starts = np.r_[first, len(rows)].astype(np.int32)
        g = elementwise_params((3,), {0: [1]})
        out = dst.copy()
        prm = params("BlockParams", blocks=9, segments=len(seg_offsets))
        lib.run(kernel, {0: metal_view(values), 1: seg_offsets, 2: seg_starts, 3: order, 4: metal_view(out), 5: g, 6: prm},
                *grid(len(seg_offsets) * 3), constants={"ACCUMULATE": int(accumulate)})
        same(out, want)
