"""Real-shaped PyTorch programs (tests/programs/prog_*.py, each written once against a module `torch`) run
with PyTorch and with TensorLogic from the same initial weights (PyTorch's, rounded to f16 and copied by
state_dict) on the same synthetic data; their final losses must agree within 10%. Where a program draws
random batches, dropout masks or noise, the two libraries draw differently, so the compared loss is one
averaged over a held-out set."""
import numpy as np
import pytest
import torch

import tensorlogic as tl

import prog_cifar
import prog_gpt
import prog_makemore
import prog_mnist
import prog_regression
import prog_vae
import prog_word_lm

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")


@pytest.fixture(autouse=True)
def one_torch_thread():
    """PyTorch's thread pool fights the other processes on a small CI machine; one thread keeps it quick."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def twin(torch_model, tl_model):
    """Rounds the PyTorch model's weights to f16 and loads the same values into the TensorLogic model."""
    with torch.no_grad():
        for t in torch_model.state_dict().values():
            if t.is_floating_point():
                t.copy_(t.half().float())
    tl_model.load_state_dict({k: v.numpy() for k, v in torch_model.state_dict().items()})
    return tl_model


def close(ours, theirs, rel=0.1):
    assert np.isfinite(ours) and ours == pytest.approx(theirs, rel=rel), f"TensorLogic {ours} vs PyTorch {theirs}"


def test_gpt(rng):
    data = prog_gpt.make_data(rng)
    config = prog_gpt.GPTConfig()
    torch.manual_seed(int(rng.integers(1 << 30)))
    theirs = prog_gpt.build(torch, config)
    ours = twin(theirs, prog_gpt.build(tl, config))
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
    torch.manual_seed(int(rng.integers(1 << 30)))
    theirs = prog_makemore.build(torch, kind, config)
    ours = twin(theirs, prog_makemore.build(tl, kind, config))
    t_loss = prog_makemore.train(torch, theirs, t_train, t_test)[1]
    l_loss = prog_makemore.train(tl, ours, *prog_makemore.datasets(tl, words))[1]
    close(l_loss, t_loss)


def test_mnist_cnn(rng):
    data = prog_mnist.make_data(rng)
    torch.manual_seed(int(rng.integers(1 << 30)))
    theirs = prog_mnist.build(torch)
    ours = twin(theirs, prog_mnist.build(tl))
    _, t_loss, t_acc = prog_mnist.train(torch, theirs, data)
    _, l_loss, l_acc = prog_mnist.train(tl, ours, data)
    # Dropout draws differ between the libraries: PyTorch against itself with another dropout seed differed
    # by up to 10% in test loss here (6 data seeds, 2026-12-05), so the bound is 20%.
    close(l_loss, t_loss, rel=0.2)
    assert abs(l_acc - t_acc) < 0.1, (l_acc, t_acc)


def test_vae(rng):
    data = prog_vae.make_data(rng)
    torch.manual_seed(int(rng.integers(1 << 30)))
    theirs = prog_vae.build(torch)
    ours = twin(theirs, prog_vae.build(tl))
    t_losses, t_test = prog_vae.train(torch, theirs, data)
    l_losses, l_test = prog_vae.train(tl, ours, data)
    # The reparameterisation noise differs between the libraries; over 6 data seeds (2026-12-05) PyTorch
    # against itself with another seed differed by up to 6%, TensorLogic against PyTorch by up to 13%
    # (either side of it), so the bound is 20%.
    close(l_losses[-1], t_losses[-1], rel=0.2)
    close(l_test, t_test, rel=0.2)


@pytest.mark.parametrize("model", ["LSTM", "Transformer"])
def test_word_language_model(rng, model):
    lines = prog_word_lm.make_text(rng)
    t_corpus = prog_word_lm.corpus(torch, lines)
    torch.manual_seed(int(rng.integers(1 << 30)))
    theirs = prog_word_lm.build(torch, len(t_corpus.dictionary), model=model)
    ours = twin(theirs, prog_word_lm.build(tl, len(t_corpus.dictionary), model=model))
    t_val = prog_word_lm.train(torch, theirs, t_corpus)[1]
    l_val = prog_word_lm.train(tl, ours, prog_word_lm.corpus(tl, lines))[1]
    # Dropout draws differ between the libraries; the Transformer variant is the more sensitive to them:
    # PyTorch against itself with another seed differed by up to 13% (6 data seeds, 2026-12-05).
    close(l_val, t_val, rel=0.1 if model == "LSTM" else 0.2)




# The example builds its features with torch.from_numpy, which is on the CPU in both libraries, and its
# model on the default device, which is the GPU here when there is one (SPEC §3): it runs on the CPU.
def test_regression(rng, cpu_default):
    w_target = (rng.standard_normal((prog_regression.POLY_DEGREE, 1)) * 0.5).astype(np.float32)
    b_target = (rng.standard_normal(1) * 0.5).astype(np.float32)
    batches = [rng.standard_normal(32).astype(np.float32) for _ in range(150)]
    torch.manual_seed(int(rng.integers(1 << 30)))
    theirs = prog_regression.build(torch)
    ours = twin(theirs, prog_regression.build(tl))
    t_losses, t_desc = prog_regression.train(torch, theirs, w_target, b_target, batches)
    l_losses, l_desc = prog_regression.train(tl, ours, w_target, b_target, batches)
    # The loss falls about a hundredfold; at its floor f16's rounding of the x^4 features moves the last
    # losses by more than 10% of themselves (seen: 0.0054 against 0.0063), so 1% of the first losses is
    # allowed as well.
    ours, theirs = np.mean(l_losses[-10:]), np.mean(t_losses[-10:])
    assert ours == pytest.approx(theirs, rel=0.1, abs=0.01 * np.mean(t_losses[:10])), f"{ours} vs {theirs}"
    assert l_desc.startswith("y = ") and l_desc.count("x^") == 4


def test_cifar_tutorial_cnn(rng, tmp_path):
    data = prog_cifar.make_data(rng)
    torch.manual_seed(int(rng.integers(1 << 30)))
    theirs = prog_cifar.build(torch)
    ours = twin(theirs, prog_cifar.build(tl))
    _, t_loss, t_acc = prog_cifar.train(torch, theirs, data, tmp_path / "torch.pth")
    _, l_loss, l_acc = prog_cifar.train(tl, ours, data, tmp_path / "tl.pth")
    close(l_loss, t_loss)
