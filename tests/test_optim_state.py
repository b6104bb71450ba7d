"""optimizer.state[p] of the native optimizers read and written as PyTorch users do (state[p]['exp_avg'].norm(),
`for p, s in opt.state.items()`, state[p]['step']), side by side with torch.optim fed the same gradients: the same
keys, the live values (as f16 copies), assignment, and copies of the whole optimizer; the host optimizers' state read
as tensors too, and the checkpoint idiom that assigns every entry back to its device, which must lose nothing."""
import copy
import pickle
import warnings

import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_close_f16, f16_randn, host

# (our class, torch's class, options): each key set of torch.optim's state appears once at least.
KINDS = [
    (tl.optim.Adam, torch.optim.Adam, dict(lr=1e-2)),
    (tl.optim.Adam, torch.optim.Adam, dict(lr=1e-2, amsgrad=True)),
    (tl.optim.AdamW, torch.optim.AdamW, dict(lr=1e-2)),
    (tl.optim.SGD, torch.optim.SGD, dict(lr=1e-2, momentum=0.9, nesterov=True)),
    (tl.optim.RMSprop, torch.optim.RMSprop, dict(lr=1e-3)),
    (tl.optim.RMSprop, torch.optim.RMSprop, dict(lr=1e-3, momentum=0.5, centered=True)),
]
IDS = [f"{c[0].__name__}-{'-'.join(k for k in c[2] if k != 'lr') or 'plain'}" for c in KINDS]


def _pair(rng, device, ours, theirs, options, shapes=((3, 5), (4,))):
    """Our and torch's optimizers over the same f16 starting weights."""
    starts = [f16_randn(rng, s) for s in shapes]
    params = [tl.tensor(w, device=device, requires_grad=True) for w in starts]
    tparams = [torch.tensor(w.astype(np.float32), requires_grad=True) for w in starts]
    return params, ours(params, **options), tparams, theirs(tparams, **options)


def _step_both(rng, params, opt, tparams, topt, steps):
    """`steps` updates of both from the same f16 gradients (set directly: the state then depends on the gradients
    alone, whatever the weights' rounding)."""
    for _ in range(steps):
        for p, tp in zip(params, tparams):
            g = f16_randn(rng, tuple(p.shape))
            p.grad = tl.tensor(g, device=p.device)
            tp.grad = torch.from_numpy(g.astype(np.float32))
        opt.step()
        topt.step()


def _assert_state_like_torch(params, opt, tparams, topt):
    for p, tp in zip(params, tparams):
        mine, theirs = opt.state[p], topt.state[tp]
        assert set(mine) == set(theirs), (sorted(mine), sorted(theirs))
        if "step" in theirs:  # (torch.optim's SGD counts no steps)
            assert int(mine["step"]) == int(theirs["step"])
        for key, value in theirs.items():
            if not isinstance(value, torch.Tensor) or key == "step":
                assert key == "step" or mine[key] == value, key
                continue
            got = mine[key]
            assert isinstance(got, tl.Tensor) and got.device == p.device and got.shape == p.shape, key
            assert np.any(host(got) != 0), f"{key} read as zeros"
            assert_close_f16(got, value.numpy(), rtol=2e-3, atol=1e-4)


@pytest.mark.parametrize("ours,theirs,options", KINDS, ids=IDS)
def test_state_keys_and_values_follow_torch(ours, theirs, options, device, rng):
    params, opt, tparams, topt = _pair(rng, device, ours, theirs, options)
    assert opt.state[params[0]] == {} == topt.state[tparams[0]]  # (a defaultdict, as torch.optim's)
    _step_both(rng, params, opt, tparams, topt, 4)
    _assert_state_like_torch(params, opt, tparams, topt)


def test_what_users_read_from_adam_state(device, rng):
    params, opt, tparams, topt = _pair(rng, device, tl.optim.Adam, torch.optim.Adam, dict(lr=1e-3))
    _step_both(rng, params, opt, tparams, topt, 3)
    norms = {i: float(s["exp_avg"].norm()) for i, (_, s) in enumerate(opt.state.items())}
    tnorms = {i: float(s["exp_avg"].norm()) for i, (_, s) in enumerate(topt.state.items())}
    for i in tnorms:
        assert abs(norms[i] - tnorms[i]) <= 2e-3 * tnorms[i], (norms, tnorms)
    ratio = max(float((s["exp_avg"].abs() / (s["exp_avg_sq"].sqrt() + 1e-8)).max()) for s in opt.state.values())
    tratio = max(float((s["exp_avg"].abs() / (s["exp_avg_sq"].sqrt() + 1e-8)).max()) for s in topt.state.values())
    assert abs(ratio - tratio) <= 1e-2 * tratio, (ratio, tratio)
    state = opt.state[params[0]]
    assert "exp_avg" in state and "compensation" not in state and state["step"].item() == 3
    assert state.get("max_exp_avg_sq") is None and "step" in repr(state)


@pytest.mark.parametrize("ours,theirs,options", KINDS[:1] + KINDS[3:4], ids=IDS[:1] + IDS[3:4])
def test_assigned_state_is_used_by_the_next_step(ours, theirs, options, device, rng):
    params, opt, tparams, topt = _pair(rng, device, ours, theirs, options)
    _step_both(rng, params, opt, tparams, topt, 2)
    key = "exp_avg" if "exp_avg" in topt.state[tparams[0]] else "momentum_buffer"
    fresh = f16_randn(rng, tuple(params[0].shape))
    opt.state[params[0]][key] = tl.tensor(fresh, device=device)
    topt.state[tparams[0]][key] = torch.from_numpy(fresh.astype(np.float32))
    opt.state[params[1]]["note"] = "kept"
    topt.state[tparams[1]]["note"] = "kept"
    _step_both(rng, params, opt, tparams, topt, 2)
    _assert_state_like_torch(params, opt, tparams, topt)
    assert opt.state_dict()["state"][1]["note"] == "kept"
    for p, tp in zip(params, tparams):
        assert_close_f16(p, tp.detach().numpy(), rtol=2e-3, atol=2e-3)


def test_state_set_before_the_first_step_is_taken_up(device, rng):
    params, opt, tparams, topt = _pair(rng, device, tl.optim.Adam, torch.optim.Adam, dict(lr=1e-2), shapes=((6,),))
    _step_both(rng, params, opt, tparams, topt, 1)
    saved = {k: v for k, v in opt.state_dict()["state"][0].items() if k != "compensation"}
    opt.state[params[0]] = {"step": saved["step"], "exp_avg": saved["exp_avg"], "exp_avg_sq": saved["exp_avg_sq"]}
    _step_both(rng, params, opt, tparams, topt, 2)
    _assert_state_like_torch(params, opt, tparams, topt)


def test_bad_writes_are_refused(device, rng):
    params, opt, tparams, topt = _pair(rng, device, tl.optim.Adam, torch.optim.Adam, dict(lr=1e-2))
    _step_both(rng, params, opt, tparams, topt, 1)
    state = opt.state[params[0]]
    with pytest.raises(ValueError, match="shape"):
        state["exp_avg"] = tl.zeros(2, device=device)
    with pytest.raises(TypeError, match="cannot be deleted"):
        del state["exp_avg_sq"]
    with pytest.raises(TypeError, match="cannot be deleted"):
        state.clear()
    with pytest.raises(KeyError, match="internal"):
        state["compensation"] = 0
    with pytest.raises(ValueError, match="step count"):
        state["step"] = -1
    _assert_state_like_torch(params, opt, tparams, topt)  # nothing changed


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copied_optimizer_goes_on_as_the_original(how, device, rng):
    params, opt, tparams, topt = _pair(rng, device, tl.optim.RMSprop, torch.optim.RMSprop,
                                       dict(lr=1e-2, momentum=0.5, centered=True))
    _step_both(rng, params, opt, tparams, topt, 3)
    other = copy.deepcopy(opt) if how == "deepcopy" else pickle.loads(pickle.dumps(opt))
    twins = other.param_groups[0]["params"]
    assert all(q is not p for p, q in zip(params, twins))
    assert int(other.state[twins[0]]["step"]) == 3
    for q in twins:
        q.grad = tl.ones_like(q)
    other.step()
    assert int(opt.state[params[0]]["step"]) == 3  # the original's state is its own
    _assert_state_like_torch(params, opt, tparams, topt)


# The host optimizers (optim/host.py): each with the options that make its every state entry
HOST_KINDS = [("Adagrad", dict(lr=1e-2)), ("Adadelta", {}), ("Adamax", {}), ("NAdam", {}), ("RAdam", {}),
              ("ASGD", dict(t0=1)), ("Rprop", {}), ("Adafactor", {})]


@pytest.mark.parametrize("name,options", HOST_KINDS, ids=[k[0] for k in HOST_KINDS])
def test_host_optimizer_state_reads_as_torch(name, options, device, rng):
    """A host optimizer's state[p] holds tensors where torch.optim's does (it held float32 numpy arrays): the same
    keys, the values as f16 copies on the parameter's device, the step a 0-d tensor."""
    params, opt, tparams, topt = _pair(rng, device, getattr(tl.optim, name), getattr(torch.optim, name), options)
    _step_both(rng, params, opt, tparams, topt, 3)
    for p, tp in zip(params, tparams):
        mine, theirs = opt.state[p], topt.state[tp]
        assert set(mine) == set(theirs), (sorted(mine), sorted(theirs))
        assert isinstance(mine["step"], tl.Tensor) and mine["step"].item() == int(theirs["step"]) == 3
        for key, value in theirs.items():
            if key != "step":
                got = mine[key]
                assert isinstance(got, tl.Tensor) and got.device == p.device and got.shape == value.shape, key
                assert_close_f16(got, value.numpy(), rtol=2e-3, atol=1e-4)


@pytest.mark.parametrize("name", ["Adam", "SGD", "Adagrad", "NAdam"])
def test_moving_the_state_to_its_device_keeps_it_exact(name, device, rng):
    """The checkpoint idiom `for k, v in state.items(): if isinstance(v, Tensor): state[k] = v.to(device)` assigns the
    f16 copies it reads; the copy last read, unchanged, keeps the exact float32 entry (with gradients of 1e-4 Adam's
    exp_avg_sq, about 1e-8, read as 0 and was stored so: the next update was twice as large)."""
    options = dict(lr=1e-3, momentum=0.9) if name == "SGD" else dict(lr=1e-3)
    params, opt, tparams, topt = _pair(rng, device, getattr(tl.optim, name), getattr(torch.optim, name), options)
    for _ in range(3):
        for p in params:
            p.grad = tl.tensor(np.float16(1e-4) * np.sign(f16_randn(rng, tuple(p.shape))), device=device)
        opt.step()
    before = opt.state_dict()["state"]
    for state in opt.state.values():
        for key, value in state.items():
            if isinstance(value, tl.Tensor):
                state[key] = value.to(device)
    after = opt.state_dict()["state"]
    for index, entry in before.items():
        for key, value in entry.items():
            np.testing.assert_array_equal(np.asarray(after[index][key]), np.asarray(value), err_msg=key)
    state = opt.state[params[0]]
    key = next(k for k in state if k != "step")
    changed = state[key].mul_(0)  # changed after it was read: assigning it stores its values
    state[key] = changed
    assert not np.any(np.asarray(opt.state_dict()["state"][0][key]))



def _least_squares(lib, x, y, to):
    """closure_of(opt, params): LBFGS's closure fitting x @ weight + bias to y (f16 data, `to` makes lib's tensors)."""
    def closure_of(opt, params):
        def closure():
            opt.zero_grad()
            loss = ((to(x) @ params[0] + params[1] - to(y)) ** 2).mean()
            loss.backward()
            return loss
        return closure
    return closure_of


def _host_values(value):
    """A state_dict entry as numpy (a list's items one by one, None kept), for exact comparisons."""
    return [None if v is None else np.asarray(v) for v in value] if isinstance(value, list) else np.asarray(value)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_state_reads_as_torch_and_round_trips(line_search_fn, device, rng, tmp_path):
    """LBFGS's state is torch.optim.LBFGS's: one entry (the first parameter's) with its keys, its vectors and their
    lists as tensors on the parameter's device (f16 copies; it held float32 numpy arrays), its counts and numbers as
    numbers; state_dict() has torch's keys (and our rounding residual), goes through tl.save and tl.load, and the
    optimizer loaded from it, its state moved to its device by the resume idiom, goes on exactly as the original;
    torch's state_dict loads too."""
    x, y = f16_randn(rng, (8, 3)), f16_randn(rng, (8, 2))
    options = dict(lr=0.5, max_iter=4, line_search_fn=line_search_fn)
    params, opt, tparams, topt = _pair(rng, device, tl.optim.LBFGS, torch.optim.LBFGS, options, shapes=((3, 2), (2,)))
    ours = _least_squares(tl, x, y, lambda a: tl.tensor(a, device=device))
    theirs = _least_squares(torch, x, y, lambda a: torch.from_numpy(a.astype(np.float32)))
    for _ in range(2):
        opt.step(ours(opt, params))
        topt.step(theirs(topt, tparams))
    assert len(opt.state) == len(topt.state) == 1
    mine, want = opt.state[params[0]], topt.state[tparams[0]]
    assert set(mine) == set(want), (sorted(mine), sorted(want))
    for key, value in want.items():
        got = mine[key]
        if isinstance(value, list):
            assert isinstance(got, list) and [v is None for v in got] == [v is None for v in value], key
        for g, v in zip(got, value) if isinstance(value, list) else [(got, value)]:
            if isinstance(v, torch.Tensor):
                assert isinstance(g, tl.Tensor) and g.device == params[0].device and g.shape == v.shape, key
            elif v is not None:  # (None: an unused item of the scratch list 'al', as in torch's)
                assert isinstance(g, (int, float)) and isinstance(v, (int, float)), key
    saved, tsaved = opt.state_dict(), topt.state_dict()
    for key in ("d", "H_diag"):  # the copies: the exact float32 values state_dict() gives, rounded to f16
        assert_close_f16(mine[key], saved["state"][0][key], rtol=0, atol=0)
    assert_close_f16(mine["old_dirs"][-1], saved["state"][0]["old_dirs"][-1], rtol=0, atol=0)
    assert set(saved["state"]) == set(tsaved["state"]) == {0}
    assert set(saved["state"][0]) - {"compensation"} == set(tsaved["state"][0])
    assert saved["param_groups"] == tsaved["param_groups"]

    tl.save(saved, tmp_path / "lbfgs.safetensors")
    twins = [tl.tensor(p.detach().cpu().numpy(), device=device, requires_grad=True) for p in params]
    other = tl.optim.LBFGS(twins, **options)
    other.load_state_dict(tl.load(tmp_path / "lbfgs.safetensors"))
    state = other.state[twins[0]]
    for key, value in state.items():
        if isinstance(value, tl.Tensor):
            state[key] = value.to(device)
        elif isinstance(value, list):
            state[key] = [v if v is None else v.to(device) for v in value]
    opt.step(ours(opt, params))
    other.step(ours(other, twins))
    for p, q in zip(params, twins):
        np.testing.assert_array_equal(host(q), host(p))
    for key, value in opt.state_dict()["state"][0].items():
        np.testing.assert_equal(_host_values(other.state_dict()["state"][0][key]), _host_values(value), key)

    from_torch = tl.optim.LBFGS(twins, **options)
    from_torch.load_state_dict(tsaved)
    assert set(from_torch.state[twins[0]]) == set(want)
    assert_close_f16(from_torch.state[twins[0]]["old_stps"][0], want["old_stps"][0].numpy(), rtol=0, atol=0)


def test_lbfgs_hostile_state_dicts(device, rng):
    """LBFGS's load_state_dict refuses a history with some entries missing or lists of different lengths, and bad
    options, with a clear error and its state untouched; a shorter scratch 'al', a state of counts alone (the history
    restarts: the step is a fresh optimizer's) and a history longer than history_size step on."""
    x, y = f16_randn(rng, (8, 3)), f16_randn(rng, (8, 2))
    closure_of = _least_squares(tl, x, y, lambda a: tl.tensor(a, device=device))
    params, opt, _, _ = _pair(rng, device, tl.optim.LBFGS, torch.optim.LBFGS, dict(lr=0.5, max_iter=4),
                              shapes=((3, 2), (2,)))
    opt.step(closure_of(opt, params))
    saved = opt.state_dict()

    def edited(change):
        state = copy.deepcopy(saved)
        change(state["state"][0], state["param_groups"][0])
        return state

    for change, error in [(lambda s, g: s.pop("d"), "has no 'd'"),
                          (lambda s, g: s["ro"].pop(), "differ in length"),
                          (lambda s, g: g.update(history_size=0), "history_size must be at least 1"),
                          (lambda s, g: g.update(history_size=2.5), "history_size must be an int"),
                          (lambda s, g: g.update(max_iter=4.0), "max_iter must be an int")]:
        with pytest.raises(ValueError if "least" in error or "'d'" in error or "length" in error else TypeError,
                           match=error):
            opt.load_state_dict(edited(change))
        assert opt.state_dict()["state"][0]["n_iter"] == saved["state"][0]["n_iter"]
    with pytest.raises(ValueError, match="history_size must be at least 1"):
        tl.optim.LBFGS(params, history_size=-1)

    def stepped(state):
        twins = [tl.tensor(host(p), device=device, requires_grad=True) for p in params]
        other = tl.optim.LBFGS(twins, lr=0.5, max_iter=4)
        if state is not None:
            other.load_state_dict(state)
        other.step(closure_of(other, twins))
        return other, [host(p) for p in twins]

    whole = stepped(saved)[1]
    for got, want in zip(stepped(edited(lambda s, g: s.update(al=[])))[1], whole):
        np.testing.assert_array_equal(got, want)
    fresh = stepped(None)[1]
    counts_only = edited(lambda s, g: [s.pop(k) for k in list(s) if k not in ("func_evals", "n_iter")])
    for got, want in zip(stepped(counts_only)[1], fresh):
        np.testing.assert_array_equal(got, want)
    shorter, _ = stepped(edited(lambda s, g: g.update(history_size=1)))
    assert len(shorter.state_dict()["state"][0]["old_dirs"]) == 1


def test_host_update_beyond_f16_is_inf_without_warnings(device):
    """A host optimizer's update beyond f16's range stores inf (as PyTorch's float16 parameters take it), without
    numpy's overflow warnings, and carries no residual into the next step."""
    w = tl.tensor([1.0, -1.0], device=device, requires_grad=True)
    opt = tl.optim.Adagrad([w], lr=1e6)
    w.grad = tl.tensor([1.0, -1.0], device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
    assert host(w).tolist() == [-np.inf, np.inf]
    assert not np.any(np.asarray(opt.state_dict()["state"][0]["compensation"]))
