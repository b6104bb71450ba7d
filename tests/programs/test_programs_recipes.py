"""Programs in the shape of common PyTorch recipes the other program tests do not cover (a BatchNorm ResNet with
channels_last, a U-Net, a BERT-style masked LM, a packed-sequence RNN LM resumed from a checkpoint, a CLIP/SimCLR
contrastive model, a top-k mixture of experts under autocast and a GradScaler), run with PyTorch and with
TensorLogic from the same f16-rounded initial weights on the same synthetic data, as test_programs.py does (see its
docstring). Dropout is off and batches come in order, so the runs follow each other step by step; the tolerances
are from measurements over data seeds (2026-12-06), stated at each test."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from test_programs import close, twins

import prog_bert
import prog_clip
import prog_moe
import prog_packed_lm
import prog_resnet
import prog_unet

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")


def test_resnet(rng):
    """Over 10 data seeds the first 3 losses agreed within 0.07%, the mean of the last 4 within 0.25%, the test loss
    within 0.22%, the accuracies within one test image of 48, the last BatchNorm's running mean within 1e-3."""
    data = prog_resnet.make_data(rng)
    theirs, ours = twins(rng, prog_resnet.build)
    (t_losses, t_lrs, t_test, t_acc, t_running), (l_losses, l_lrs, l_test, l_acc, l_running) = (
        prog_resnet.train(lib, model, data, shuffle=False) for lib, model in ((torch, theirs), (tl, ours)))
    np.testing.assert_allclose(l_lrs, t_lrs, rtol=1e-9)  # CosineAnnealingWarmRestarts at fractional epochs: host math
    np.testing.assert_allclose(l_losses[:3], t_losses[:3], rtol=0.01)
    close(np.mean(l_losses[-4:]), np.mean(t_losses[-4:]), rel=0.02)
    close(l_test, t_test, rel=0.02)
    assert abs(l_acc - t_acc) <= 2 / 48, (l_acc, t_acc)
    np.testing.assert_allclose(l_running[-1], t_running[-1], atol=1e-2)


@pytest.mark.parametrize("bilinear", [False, True])
def test_unet(rng, bilinear):
    """Over 40 data seeds of each variant the first 3 losses agreed within 0.2% and the mean training loss within
    1.6%. The validation loss after the last epoch (16 images, BatchNorm's running statistics) is chaotic: over 60
    data seeds PyTorch from weights moved by one f16 rounding differed from itself by up to 28% (mean 2.9%), ours
    from PyTorch by up to 15% (mean 2.5%; 39% seen once), so it only has to be of PyTorch's size. The example's
    predict_img (interpolate in, interpolate out) on the initial weights agreed within 2e-4."""
    data = prog_unet.make_data(rng)
    theirs, ours = twins(rng, prog_unet.build, bilinear=bilinear)
    t_probs, l_probs = (prog_unet.predict(lib, model, lib.tensor(data[1][0][:2]), (30, 30))[0].numpy()
                        for lib, model in ((torch, theirs), (tl, ours)))
    np.testing.assert_allclose(l_probs, t_probs, atol=2e-3)
    (t_losses, _, t_val, _, _, _), (l_losses, l_scores, l_val, l_lrs, _, _) = (
        prog_unet.train(lib, model, data, shuffle=False) for lib, model in ((torch, theirs), (tl, ours)))
    np.testing.assert_allclose(l_losses[:3], t_losses[:3], rtol=0.01)
    close(np.mean(l_losses), np.mean(t_losses), rel=0.05)
    assert t_val / 2 < l_val < 2 * t_val, (l_val, t_val)
    assert all(0 <= s <= 1 for s in l_scores) and len(l_lrs) == 3


def test_bert_masked_lm(rng):
    """Over 10 data seeds the first 3 (MLM, NSP) losses agreed within 0.06%, the last 4 within 0.03%, the test MLM
    and pair losses within 0.07%, the masked-token accuracies exactly; the pooling attention put no weight on
    padding in either library."""
    data, test = prog_bert.make_data(rng), prog_bert.make_data(rng, n=48)
    theirs, ours = twins(rng, prog_bert.build, dropout=0.0)
    t_losses, l_losses = (np.array(prog_bert.train(lib, model, data)) for lib, model in ((torch, theirs), (tl, ours)))
    np.testing.assert_allclose(l_losses[:3], t_losses[:3], rtol=0.01)
    np.testing.assert_allclose(l_losses[-4:].mean(axis=0), t_losses[-4:].mean(axis=0), rtol=0.01)
    (t_mlm, t_acc, t_nsp, _, _), (l_mlm, l_acc, l_nsp, l_on_padding, _) = (
        prog_bert.evaluate(lib, model, test) for lib, model in ((torch, theirs), (tl, ours)))
    close(l_mlm, t_mlm, rel=0.01)
    close(l_nsp, t_nsp, rel=0.01)
    assert abs(l_acc - t_acc) <= 0.05 and l_on_padding == 0, (l_acc, t_acc, l_on_padding)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_packed_rnn_lm_resumed_from_a_checkpoint(rng, tmp_path, kind):
    """Over 10 data seeds every loss and clipped gradient norm agreed within 0.12%, the test perplexities within
    0.2%. Ours resumed from its checkpoint (model, Adam with its float32 state, StepLR) follows the same run
    uninterrupted exactly."""
    train_set, test_set = prog_packed_lm.make_sentences(rng), prog_packed_lm.make_sentences(rng, 32)
    theirs, ours = twins(rng, prog_packed_lm.build, kind=kind)
    start = {k: v.clone() for k, v in ours.state_dict().items()}
    runs = [prog_packed_lm.train(lib, lambda lib=lib: prog_packed_lm.build(lib, kind=kind), model, train_set,
                                 tmp_path / f"{lib.__name__}.pt") for lib, model in ((torch, theirs), (tl, ours))]
    (t_losses, t_norms, t_lr, t_model), (l_losses, l_norms, l_lr, l_model) = runs
    np.testing.assert_allclose(l_losses, t_losses, rtol=0.01)
    np.testing.assert_allclose(l_norms, t_norms, rtol=0.01)
    assert l_lr == pytest.approx(t_lr, rel=1e-12)
    (t_ppl, t_lengths), (l_ppl, l_lengths) = (prog_packed_lm.perplexity(lib, model, test_set)
                                              for lib, model in ((torch, t_model), (tl, l_model)))
    close(l_ppl, t_ppl, rel=0.01)
    assert l_lengths == t_lengths
    straight = prog_packed_lm.build(tl, kind=kind)
    straight.load_state_dict(start)
    s_losses, s_norms, _, _ = prog_packed_lm.train(tl, lambda: prog_packed_lm.build(tl, kind=kind), straight,
                                                   train_set, tmp_path / "straight.pt", epochs=(4, 0))
    assert s_losses == l_losses and s_norms == l_norms


def test_clip_contrastive(rng):
    """Over 10 data seeds every loss agreed within 0.1%, the learned temperature within 0.11%, the zero-shot
    accuracies exactly (the softmax of the similarities within 0.03)."""
    data = prog_clip.make_data(rng)
    theirs, ours = twins(rng, prog_clip.build)
    (t_losses, t_scales), (l_losses, l_scales) = (prog_clip.train(lib, model, data)
                                                  for lib, model in ((torch, theirs), (tl, ours)))
    np.testing.assert_allclose(l_losses, t_losses, rtol=0.01)
    np.testing.assert_allclose(l_scales, t_scales, rtol=0.01)
    (t_acc, t_sim), (l_acc, l_sim) = (prog_clip.zero_shot(lib, model, data) for lib, model in ((torch, theirs), (tl, ours)))
    assert abs(l_acc - t_acc) <= 2 / 64, (l_acc, t_acc)
    np.testing.assert_allclose(l_sim, t_sim, atol=0.1)


def test_mixture_of_experts(rng):
    """A token at the edge between two experts is routed differently once the runs part by rounding, so later steps
    differ by events: over 80 data seeds the first 3 losses agreed within 0.25%, the mean of the last 4 within 3%
    (1.6% otherwise), the test loss within 3.6%, the accuracies exactly. The events have a heavy tail: over 100 more
    seeds (2026-12-06) the first 3 agreed within 0.64%, the last 4 within 2.8% (95% of seeds within 0.7%), the test
    loss within 7.1%; CI's seed 2818867942 put the last 4 at 6.5%. So the later losses are held to 10% and 15% and
    the first ones, before any event, to 1%. The shuffled run (a seeded Generator, drop_last) makes as many steps."""
    data = prog_moe.make_data(rng)
    theirs, ours = twins(rng, prog_moe.build)
    start = {k: v.clone() for k, v in ours.state_dict().items()}
    (t_losses, _, _, (t_test, t_acc)), (l_losses, l_aux, l_prob, (l_test, l_acc)) = (
        prog_moe.train(lib, model, data, shuffle=False) for lib, model in ((torch, theirs), (tl, ours)))
    np.testing.assert_allclose(l_losses[:3], t_losses[:3], rtol=0.01)
    close(np.mean(l_losses[-4:]), np.mean(t_losses[-4:]), rel=0.1)
    close(l_test, t_test, rel=0.15)
    assert abs(l_acc - t_acc) <= 2 / 64, (l_acc, t_acc)
    assert np.isfinite(l_aux).all() and all(0.25 <= p <= 1 for p in l_prob)  # the top of 4 probabilities >= 1/4
    ours.load_state_dict(start)
    shuffled = prog_moe.train(tl, ours, data, shuffle=True, seed=int(rng.integers(1 << 30)))
    assert len(shuffled[0]) == len(l_losses) and np.isfinite(shuffled[0]).all()
