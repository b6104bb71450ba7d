"""The policy-gradient programs (prog_reinforce, prog_actor_critic) run by PyTorch and by TensorLogic on the same
actions, and what of the two runs can be compared.

The actions are replayed from one numpy draw in both (Categorical.sample replaced): the libraries draw differently.
PyTorch's run follows f16 in two places, as PyTorch itself does on f16 data (2026-12-06):
- Categorical(probs) takes its logits as the log of the probabilities clamped to [eps, 1 - eps] of their dtype: ours
  are f16, whose eps (PyTorch's clamp for f16 probabilities too) is 2^-10, PyTorch's float32 run clamps at 1.2e-7.
  A replayed action of probability below 2^-10 had a gradient in PyTorch's run only (seed 1545098214 of
  test_actor_critic: losses -23.6 against ours -15.4 at the 6th update; -15.4 in PyTorch clamped at 2^-10).
- The discounted returns are made by torch.tensor from Python floats and normalised by their mean and std: f16 in
  ours, float32 in PyTorch. An episode rewarded at its last step only has returns 0.99^9..1 with a std of 0.028,
  where f16's rounding moves the normalised returns by up to 0.012 (seed 20018 of test_policy_gradient[reinforce]:
  one update's loss 2.3% of the run's largest away). PyTorch's default dtype is f16 for its run, and its own f16
  arithmetic gives our normalised returns exactly.

Even so the runs part by discrete events at f16's resolution: a gradient component that is a cancelling sum (the
value head's bias: the clipped residuals against normalised returns) comes out with either sign, and Adam's first
steps, which normalise every component to about +-lr, turn that into a weight 2 lr away; a hidden unit at the edge
of its ReLU is on in one run and off in the other; a replayed action's probability lies on either side of the
clamp. In test_actor_critic over 200 seeds the weights parted by more than lr / 4 after the first update in 27, and
the later updates' losses then differed by up to 14% of the run's largest loss, the gradient norms by up to 15%
(PyTorch from weights moved by one f16 rounding drifted from itself by up to 1.8% over 100 seeds: its float32
sums rarely tie). So the losses are compared over the updates both runs made from the same weights, and the
optimizer over the whole run: PyTorch's Adam replayed on our own gradients must reproduce our weights."""
import numpy as np
import torch

import tensorlogic as tl

F16_EPS = float(np.finfo(np.float16).eps)


def run_replayed(monkeypatch, train, models, actions, batched=False, **kwargs):
    """train(lib, model, **kwargs) for models = (PyTorch's, ours), each library drawing `actions` in order
    (tensors of shape [1] if batched, else 0-d); returns per library train's result and, for each Adam step, the
    parameters before it, their gradients and the parameters after it (float64 numpy arrays). The libraries are
    as they were again when it returns."""
    results, steps = [], []
    with monkeypatch.context() as patch:
        patch.setattr(torch.distributions.utils, "clamp_probs", lambda probs: probs.clamp(min=F16_EPS, max=1 - F16_EPS))
        for lib, model in zip((torch, tl), models):
            replay = iter(actions)
            patch.setattr(lib.distributions.Categorical, "sample",
                          lambda self, sample_shape=(), lib=lib, replay=replay:
                          lib.tensor([next(replay)] if batched else next(replay)))
            recorded = []
            patch.setattr(lib.optim.Adam, "step", _recording(lib.optim.Adam.step, recorded))
            default = torch.get_default_dtype()
            if lib is torch:
                torch.set_default_dtype(torch.float16)  # the returns made from Python floats are f16 as ours
            try:
                results.append(train(lib, model, **kwargs))
            finally:
                torch.set_default_dtype(default)
            steps.append(recorded)
    return results, steps


def _recording(step, recorded):
    def recording_step(self, closure=None):
        params = [p for group in self.param_groups for p in group["params"]]
        before = [_host(p) for p in params], [_host(p.grad) for p in params]
        loss = step(self, closure)
        recorded.append(before + ([_host(p) for p in params],))
        return loss
    return recording_step


def _host(t):
    return np.asarray(t.detach().cpu().numpy(), dtype=np.float64)


def assert_updates_follow(steps, our_losses, their_losses, lr):
    """Our weights after every step against PyTorch's Adam replayed on our gradients, and our losses against
    PyTorch's over the updates both runs made from the same weights, within 3% of the run's largest loss (a loss
    is a sum of terms that cancel: REINFORCE's normalised returns sum to zero). Returns how many were compared."""
    assert_adam_replayed(steps[1], lr)
    same = same_weights_updates(steps, lr)
    scale = max(abs(loss) for loss in their_losses)
    for update, (ours, theirs) in enumerate(zip(our_losses[:same], their_losses[:same])):
        assert abs(ours - theirs) <= 0.03 * scale, (update, same, our_losses, their_losses)
    return same


def same_weights_updates(steps, lr):
    """How many updates, from the first, both runs made from the same weights: none of them more than lr / 4 apart.
    Rounding keeps the runs' weights within ~1e-3 of each other over these programs' updates; a flipped sign
    moves a weight by 2 lr."""
    theirs, ours = steps
    for update, ((t_before, _, _), (l_before, _, _)) in enumerate(zip(theirs, ours)):
        if max(np.abs(t - l).max() for t, l in zip(t_before, l_before)) > lr / 4:
            return update
    return len(ours)


def assert_adam_replayed(our_steps, lr, **adam_kwargs):
    """PyTorch's Adam, started from our initial weights and fed our gradients step by step, gives our weights
    after every step within f16's rounding of them (2^-10 relative, or 2^-14 near zero; seen: under half of it)."""
    params = [torch.tensor(w, dtype=torch.float32, requires_grad=True) for w in our_steps[0][0]]
    adam = torch.optim.Adam(params, lr=lr, **adam_kwargs)
    for step, (_, grads, after) in enumerate(our_steps):
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g, dtype=torch.float32)
        adam.step()
        for p, ours in zip(params, after):
            want = p.detach().numpy().astype(np.float64)
            gap = np.abs(ours - want) - (F16_EPS * np.abs(want) + 2.0 ** -14)
            assert gap.max() <= 0, (step, ours.ravel()[gap.argmax()], want.ravel()[gap.argmax()])
