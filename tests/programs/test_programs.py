"""Real-shaped PyTorch programs (tests/programs/prog_*.py, each written once against a module `torch`) run
with PyTorch and with TensorLogic from the same initial weights (PyTorch's, rounded to f16 and copied by
state_dict) on the same synthetic data; their final losses must agree within 10%. Where a program draws
random batches, dropout masks or noise, the two libraries draw differently, so the compared loss is one
averaged over a held-out set and, where one run's draws move it by several percent, averaged over a few
training seeds (the examples' --seed) from the same initial weights."""
import copy
import numpy as np
import pytest
import torch

import tensorlogic as tl

import prog_cifar
import prog_dcgan
import prog_fast_style
import prog_gcn
import prog_gpt
import prog_makemore
import prog_mingpt
import prog_mnist
import prog_regression
import prog_reinforce
import prog_siamese
import prog_super_resolution
import prog_time_sequence
import prog_vae
import prog_word_lm
from replayed import assert_updates_follow, run_replayed

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")


def twin(torch_model, tl_model):
    """Rounds the PyTorch model's weights to f16 and loads the same values into the TensorLogic model."""
    with torch.no_grad():
        for t in torch_model.state_dict().values():
            if t.is_floating_point():
                t.copy_(t.half().float())
    tl_model.load_state_dict({k: v.numpy() for k, v in torch_model.state_dict().items()})
    return tl_model


def twins(rng, build, *args, **kwargs):
    """build(torch, ...) after a fresh torch seed, and build(tl, ...) with the same weights (see twin)."""
    torch.manual_seed(int(rng.integers(1 << 30)))
    theirs = build(torch, *args, **kwargs)
    return theirs, twin(theirs, build(tl, *args, **kwargs))


def over_seeds(lib, model, train, seeds):
    """The mean of train(lib, model, seed) over seeds (each result a number or a tuple of numbers), every run
    from the model's present weights."""
    start = {k: v.clone() for k, v in model.state_dict().items()}
    results = []
    for seed in seeds:
        model.load_state_dict(start)
        results.append(train(lib, model, seed))
    return np.mean(np.asarray(results, dtype=np.float64), axis=0)


def close(ours, theirs, rel=0.1):
    assert np.isfinite(ours) and ours == pytest.approx(theirs, rel=rel), f"TensorLogic {ours} vs PyTorch {theirs}"


def test_gpt(rng):
    data = prog_gpt.make_data(rng)
    config = prog_gpt.GPTConfig()
    theirs, ours = twins(rng, prog_gpt.build, config)
    (t_losses, t_val), (l_losses, l_val) = prog_gpt.train(torch, theirs, data), prog_gpt.train(tl, ours, data)
    close(l_losses[-1], t_losses[-1])  # the same batches: the trajectories follow each other
    close(l_val, t_val)


def test_gpt_sampling(rng):
    model = twin(prog_gpt.build(torch, prog_gpt.GPTConfig()), prog_gpt.build(tl, prog_gpt.GPTConfig()))
    tokens = prog_gpt.sample(tl, model)
    assert len(tokens) == 21 and all(0 <= t < 48 for t in tokens)


@pytest.mark.parametrize("kind", ["bigram", "mlp",
    "rnn", "gru", "bow", "transformer"])
def test_makemore(rng, kind):
    words = prog_makemore.make_words(rng)
    t_train, t_test = prog_makemore.datasets(torch, words)
    config = prog_makemore.ModelConfig(t_train.get_output_length(), t_train.get_vocab_size())
    theirs, ours = twins(rng, prog_makemore.build, kind, config)
    t_loss = prog_makemore.train(torch, theirs, t_train, t_test)[1]
    l_loss = prog_makemore.train(tl, ours, *prog_makemore.datasets(tl, words))[1]
    close(l_loss, t_loss)


def test_mnist_cnn(rng):
    data = prog_mnist.make_data(rng)
    theirs, ours = twins(rng, prog_mnist.build)
    # Dropout masks differ between the libraries. Measured on 8 data seeds (2026-12-05): one run of each
    # differed by up to 8.7% in test loss (PyTorch against itself with another seed: up to 5.3%; with dropout
    # off, TensorLogic against PyTorch: within 0.5% on 6 seeds); the mean of 3 seeds: within 3.8%. Over 80 data
    # seeds (2026-12-06) the means differed by 2.4% (root mean square; largest 6.5%): 10% was 4.1 of them, a false
    # failure about once in 30,000 runs were the difference normal; 13% is 5.4 (7e-8).
    def run(lib, model, seed):
        _, loss, acc = prog_mnist.train(lib, model, data, seed=seed)
        return loss, acc

    (t_loss, t_acc), (l_loss, l_acc) = (over_seeds(lib, model, run, (1, 2, 3)) for lib, model in
                                        ((torch, theirs), (tl, ours)))
    close(l_loss, t_loss, rel=0.13)
    assert abs(l_acc - t_acc) < 0.1, (l_acc, t_acc)


def test_vae(rng):
    data = prog_vae.make_data(rng)
    theirs, ours = twins(rng, prog_vae.build)
    # The reparameterisation noise and the shuffled batch order differ between the libraries. Measured on 12
    # data seeds (2026-12-05): one run of each differed by up to 9% (PyTorch against itself with another
    # seed: up to 8.9%; with the noise off, shuffling alone: up to 6.6%, and 5.2% PyTorch against itself);
    # the mean of 5 seeds: within 4.4%. Over 80 data seeds (2026-12-06) the means of the last losses differed by
    # 1.8% (root mean square; largest 4.7%), of the test losses by 2.5% (largest 7%): at 10%, 4 of them, a false
    # failure about once in 14,000 runs were the difference normal; 14% is 5.6 (3e-8).
    def run(lib, model, seed):
        losses, test = prog_vae.train(lib, model, data, seed=seed)
        return losses[-1], test

    (t_last, t_test), (l_last, l_test) = (over_seeds(lib, model, run, range(1, 6)) for lib, model in
                                          ((torch, theirs), (tl, ours)))
    close(l_last, t_last)
    close(l_test, t_test, rel=0.14)


@pytest.mark.parametrize("model", ["LSTM", "Transformer"])
def test_word_language_model(rng, model):
    lines = prog_word_lm.make_text(rng)
    t_corpus, l_corpus = prog_word_lm.corpus(torch, lines), prog_word_lm.corpus(tl, lines)
    theirs, ours = twins(rng, prog_word_lm.build, len(t_corpus.dictionary), model=model)
    # The Transformer variant (SGD at lr 5) amplifies any difference: with every dropout off, PyTorch float32
    # started from weights moved by one f16 rounding (relative 2^-11) ends up to 21% away from itself, and
    # TensorLogic up to 18% (2026-12-05); with dropout, one run of each differed by up to 30% over 32 data
    # seeds (standard deviation 12%), the mean of 5 seeds by up to 9.5% (standard deviation 4%), so 10 seeds
    # are averaged. Over 150 data seeds (2026-12-06) their means differed by 2.75% (standard deviation; mean 0.1%,
    # largest 8.6%): 10% was 3.6 of them, a false failure about once in 4,000 runs; 15% is 5.4 (5e-8 were the
    # difference normal). The LSTM variant agrees within 0.1% in one run.
    seeds = (1,) if model == "LSTM" else range(1, 11)
    t_val, l_val = (over_seeds(lib, net, lambda lib, m, seed: prog_word_lm.train(lib, m, corpus, seed=seed)[1], seeds)
                    for lib, net, corpus in ((torch, theirs, t_corpus), (tl, ours, l_corpus)))
    close(l_val, t_val, rel=0.1 if model == "LSTM" else 0.15)


# The example builds its features with torch.from_numpy, which is on the CPU in both libraries, and its
# model on the default device, which is the GPU here when there is one (SPEC §3): it runs on the CPU.
def test_regression(rng, cpu_default):
    # The oracle is PyTorch in f16 on the same f16 inputs: with x^4 features the problem is ill-conditioned, and
    # f16's rounding of the outputs (~8e-3 at outputs near 8) sets the loss floor, which float32 PyTorch runs
    # under by up to 2x on some seeds (e.g. 0.0097 against 0.0181 with TL_TEST_SEED=1463339330) and where a
    # large-x batch can kick the f16 weights off it for a few steps (2755781305). Against PyTorch f16 the last
    # losses agreed within 2.8e-5 relative over 2,703 seeds (2026-12-06).
    w_target = (rng.standard_normal((prog_regression.POLY_DEGREE, 1)) * 0.5).astype(np.float16)
    b_target = (rng.standard_normal(1) * 0.5).astype(np.float16)
    batches = [rng.standard_normal(32).astype(np.float16) for _ in range(150)]
    theirs, ours = twins(rng, prog_regression.build)
    t_losses, t_desc = prog_regression.train(torch, theirs.half(), w_target, b_target, batches)
    l_losses, l_desc = prog_regression.train(tl, ours, w_target, b_target, batches)
    ours, theirs = np.mean(l_losses[-10:]), np.mean(t_losses[-10:])
    assert ours == pytest.approx(theirs, rel=1e-3), f"{ours} vs {theirs}"
    assert l_desc.startswith("y = ") and l_desc.count("x^") == 4


def test_regression_stops_like_the_example(rng, cpu_default):  # from_numpy data, as test_regression
    """The example's own loop (lr 0.1, targets drawn with scale 5, stop when one batch's loss < 1e-3) stops in
    f16 as in float32: over 30 seeds (2026-12-05) TensorLogic stopped after 278-795 batches, PyTorch after
    270-1204 (the stop comes from a batch of small x while the fit is still rough, so the count is random).
    5000 batches bound the loop here."""
    w_target = (rng.standard_normal((prog_regression.POLY_DEGREE, 1)) * 5).astype(np.float16).astype(np.float32)
    b_target = (rng.standard_normal(1) * 5).astype(np.float16).astype(np.float32)
    tl.manual_seed(int(rng.integers(1 << 30)))
    theirs, ours = twins(rng, prog_regression.build)
    for lib, model in ((torch, theirs), (tl, ours)):
        loss, batches, desc = prog_regression.fit(lib, model, lib.from_numpy(w_target), lib.from_numpy(b_target),
                                                  range(1, 5001))
        assert loss < 1e-3, f"{lib.__name__}: loss {loss} after {batches} batches"
        assert desc.startswith("y = ") and desc.count("x^") == 4


def test_cifar_tutorial_cnn(rng, tmp_path):
    data = prog_cifar.make_data(rng)
    theirs, ours = twins(rng, prog_cifar.build)
    _, t_loss, t_acc = prog_cifar.train(torch, theirs, data, tmp_path / "torch.pth")
    _, l_loss, l_acc = prog_cifar.train(tl, ours, data, tmp_path / "tl.pth")
    close(l_loss, t_loss)


def test_mingpt_sort(rng):
    inputs = prog_mingpt.make_inputs(rng)
    theirs, ours = twins(rng, prog_mingpt.build, prog_mingpt.model_config())
    (t_losses, t_test, _), (l_losses, l_test, l_acc) = (prog_mingpt.train(lib, model, inputs, random_order=False)
                                                        for lib, model in ((torch, theirs), (tl, ours)))
    # The same batches in both; AdamW at lr 5e-3 makes the runs chaotic after a few steps. Over 151 data seeds
    # (2026-12-06) the first 3 losses agreed within 0.17%, as PyTorch from weights moved by one f16 rounding
    # followed itself (0.19%); from the 4th step on PyTorch parted from itself by more than 1% on some seeds (3.8%
    # at the 4th once, 7.3% by the 6th), and ours from PyTorch (the mean of the first 10 losses, compared at 2%
    # before: up to 1.7%, and 3.3% with seed 60076, where three moved PyTorch runs parted by up to 6.8%). The
    # means over all 20 steps differed by up to 12.3% (PyTorch from itself: 13%).
    np.testing.assert_allclose(l_losses[:3], t_losses[:3], rtol=0.01)
    close(np.mean(l_losses), np.mean(t_losses), rel=0.25)
    # The test loss after the chaotic last steps only has to show learning (0.58 against PyTorch's 0.34 once).
    assert np.isfinite(l_test) and l_test < l_losses[0] and t_test < t_losses[0]
    assert 0 <= l_acc <= 1
    tokens = prog_mingpt.sample(tl, ours)
    assert len(tokens) == 11 and tokens[:6] == [2, 0, 1, 1, 0, 2] and all(0 <= t < 3 for t in tokens)


def test_mingpt_random_sampler(rng):
    """The Trainer as minGPT has it: batches drawn by a RandomSampler with replacement."""
    inputs = prog_mingpt.make_inputs(rng)
    model = prog_mingpt.build(tl, prog_mingpt.model_config())
    losses, test, _ = prog_mingpt.train(tl, model, inputs, max_iters=10)
    assert len(losses) == 10 and losses[-1] < losses[0] and np.isfinite(test)


def test_dcgan(rng):
    data = prog_dcgan.make_data(rng)
    theirs, ours = twins(rng, prog_dcgan.build)
    # The same batches and noise: the two networks' losses follow each other (the mean of the last 4 steps
    # within 5% over 10 seeds, 2026-12-05).
    (t_errs, _, t_judged, _), (l_errs, l_stats, l_judged, fake) = (prog_dcgan.train(lib, nets, data, shuffle=False)
                                                                   for lib, nets in ((torch, theirs), (tl, ours)))
    for ours_, theirs_ in zip(l_errs[-4:].mean(0), t_errs[-4:].mean(0)):
        close(ours_, theirs_)
    close(l_judged, t_judged)
    assert fake.shape == (64, 1, 16, 16) and np.abs(fake).max() <= 1 and all(0 < p < 1 for p in l_stats)


def test_super_resolution(rng):
    data = prog_super_resolution.make_data(rng)
    theirs, ours = twins(rng, prog_super_resolution.build)
    moved = copy.deepcopy(theirs)  # PyTorch from weights moved by one f16 rounding (2^-11 relative, random signs)
    with torch.no_grad():
        for p in moved.parameters():
            p.mul_(torch.tensor(1 + 2.0**-11 * rng.choice([-1.0, 1.0], tuple(p.shape)), dtype=p.dtype))
    (t_losses, t_psnr), (l_losses, l_psnr), (m_losses, m_psnr) = (
        prog_super_resolution.train(lib, model, data, shuffle=False)
        for lib, model in ((torch, theirs), (tl, ours), (torch, moved)))
    # Adam at lr 0.01 makes some initialisations chaotic: for one seed (2022934021) PyTorch's own run from weights
    # moved by one f16 rounding ended up to 8.4% away (by the moves' signs) and ours 13.6%; over 40 other seeds ours
    # stayed within 1.9%. So the tolerance is 15% or twice this run's PyTorch drift, whichever is larger.
    drift = abs(m_losses[-1] / t_losses[-1] - 1)
    close(l_losses[-1], t_losses[-1], rel=max(0.15, 2 * drift))
    # PSNR in decibels: 2% is about 0.3 dB; that seed's ours was 4.3% (0.49 dB) below PyTorch's, so 5% there
    close(l_psnr, t_psnr, rel=max(0.05, 2 * abs(m_psnr / t_psnr - 1)))


def _time_sequence_step(rng):
    data = prog_time_sequence.make_data(rng)
    theirs, ours = twins(rng, prog_time_sequence.build)
    return [prog_time_sequence.train(lib, model, data, steps=1) for lib, model in ((torch, theirs), (tl, ours))]


def test_time_sequence_prediction(rng):
    (t_losses, t_test, _), (l_losses, l_test, future) = _time_sequence_step(rng)
    # LBFGS without a line search (the example's) makes the trajectory chaotic from its first step on: over 329
    # seeds (2026-12-06) the two evaluations before it agreed within 4e-4 of PyTorch float64's, the third (after
    # the first step, through 1,000 f16 LSTM steps) differed by up to 20%, and losses spiked to 50-230 in both
    # libraries in some runs. The steps may also overshoot to errors beyond f16's range (seen: a mean squared
    # error of 1e7 mid-step, which PyTorch in float64 recovers from), so only one step of 20 evaluations is run
    # (the example runs 15).
    for ours_, theirs_ in zip(l_losses[:2], t_losses[:2]):
        close(ours_, theirs_, rel=0.02)
    # When PyTorch's step learned (its test loss below half its first loss), ours must have too, unless its own
    # step overshot (a loss above 10x its first), as PyTorch float64's does on about 1 seed in 30; then ours must
    # learn on a second draw of data and weights (one seed in 329 overshot without learning, 2026-12-06).
    if not (l_test[-1] < 0.5 * l_losses[0] or t_test[-1] >= 0.5 * t_losses[0]):
        assert max(l_losses) > 10 * l_losses[0], (t_test, l_test, l_losses)
        (t_losses, t_test, _), (l_losses, l_test, future) = _time_sequence_step(rng)
        assert l_test[-1] < 0.5 * l_losses[0] or t_test[-1] >= 0.5 * t_losses[0], (t_test, l_test)
    assert future.shape == (3, 49)
    # Where PyTorch's float64 step itself overshot past f16's range (a loss of 1.2e9 with seed 1353923703), ours
    # is inf there and NaN from then on, as any f16 run must be; otherwise the prediction is finite.
    if max(t_losses) <= np.finfo(np.float16).max:
        assert np.isfinite(future).all()


@pytest.mark.parametrize("kind", ["reinforce", "actor_critic"])
def test_policy_gradient(rng, monkeypatch, kind):
    """The two libraries draw different actions, and one run's rewards vary more than the libraries differ (the
    mean reward of the last 20 of 60 episodes over 10 seeds, 2026-12-05: 6.7 and 6.8 for REINFORCE, 5.9 and
    5.6 for actor-critic, one run's standard deviation about 1.1). So the actions are replayed from one numpy
    draw in both, and the losses of the updates both made from the same weights must follow each other (see
    replayed.py). Over 150 seeds of each kind (2026-12-06) they did within 0.34% of the run's largest loss
    (REINFORCE: all 10 updates in 122 seeds, only the first in 10; actor-critic: 120 and 13); over all 10
    updates the losses differed by up to 3%."""
    actions = rng.integers(0, 2, 1000)
    models = twins(rng, prog_reinforce.build, kind)
    ((_, t_losses, _), (_, l_losses, _)), steps = run_replayed(monkeypatch, prog_reinforce.train, models,
                                                               actions.tolist(), batched=True, episodes=10)
    assert_updates_follow(steps, l_losses, t_losses, lr=3e-2)


def test_policy_gradient_samples(rng):
    model = prog_reinforce.build(tl, "actor_critic")
    rewards, losses, running = prog_reinforce.train(tl, model, episodes=10, seed=int(rng.integers(1 << 20)))
    assert all(0 <= r <= 10 for r in rewards) and np.isfinite(losses).all() and 0 < running < 10


def test_siamese(rng):
    data = prog_siamese.make_data(rng)
    theirs, ours = twins(rng, prog_siamese.build)
    start = {k: v.clone() for k, v in ours.state_dict().items()}
    (t_losses, t_test, t_acc), (l_losses, l_test, l_acc) = (prog_siamese.train_pairs(lib, model, data, shuffle=False)
                                                            for lib, model in ((torch, theirs), (tl, ours)))
    close(np.mean(l_losses[-4:]), np.mean(t_losses[-4:]))
    close(l_test, t_test)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().astype(np.float32)) for k, v in start.items()})
    ours.load_state_dict(start)
    (t_losses, t_acc, t_dist), (l_losses, l_acc, l_dist) = (
        prog_siamese.train_triplets(lib, model, data, shuffle=False) for lib, model in ((torch, theirs), (tl, ours)))
    close(np.mean(l_losses[-4:]), np.mean(t_losses[-4:]))
    assert abs(l_acc - t_acc) <= 0.1 and l_acc > 0.6, (l_acc, t_acc)
    close(l_dist.mean(), t_dist.mean())


@pytest.mark.parametrize("message_passing", [False, True])
def test_gcn(rng, message_passing):
    graph = prog_gcn.make_graph(rng)
    # Dropout off in the compared runs (the libraries draw different masks); then one run of ours with it on.
    theirs, ours = twins(rng, prog_gcn.build, dropout=0.0, message_passing=message_passing)
    start = {k: v.clone() for k, v in ours.state_dict().items()}
    (t_losses, t_val, t_test, t_acc), (l_losses, l_val, l_test, l_acc) = (
        prog_gcn.train(lib, model, graph, message_passing=message_passing)
        for lib, model in ((torch, theirs), (tl, ours)))
    # Over 80 runs the last losses agreed within 1.5%, but one (seed 3981195047, message passing) drifted steadily
    # from epoch 10 on to 12% (the first gradients equal in sign everywhere): rel 0.15.
    close(l_losses[-1], t_losses[-1], rel=0.15)
    close(l_val, t_val, rel=0.15)
    close(l_test, t_test, rel=0.15)
    assert abs(l_acc - t_acc) <= 0.05 + 1e-9  # two of the 40 test nodes (0.875 - 0.825 is 0.050000000000000044)
    ours.load_state_dict(start)
    ours.dropout = 0.5
    losses, _, test, _ = prog_gcn.train(tl, ours, graph, message_passing=message_passing)
    assert np.isfinite(test) and losses[-1] < losses[0]


def test_fast_neural_style(rng):
    data = prog_fast_style.make_data(rng)
    theirs, ours = twins(rng, prog_fast_style.build)
    (t_losses, t_img), (l_losses, l_img) = (prog_fast_style.train(lib, nets, data, shuffle=False)
                                            for lib, nets in ((torch, theirs), (tl, ours)))
    for ours_, theirs_ in zip(l_losses[-1], t_losses[-1]):  # content, style, total
        close(ours_, theirs_)
    # The losses follow each other but the weights drift apart along directions the losses barely see: the
    # stylised image differed by up to 10% of its largest value (2026-12-05), so only its shape and range here.
    assert l_img.shape == t_img.shape == (3, 16, 16) and np.isfinite(l_img).all() and 0 <= l_img.min()
    assert not any(p.requires_grad for p in ours["vgg"].parameters())
