"""Module.register_state_dict_pre_hook, register_load_state_dict_post_hook and to_empty, against PyTorch's: which
hooks run when and with what, a post-hook forgiving keys under strict=True, handles, fresh memory from to_empty."""
import numpy as np
import pytest
import torch

import tensorlogic as tl


def _models():
    return (tl.nn.Sequential(tl.nn.Linear(3, 4), tl.nn.BatchNorm1d(4)),
            torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4)))


def _hooked_calls(model):
    """Registers state-dict pre-hooks and load post-hooks on the model and its first child; returns their log (the
    module's class name stands for the module, to compare the two libraries) and the handles."""
    log = []

    def pre(module, prefix, keep_vars):
        log.append(("pre", type(module).__name__, prefix, keep_vars))

    def forgive_missing(module, keys):  # edits the keys in place: strict=True then accepts the load
        log.append(("post", type(module).__name__, sorted(keys.missing_keys), sorted(keys.unexpected_keys)))
        keys.missing_keys.clear()

    def child_post(module, keys):
        log.append(("child post", type(module).__name__, sorted(keys.missing_keys)))

    handles = [model.register_state_dict_pre_hook(pre), model[0].register_state_dict_pre_hook(pre),
               model[0].register_load_state_dict_post_hook(child_post),
               model.register_load_state_dict_post_hook(forgive_missing)]
    return log, handles


def test_state_dict_hooks_run_as_torchs(rng):
    ours, theirs = _models()
    bias = rng.standard_normal(4).astype(np.float16)
    logs = {}
    for name, model, make in (("ours", ours, tl.tensor), ("theirs", theirs, torch.tensor)):
        log, handles = _hooked_calls(model)
        model.state_dict(keep_vars=True)
        model.load_state_dict(model.state_dict())  # a load runs no state-dict pre-hook
        sd = dict(model.state_dict())
        del sd["0.bias"]
        sd["1.stray"] = make(bias.astype(np.float32))
        weight = rng.standard_normal((4, 3)).astype(np.float16).astype(np.float32)
        sd["0.weight"] = make(weight)
        with pytest.raises(RuntimeError, match="Unexpected key\\(s\\) in state_dict: \"1.stray\""):
            model.load_state_dict(sd)  # missing keys forgiven by the hook, the unexpected one not
        assert sorted(model.load_state_dict(sd, strict=False).missing_keys) == []
        np.testing.assert_array_equal(model[0].weight.detach().numpy().astype(np.float32), weight)
        for handle in handles:
            handle.remove()
        model.state_dict()
        model.load_state_dict(sd, strict=False)
        logs[name] = log
    assert logs["ours"] == logs["theirs"]


def test_a_post_hook_that_returns_a_value_is_refused():
    ours, theirs = _models()
    for model in (ours, theirs):
        model.register_load_state_dict_post_hook(lambda module, keys: keys)
        with pytest.raises(AssertionError, match="not expected to return new values"):
            model.load_state_dict(model.state_dict())
    with pytest.raises(TypeError, match="callable"):
        ours.register_state_dict_pre_hook("hook")


def test_to_empty_gives_fresh_memory_in_place(rng):
    ours, theirs = _models()
    for model, empty in ((ours, tl.empty), (theirs, torch.empty)):
        weight = model[0].weight
        weight.grad = empty(4, 3)
        grad, before = weight.grad, {k: (tuple(v.shape), v.dtype) for k, v in model.state_dict().items()}
        kept = model[0].bias.detach().clone()
        own = model.to_empty(device="cpu", recurse=False)  # a Sequential owns no tensors: nothing changes
        np.testing.assert_array_equal(model[0].bias.detach().numpy(), kept.numpy())
        assert own is model and model.to_empty(device="cpu") is model
        assert model[0].weight is weight and weight.grad is grad and weight.requires_grad
        assert {k: (tuple(v.shape), v.dtype) for k, v in model.state_dict().items()} == before
        with pytest.raises(TypeError):
            model.to_empty("cpu")  # device is keyword-only
    alias = ours[0].bias.detach()  # shares the bias's memory until to_empty gives the bias its own
    ours.to_empty(device="cpu")
    value = rng.standard_normal(4).astype(np.float16)
    with tl.no_grad():
        ours[0].bias.copy_(tl.tensor(value))
    np.testing.assert_array_equal(ours[0].bias.detach().numpy(), value)
    assert not np.array_equal(alias.numpy(), value)
