"""The ordering family's Metal kernels on the CPU harness (sort.metal, scan.metal, search.metal): argsort,
cumsum/cumprod, searchsorted, take_rows and flatnonzero, driven pass by pass as objc/metal_ordering.mm
drives them, against the CPU backend (_core) and numpy on random inputs. Sizes cross block boundaries
(blocks are small here: 32 threads), lines end inside a block, keys repeat, and masks are empty of trues."""
import numpy as np
import pytest

from metal_harness import params
from oracle import assert_same_bits
from tensorlogic import _core

SORT_KERNELS = {np.float16: "argsort_block_f16", np.int32: "argsort_block_i32", np.int64: "argsort_block_i64"}


def grid(n, threads=64):
    return [max(1, -(-n // threads))], [threads]


# ---- argsort ----------------------------------------------------------------------------------------
def run_argsort(lib, x, descending, threads):
    """Block sort of 4 * threads keys per threadgroup, then merge passes of doubling width; the last pass
    (or the block sort, when one block holds a line) writes the indices to `out`."""
    rows, n = x.shape
    block = 4 * threads
    passes, width = 0, block
    while width < n:
        passes, width = passes + 1, width * 2
    keys = [np.zeros(rows * n, np.uint64) for _ in range(2)]
    index = [np.zeros(rows * n, np.int64) for _ in range(2)]
    out = np.full(rows * n, -1, np.int64)
    p = dict(rows=rows, n=n, block=block, descending=int(descending))
    lib.run(SORT_KERNELS[x.dtype.type], {0: x, 1: keys[0], 2: out if passes == 0 else index[0],
                                         3: params("SortParams", width=block, **p)}, [-(-n // block), rows], [threads])
    src, width = 0, block
    for k in range(passes):
        dst_index = out if k == passes - 1 else index[1 - src]
        lib.run("argsort_merge", {0: keys[src], 1: index[src], 2: keys[1 - src], 3: dst_index,
                                  4: params("SortParams", width=width, **p)}, *grid(rows * n, 256))
        src, width = 1 - src, width * 2
    return out.reshape(rows, n)


def sort_inputs(rng, dtype, shape):
    if dtype == np.float16:
        x = rng.uniform(-4, 4, shape).astype(np.float16)
        x.flat[rng.integers(x.size, size=x.size // 5)] = rng.choice(
            np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5], np.float16), size=x.size // 5)
        return x
    info = np.iinfo(dtype)
    x = rng.integers(-20, 20, shape).astype(dtype)  # many repeats: stability shows
    x.flat[rng.integers(x.size, size=x.size // 10)] = rng.choice(np.array([info.min, info.max, -1, 0], dtype),
                                                                 size=x.size // 10)
    return x


@pytest.mark.parametrize("dtype", [np.float16, np.int32, np.int64])
@pytest.mark.parametrize("shape,threads", [((3, 1000), 32), ((1, 2100), 256), ((5, 128), 32), ((4, 1), 32),
                                           ((2, 77), 32)])
def test_argsort_matches_cpu(metal_lib, rng, dtype, shape, threads):
    lib = metal_lib("sort.metal")
    x = sort_inputs(rng, dtype, shape)
    for descending in (False, True):
        got = run_argsort(lib, x, descending, threads)
        assert_same_bits(got, np.asarray(_core.argsort(_core.from_numpy(x), 1, descending)))
        if not descending and dtype != np.float16:  # numpy's stable order (its NaNs and zeros differ)
            assert_same_bits(got, np.argsort(x, axis=1, kind="stable"))


# ---- scans ------------------------------------------------------------------------------------------
def run_scan(lib, x, product, threads=32, block=64):
    """One thread per line for f16, and for int64 lines of one block; else the three block passes."""
    rows, n = x.shape
    out = np.zeros_like(x)
    p = dict(rows=rows, n=n, block=block, blocks=-(-n // block), product=int(product))
    prm = params("ScanParams", **p)
    if x.dtype == np.float16 or n <= block:
        kernel = "scan_rows_f16" if x.dtype == np.float16 else "scan_rows_i64"
        lib.run(kernel, {0: x, 1: out, 2: prm}, *grid(rows))
        return out
    totals = np.zeros(rows * p["blocks"], np.uint64)
    line_totals = np.zeros(rows, np.uint64)
    lib.run("scan_block_totals", {0: x, 1: totals, 2: prm}, [p["blocks"], rows], [threads])
    lib.run("scan_carries", {0: totals, 1: line_totals, 2: prm}, [1, rows], [threads])
    lib.run("scan_blocks", {0: x, 1: totals, 2: out, 3: prm}, [p["blocks"], rows], [threads])
    want_totals = np.asarray(_core.reduce(_core.ReduceOp.prod if product else _core.ReduceOp.sum,
                                          _core.from_numpy(x), [1], False, 1.0, 2.0))
    assert_same_bits(line_totals.view(np.int64), want_totals)
    return out


@pytest.mark.parametrize("shape", [(2, 1000), (1, 64), (3, 65), (2, 5000), (7, 3)])
def test_int64_scans_wrap_like_cpu(metal_lib, rng, shape):
    lib = metal_lib("scan.metal")
    x = rng.integers(-2**63, 2**63 - 1, shape, dtype=np.int64, endpoint=True)
    x[:, ::3] = rng.integers(-3, 4, x[:, ::3].shape)
    for product, op in ((False, _core.ScanOp.cumsum), (True, _core.ScanOp.cumprod)):
        got = run_scan(lib, x, product)
        assert_same_bits(got, np.asarray(_core.scan(op, _core.from_numpy(x), 1)))
    with np.errstate(over="ignore"):
        assert_same_bits(run_scan(lib, x, False), np.cumsum(x, axis=1))


def test_f16_scans_round_like_cpu(metal_lib, rng):
    lib = metal_lib("scan.metal")
    x = rng.uniform(-2, 2, (9, 300)).astype(np.float16)
    y = rng.uniform(0.9, 1.1, (4, 200)).astype(np.float16)
    assert_same_bits(run_scan(lib, x, False), np.asarray(_core.scan(_core.ScanOp.cumsum, _core.from_numpy(x), 1)))
    assert_same_bits(run_scan(lib, y, True), np.asarray(_core.scan(_core.ScanOp.cumprod, _core.from_numpy(y), 1)))


# ---- flatnonzero ------------------------------------------------------------------------------------
def run_flatnonzero(lib, mask, threads=32, block=64):
    n = mask.size
    blocks = -(-n // block)
    prm = params("ScanParams", rows=1, n=n, block=block, blocks=blocks)
    counts, total = np.zeros(blocks, np.uint64), np.zeros(1, np.uint64)
    out = np.full(n, -1, np.int64)
    lib.run("nonzero_block_counts", {0: mask, 1: counts, 2: prm}, [blocks, 1], [threads])
    lib.run("scan_carries", {0: counts, 1: total, 2: prm}, [1, 1], [threads])
    lib.run("nonzero_write", {0: mask, 1: counts, 2: out, 3: prm}, [blocks, 1], [threads])
    return out[: int(total[0])]


@pytest.mark.parametrize("n,density", [(3000, 0.3), (64, 0.5), (65, 1.0), (1, 1.0), (2500, 0.0), (4100, 0.001)])
def test_flatnonzero_matches_numpy(metal_lib, rng, n, density):
    lib = metal_lib("scan.metal")
    mask = rng.random(n) < density
    got = run_flatnonzero(lib, mask.view(np.uint8))
    assert_same_bits(got, np.flatnonzero(mask))
    assert_same_bits(got, np.asarray(_core.flatnonzero(_core.from_numpy(mask))))


# ---- searchsorted and take_rows ---------------------------------------------------------------------
@pytest.mark.parametrize("m", [0, 1, 700])
def test_searchsorted_matches_numpy(metal_lib, rng, m):
    lib = metal_lib("search.metal")
    keys = np.sort(rng.integers(-50, 50, m)).astype(np.int64)  # repeats: left and right differ
    probe = rng.integers(-60, 60, 900).astype(np.int64)
    probe[:3] = [np.iinfo(np.int64).min, np.iinfo(np.int64).max, 0]
    for right in (False, True):
        out = np.full(probe.size, -1, np.int64)
        prm = params("SearchParams", m=m, n=probe.size, right=int(right))
        lib.run("searchsorted_i64", {0: keys, 1: probe, 2: out, 3: prm}, *grid(probe.size, 256))
        assert_same_bits(out, np.searchsorted(keys, probe, "right" if right else "left"))
        if m:
            assert_same_bits(out, np.asarray(_core.searchsorted(_core.from_numpy(keys), _core.from_numpy(probe), right)))


@pytest.mark.parametrize("dtype,cols,kernel", [(np.int64, 3, "take_rows_u64"), (np.int32, 1, "take_rows_u32"),
                                               (np.float16, 5, "take_rows_u16"), (np.bool_, 3, "take_rows_u8")])
def test_take_rows_matches_cpu(metal_lib, rng, dtype, cols, kernel):
    """Each row moves as words of the kernel's width (the host picks the widest dividing the row)."""
    lib = metal_lib("search.metal")
    src = rng.integers(-1000, 1000, (400, cols)).astype(dtype)
    index = rng.integers(0, 400, 1000).astype(np.int64)
    word = int(kernel[len("take_rows_u"):]) // 8
    width = cols * src.itemsize // word
    out = np.zeros((index.size, cols), dtype)
    lib.run(kernel, {0: src, 1: index, 2: out, 3: params("SearchParams", n=index.size, width=width)},
            *grid(index.size * width, 256))
    assert_same_bits(out, src[index])
    assert_same_bits(out, np.asarray(_core.take_rows(_core.from_numpy(src), _core.from_numpy(index))))
