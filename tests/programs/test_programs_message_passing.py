"""The message-passing graph classifier (prog_mpnn: index_add_ and scatter_reduce aggregation over a batch of
graphs) run with PyTorch and with TensorLogic from the same f16-rounded initial weights on the same graphs and
batch order, as in test_programs.py."""
import numpy as np
import pytest
import torch

import tensorlogic as tl

import prog_mpnn
from test_programs import close, twins

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")


def test_mpnn(rng):
    graphs = prog_mpnn.make_graphs(rng)
    theirs, ours = twins(rng, prog_mpnn.build)
    start = {k: v.clone() for k, v in ours.state_dict().items()}
    seed = int(rng.integers(1 << 20))
    (t_losses, _, _), (l_losses, _, _) = (prog_mpnn.train(lib, model, graphs, epochs=1, seed=seed)
                                          for lib, model in ((torch, theirs), (tl, ours)))
    # Measured over 25 seeds (2026-12-07): the first 8 steps' mean loss within 1.1%, the first 12 steps' within 2.3%
    # (seed 2028786958). Later the runs part: Adam at
    # lr 3e-2 turns an amax tie or a ReLU at its edge decided the other way into a different trajectory (the final
    # test losses of 6 epochs 0.63 against 1.16 on one seed, each library learning the task on others).
    close(l_losses[0], t_losses[0], rel=0.005)
    close(np.mean(l_losses[:8]), np.mean(t_losses[:8]), rel=0.03)
    ours.load_state_dict(start)
    losses, test_loss, accuracy = prog_mpnn.train(tl, ours, graphs, seed=seed)
    # 6 epochs of ours: it learns the task on most seeds (11 of 12 ended below their first epochs' mean, 5 near 0);
    # on the rest it stays near chance, so every seed is held only to not diverging.
    assert np.isfinite(test_loss) and 0 <= accuracy <= 1
    assert np.mean(losses[-18:]) < max(losses[:18])
