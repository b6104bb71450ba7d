"""Two more real-shaped programs run with PyTorch and with TensorLogic from the same f16-rounded weights (see
test_programs.py): a graph attention network (prog_gat) and the examples' actor-critic agent on a numpy
cart-pole (prog_actor_critic)."""
import numpy as np
import pytest
import torch

import tensorlogic as tl

import prog_actor_critic
import prog_gat
from replayed import assert_updates_follow, run_replayed
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
    """The actions replayed from one numpy draw in both (see replayed.py); the cart-pole is deterministic given
    them, so both see the same states and episode lengths. Over 200 seeds (2026-12-06) the updates made from the
    same weights (all 6 in 151 seeds, only the first in 27) agreed within 0.45% of the run's largest loss and
    0.47% in gradient norm. Only 6 episodes: later the policy is peaked, and a replayed action's probability
    falls on either side of f16's clamp at 2^-10 (seed 10075, 9th update: 9.74e-4 in PyTorch, 9.79e-4 in ours),
    so one run has a gradient term the other lacks (norms 5.9% apart from the same weights, over 100 seeds
    of 10 episodes)."""
    actions = rng.integers(0, 2, 1000).tolist()
    models = twins(rng, prog_actor_critic.build)
    seed = int(rng.integers(1 << 20))
    ((t_rewards, t_losses, t_norms, t_running), (l_rewards, l_losses, l_norms, l_running)), steps = run_replayed(
        monkeypatch, prog_actor_critic.train, models, actions, episodes=6, seed=seed)
    assert l_rewards == t_rewards and l_running == t_running
    same = assert_updates_follow(steps, l_losses, t_losses, lr=3e-2)
    np.testing.assert_allclose(l_norms[:same], t_norms[:same], rtol=0.03, err_msg=f"the first {same} updates")


def test_actor_critic_samples(rng):
    """Our own Categorical draws drive the episodes (no replay): valid rewards, finite updates."""
    model = prog_actor_critic.build(tl)
    rewards, losses, norms, running = prog_actor_critic.train(tl, model, episodes=6, seed=int(rng.integers(1 << 20)))
    assert len(rewards) == 6 and all(1 <= r <= 60 for r in rewards)
    assert np.isfinite(losses).all() and np.isfinite(norms).all() and 0 < running < 60
