"""Two more real-shaped programs run with PyTorch and with TensorLogic from the same f16-rounded weights (see
test_programs.py): a graph attention network (prog_gat) and the examples' actor-critic agent on a numpy
cart-pole (prog_actor_critic)."""
import numpy as np
import pytest
import torch

import tensorlogic as tl

import prog_actor_critic
import prog_gat
from test_programs import close, twins

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")


@pytest.mark.parametrize("scores", ["broadcast", "concat"])
def test_gat(rng, scores):
    graph = prog_gat.make_graph(rng)
    # Dropout off in the compared runs (the libraries draw different masks); then one run of ours with it on.
    # Without dropout the two follow each other closely: the last training loss, validation and test loss within
    # 0.1% over 10 seeds of each variant (2026-12-06).
    theirs, ours = twins(rng, prog_gat.build, dropout=0.0, scores=scores)
    start = {k: v.clone() for k, v in ours.state_dict().items()}
    (t_losses, t_val, t_test, t_acc), (l_losses, l_val, l_test, l_acc) = (
        prog_gat.train(lib, model, graph) for lib, model in ((torch, theirs), (tl, ours)))
    close(l_losses[-1], t_losses[-1], rel=0.02)
    close(l_val, t_val, rel=0.02)
    close(l_test, t_test, rel=0.02)
    assert abs(l_acc - t_acc) <= 0.05 + 1e-6  # two of the 40 test nodes
    ours.load_state_dict(start)
    for layer in (ours.gat1, ours.gat2):
        layer.dropout = 0.6
    losses, _, test, _ = prog_gat.train(tl, ours, graph)
    assert np.isfinite(test) and np.mean(losses[-5:]) < losses[0]


def test_actor_critic(rng, monkeypatch):
    """The two libraries draw different actions, so the actions are replayed from one numpy draw in both
    (Categorical.sample replaced); the cart-pole is deterministic given them, so both see the same states and
    episode lengths, and each update's loss and gradient norm must follow PyTorch's. Over 120 seeds (2026-12-06)
    the losses of the first 6 updates differed by at most 2.7% of the run's largest loss and the gradient norms by
    at most 8.9%. Later a replayed action of probability below ~1e-4 makes the two part: f16 clamps probs at 2^-14
    (PyTorch float32 at 1.2e-7), and where the probability is just above it, log's gradient 1/p times an advantage
    beyond ~4 overflows f16 (NaN gradients in 2 of 120 seeds at the 7th or 8th update), so 6 episodes are run."""
    actions = rng.integers(0, 2, 1000).tolist()
    theirs, ours = twins(rng, prog_actor_critic.build)
    seed = int(rng.integers(1 << 20))
    runs = {}
    for lib, model in ((torch, theirs), (tl, ours)):
        replay = iter(actions)
        monkeypatch.setattr(lib.distributions.Categorical, "sample",
                            lambda self, sample_shape=(), lib=lib, replay=replay: lib.tensor(next(replay)))
        runs[lib] = prog_actor_critic.train(lib, model, episodes=6, seed=seed)
    (t_rewards, t_losses, t_norms, t_running), (l_rewards, l_losses, l_norms, l_running) = runs[torch], runs[tl]
    assert l_rewards == t_rewards and l_running == t_running
    scale = max(abs(loss) for loss in t_losses)
    for update, (ours_, theirs_) in enumerate(zip(l_losses, t_losses)):
        assert abs(ours_ - theirs_) <= 0.05 * scale, (update, l_losses, t_losses)
    for update, (ours_, theirs_) in enumerate(zip(l_norms, t_norms)):
        assert ours_ == pytest.approx(theirs_, rel=0.15), (update, l_norms, t_norms)


def test_actor_critic_samples(rng):
    """Our own Categorical draws drive the episodes (no replay): valid rewards, finite updates."""
    model = prog_actor_critic.build(tl)
    rewards, losses, norms, running = prog_actor_critic.train(tl, model, episodes=6, seed=int(rng.integers(1 << 20)))
    assert len(rewards) == 6 and all(1 <= r <= 60 for r in rewards)
    assert np.isfinite(losses).all() and np.isfinite(norms).all() and 0 < running < 60
