"""Programs in the spellings ported code brings, run with PyTorch and with TensorLogic from the same f16-rounded
weights on the same synthetic data (see test_programs.py): an older-style CNN script (deprecated nn.init and
clip_grad_norm names, a hand-written optimizer checking grad.is_sparse, torch.cuda.amp imported as a package,
DataLoader workers with a timeout) and its deployment with batch norms folded by nn.utils.fusion; and exact
Gaussian-process regression (cholesky_solve, cholesky_inverse, solve_triangular, mH, adjoint). Batches come in a
fixed order. The tolerances come from the compared runs over 10 (CNN) and 20 (GP) data seeds (2026-12-07, PyTorch
with one thread) and are about twice the largest difference seen; each docstring gives the figures."""
import numpy as np
import pytest
import torch

import tensorlogic as tl

import prog_fused_cnn
import prog_gp_regression
from test_programs import twins
from test_programs_applied import within

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")


def test_fused_cnn_script(rng):
    """Over 10 seeds the first 3 losses agreed within 0.06%, their clipped gradient norms within 1%, the mean of the
    last 4 losses within 1.3%, the test losses within 3.3%, the accuracies within 2 of 64 images. The fused network's
    logits differed from the unfused one's by at most 0.7% of the largest logit (ours: f16 weights folded and rounded
    again; PyTorch's float32: 4e-6)."""
    data = prog_fused_cnn.make_data(rng)
    theirs, ours = twins(rng, prog_fused_cnn.build)
    (t_losses, t_norms), (l_losses, l_norms) = (prog_fused_cnn.train(lib, model, data)
                                                for lib, model in ((torch, theirs), (tl, ours)))
    within(l_losses[:3], t_losses[:3], rtol=0.006, what="first losses")  # (seed 2538064365: 0.30%)
    within(l_norms[:3], t_norms[:3], rtol=0.05, what="first clipped gradient norms")  # (seed 2538064365: 2.6%)
    within(np.mean(l_losses[-4:]), np.mean(t_losses[-4:]), rtol=0.03, what="last losses")
    (t_test, t_acc, t_fused), (l_test, l_acc, l_fused) = (prog_fused_cnn.evaluate(lib, model, data)
                                                          for lib, model in ((torch, theirs), (tl, ours)))
    within(l_test, t_test, rtol=0.07, what="test loss")
    within(l_acc, t_acc, atol=4 / 64, what="accuracy")
    assert t_fused < 1e-4 and l_fused < 0.015, (l_fused, t_fused)


def test_gp_regression(rng):
    """Over 20 seeds the first 3 marginal likelihoods agreed within 8e-4, the last within 0.84%, the learned
    hyperparameters within 7.1%, the predictive means within 5.4% of their largest, the variances within 0.0043 (of
    about 0.01 to 0.05), the covariance (k** - K*^T K^-1 K*, which cancels to about 1% of the output scale, so f16
    keeps only a few bits of it) within 5.8% of the output scale; ours holds its own variances on its diagonal within
    that too."""
    data = prog_gp_regression.make_data(rng)
    theirs, ours = twins(rng, prog_gp_regression.build)
    (t_losses, t_hyper, (t_mean, t_var, t_cov)), (l_losses, l_hyper, (l_mean, l_var, l_cov)) = (
        prog_gp_regression.train(lib, model, data) for lib, model in ((torch, theirs), (tl, ours)))
    within(l_losses[:3], t_losses[:3], atol=2e-3, what="first losses")
    within(l_losses[-1], t_losses[-1], rtol=0.02, what="last loss")
    within(l_hyper, t_hyper, rtol=0.15, what="lengthscale, outputscale, noise")
    within(l_mean, t_mean, atol=0.1 * np.abs(t_mean).max(), what="predictive mean")
    within(l_var, t_var, atol=0.01, what="predictive variance")
    within(l_cov, t_cov, atol=0.12 * t_hyper[1], what="posterior covariance")
    within(np.diag(l_cov), l_var, atol=0.12 * t_hyper[1], what="our covariance's diagonal")
