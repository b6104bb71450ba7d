"""The time loop of a recurrent layer (RNN, LSTM, GRU; one layer, one direction) as one autograd node. Its
forward and backward run natively step by step: per step one GEMM (h W_hh^T + b_hh) and one fused cell kernel
(_core.recurrent_cell, every gate in f32 and rounded once), and the backward one cell-gradient kernel and one
GEMM per step, then W_hh's and b_hh's gradients as one GEMM and one sum over all steps. Recording a dozen ops
per step cost more than their arithmetic (issue 15's GRU). Where a backend has no cell kernel, and under
create_graph, the same steps are composed from public tensor ops (so higher derivatives work)."""
from .. import _core
from ..autograd.api import grad as autograd_grad
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad, is_grad_enabled
from ..ops.elementwise import relu, sigmoid, tanh
from ..ops.shape import stack
from ..tensor import _wrap
from . import functional as F

_KINDS = {mode: getattr(_core.CellKind, mode) for mode in ("RNN_TANH", "RNN_RELU", "LSTM", "GRU")}


def composed_step(mode, gi, gh, h, c):
    """One step from the projections gi = x W_ih^T + b_ih and gh = h W_hh^T + b_hh, in tensor ops: (h', c')
    (c' None but for the LSTM); PyTorch's gate order (LSTM i, f, g, o; GRU r, z, n)."""
    if mode == "LSTM":
        i, f, g, o = (gi + gh).chunk(4, -1)
        c = sigmoid(f) * c + sigmoid(i) * tanh(g)
        return sigmoid(o) * tanh(c), c
    if mode == "GRU":
        r_i, z_i, n_i = gi.chunk(3, -1)
        r_h, z_h, n_h = gh.chunk(3, -1)
        z, n = sigmoid(z_i + z_h), tanh(n_i + sigmoid(r_i + r_h) * n_h)
        return n + z * (h - n), None
    return (tanh if mode == "RNN_TANH" else relu)(gi + gh), None


def _composed(mode, gi, h, c, w_hh, b_hh, reverse, w_hr=None):
    """The whole loop in tensor ops: (output [L, N, H], c_n); with w_hr (an LSTM's projection, [P, H]) each step's
    state is projected, h' = (o * tanh(c')) W_hr^T, and the output is [L, N, P]."""
    steps = range(gi.shape[0] - 1, -1, -1) if reverse else range(gi.shape[0])
    hs = [None] * gi.shape[0]
    for t in steps:
        h, c = composed_step(mode, gi[t], F.linear(h, w_hh, b_hh), h, c)
        if w_hr is not None:
            h = F.linear(h, w_hr)
        hs[t] = h
    return stack(hs, 0), c


def recurrence(mode, gi, h0, c0, w_hh, b_hh, reverse=False, w_hr=None):
    """(output [L, N, H], h_n, c_n) of one layer and direction from the input projections gi [L, N, G * H] of
    every step and the initial states h0 (and c0, LSTM; else None) [N, H]; c_n is None but for the LSTM. An LSTM
    with a projection w_hr [P, H] (proj_size) has h0, h_n and the output P wide; its loop is composed from tensor
    ops (the cell kernels have no projection)."""
    if w_hr is not None:
        out, c = _composed(mode, gi, h0, c0, w_hh, b_hh, reverse, w_hr)
    else:
        outs = _Recurrence.apply(gi, h0, c0, w_hh, b_hh, mode, reverse)
        out, c = outs[0], (outs[1] if mode == "LSTM" else None)
    return out, out[0 if reverse else -1], c


class _Recurrence(Function):
    """Outputs (out,) or, for the LSTM, (out, c_n). Keeps each step's gh and old states as native arrays for
    the backward kernels, which recompute the gates from them."""

    multi_output = True

    @staticmethod
    def forward(ctx, gi, h0, c0, w_hh, b_hh, mode, reverse):
        ctx.mode, ctx.reverse = mode, reverse
        ctx.save_for_backward(gi, h0, c0, w_hh, b_hh)
        kind, steps = _KINDS[mode], gi.shape[0]
        w, b = w_hh._a, None if b_hh is None else b_hh._a
        h, c = h0._a, None if c0 is None else c0._a
        gis = _steps_of(gi._a)
        ghs, h_prev, c_prev, hs = [None] * steps, [None] * steps, [None] * steps, [None] * steps
        for t in range(steps - 1, -1, -1) if reverse else range(steps):
            ghs[t] = _core.linear(h, w, b)
            h_prev[t], c_prev[t] = h, c
            new = _core.recurrent_cell(kind, gis[t], ghs[t], h, c)
            if new is None:  # no cell kernel on this backend (known at the first step)
                ctx.steps = None
                out, c = _composed(mode, gi, h0, c0, w_hh, b_hh, reverse)
                return (out, c) if mode == "LSTM" else (out,)
            h, c = new[0], (new[1] if c is not None else None)
            hs[t] = h
        ctx.steps = (gis, ghs, h_prev, c_prev)
        out = _wrap(_core.stack(hs, 0))
        return (out, _wrap(c)) if mode == "LSTM" else (out,)

    @staticmethod
    def backward(ctx, d_out, d_c=None):
        gi, h0, c0, w_hh, b_hh = ctx.saved_tensors
        need = ctx.needs_input_grad
        if is_grad_enabled() or ctx.steps is None:
            return _composed_backward(ctx, (gi, h0, c0, w_hh, b_hh), d_out, d_c)
        kind, lstm, gru = _KINDS[ctx.mode], ctx.mode == "LSTM", ctx.mode == "GRU"
        gis, ghs, h_prev, c_prev = ctx.steps
        steps = len(gis)
        order = range(steps) if ctx.reverse else range(steps - 1, -1, -1)  # the forward's, backwards
        w_t = _core.transpose(w_hh._a, 0, 1)
        dh = dc = None  # the gradients reaching the state after step t from the steps after it
        dgis, dghs = [None] * steps, [None] * steps
        d_outs = None if d_out is None else _steps_of(d_out._a)
        for t in order:
            step_dh = dh
            if d_outs is not None:
                step_dh = d_outs[t] if dh is None else _core.binary(_core.BinaryOp.add, d_outs[t], dh)
            if step_dh is None:
                step_dh = _core.full(list(h0.shape), 0.0, "float16", h0._a.device)
            if lstm and dc is None and d_c is not None:
                dc = d_c._a
            dgis[t], dghs[t], dh_direct, dc_prev = _core.recurrent_cell_backward(kind, gis[t], ghs[t], h_prev[t],
                                                                                 c_prev[t], step_dh, dc)
            dc = dc_prev if lstm else None  # an empty array for the other kinds
            # through gh = h W_hh^T + b_hh into the old state, plus the GRU's direct path (h' = ... + z h)
            dh = _core.linear(dghs[t], w_t, None, "none", dh_direct if gru else None)
        dgh = _core.view(_core.stack(dghs, 0), [-1, dghs[0].shape[1]])
        return (_wrap(_core.stack(dgis, 0)) if need[0] else None,
                _wrap(dh) if need[1] else None,
                _wrap(dc) if lstm and need[2] else None,
                _wrap(_core.matmul(_core.transpose(dgh, 0, 1), _core.view(_core.stack(h_prev, 0), [dgh.shape[0], -1])))
                if need[3] else None,
                _wrap(_core.reduce(_core.ReduceOp.sum, dgh, [0], False)) if b_hh is not None and need[4] else None,
                None, None)


def _steps_of(a):
    """The [N, W] slices of a [L, N, W] array, in one native call (not one per step)."""
    steps, rows = a.shape[0], a.shape[1]
    return _core.split(_core.reshape(a, [steps * rows, a.shape[2]]), [rows] * steps, 0)


def _composed_backward(ctx, inputs, d_out, d_c):
    """The gradients of the loop recomputed in tensor ops and differentiated (under create_graph, the graph of
    the result reaches the inputs, so higher derivatives work)."""
    wanted = [i for i, need in enumerate(ctx.needs_input_grad[:5]) if need]
    create_graph = is_grad_enabled()
    with enable_grad():
        out, c = _composed(ctx.mode, *inputs, ctx.reverse)
        roots, grads = [], []
        for root, g in ((out, d_out), (c, d_c)):
            if g is not None:
                roots.append(root)
                grads.append(g)
        found = autograd_grad(roots, [inputs[i] for i in wanted], grads, create_graph=create_graph,
                              allow_unused=True)
    result = [None] * 7
    for i, g in zip(wanted, found):
        result[i] = g
    return tuple(result)
