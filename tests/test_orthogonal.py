"""nn.utils.parametrizations.orthogonal and the linalg functions under it (matrix_exp, householder_product) against
PyTorch on the same f16-rounded tensors: values, gradients, state_dict keys, the trivialization's base, assignment."""
import numpy as np
import pytest
import torch
from torch.nn.utils.parametrizations import orthogonal as torch_orthogonal

import tensorlogic as tl
from oracle import assert_close_f16, f16_randn, host
from tensorlogic.nn.utils.parametrizations import orthogonal


def _t64(x):
    return torch.from_numpy(np.asarray(x, np.float64))


def test_matrix_exp_and_householder_product_with_gradients(device, rng):
    a = f16_randn(rng, (2, 5, 5), 0.6)
    g = f16_randn(rng, (2, 5, 5))
    x = tl.tensor(a, device=device, requires_grad=True)
    (tl.linalg.matrix_exp(x) * tl.tensor(g, device=device)).sum().backward()
    rx = _t64(a).requires_grad_()
    want = torch.linalg.matrix_exp(rx)
    (want * _t64(g)).sum().backward()
    assert_close_f16(tl.linalg.matrix_exp(tl.tensor(a, device=device)), want.detach().numpy())
    assert_close_f16(x.grad, rx.grad.numpy(), rtol=4e-3, atol=4e-3)
    assert tl.equal(tl.matrix_exp(tl.tensor(a, device=device)), tl.tensor(a, device=device).matrix_exp())
    A, tau = f16_randn(rng, (3, 6, 4), 0.5), f16_randn(rng, (3, 3), 0.5) + np.float16(1)
    G = f16_randn(rng, (3, 6, 4))
    xs, ts = tl.tensor(A, device=device, requires_grad=True), tl.tensor(tau, device=device, requires_grad=True)
    (tl.linalg.householder_product(xs, ts) * tl.tensor(G, device=device)).sum().backward()
    rA, rt = _t64(A).requires_grad_(), _t64(tau).requires_grad_()
    want = torch.linalg.householder_product(rA, rt)
    (want * _t64(G)).sum().backward()
    assert_close_f16(tl.linalg.householder_product(tl.tensor(A, device=device), tl.tensor(tau, device=device)),
                     want.detach().numpy())
    assert_close_f16(xs.grad, rA.grad.numpy(), rtol=4e-3, atol=4e-3)
    assert_close_f16(ts.grad, rt.grad.numpy(), rtol=4e-3, atol=4e-3)
    with pytest.raises(tl.ShapeMismatchError):
        tl.linalg.matrix_exp(tl.ones(2, 3, device=device))
    with pytest.raises(tl.ShapeMismatchError):
        tl.linalg.householder_product(tl.ones(3, 4, device=device), tl.ones(2, device=device))


CASES = [(m, shape, triv) for m in ("matrix_exp", "cayley", "householder") for shape in ((5, 3), (3, 5), (4, 4))
         for triv in (True, False)]


@pytest.mark.parametrize("orthogonal_map,shape,triv", CASES, ids=[f"{m}-{s[0]}x{s[1]}-{t}" for m, s, t in CASES])
def test_orthogonal_matches_pytorch(device, rng, orthogonal_map, shape, triv):
    w = f16_randn(rng, shape, 0.5)
    ours, theirs = tl.nn.Linear(shape[1], shape[0]), torch.nn.Linear(shape[1], shape[0]).double()
    ours.weight.data = tl.tensor(w)
    with torch.no_grad():
        theirs.weight.copy_(_t64(w))
    orthogonal(ours, orthogonal_map=orthogonal_map, use_trivialization=triv)
    torch_orthogonal(theirs, orthogonal_map=orthogonal_map, use_trivialization=triv)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if not triv and orthogonal_map == "householder":  # the reflectors of the weight's QR
        assert_close_f16(ours.parametrizations.weight.original,
                         theirs.parametrizations.weight.original.detach().numpy(), rtol=1e-2, atol=1e-2)
    # the same point in both: PyTorch's base (random columns complete it when not square) and a random original,
    # whose diagonal holds signs for the Householder map (its diagonal is not trained)
    start = {k: v.detach().numpy().astype(np.float16) for k, v in theirs.state_dict().items()}
    x = f16_randn(rng, shape, 0.4)
    if orthogonal_map == "householder":
        np.fill_diagonal(x, rng.choice([-1.0, 1.0], min(shape)))
    start["parametrizations.weight.original"] = x
    ours.load_state_dict({k: tl.tensor(v) for k, v in start.items()})
    theirs.load_state_dict({k: _t64(v) for k, v in start.items()})
    ours.to(device)
    weight, want = ours.weight, theirs.weight
    assert_close_f16(weight, want.detach().numpy(), rtol=4e-3, atol=4e-3)
    n, k = max(shape), min(shape)
    gram = weight.mT @ weight if shape[0] >= shape[1] else weight @ weight.mT
    assert float((gram - tl.eye(k, device=device)).abs().max()) < 4e-3
    g = f16_randn(rng, shape)
    (weight * tl.tensor(g, device=device)).sum().backward()
    (want * _t64(g)).sum().backward()
    assert_close_f16(ours.parametrizations.weight.original.grad, theirs.parametrizations.weight.original.grad.numpy(),
                     rtol=2e-2, atol=1e-2)


def test_orthogonal_starts_from_the_weight_and_takes_assignments(device, rng):
    q = np.linalg.qr(rng.standard_normal((6, 4)))[0].astype(np.float16)
    m = tl.nn.Linear(4, 6).to(device)
    m.weight.data = tl.tensor(q, device=device)
    orthogonal(m)  # householder (not square), trivialized: the weight is kept
    assert_close_f16(m.weight, q, atol=2e-3)
    q2 = np.linalg.qr(rng.standard_normal((6, 4)))[0].astype(np.float16)
    m.weight = tl.tensor(q2, device=device)
    assert_close_f16(m.weight, q2, atol=2e-3)
    square = tl.nn.Linear(3, 3).to(device)
    orthogonal(square, orthogonal_map="cayley", use_trivialization=False)
    with pytest.raises(NotImplementedError):
        square.weight = tl.eye(3, device=device)
    with pytest.raises(ValueError):
        orthogonal(tl.nn.Linear(3, 3), orthogonal_map="qr")
    with pytest.raises(ValueError):
        orthogonal(tl.nn.Linear(3, 3), name="bias")
