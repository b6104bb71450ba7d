"""Host-side check of cuda/attention_tiled.cu's index math without a GPU: the kernel's per-lane steps
(cp.async tiles, ldmatrix and mma.sync fragments, quad shuffles, online softmax) replayed in numpy with
the fragment layouts of the PTX ISA, compared with float64 attention. It checks the addressing and the
tile logic, not the hardware; run it after editing the kernel: python tests/gpu/emulate_attention_tiled.py
"""
import sys

import numpy as np

WARPS, LANES = 4, 32
LOG2E = 1.4426950408889634
lane = np.arange(LANES)
g, t = lane >> 2, lane & 3


def tile_config(d):
    mt = 2 if d <= 64 else 1
    return mt, 16 * mt * WARPS, 32 if mt == 2 else 64, d + 8  # row tiles, block M, block N, smem stride


def ldmatrix_x4(smem, addr, trans=False):
    """addr[lane]: element address of row lane % 8 of matrix lane // 8. Returns [32, 4, 2] halves."""
    out = np.zeros((LANES, 4, 2), np.float16)
    for j in range(4):
        rows = addr[8 * j:8 * j + 8]
        for ln in range(LANES):
            for c in range(2):
                if trans:
                    out[ln, j, c] = smem[rows[2 * (ln & 3) + c] + (ln >> 2)]
                else:
                    out[ln, j, c] = smem[rows[ln >> 2] + 2 * (ln & 3) + c]
    return out


def mma(acc, a, b0, b1):
    """acc [32, 4] f32, a [32, 4, 2], b0/b1 [32, 2]: one m16n8k16 tile with the PTX fragment layouts."""
    A = np.zeros((16, 16), np.float32)
    B = np.zeros((16, 8), np.float32)
    C = np.zeros((16, 8), np.float32)
    for ln in range(LANES):
        gg, tt = ln >> 2, ln & 3
        for c in range(2):
            A[gg, 2 * tt + c], A[gg + 8, 2 * tt + c] = a[ln, 0, c], a[ln, 1, c]
            A[gg, 2 * tt + 8 + c], A[gg + 8, 2 * tt + 8 + c] = a[ln, 2, c], a[ln, 3, c]
            B[2 * tt + c, gg], B[2 * tt + 8 + c, gg] = b0[ln, c], b1[ln, c]
            C[gg, 2 * tt + c], C[gg + 8, 2 * tt + c] = acc[ln, c], acc[ln, 2 + c]
    D = A @ B + C
    out = np.empty_like(acc)
    for ln in range(LANES):
        gg, tt = ln >> 2, ln & 3
        out[ln] = [D[gg, 2 * tt], D[gg, 2 * tt + 1], D[gg + 8, 2 * tt], D[gg + 8, 2 * tt + 1]]
    return out


def quad(x, op):
    """x [32]: the value after __shfl_xor 1 and 2 (every lane of a quad gets the quad's op)."""
    for m in (1, 2):
        x = op(x, x[lane ^ m])
    return x


def load_tile(smem, base, src, row0, rows, cols, nrows, d, stride):
    for r in range(nrows):
        for ch in range(d // 8):
            ok = row0 + r < rows and ch * 8 < cols
            smem[base + r * stride + ch * 8: base + r * stride + ch * 8 + 8] = src[row0 + r, ch * 8:ch * 8 + 8] if ok else 0


def kernel_block(q, k, v, mask, causal, scale, d, m_block):
    """One block of the kernel (one batch): returns {row: output row}."""
    length, e = q.shape
    keys, ev = v.shape
    MT, BM, BN, S = tile_config(d)
    smem = np.zeros((BM + 4 * BN) * S, np.float16)
    sq, sk, sv = 0, BM * S, BM * S + 2 * BN * S
    m0 = m_block * BM
    kv_end = min(keys, m0 + BM) if causal else keys
    n_tiles = (kv_end + BN - 1) // BN
    load_tile(smem, sq, q, m0, length, e, BM, d, S)
    out = {}
    state = []
    for w in range(WARPS):
        warp_row = w * 16 * MT
        qf = [[ldmatrix_x4(smem, sq + (warp_row + mt * 16 + (lane & 15)) * S + kk * 16 + (lane >> 4) * 8)
               for kk in range(d // 16)] for mt in range(MT)]
        state.append(dict(qf=qf, o=np.zeros((MT, d // 8, LANES, 4), np.float32),
                          mx=np.full((MT, 2, LANES), -np.inf, np.float32), sm=np.zeros((MT, 2, LANES), np.float32)))
    for j in range(n_tiles):
        buf = j & 1
        load_tile(smem, sk + buf * BN * S, k, j * BN, keys, e, BN, d, S)
        load_tile(smem, sv + buf * BN * S, v, j * BN, keys, ev, BN, d, S)
        tk, tv = sk + buf * BN * S, sv + buf * BN * S
        n0 = j * BN
        edge = n0 + BN > keys or (causal and n0 + BN - 1 > m0)
        for w in range(WARPS):
            st, warp_row = state[w], w * 16 * MT
            if causal and n0 > m0 + warp_row + 16 * MT - 1:
                continue
            s = np.zeros((MT, BN // 8, LANES, 4), np.float32)
            for kk in range(d // 16):
                for nn in range(BN // 16):
                    kf = ldmatrix_x4(smem, tk + (nn * 16 + (lane & 7) + ((lane >> 4) << 3)) * S + kk * 16 + ((lane >> 3) & 1) * 8)
                    for mt in range(MT):
                        s[mt, 2 * nn] = mma(s[mt, 2 * nn], st["qf"][mt][kk], kf[:, 0], kf[:, 1])
                        s[mt, 2 * nn + 1] = mma(s[mt, 2 * nn + 1], st["qf"][mt][kk], kf[:, 2], kf[:, 3])
            for mt in range(MT):
                for h in range(2):
                    row = m0 + warp_row + mt * 16 + g + 8 * h
                    for nt in range(BN // 8):
                        for c in range(2):
                            col = n0 + nt * 8 + 2 * t + c
                            x = s[mt, nt, :, 2 * h + c] * np.float32(scale * LOG2E)
                            if mask is not None:
                                add = np.array([mask[r, cc] if r < length and cc < keys else 0
                                                for r, cc in zip(row, col)], np.float16).astype(np.float32)
                                x = x + add * np.float32(LOG2E)
                            if edge:
                                x = np.where((col >= keys) | (causal & (col > row)), -np.inf, x)
                            s[mt, nt, :, 2 * h + c] = x
            for mt in range(MT):
                for h in range(2):
                    top = st["mx"][mt, h].copy()
                    for nt in range(BN // 8):
                        top = np.maximum(top, np.maximum(s[mt, nt, :, 2 * h], s[mt, nt, :, 2 * h + 1]))
                    top = quad(top, np.maximum)
                    base = np.where(top == -np.inf, 0, top).astype(np.float32)
                    with np.errstate(invalid="ignore"):
                        alpha = np.exp2(st["mx"][mt, h] - base)
                    st["mx"][mt, h] = top
                    total = np.zeros(LANES, np.float32)
                    for nt in range(BN // 8):
                        for c in range(2):
                            s[mt, nt, :, 2 * h + c] = np.exp2(s[mt, nt, :, 2 * h + c] - base)
                            total += s[mt, nt, :, 2 * h + c]
                    st["sm"][mt, h] = st["sm"][mt, h] * alpha + total
                    st["o"][mt, :, :, 2 * h] *= alpha
                    st["o"][mt, :, :, 2 * h + 1] *= alpha
            for kk in range(BN // 16):
                p = np.zeros((MT, LANES, 4, 2), np.float16)
                for mt in range(MT):
                    p[mt, :, 0] = s[mt, 2 * kk][:, 0:2]
                    p[mt, :, 1] = s[mt, 2 * kk][:, 2:4]
                    p[mt, :, 2] = s[mt, 2 * kk + 1][:, 0:2]
                    p[mt, :, 3] = s[mt, 2 * kk + 1][:, 2:4]
                for dn in range(d // 16):
                    vf = ldmatrix_x4(smem, tv + (kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * S + dn * 16 + (lane >> 4) * 8,
                                     trans=True)
                    for mt in range(MT):
                        st["o"][mt, 2 * dn] = mma(st["o"][mt, 2 * dn], p[mt], vf[:, 0], vf[:, 1])
                        st["o"][mt, 2 * dn + 1] = mma(st["o"][mt, 2 * dn + 1], p[mt], vf[:, 2], vf[:, 3])
    for w in range(WARPS):
        st, warp_row = state[w], w * 16 * MT
        for mt in range(MT):
            for h in range(2):
                total = quad(st["sm"][mt, h], np.add)
                inv = np.where(total > 0, 1 / np.where(total > 0, total, 1), 0)
                for ln in range(LANES):
                    row = m0 + warp_row + mt * 16 + (ln >> 2) + 8 * h
                    if row >= length:
                        continue
                    vals = out.setdefault(row, np.zeros(ev))
                    for dt in range(d // 8):
                        col = dt * 8 + 2 * (ln & 3)
                        if col < ev:
                            vals[col:col + 2] = st["o"][mt, dt, ln, 2 * h:2 * h + 2] * inv[ln]
    return out


def softmax_parts(q, k, mask, causal, scale):
    """In float64: exp(s - row max) of the scaled, masked scores s, the row max (0 where a whole row is
    masked) and the row sums."""
    s = q.astype(np.float64) @ k.astype(np.float64).T * scale
    if mask is not None:
        s = s + mask
    if causal:
        s = np.where(np.arange(k.shape[0])[None, :] > np.arange(q.shape[0])[:, None], -np.inf, s)
    top = s.max(1, keepdims=True)
    top = np.where(np.isinf(top), 0, top)
    p = np.exp(s - top)
    return p, top, p.sum(1)


def reference(q, k, v, mask, causal, scale):
    p, _, total = softmax_parts(q, k, mask, causal, scale)
    total = total[:, None]
    return np.where(total > 0, (p / np.where(total > 0, total, 1)) @ v, 0)


def check(length, keys, e, ev, causal, masked, rng):
    d = next(x for x in (32, 64, 96, 128) if x >= max(e, ev))
    q, k, v = (rng.standard_normal(s).astype(np.float16) for s in ((length, e), (keys, e), (keys, ev)))
    mask = rng.standard_normal((length, keys)).astype(np.float16) if masked else None
    if masked:
        mask[min(1, length - 1), :] = -np.inf  # a row with every key masked: zeros
    scale = 1 / np.sqrt(e)
    _, BM, _, _ = tile_config(d)
    got = {}
    for m_block in range((length + BM - 1) // BM):
        got.update(kernel_block(q, k, v, mask, causal, scale, d, m_block))
    got = np.stack([got[r] for r in range(length)])
    ref = reference(q, k, v, mask, causal, scale)
    err = np.abs(got - ref).max()
    ok = err <= 4e-3 * max(1.0, np.abs(ref).max())
    print(f"L={length} S={keys} E={e} Ev={ev} causal={causal} masked={masked} D={d}: max |err| {err:.2e}",
          "ok" if ok else "FAIL")
    return ok


# The shapes (L, S, E, Ev, causal, masked) both emulators check: odd sizes, every head size, masks.
CASES = [(17, 40, 64, 64, False, False), (70, 33, 32, 16, True, False), (65, 70, 128, 128, True, False),
         (20, 65, 96, 72, False, True), (130, 37, 48, 64, True, False), (9, 9, 8, 8, False, True)]


def main(check, cases):
    """Runs check(*case, rng) on every case (the seed is argv[1], default 0); exits 1 if any failed."""
    rng = np.random.default_rng(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    results = [check(*c, rng) for c in cases]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main(check, CASES + [(140, 100, 64, 64, False, True), (70, 150, 128, 128, False, True),
                         (129, 140, 56, 40, True, False)])
