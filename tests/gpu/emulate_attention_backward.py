"""Host-side check of cuda/attention_backward.cu's index math without a GPU: the kernel's per-lane steps
replayed in numpy with the PTX fragment layouts (emulate_attention_tiled.py's helpers), against float64
gradients. Run after editing the kernel: python tests/gpu/emulate_attention_backward.py"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emulate_attention_tiled import CASES, LANES, LOG2E, WARPS, g, lane, ldmatrix_x4, load_tile, main, mma, softmax_parts, t  # noqa: E402

KEYS, ROWS = 16 * WARPS, 64
DS_STRIDE = ROWS + 8


def rows_times_rows(smem, a_base, b_base, d, S):
    acc = np.zeros((ROWS // 8, LANES, 4), np.float32)
    for kk in range(d // 16):
        a = ldmatrix_x4(smem, a_base + (lane & 15) * S + kk * 16 + (lane >> 4) * 8)
        for nn in range(ROWS // 16):
            b = ldmatrix_x4(smem, b_base + (nn * 16 + (lane & 7) + ((lane >> 4) << 3)) * S + kk * 16 + ((lane >> 3) & 1) * 8)
            acc[2 * nn] = mma(acc[2 * nn], a, b[:, 0], b[:, 1])
            acc[2 * nn + 1] = mma(acc[2 * nn + 1], a, b[:, 2], b[:, 3])
    return acc


def acc_times_rows(out, x, smem, b_base, d, S):
    for kk in range(ROWS // 16):
        a = np.stack([x[2 * kk][:, 0:2], x[2 * kk][:, 2:4], x[2 * kk + 1][:, 0:2], x[2 * kk + 1][:, 2:4]], 1).astype(np.float16)
        for dn in range(d // 16):
            f = ldmatrix_x4(smem, b_base + (kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * S + dn * 16 + (lane >> 4) * 8,
                            trans=True)
            out[2 * dn] = mma(out[2 * dn], a, f[:, 0], f[:, 1])
            out[2 * dn + 1] = mma(out[2 * dn + 1], a, f[:, 2], f[:, 3])


def backward_block(q, k, v, mask, dout, lse, delta, causal, scale, d, n_block, dq_acc, dk, dv):
    length, e = q.shape
    keys, ev = v.shape
    S = d + 8
    smem = np.zeros(4 * 64 * S + KEYS * DS_STRIDE, np.float16)
    sk, sv, sq, sdo, sds = 0, KEYS * S, 2 * KEYS * S, 2 * KEYS * S + ROWS * S, 2 * KEYS * S + 2 * ROWS * S
    n0 = n_block * KEYS
    load_tile(smem, sk, k, n0, keys, e, KEYS, d, S)
    load_tile(smem, sv, v, n0, keys, ev, KEYS, d, S)
    acc_k = [np.zeros((d // 8, LANES, 4), np.float32) for _ in range(WARPS)]
    acc_v = [np.zeros((d // 8, LANES, 4), np.float32) for _ in range(WARPS)]
    m0 = n0 // ROWS * ROWS if causal else 0
    while m0 < length:
        load_tile(smem, sq, q, m0, length, e, ROWS, d, S)
        load_tile(smem, sdo, dout, m0, length, ev, ROWS, d, S)
        s_lse = np.array([lse[m0 + r] if m0 + r < length else np.inf for r in range(ROWS)], np.float32)
        s_delta = np.array([delta[m0 + r] if m0 + r < length else 0 for r in range(ROWS)], np.float32)
        for w in range(WARPS):
            p = rows_times_rows(smem, sk + w * 16 * S, sq, d, S)
            for nt in range(ROWS // 8):
                for i in range(4):
                    key = n0 + w * 16 + g + 8 * (i >> 1)
                    col = nt * 8 + 2 * t + (i & 1)
                    query = m0 + col
                    seen = (query < length) & (key < keys) & ~(causal & (key > query))
                    x = p[nt, :, i] * np.float32(scale * LOG2E)
                    if mask is not None:
                        x = x + np.array([mask[qq, kk] if ok else 0 for qq, kk, ok in zip(query, key, seen)],
                                         np.float32) * np.float32(LOG2E)
                    with np.errstate(invalid="ignore", over="ignore"):
                        p[nt, :, i] = np.where(seen, np.exp2(x - s_lse[col]), 0)
            acc_times_rows(acc_v[w], p, smem, sdo, d, S)
            ds = rows_times_rows(smem, sv + w * 16 * S, sdo, d, S)
            for nt in range(ROWS // 8):
                for i in range(4):
                    ds[nt, :, i] = p[nt, :, i] * (ds[nt, :, i] - s_delta[nt * 8 + 2 * t + (i & 1)])
                for h in range(2):
                    for c in range(2):
                        smem[sds + (w * 16 + g + 8 * h) * DS_STRIDE + nt * 8 + 2 * t + c] = ds[nt, :, 2 * h + c]
            acc_times_rows(acc_k[w], ds, smem, sq, d, S)
        for w in range(WARPS):
            for half in range(2):
                pairs = d // 32
                dq = np.zeros((2 * pairs, LANES, 4), np.float32)
                for kk in range(KEYS // 16):
                    x = ldmatrix_x4(smem, sds + (kk * 16 + (lane & 7) + ((lane >> 4) << 3)) * DS_STRIDE + w * 16
                                    + ((lane >> 3) & 1) * 8, trans=True)
                    for j in range(pairs):
                        dn = half * pairs + j
                        f = ldmatrix_x4(smem, sk + (kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * S + dn * 16
                                        + (lane >> 4) * 8, trans=True)
                        dq[2 * j] = mma(dq[2 * j], x, f[:, 0], f[:, 1])
                        dq[2 * j + 1] = mma(dq[2 * j + 1], x, f[:, 2], f[:, 3])
                for h in range(2):
                    for ln in range(LANES):
                        query = m0 + w * 16 + (ln >> 2) + 8 * h
                        if query >= length:
                            continue
                        for j in range(2 * pairs):
                            col = (half * 2 * pairs + j) * 8 + 2 * (ln & 3)
                            if col < e:
                                dq_acc[query, col:col + 2] += dq[j, ln, 2 * h:2 * h + 2] * scale
        m0 += ROWS
    for w in range(WARPS):
        for h in range(2):
            for ln in range(LANES):
                key = n0 + w * 16 + (ln >> 2) + 8 * h
                if key >= keys:
                    continue
                for dt in range(d // 8):
                    col = dt * 8 + 2 * (ln & 3)
                    if col < e:
                        dk[key, col:col + 2] = acc_k[w][dt, ln, 2 * h:2 * h + 2] * scale
                    if col < ev:
                        dv[key, col:col + 2] = acc_v[w][dt, ln, 2 * h:2 * h + 2]


def reference(q, k, v, mask, dout, causal, scale):
    p, top, total = softmax_parts(q, k, mask, causal, scale)
    q, k, v, dout = (x.astype(np.float64) for x in (q, k, v, dout))
    with np.errstate(divide="ignore"):
        lse2 = np.where(total > 0, (top[:, 0] + np.log(total)) * LOG2E, np.inf)
    p /= np.where(total > 0, total, 1)[:, None]
    o = p @ v
    dv = p.T @ dout
    dp = dout @ v.T
    ds = p * (dp - (dout * o).sum(1, keepdims=True))
    return ds @ k * scale, ds.T @ q * scale, dv, o, lse2


def check(length, keys, e, ev, causal, masked, rng):
    d = next(x for x in (32, 64, 96, 128) if x >= max(e, ev))
    q, k, v, dout = (rng.standard_normal(s).astype(np.float16) for s in ((length, e), (keys, e), (keys, ev), (length, ev)))
    mask = rng.standard_normal((length, keys)).astype(np.float16) if masked else None
    if masked:
        mask[min(1, length - 1), :] = -np.inf  # a row with every key masked: zero gradients
        mask[:, min(2, keys - 1)] = -np.inf
    scale = 1 / np.sqrt(e)
    dq_ref, dk_ref, dv_ref, o, lse2 = reference(q, k, v, mask, dout, causal, scale)
    o16 = o.astype(np.float16).astype(np.float32)
    delta = (o16 * dout.astype(np.float32)).sum(1)
    dq_acc = np.zeros((length, e), np.float32)
    dk, dv = np.zeros((keys, e)), np.zeros((keys, ev))
    for n_block in range((keys + KEYS - 1) // KEYS):
        backward_block(q, k, v, mask, dout, lse2.astype(np.float32), delta, causal, scale, d, n_block, dq_acc, dk, dv)
    ok = True
    for name, got, ref in (("dq", dq_acc, dq_ref), ("dk", dk, dk_ref), ("dv", dv, dv_ref)):
        err = np.abs(got - ref).max()
        good = err <= 5e-3 * max(1.0, np.abs(ref).max())
        ok &= good
        print(f"L={length} S={keys} E={e} Ev={ev} causal={causal} masked={masked} D={d} {name}: max |err| {err:.2e}",
              "ok" if good else "FAIL")
    return ok


if __name__ == "__main__":
    main(check, CASES + [(40, 140, 64, 64, True, False), (70, 75, 128, 128, False, True)])
