"""Runs a torch module and the same TensorLogic module on the same weights and inputs (all rounded to f16
first) and compares outputs, input gradients and parameter gradients."""
import numpy as np
import torch

import tensorlogic as tl

from oracle import host


def round_params(tmod):
    """Rounds the torch module's parameters and buffers to f16 values (kept as float32), so both sides start
    from the same numbers."""
    with torch.no_grad():
        for t in list(tmod.parameters()) + list(tmod.buffers()):
            if t.is_floating_point():
                t.copy_(t.half().float())
    return tmod


def copy_weights(tmod, tlmod, device):
    tlmod.load_state_dict({k: v.detach().numpy() for k, v in round_params(tmod).state_dict().items()})
    return tlmod.to(device)


def twins(make, device):
    """make(torch.nn) and make(tensorlogic.nn), the second with the first's (f16-rounded) weights."""
    tmod = make(torch.nn)
    return tmod, copy_weights(tmod, make(tl.nn), device)


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [] if out is None else [out]


def compare(tmod, tlmod, inputs, device, rng, rtol=1e-2, atol=1e-2, grad_rtol=3e-2, grad_atol=3e-2, kwargs=None):
    """inputs: numpy arrays (f16 values); float ones get gradients. Returns the TensorLogic outputs."""
    kwargs = kwargs or {}
    t_in = [torch.tensor(x.astype(np.float32) if x.dtype == np.float16 else x.astype(np.int64),
                         requires_grad=x.dtype == np.float16) for x in inputs]
    l_in = [tl.tensor(x, device=device, requires_grad=x.dtype == np.float16) for x in inputs]
    t_out, l_out = _flat(tmod(*t_in, **kwargs)), _flat(tlmod(*l_in, **kwargs))
    assert len(t_out) == len(l_out)
    for a, b in zip(l_out, t_out):
        np.testing.assert_allclose(host(a).astype(np.float64), b.detach().numpy(), rtol=rtol, atol=atol)
    weights = [rng.standard_normal(tuple(o.shape)).astype(np.float16) for o in t_out]
    sum(((o * torch.tensor(w.astype(np.float32))).sum() for o, w in zip(t_out, weights))).backward()
    sum(((o * tl.tensor(w, device=device)).sum() for o, w in zip(l_out, weights))).backward()
    for a, b in zip(l_in, t_in):
        if b.grad is not None:  # absolute tolerance on the gradient's own scale, as for the parameters below
            scale = max(1.0, float(b.grad.abs().max()))
            np.testing.assert_allclose(host(a.grad).astype(np.float64), b.grad.numpy(), rtol=grad_rtol,
                                       atol=grad_atol * scale)
    tl_params = dict(tlmod.named_parameters())
    for name, p in tmod.named_parameters():
        if p.grad is not None:
            scale = max(1.0, float(p.grad.abs().max()))
            np.testing.assert_allclose(host(tl_params[name].grad).astype(np.float64), p.grad.numpy(), rtol=grad_rtol,
                                       atol=grad_atol * scale, err_msg=name)
    return l_out
