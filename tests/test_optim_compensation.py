"""The optimizers' 16-bit Kahan compensation (state slot 0: int16 counts of 2^-15 of the parameter's f16 ulp,
kernels::compensated in cpp/kernels/optimizer.h) against a numpy oracle that keeps the residual in float32, as
the 4-byte compensation did: the same f16 weights and residuals bit for bit wherever the weight's magnitude is
at least 2^-15, within 2^-40 per step below; and state_dict round trips, with the optimizer's state loaded
before or after the parameter's weights."""
import numpy as np
import pytest

import tensorlogic as tl

LR = np.float32(1e-3)


def _sgd_oracle(p16, comp, g16):
    """One SGD step (kernels::optimizer_update: x - lr * g, each product and difference rounded to f32) from the
    f16 weights and f32 residuals: the new f16 weights and f32 residuals (0 where not finite)."""
    exact = p16.astype(np.float32) + comp
    new = exact - LR * g16.astype(np.float32)
    rounded = new.astype(np.float16)
    with np.errstate(invalid="ignore"):
        residual = new - rounded.astype(np.float32)
    return rounded, np.where(np.isfinite(residual), residual, np.float32(0))


def _weights(rng, n, low, high):
    """n f16 weights of both signs with magnitudes 2^low .. 2^high, powers of two and their neighbours among them."""
    w = np.ldexp(rng.uniform(1, 2, n), rng.integers(low, high, n)).astype(np.float16)
    w[: n // 4] = np.ldexp(1.0, rng.integers(low + 1, high, n // 4))  # a binade's bottom: round up onto it
    w[n // 4: n // 2] = np.nextafter(w[: n // 4], np.float16(0))  # ... and its neighbour below
    return w * rng.choice(np.array([-1, 1], np.float16), n)


def _compensation(opt, p):
    return opt.state_dict()["state"][0]["compensation"]


@pytest.mark.parametrize("low,high,exact", [(-14, 8, True), (-24, -15, False)],
                         ids=["normal-weights", "below-2^-15"])
def test_compensation_keeps_the_f32_weight(device, low, high, exact, rng):
    # Gradients from sub-ulp to a few ulps per step, 30 steps; the weights stay in their range (relative steps
    # of at most ~2e-3). Exact above 2^-15; below, the count's unit 2^-39 bounds the error each step adds.
    w = _weights(rng, 4000, low, high)
    p = tl.Tensor(w, device=device).requires_grad_()
    opt = tl.optim.SGD([p], lr=float(LR))
    want_p, want_c = w, np.zeros(w.shape, np.float32)
    for step in range(1, 31):
        g = (w.astype(np.float32) * rng.uniform(-2, 2, w.shape) * 10.0 ** rng.uniform(-3, 0, w.shape)).astype(np.float16)
        p.grad = tl.Tensor(g, device=device)
        opt.step()
        want_p, want_c = _sgd_oracle(want_p, want_c, g)
        got_p, got_c = p.numpy(), _compensation(opt, p)
        if exact:
            np.testing.assert_array_equal(got_p.view(np.uint16), want_p.view(np.uint16))
            np.testing.assert_array_equal(got_c, want_c)
        else:
            got = got_p.astype(np.float64) + got_c
            # each step rounds the residual to 2^-39 (half a unit of error) and f32 rounds the drifted weight again
            err = np.abs(got - (want_p.astype(np.float64) + want_c))
            assert (err <= step * 2.0 ** -39).all(), (step, err.max())


def test_overflowed_weights_keep_no_residual(device):
    p = tl.Tensor(np.array([65504, -65504, 1.0], np.float16), device=device).requires_grad_()
    opt = tl.optim.SGD([p], lr=100.0)
    p.grad = tl.Tensor(np.array([-1.0, 1.0, 1e-4], np.float16), device=device)
    opt.step()
    np.testing.assert_array_equal(p.numpy()[:2], [np.inf, -np.inf])
    np.testing.assert_array_equal(_compensation(opt, p)[:2], [0.0, 0.0])
    p.grad = tl.Tensor(np.zeros(3, np.float16), device=device)
    opt.step()  # an inf weight stays inf (no NaN from a stale residual)
    np.testing.assert_array_equal(p.numpy()[:2], [np.inf, -np.inf])


@pytest.mark.parametrize("weights_first", [True, False])
def test_state_dict_round_trip_in_either_order(device, weights_first, rng):
    # Adam with weights across binades: a resumed optimizer continues bit for bit, whether the parameter's
    # weights are restored before its state is loaded (the compensation then has its final unit at once) or after
    # (it is re-encoded at the next update, from the weights restored meanwhile); state_dict() in between gives
    # back what was loaded.
    start = _weights(rng, 600, -12, 4)
    grads = [(rng.standard_normal(600) * 1e-2).astype(np.float16) for _ in range(8)]

    def step(p, opt, g):
        p.grad = tl.Tensor(g, device=device)
        opt.step()

    p = tl.Tensor(start, device=device).requires_grad_()
    opt = tl.optim.Adam([p], lr=1e-4)
    for g in grads[:4]:
        step(p, opt, g)
    saved_weights, saved = p.numpy().copy(), opt.state_dict()
    assert np.abs(saved["state"][0]["compensation"]).max() > 0
    for g in grads[4:]:
        step(p, opt, g)

    q = tl.Tensor(saved_weights if weights_first else (start * 7).astype(np.float16), device=device).requires_grad_()
    opt2 = tl.optim.Adam([q], lr=1e-4)
    opt2.load_state_dict(saved)
    if not weights_first:
        with tl.no_grad():
            q.copy_(tl.Tensor(saved_weights, device=device))
    again = opt2.state_dict()["state"][0]
    for name in ("compensation", "exp_avg", "exp_avg_sq"):
        np.testing.assert_array_equal(again[name], saved["state"][0][name])
    for g in grads[4:]:
        step(q, opt2, g)
    np.testing.assert_array_equal(q.numpy().view(np.uint16), p.numpy().view(np.uint16))
    np.testing.assert_array_equal(_compensation(opt2, q), _compensation(opt, p))
