"""The non-elementwise Metal kernels on the CPU harness: copies, tri, reductions, rows, GEMM, indexing,
convolution columns, random and attention. The oracle is the CPU backend (_core) where main has the op,
else numpy in float64 on the same f16 inputs, rounded to f16."""
import functools
import math
import os

import numpy as np
import pytest
import torch

from metal_harness import elementwise_params, params
from opinfo import ACTIVATIONS, REDUCTIONS, by_name
from oracle import assert_close_f16, assert_same_bits, assert_ulp
from tensorlogic import _core

F16 = np.float16


def f16(rng, shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, shape).astype(F16)


close = functools.partial(assert_close_f16, atol=2e-3)  # results of several roundings, near zero too


def strides_of(a):
    return [s // a.itemsize for s in a.strides]


def grid(n, threads=64):
    return [max(1, (n + threads - 1) // threads)], [threads]


# ---- copies and fills -------------------------------------------------------------------------------
def test_copies_match_cpu_backend(metal_lib, rng):
    lib = metal_lib("copy.metal")
    base = f16(rng, (6, 10), -300, 300)
    view = base.T[::2, 1:]  # [5, 5] strided
    for name, src, dst_dtype, want in (
        ("copy_u16", view, np.uint16, np.asarray(_core.contiguous(_core.from_numpy(view)))),
        ("copy_f16_i32", view, np.int32, np.asarray(_core.astype(_core.from_numpy(view), "int32"))),
    ):
        out = np.zeros(view.shape, dst_dtype)
        p = elementwise_params(view.shape, {0: strides_of(view), 3: strides_of(out)})
        g, t = grid(view.size)
        lib.run(name, {0: src, 1: out, 2: p}, g, t)
        assert_same_bits(out.view(F16) if dst_dtype == np.uint16 else out, want)
    ints = rng.integers(-70000, 70000, (4, 7)).astype(np.int32)
    view = ints[:, ::3]
    for name, dst_dtype, want in (
        ("copy_u32", np.int32, view),
        ("copy_i32_f16", F16, np.asarray(_core.astype(_core.from_numpy(np.ascontiguousarray(view)), "float16"))),
    ):
        out = np.zeros(view.shape, dst_dtype)
        p = elementwise_params(view.shape, {0: strides_of(view), 3: strides_of(out)})
        lib.run(name, {0: ints, 1: out, 2: p}, *grid(view.size))
        assert_same_bits(out, want)


def test_fills_through_strides(metal_lib):
    lib = metal_lib("copy.metal")
    out = np.zeros((4, 6), F16)
    target = out[:, ::2]
    p = elementwise_params(target.shape, {3: strides_of(target)}, iscalar_a=int(np.array(1.5, F16).view(np.uint16)))
    lib.run("fill_u16", {0: out, 1: p}, *grid(target.size))
    want = np.zeros((4, 6), F16)
    want[:, ::2] = 1.5
    assert_same_bits(out, want)
    ints = np.zeros(9, np.int32)
    lib.run("fill_u32", {0: ints, 1: elementwise_params((9,), {3: [1]}, iscalar_a=-7)}, *grid(9))
    assert_same_bits(ints, np.full(9, -7, np.int32))


@pytest.mark.parametrize("k", [-1, 0, 2])
def test_tri(metal_lib, rng, k):
    lib = metal_lib("tri.metal")
    base = f16(rng, (2, 5, 8))
    view = base.transpose(0, 2, 1)[:, ::2, :]  # [2, 4, 5]
    for upper, kernel in ((False, "tri_u16"), (True, "tri_u16")):
        out = np.zeros(view.shape, F16)
        p = elementwise_params(view.shape, {0: strides_of(view), 3: strides_of(out)}, k=k)
        lib.run(kernel, {0: view, 1: out, 2: p}, *grid(view.size), constants={"UPPER": int(upper)})
        want = np.triu(view.astype(np.float32), k) if upper else np.tril(view.astype(np.float32), k)
        assert_same_bits(out, want.astype(F16))
        assert_same_bits(out, np.asarray((_core.triu if upper else _core.tril)(_core.from_numpy(np.ascontiguousarray(view)), k)))
    ints = rng.integers(-9, 9, (3, 3)).astype(np.int32)
    out = np.zeros_like(ints)
    lib.run("tri_u32", {0: ints, 1: out, 2: elementwise_params((3, 3), {0: [3, 1], 3: [3, 1]}, k=k)}, *grid(9),
            constants={"UPPER": 1})
    assert_same_bits(out, np.triu(ints, k))


# ---- reductions -------------------------------------------------------------------------------------
def reduce_oracle(op, x, **kwargs):
    """The reduction of 2-d x over dim 1 in float64 (PyTorch, from the op database)."""
    return by_name(REDUCTIONS)[op].ref(torch.from_numpy(x.astype(np.float64)), (1,), False, **kwargs).numpy()


def run_reduce(lib, op, x, parts, correction=1.0, p=2.0):
    outer, n, inner = x.shape
    outputs = outer * inner
    chunk = -(-n // parts)
    prm = params("ReduceParams", outer=outer, n=n, inner=inner, parts=parts, chunk=chunk, correction=correction, p=p)
    out = np.zeros(outputs, np.int32 if op.startswith("arg") else F16)
    partials = np.zeros(outputs * parts * 4, np.float32)
    const = {"OP": int(_core.ReduceOp.__members__[op]), "FINAL": int(parts == 1)}
    lib.run("reduce_stage1", {0: x, 1: out, 2: out, 3: partials, 4: prm}, [outputs, parts], [256], const)
    if parts > 1:
        lib.run("reduce_stage2", {0: partials, 1: out, 2: out, 3: prm}, [outputs], [256], const)
    return out.reshape(outer, inner)


@pytest.mark.parametrize("shape,parts", [((2, 300, 3), 1), ((1, 1000, 1), 4), ((3, 1, 2), 1)])
def test_reductions(metal_lib, rng, shape, parts):
    lib = metal_lib("reduce.metal")
    x = f16(rng, shape, 0.5, 1.5) if parts == 1 and shape[1] > 1 else f16(rng, shape)
    x.flat[rng.integers(x.size)] = x.max()  # a tie for arg*: the first index wins
    for op in (r.name for r in REDUCTIONS):
        if op == "prod":
            xp = f16(rng, shape, 0.95, 1.05)
            got = run_reduce(lib, op, xp, parts)
            rows = xp.transpose(0, 2, 1).reshape(-1, shape[1])
            close(got, reduce_oracle(op, rows).reshape(shape[0], shape[2]), rtol=5e-3)
            continue
        rows = x.transpose(0, 2, 1).reshape(-1, shape[1])
        for p in ((2.0, 1.0, 3.0, math.inf) if op == "norm" else (2.0,)):
            got = run_reduce(lib, op, x, parts, p=p)
            want = reduce_oracle(op, rows, **({"p": p} if op == "norm" else {})).reshape(shape[0], shape[2])
            if not (op == "var" and shape[1] == 1):
                cpu = np.asarray(_core.reduce(_core.ReduceOp.__members__[op], _core.from_numpy(x), [1], False, 1.0, p))
                (assert_same_bits if op.startswith("arg") else lambda g, w: close(g, w, rtol=3e-3))(got, cpu)
            if op.startswith("arg"):
                assert_same_bits(got, want.astype(np.int32))
            elif op == "var" and shape[1] == 1:
                assert np.all(np.isinf(got.astype(np.float32)) | np.isnan(got.astype(np.float32)))
            else:
                close(got, want, rtol=3e-3)


def test_reductions_nan_and_inf(metal_lib):
    lib = metal_lib("reduce.metal")
    x = np.array([[1, np.nan, 3, np.nan], [np.inf, np.inf, -np.inf, 0]], F16).reshape(2, 4, 1)
    assert_same_bits(run_reduce(lib, "argmax", x, 2)[:, 0], np.array([1, 0], np.int32))
    got = run_reduce(lib, "max", x, 1)[:, 0]
    assert np.isnan(got[0]) and got[1] == np.inf
    got = run_reduce(lib, "logsumexp", x, 2)[:, 0]
    assert np.isnan(got[0]) and got[1] == np.inf


# ---- rows -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,threads", [((3, 50, 2), 32), ((2, 700, 1), 128), ((1, 1, 1), 32)])
def test_softmax_rows(metal_lib, rng, shape, threads):
    lib = metal_lib("rows.metal")
    x = f16(rng, shape, -6, 6)
    outer, n, inner = shape
    prm = params("ReduceParams", outer=outer, n=n, inner=inner)
    xd = x.astype(np.float64)
    m = xd.max(1, keepdims=True)
    lse = m + np.log(np.exp(xd - m).sum(1, keepdims=True))
    for log, want in ((0, np.exp(xd - lse)), (1, xd - lse)):
        out = np.zeros_like(x)
        lib.run("softmax_rows", {0: x, 1: out, 2: prm}, [outer * inner], [threads],
                {"LOG": log, "RMS": 0, "HAS_WEIGHT": 0, "HAS_BIAS": 0})
        close(out, want)
        close(out, np.asarray((_core.log_softmax if log else _core.softmax)(_core.from_numpy(x), 1)))


@pytest.mark.parametrize("rms,weight,bias", [(False, True, True), (False, False, False), (True, True, False)])
def test_norm_rows(metal_lib, rng, rms, weight, bias):
    lib = metal_lib("rows.metal")
    rows, n = 5, 300
    x = f16(rng, (rows, n), -3, 5)
    w, b = f16(rng, (n,)), f16(rng, (n,))
    xd = x.astype(np.float64)
    if rms:
        want = xd / np.sqrt((xd ** 2).mean(1, keepdims=True) + 1e-5)
    else:
        want = (xd - xd.mean(1, keepdims=True)) / np.sqrt(xd.var(1, keepdims=True) + 1e-5)
    if weight:
        want = want * w.astype(np.float64)
    if bias:
        want = want + b.astype(np.float64)
    out = np.zeros_like(x)
    lib.run("norm_rows", {0: x, 1: w, 2: b, 3: out, 4: params("NormParams", rows=rows, n=n, eps=1e-5)}, [rows], [64],
            {"LOG": 0, "RMS": int(rms), "HAS_WEIGHT": int(weight), "HAS_BIAS": int(bias)})
    close(out, want, rtol=3e-3, atol=3e-3)
    cw = _core.from_numpy(w) if weight else None
    if rms:
        cpu = _core.rms_norm(_core.from_numpy(x), [n], cw, 1e-5)
    else:
        cpu = _core.layer_norm(_core.from_numpy(x), [n], cw, _core.from_numpy(b) if bias else None, 1e-5)
    close(out, np.asarray(cpu), rtol=3e-3, atol=3e-3)


def run_cross_entropy(lib, x, t, ignore_index, smoothing, threads):
    rows, n = x.shape
    out = np.full(rows, np.nan, F16)
    prm = params("CrossEntropyParams", rows=rows, n=n, ignore_index=ignore_index, smoothing=smoothing)
    lib.run("cross_entropy_rows", {0: x, 1: t, 2: out, 3: prm}, [rows], [threads])
    return out


@pytest.mark.parametrize("rows,n,threads", [(7, 10, 32), (3, 1000, 256), (1, 1, 32), (4, 33, 64)])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_cross_entropy_rows(metal_lib, rng, rows, n, threads, smoothing, ignore_index):
    lib = metal_lib("rows.metal")
    x = f16(rng, (rows, n), -8, 8)
    t = rng.integers(0, n, rows).astype(np.int32)
    t[rng.uniform(size=rows) < 0.3] = ignore_index  # 2: a class index that is ignored where n > 2
    got = run_cross_entropy(lib, x, t, ignore_index, smoothing, threads)
    xd = x.astype(np.float64)
    m = xd.max(1)
    lse = m + np.log(np.exp(xd - m[:, None]).sum(1))
    pick = xd[np.arange(rows), np.clip(t, 0, n - 1)]
    want = (1 - smoothing) * (lse - pick) + smoothing * (lse - xd.mean(1))
    want[t == ignore_index] = 0
    close(got, want, rtol=2e-3, atol=2e-3)
    cpu = _core.softmax_cross_entropy(_core.from_numpy(x), _core.from_numpy(t), ignore_index, smoothing)
    assert_ulp(got, np.asarray(cpu), max_ulp=2)


def test_cross_entropy_rows_edge_values(metal_lib):
    lib = metal_lib("rows.metal")
    x = np.array([[1, np.nan, 3, 0], [np.inf, 0, 1, 2], [-np.inf] * 4, [0, 1, -np.inf, 2], [5, -np.inf, 1, 2]], F16)
    t = np.array([0, 1, 2, 2, 0], np.int32)
    for smoothing in (0.0, 0.1):
        got = run_cross_entropy(lib, x, t, -100, smoothing, 32)
        cpu = np.asarray(_core.softmax_cross_entropy(_core.from_numpy(x), _core.from_numpy(t), -100, smoothing))
        assert np.isnan(got[:3]).all() and np.isnan(cpu[:3]).all()  # a NaN or +inf logit, an all -inf row
        assert got[3] == np.inf and cpu[3] == np.inf  # the target's logit is -inf
        if smoothing == 0.0:  # -inf elsewhere is fine without smoothing, and +inf loss with it
            assert_ulp(got[4:], cpu[4:])
        else:
            assert got[4] == np.inf and cpu[4] == np.inf


# ---- GEMM -------------------------------------------------------------------------------------------
def act_oracle(act, v):
    """The epilogue activation with the kernel's code `act` (its position among the activations) in float64."""
    return list(ACTIVATIONS.values())[act](torch.from_numpy(np.asarray(v, np.float64))).numpy()


@pytest.mark.parametrize("tile", [16, 32])
@pytest.mark.parametrize("batch,m,n,k,trans_a,trans_b", [(1, 1, 1, 1, False, False), (2, 19, 37, 23, True, False),
                                                         (1, 40, 33, 50, False, True)])
def test_gemm(metal_lib, rng, tile, batch, m, n, k, trans_a, trans_b):
    lib = metal_lib("gemm.metal")
    a = f16(rng, (batch, k, m) if trans_a else (batch, m, k))
    b = f16(rng, (batch, n, k) if trans_b else (batch, k, n))
    av = a.transpose(0, 2, 1) if trans_a else a
    bv = b.transpose(0, 2, 1) if trans_b else b
    bias = f16(rng, (n,))
    residual = f16(rng, (batch, m, n))
    base = av.astype(np.float64) @ bv.astype(np.float64)
    cases = [(False, False, 0, base), (True, True, 2, act_oracle(2, base + bias + residual)),
             (True, False, 1, act_oracle(1, base + bias)), (False, True, 4, act_oracle(4, base + residual))]
    for has_bias, has_res, act, want in cases:
        out = np.zeros((batch, m, n), F16)
        prm = params("GemmParams", batch=batch, m=m, n=n, k=k, a_strides=strides_of(av), b_strides=strides_of(bv),
                     bias_strides=[0, 0, 1], res_strides=strides_of(residual))
        threads = (tile // 16) ** 2 * 32
        lib.run("gemm", {0: a, 1: b, 2: out, 3: bias, 4: residual, 5: prm},
                [-(-n // tile), -(-m // tile), batch], [threads],
                {"TILE": tile, "HAS_BIAS": int(has_bias), "HAS_RESIDUAL": int(has_res), "ACTIVATION": act})
        close(out, want, rtol=2e-3, atol=4e-3)
        if batch == 1 and trans_b:  # linear(x, w) with w [N, K]: the CPU backend's fused epilogue
            cpu = _core.linear(_core.from_numpy(np.ascontiguousarray(av[0])), _core.from_numpy(b[0]),
                               _core.from_numpy(bias) if has_bias else None,
                               ["none", "relu", "gelu", "gelu_tanh", "silu"][act],
                               _core.from_numpy(residual[0]) if has_res else None)
            close(out[0], np.asarray(cpu), rtol=2e-3, atol=4e-3)


# ---- indexing ---------------------------------------------------------------------------------------
def block_geometry(view, base):
    """ElementwiseParams of a block view, and the element offset of its first element in `base`."""
    start = (view.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // base.itemsize
    return elementwise_params(view.shape, {0: strides_of(view)}), start


def test_index_gather_blocks(metal_lib, rng):
    lib = metal_lib("indexing.metal")
    for data in (f16(rng, (6, 8, 5)), rng.integers(-99, 99, (6, 8, 5)).astype(np.int32)):
        block = data[0, ::2, 1:4]  # a strided [4, 3] block; offsets move it around the array
        g, base = block_geometry(block, data)
        starts = [(i, j) for i in range(6) for j in (0, 1)]
        offsets = np.array([base + i * 40 + j for i, j in starts], np.int64)
        out = np.zeros((len(offsets),) + block.shape, data.dtype)
        kernel = "index_gather_u16" if data.dtype == F16 else "index_gather_u32"
        lib.run(kernel, {0: data, 1: offsets, 2: out, 3: g, 4: params("BlockParams", blocks=len(offsets))}, *grid(out.size))
        want = np.stack([data[i, ::2, 1 + j:4 + j] for i, j in starts])
        assert_same_bits(out, want)


def scatter_plan(offsets):
    """The host side of index_scatter: blocks sorted stably by offset into segments of equal offsets."""
    order = np.argsort(offsets, kind="stable").astype(np.int32)
    sorted_offsets = offsets[order]
    first = np.flatnonzero(np.r_[True, sorted_offsets[1:] != sorted_offsets[:-1]])
    return sorted_offsets[first].astype(np.int64), np.r_[first, len(offsets)].astype(np.int32), order


@pytest.mark.parametrize("accumulate", [False, True])
def test_index_scatter_blocks(metal_lib, rng, accumulate):
    lib = metal_lib("indexing.metal")
    for dtype, kernel in ((F16, "index_scatter_f16"), (np.int32, "index_scatter_i32")):
        dst = f16(rng, (5, 4, 6)) if dtype == F16 else rng.integers(-9, 9, (5, 4, 6)).astype(np.int32)
        view = dst[:, 1, ::2]  # blocks [3] along the last axis of rows (i, 1)
        g, base = block_geometry(view[0], dst)
        rows = rng.integers(0, 5, 9)  # repeated rows: accumulate adds, otherwise the last block wins
        offsets = (base + rows * 24).astype(np.int64)
        values = (f16(rng, (9, 3)) if dtype == F16 else rng.integers(-9, 9, (9, 3)).astype(np.int32))
        want = dst.copy()
        if accumulate and dtype == F16:
            sums = {}
            for b, r in enumerate(rows):
                sums.setdefault(r, dst[r, 1, ::2].astype(np.float32).copy())
                sums[r] += values[b].astype(np.float32)
            for r, total in sums.items():
                want[r, 1, ::2] = total.astype(F16)
        else:
            for b, r in enumerate(rows):
                want[r, 1, ::2] = want[r, 1, ::2] + values[b] if accumulate else values[b]
        seg_offsets, seg_starts, order = scatter_plan(offsets)
        out = dst.copy()
        prm = params("BlockParams", blocks=len(offsets), segments=len(seg_offsets))
        lib.run(kernel, {0: values, 1: seg_offsets, 2: seg_starts, 3: order, 4: out, 5: g, 6: prm},
                *grid(len(seg_offsets) * 3), constants={"ACCUMULATE": int(accumulate)})
        assert_same_bits(out, want)


# ---- convolution columns ----------------------------------------------------------------------------
@pytest.mark.parametrize("stride,padding,dilation", [((1, 1), (0, 0), (1, 1)), ((2, 1), (1, 2), (1, 2))])
def test_im2col_col2im(metal_lib, rng, stride, padding, dilation):
    torch = pytest.importorskip("torch")
    lib = metal_lib("conv.metal")
    n, c, h, w, kh, kw = 2, 3, 7, 6, 3, 2
    x = f16(rng, (n, c, h, w))
    ref = torch.nn.functional.unfold(torch.from_numpy(x.astype(np.float32)), (kh, kw), dilation, padding, stride)
    out_h = (h + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    out_w = (w + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    prm = params("ConvParams", n=n, c=c, h=h, w=w, kh=kh, kw=kw, out_h=out_h, out_w=out_w, stride=list(stride),
                 padding=list(padding), dilation=list(dilation))
    cols = np.zeros((n, c * kh * kw, out_h * out_w), F16)
    lib.run("im2col_f16", {0: x, 1: cols, 2: prm}, *grid(cols.size))
    assert_same_bits(cols, ref.numpy().astype(F16))
    assert_same_bits(cols, np.asarray(_core.im2col(_core.from_numpy(x), (kh, kw), stride, padding, dilation)))
    cols_in = f16(rng, cols.shape)
    folded = torch.nn.functional.fold(torch.from_numpy(cols_in.astype(np.float32)), (h, w), (kh, kw), dilation,
                                      padding, stride)
    out = np.zeros((n, c, h, w), F16)
    lib.run("col2im_f16", {0: cols_in, 1: out, 2: prm}, *grid(out.size))
    close(out, folded.numpy())
    close(out, np.asarray(_core.col2im(_core.from_numpy(cols_in), (h, w), (kh, kw), stride, padding, dilation)))


@pytest.mark.parametrize("kernel,stride,padding,dilation", [
    ((2, 2), (2, 2), (0, 0), (1, 1)), ((3, 2), (1, 2), (1, 1), (2, 1)),
    ((20, 17), (1, 5), (10, 8), (1, 1)), ((7, 3), (2, 1), (3, 1), (2, 3))])  # windows longer than the input
def test_pool2d_matches_cpu_backend(metal_lib, rng, kernel, stride, padding, dilation):
    lib = metal_lib("conv.metal")
    x = f16(rng, (2, 3, 9, 8), -4, 4)
    x[0, 0, 1, 1] = np.nan
    for max_pool, count_pad in ((True, False), (False, True), (False, False)):
        if max_pool:
            want = np.asarray(_core.max_pool2d(_core.from_numpy(x), kernel, stride, padding, dilation, False))
        else:
            if dilation != (1, 1):
                continue
            want = np.asarray(_core.avg_pool2d(_core.from_numpy(x), kernel, stride, padding, False, count_pad))
        out = np.zeros(want.shape, F16)
        prm = params("ConvParams", n=2, c=3, h=9, w=8, kh=kernel[0], kw=kernel[1], out_h=want.shape[2],
                     out_w=want.shape[3], stride=list(stride), padding=list(padding), dilation=list(dilation))
        lib.run("pool2d_f16", {0: x, 1: out, 2: prm}, *grid(out.size), constants={"MAX_POOL": int(max_pool),
                                                                                 "COUNT_PAD": int(count_pad)})
        assert_same_bits(out, want)


# ---- random -----------------------------------------------------------------------------------------
def philox_words(counters, seed):
    """Philox4x32-10 (Random123) in numpy."""
    c = [counters & 0xFFFFFFFF, counters >> 32, np.zeros_like(counters), np.zeros_like(counters)]
    k0, k1 = np.uint64(seed & 0xFFFFFFFF), np.uint64(seed >> 32)
    mask = np.uint64(0xFFFFFFFF)
    for _ in range(10):
        p0 = np.uint64(0xD2511F53) * c[0]
        p1 = np.uint64(0xCD9E8D57) * c[2]
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ k0, p1 & mask, (p0 >> np.uint64(32)) ^ c[3] ^ k1, p0 & mask]
        k0, k1 = (k0 + np.uint64(0x9E3779B9)) & mask, (k1 + np.uint64(0xBB67AE85)) & mask
    return np.stack(c, 1).astype(np.uint32)


def test_philox_known_answer():
    # Random123's kat_vectors: philox4x32_10 with counter 0 and key 0.
    words = philox_words(np.array([0], np.uint64), 0)
    assert [hex(w) for w in words[0]] == ["0x6627e8d5", "0xe169c58d", "0xbc57ac4c", "0x9b00dbd8"]


def run_random(lib, kind, numel, seed, offset, low=0, high=0):
    out = np.zeros(numel, np.int32 if kind == 2 else F16)
    prm = params("RandomParams", numel=numel, seed_lo=seed & 0xFFFFFFFF, seed_hi=seed >> 32,
                 offset_lo=offset & 0xFFFFFFFF, offset_hi=offset >> 32, low=low, high=high)
    lib.run("random_fill", {0: out, 1: out, 2: prm}, *grid((numel + 3) // 4), constants={"KIND": kind})
    return out


def test_random_matches_cpu_backend_bit_for_bit(metal_lib):
    lib = metal_lib("random.metal")
    seed, numel = int.from_bytes(os.urandom(6), "little"), 1001
    _core.manual_seed(seed)
    cpu = [np.asarray(_core.rand([numel], "cpu")), np.asarray(_core.randn([numel], "cpu")),
           np.asarray(_core.randint(-7, 1 << 20, [numel], "cpu"))]
    offset = 0
    for kind, want in enumerate(cpu):
        low, high = (-7, 1 << 20) if kind == 2 else (0, 0)
        assert_same_bits(run_random(lib, kind, numel, seed, offset, low, high), want)
        offset += (numel + 3) // 4  # each draw reserves ceil(n / 4) counters


def test_random_stream(metal_lib):
    lib = metal_lib("random.metal")
    seed, offset, numel = 0x1234_5678_9ABC, (1 << 32) - 3, 103
    words = philox_words(np.arange(offset, offset + (numel + 3) // 4, dtype=np.uint64), seed).reshape(-1)[:numel]
    assert_same_bits(run_random(lib, 0, numel, seed, offset), ((words >> 21).astype(np.float32) * 2.0 ** -11).astype(F16))
    low, high = -5, 1 << 20
    want = (low + ((words.astype(np.uint64) * np.uint64(high - low)) >> np.uint64(32)).astype(np.int64)).astype(np.int32)
    assert_same_bits(run_random(lib, 2, numel, seed, offset, low, high), want)
    # Normal: Box-Muller on word pairs; the polynomials agree with float64 math to well under an f16 ulp.
    w = philox_words(np.arange(offset, offset + (numel + 3) // 4, dtype=np.uint64), seed).astype(np.float64)
    r = np.sqrt(-2 * np.log((np.floor(w[:, 0::2] / 256) + 1) * 2.0 ** -24))
    theta = 2 * np.pi * np.floor(w[:, 1::2] / 256) * 2.0 ** -24
    pairs = np.stack([r * np.cos(theta), r * np.sin(theta)], 2).reshape(-1)[:numel]
    close(run_random(lib, 1, numel, seed, offset), pairs, rtol=2e-3, atol=2e-3)


# ---- attention --------------------------------------------------------------------------------------
@pytest.mark.parametrize("causal,has_mask,l,s,d,dv", [(False, False, 3, 5, 8, 4), (True, True, 6, 200, 16, 130),
                                                      (True, False, 4, 4, 1, 1), (False, True, 2, 3, 4, 600)])
def test_attention(metal_lib, rng, causal, has_mask, l, s, d, dv):
    lib = metal_lib("attention.metal")
    batch = 2
    q, k, v = f16(rng, (batch, l, d)), f16(rng, (batch, d, s)).transpose(0, 2, 1), f16(rng, (batch, s, dv))
    mask = f16(rng, (l, s), -1, 1)
    scale = 1 / math.sqrt(d)
    scores = (q.astype(np.float64) @ k.astype(np.float64).transpose(0, 2, 1)) * scale
    if has_mask:
        scores = scores + mask.astype(np.float64)
    if causal:
        scores = np.where(np.tril(np.ones((l, s), bool)), scores, -np.inf)
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    want = (scores / scores.sum(-1, keepdims=True)) @ v.astype(np.float64)
    out_base = np.zeros((l, batch, dv), F16)  # the output written as [batch, l, dv] rows of an [l, batch, dv] array
    out = out_base.transpose(1, 0, 2)
    prm = params("AttentionParams", batch=batch, l=l, s=s, d=d, dv=dv, q_strides=strides_of(q), k_strides=strides_of(k),
                 v_strides=strides_of(v), mask_strides=[0] + strides_of(mask), out_strides=strides_of(out), scale=scale)
    k_base = k.transpose(0, 2, 1)
    lib.run("attention", {0: q, 1: k_base, 2: v, 3: mask, 4: out_base, 5: prm}, [batch * l, -(-dv // 512)], [128],
            {"CAUSAL": int(causal), "HAS_MASK": int(has_mask)})
    close(out, want, rtol=3e-3, atol=3e-3)
    if causal and has_mask:
        return  # the public op takes one or the other (PyTorch's rule); the kernel takes both
    cpu = _core.scaled_dot_product_attention(_core.from_numpy(q), _core.from_numpy(np.ascontiguousarray(k)),
                                             _core.from_numpy(v),
                                             _core.from_numpy(np.broadcast_to(mask, (batch, l, s)).copy()) if has_mask else None,
                                             causal, scale)
    close(out, np.asarray(cpu), rtol=3e-3, atol=3e-3)
