"""Optimizer.register_step_pre_hook / register_step_post_hook, against torch.optim's: what the hooks receive, a
pre-hook replacing the step's arguments, handles, a subclass whose step calls its base's, and errors."""
import copy
import pickle

import numpy as np
import pytest
import torch
from torch.optim import optimizer as torch_optimizer

import tensorlogic as tl


def _setups(rng):
    """The same f16-rounded weight and gradient in a TensorLogic SGD and a PyTorch SGD."""
    w = rng.standard_normal(6).astype(np.float16)
    g = rng.standard_normal(6).astype(np.float16)
    ours = tl.tensor(w, requires_grad=True)
    ours.grad = tl.tensor(g)
    theirs = torch.tensor(w.astype(np.float32), requires_grad=True)
    theirs.grad = torch.tensor(g.astype(np.float32))
    return (tl.optim.SGD([ours], lr=0.25), ours), (torch.optim.SGD([theirs], lr=0.25), theirs)


def _trace(optimizer, log):
    """Registers a pre-hook and a post-hook that log what they get (as names, to compare the two libraries)."""
    def pre(opt, args, kwargs):
        log.append(("pre", opt is optimizer, args[0] is optimizer, len(args), sorted(kwargs)))

    def post(opt, args, kwargs):
        log.append(("post", opt is optimizer, args[0] is optimizer, len(args), sorted(kwargs)))

    return optimizer.register_step_pre_hook(pre), optimizer.register_step_post_hook(post)


def test_hooks_get_what_torchs_get_and_handles_remove_them(rng):
    (ours, w), (theirs, v) = _setups(rng)
    logs = {}
    for name, opt in (("ours", ours), ("theirs", theirs)):
        log = logs[name] = []
        pre, post = _trace(opt, log)
        opt.step()
        opt.step(closure=None)
        pre.remove()
        opt.step()
        post.remove()
        post.remove()  # a second remove does nothing
        opt.step()
    assert logs["ours"] == logs["theirs"] and len(logs["ours"]) == 5
    np.testing.assert_allclose(w.detach().numpy().astype(np.float32), v.detach().numpy(), rtol=2e-3, atol=2e-3)


def test_a_pre_hook_replaces_the_steps_arguments(rng):
    (ours, _), (theirs, _) = _setups(rng)
    for opt, make in ((ours, tl.tensor), (theirs, torch.tensor)):
        loss = float(rng.uniform(1, 2))
        opt.register_step_pre_hook(lambda o, args, kwargs: ((o,), {"closure": lambda: make(loss)}))
        assert float(opt.step()) == pytest.approx(loss, rel=1e-3)  # the hook's closure ran
        opt.register_step_pre_hook(lambda o, args, kwargs: "not a pair")
        with pytest.raises(RuntimeError, match="must return None or a tuple of \\(new_args, new_kwargs\\)"):
            opt.step()


def test_a_subclass_step_calling_its_base_runs_the_hooks_once(rng):
    class Scaled(tl.optim.SGD):
        def step(self, closure=None):
            return super().step(closure)

    w = tl.tensor(rng.standard_normal(4).astype(np.float16), requires_grad=True)
    w.grad = tl.ones_like(w)
    opt = Scaled([w], lr=0.5)
    log = []
    _trace(opt, log)
    opt.step()
    assert [entry[0] for entry in log] == ["pre", "post"]
    lbfgs = tl.optim.LBFGS([w], max_iter=1)  # a native class with its own step
    lbfgs.register_step_post_hook(lambda o, args, kwargs: log.append("lbfgs"))
    lbfgs.step(lambda: (w * w).sum())
    assert log[-1] == "lbfgs"


def test_hooks_stay_behind_when_copied_and_bad_hooks_are_refused(rng):
    (ours, _), _ = _setups(rng)
    ours.register_step_pre_hook(lambda o, args, kwargs: None)  # a lambda: it cannot be pickled
    clone = pickle.loads(pickle.dumps(ours))
    deep = copy.deepcopy(ours)
    log = []
    for opt in (clone, deep):
        opt.register_step_post_hook(lambda o, args, kwargs: log.append(o))
        opt.step()
    assert log == [clone, deep]
    with pytest.raises(TypeError, match="must be callable"):
        ours.register_step_pre_hook(3)


def test_global_hooks_run_for_every_optimizer_in_torchs_order(rng):
    """torch.optim.optimizer.register_optimizer_step_pre_hook/_post_hook: global pre-hooks before the optimizer's own,
    global post-hooks after its own, for every optimizer (a global pre-hook may replace the arguments too)."""
    modules = {"ours": tl.optim.optimizer, "theirs": torch_optimizer}
    (ours, w), (theirs, v) = _setups(rng)
    logs = {}
    for name, opt in (("ours", ours), ("theirs", theirs)):
        log = logs[name] = []
        module = modules[name]
        handles = [module.register_optimizer_step_pre_hook(lambda o, args, kwargs: log.append(("global pre", o is opt))),
                   module.register_optimizer_step_post_hook(lambda o, args, kwargs: log.append(("global post", len(args))))]
        opt.register_step_pre_hook(lambda o, args, kwargs: log.append("own pre"))
        opt.register_step_post_hook(lambda o, args, kwargs: log.append("own post"))
        opt.step()
        handles[0].remove()
        opt.step()
        handles[1].remove()
        handles[1].remove()
        opt.step()
        loss = float(rng.uniform(1, 2))
        make = tl.tensor if name == "ours" else torch.tensor
        handle = module.register_optimizer_step_pre_hook(lambda o, args, kwargs: (args, {"closure": lambda: make(loss)}))
        try:
            assert float(opt.step()) == pytest.approx(loss, rel=1e-3)
        finally:
            handle.remove()
    assert logs["ours"] == logs["theirs"] and len(logs["ours"]) == 11
    np.testing.assert_allclose(w.detach().numpy().astype(np.float32), v.detach().numpy(), rtol=2e-3, atol=2e-3)
    with pytest.raises(TypeError, match="must be callable"):
        tl.optim.optimizer.register_optimizer_step_post_hook(None)
