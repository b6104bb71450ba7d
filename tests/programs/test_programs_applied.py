"""Applied programs run with PyTorch and with TensorLogic from the same f16-rounded weights on the same synthetic data
(see test_programs.py): a BiLSTM-CRF tagger, an EmbeddingBag text classifier, a Transformer forecaster, knowledge
distillation, a DQN agent and a physics-informed network. The compared runs keep the batch order fixed and dropout
off (the libraries draw differently); a run of ours alone then shuffles. The tolerances come from runs over 40 to 100
seeds each (2026-12-07), and are two to three times the largest difference seen."""
import numpy as np
import pytest
import torch

import tensorlogic as tl

import prog_bilstm_crf
import prog_distill
import prog_dqn
import prog_pinn
import prog_text_classification
import prog_ts_transformer
from test_programs import twins

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")


def within(ours, theirs, atol=0.0, rtol=0.0, what=""):
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape and np.isfinite(ours).all(), (what, ours, theirs)
    excess = np.abs(ours - theirs) - (atol + rtol * np.abs(theirs))
    assert (excess <= 0).all(), f"{what}: TensorLogic {ours} vs PyTorch {theirs}"


def test_bilstm_crf(rng):
    """The loss is the difference of two path scores of 20 to 40 (f16 steps of 1/32 there), each a sum over the
    sentence of f16-rounded logsumexps, so it carries an absolute error of a few hundredths: over 200 seeds the
    epoch losses differed by at most 3% + 0.012, the test loss by 3% + 0.07, the token accuracy by 0.03."""
    data = prog_bilstm_crf.make_data(rng)
    word_to_ix, tag_to_ix = prog_bilstm_crf.vocabularies(data[0])
    theirs, ours = twins(rng, prog_bilstm_crf.build, len(word_to_ix), tag_to_ix)
    t, o = (prog_bilstm_crf.train(lib, model, data, word_to_ix, tag_to_ix, shuffle=False)
            for lib, model in ((torch, theirs), (tl, ours)))
    within(o[0], t[0], atol=0.04, rtol=0.03, what="epoch losses")
    within(o[1], t[1], atol=0.15, rtol=0.03, what="test loss")
    within(o[2], t[2], atol=0.06, what="token accuracy")
    assert o[2] > 0.8 and [len(p) for p in o[4]] == [len(p) for p in t[4]]
    assert all(0 <= tag < len(prog_bilstm_crf.TAGS) for path in o[4] for tag in path)
    shuffled = prog_bilstm_crf.train(tl, prog_bilstm_crf.build(tl, len(word_to_ix), tag_to_ix), data, word_to_ix,
                                     tag_to_ix, shuffle=True, seed=int(rng.integers(1 << 20)))
    assert np.isfinite(shuffled[0]).all() and shuffled[0][-1] < shuffled[0][0]


def test_text_classification(monkeypatch, rng):
    """random_split is replaced in both libraries by one numpy permutation (their generators differ); our own
    random_split drives a second run. Over 40 seeds the losses agreed within 0.03%, the accuracies within one
    validation headline in 24 and 2.5 test headlines in 60."""
    corpus = prog_text_classification.make_corpus(rng)
    vocab = prog_text_classification.build_vocab(corpus[0])
    theirs, ours = twins(rng, prog_text_classification.build, len(vocab))
    order = rng.permutation(len(corpus[0])).tolist()
    results = []
    for lib, model in ((torch, theirs), (tl, ours)):
        with monkeypatch.context() as patch:
            patch.setattr(lib.utils.data, "random_split", lambda dataset, lengths, generator=None, lib=lib: [
                lib.utils.data.Subset(dataset, order[:lengths[0]]), lib.utils.data.Subset(dataset, order[lengths[0]:])])
            results.append(prog_text_classification.train(lib, model, corpus, vocab, shuffle=False))
    t, o = results
    within(o[0], t[0], rtol=0.01, what="epoch losses")
    within(o[1], t[1], atol=1 / 24 + 1e-9, what="validation accuracies")
    within(o[2], t[2], atol=0.05, what="test accuracy")
    assert o[3] == t[3] == "Sports"
    losses, _, accuracy, _ = prog_text_classification.train(
        tl, prog_text_classification.build(tl, len(vocab)), corpus, vocab, seed=int(rng.integers(1 << 20)))
    assert np.isfinite(losses).all() and losses[-1] < losses[0] and accuracy > 0.3  # (chance: 0.25)


def test_ts_transformer(rng, tmp_path):
    """Over 150 seeds the first two epochs' losses agreed within 0.3% (training) and 1.4% (validation); around the
    OneCycle schedule's peak learning rate (epochs 3 and 4) the runs part, up to 8% and 13%, and come together as it
    falls (the last epoch within 2.7% and 4.1%, the checkpoint's test loss within 3.4%). The forecast feeds each
    prediction back, so only its first step is compared (within 0.035), and only when both runs kept the same
    epoch's checkpoint (seed 2800390951 kept two different ones, whose forecasts began 0.13 apart)."""
    series = prog_ts_transformer.make_series(rng)
    theirs, ours = twins(rng, prog_ts_transformer.build, dropout=0.0)
    t, o = (prog_ts_transformer.train(lib, model, series, str(tmp_path), shuffle=False)
            for lib, model in ((torch, theirs), (tl, ours)))
    n = min(len(t[0]), len(o[0]))  # (early stopping may end one run sooner)
    within(o[0][:2], t[0][:2], rtol=0.01, what="first epochs' losses")
    within(o[1][:2], t[1][:2], rtol=0.03, what="first epochs' validation losses")
    within(o[0][:n], t[0][:n], rtol=0.25, what="epoch losses")
    within(o[1][:n], t[1][:n], rtol=0.3, what="validation losses")
    within(o[1][o[2]], t[1][t[2]], rtol=0.1, what="best validation loss")
    within(o[3], t[3], rtol=0.08 if o[2] == t[2] else 0.15, what="test loss of the checkpoint")
    if o[2] == t[2]:
        within(o[4][0], t[4][0], atol=0.08, what="forecast's first step")
    assert np.isfinite(o[4]).all()
    train_losses, _, _, test_loss, forecast = prog_ts_transformer.train(
        tl, prog_ts_transformer.build(tl), series, str(tmp_path), seed=int(rng.integers(1 << 20)))
    assert np.isfinite(train_losses).all() and np.isfinite(forecast).all() and test_loss < 1.0


def test_distillation(rng):
    """Over 150 seeds: the teacher's losses within 3.9% and accuracy within two images in 64, the student's four
    loss terms within 1.7% (one more seed, 204274630: 3.4%) and accuracy within one image; the learning rates (host
    arithmetic) equal."""
    data = prog_distill.make_data(rng)
    teachers = twins(rng, prog_distill.build_teacher, dropout=0.0)
    students = twins(rng, prog_distill.build_student)
    t, o = ((*prog_distill.train_teacher(lib, teacher, data, shuffle=False),
             *prog_distill.distill(lib, teacher, student, data, shuffle=False))
            for lib, teacher, student in zip((torch, tl), teachers, students))
    within(o[0], t[0], rtol=0.08, what="teacher losses")
    within(o[1], t[1], atol=3 / 64, what="teacher accuracy")
    within(o[2], t[2], rtol=0.05, what="student loss terms")
    within(o[3], t[3], atol=3 / 64, what="student accuracy")
    np.testing.assert_allclose(o[4], t[4], rtol=1e-12)
    np.testing.assert_allclose(o[2][:, 0], o[2][:, 1], rtol=0.01)  # the written-out KL is KLDivLoss's
    teacher, student = prog_distill.build_teacher(tl), prog_distill.build_student(tl)
    prog_distill.train_teacher(tl, teacher, data, seed=int(rng.integers(1 << 20)))
    history, accuracy, _ = prog_distill.distill(tl, teacher, student, data, seed=int(rng.integers(1 << 20)))
    assert np.isfinite(history).all() and history[-1, 2] < history[0, 2] and accuracy > 0.3


def test_dqn(rng):
    """Python's random module drives exploration and replay in both runs (the program seeds it), so the runs stay
    together while the greedy actions agree: over 80 seeds they all agreed in 79 (one parted at its 32nd action);
    the losses of the updates made before any parting were within 1.3% of the run's largest, the final Q-values of
    about 4 within 0.09."""
    policies = twins(rng, prog_dqn.build)
    seed = int(rng.integers(1 << 20))
    t, o = (prog_dqn.train(lib, policy, prog_dqn.build(lib), seed=seed)
            for lib, policy in zip((torch, tl), policies))
    parted = next((i for i, (a, b) in enumerate(zip(t[2], o[2])) if a != b), None)
    same = len(t[1]) if parted is None else max(0, parted - 15)  # (updates start once 16 transitions are stored)
    assert len(t[1]) >= same and len(o[1]) >= same
    within(o[1][:same], t[1][:same], atol=0.03 * np.abs(t[1]).max(), what=f"the first {same} losses")
    if parted is None:
        assert list(o[0]) == list(t[0]) and len(o[1]) == len(t[1])
        within(o[3], t[3], atol=0.2, what="final Q-values")


def test_pinn(rng):
    """The Adam phase's losses (second derivatives by create_graph, f16 throughout): over 120 seeds (2026-12-07) the
    first 35 steps' within 0.6% in every seed, and all 60 within 3.2% in all but one (seed 1609460387), where from
    step 35 on ours fell more slowly as the loss neared f16's resolution of the residuals' second derivatives, ending
    23% above (0.100 against 0.081). So the first 35 within 5%, all within 40%, and ours ending below its start.
    The LBFGS phase is chaotic (a step's trial points differ as the losses do), so it is checked for progress: where
    the loss's f16 steps are coarser than what a step along the search direction gains, the strong-Wolfe search once
    saw equal losses and stopped where PyTorch's float32 loss went on (seed 20: ours held at 0.48, PyTorch's fell to
    0.09); it now reads those steps by their slopes (test_optim_more.py), and over 120 seeds (2026-12-07) ours ended
    at most at 0.26 of its first loss (median 0.054; PyTorch's 0.062; seed 20: 0.13). Its trial points may overflow
    f16 (inf losses), which the search steps back from (test_optim_more.py)."""
    models = twins(rng, prog_pinn.build)
    (t_adam, _, t_final, _), (o_adam, o_trials, o_final, o_err) = (prog_pinn.train(lib, model)
                                                                    for lib, model in zip((torch, tl), models))
    within(o_adam[:35], t_adam[:35], rtol=0.05, what="Adam losses")
    within(o_adam, t_adam, rtol=0.40, what="Adam losses")
    assert o_adam[-1] < o_adam[0], o_adam
    assert np.isfinite(o_final) and o_final <= 0.5 * o_trials[0] and np.isfinite(o_err), (o_final, o_trials[0])
    assert len(o_trials) >= 2 and np.isfinite(t_final)
