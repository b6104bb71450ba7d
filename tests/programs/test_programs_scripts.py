"""Whole training scripts as their users run them (nanoGPT's train.py and sample.py, ...; tests/programs/prog_*.py),
run with PyTorch and with TensorLogic from the same f16-rounded initial weights on the same synthetic data, as
test_programs.py does. Where a script draws its batches with torch.randint, both libraries' randint is replaced by
one numpy draw (the libraries draw differently), as replayed.py replays sampled actions; the script's own randint
runs in a run of ours alone."""
import json
import multiprocessing
import os
import re

import numpy as np
import pytest
import torch

import tensorlogic as tl
from test_programs import close, twins

try:
    import tensorboardX
    from tensorboardX.proto.event_pb2 import Event
except ImportError:  # the tensorboard extra
    tensorboardX = None

import prog_gpt
import prog_hogwild
import prog_makemore
import prog_makemore_script
import prog_mingpt
import prog_mingpt_adder
import prog_nanogpt_train

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")


def replay_randperm(monkeypatch, lib, seed):
    """lib.randperm(n) drawn by a numpy Generator of `seed` (calls with more arguments, such as a DataLoader's
    shuffling with its generator, are the library's own)."""
    draws, own = np.random.default_rng(seed), lib.randperm
    monkeypatch.setattr(lib, "randperm", lambda n, **kwargs: own(n, **kwargs) if kwargs else
                        lib.tensor(draws.permutation(n)))


def scalars(log_dir):
    """The scalars of the TensorBoard event files in `log_dir` as {tag: [(step, value)]}, read by their record
    framing (length, its CRC, the Event, its CRC)."""
    found = {}
    for name in sorted(os.listdir(log_dir)):
        if not name.startswith("events.out.tfevents"):
            continue
        data = open(os.path.join(log_dir, name), "rb").read()
        at = 0
        while at < len(data):
            length = int.from_bytes(data[at:at + 8], "little")
            event = Event.FromString(data[at + 12:at + 12 + length])
            at += 12 + length + 4
            for value in event.summary.value:
                found.setdefault(value.tag, []).append((event.step, value.simple_value))
    return found


def replay_randint(monkeypatch, lib, seed):
    """lib.randint(high, size) drawn by a numpy Generator of `seed` (the form nanoGPT's get_batch calls)."""
    draws = np.random.default_rng(seed)
    monkeypatch.setattr(lib, "randint", lambda high, size: lib.tensor(draws.integers(0, high, size)))


def test_nanogpt_train_script(rng, tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    prog_nanogpt_train.prepare(rng, str(data_dir))
    gpt_config = dict(vocab_size=40, bias=False)
    torch.manual_seed(int(rng.integers(1 << 30)))
    theirs = prog_gpt.build(torch, prog_gpt.GPTConfig(**gpt_config))
    with torch.no_grad():
        for t in theirs.state_dict().values():
            t.copy_(t.half().float())
    ours = prog_gpt.build(tl, prog_gpt.GPTConfig(**gpt_config))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    draw_seed = int(rng.integers(1 << 30))
    runs = {}
    for lib, model in ((torch, theirs), (tl, ours)):
        config = prog_nanogpt_train.default_config(str(tmp_path / lib.__name__), str(data_dir))
        prog_nanogpt_train.write_checkpoint(lib, model, config)  # keys prefixed '_orig_mod.', as a compiled model's
        config["init_from"] = "resume"
        replay_randint(monkeypatch, lib, draw_seed)
        log = []
        first = prog_nanogpt_train.train(lib, config, log)
        # resumed from the checkpoint the run saved at its last evaluation (iteration 10), four more iterations
        config["max_iters"] = 14
        replay_randint(monkeypatch, lib, draw_seed + 1)
        resumed = prog_nanogpt_train.train(lib, config)
        runs[lib] = first, resumed, log
    (t_first, t_resumed, _), (l_first, l_resumed, log) = runs[torch], runs[tl]
    # Over 12 data seeds (2026-12-06) the first 3 losses agreed within 0.03%, the mean of the 13 within 0.02%, the
    # evaluations within 0.06% (the validation loss falling from 3.7 to 2.8), the resumed run's mean within 0.02%.
    (t_losses, t_lrs, t_evals, _), (l_losses, l_lrs, l_evals, l_start) = t_first, l_first
    np.testing.assert_allclose(l_lrs, t_lrs, rtol=1e-12)
    np.testing.assert_allclose(l_losses[:3], t_losses[:3], rtol=0.01)
    close(np.mean(l_losses), np.mean(t_losses), rel=0.01)
    np.testing.assert_allclose(l_evals, t_evals, rtol=0.01)
    assert l_start == 0 and log[1] == f"step 0: train loss {l_evals[0][0]:.4f}, val loss {l_evals[0][1]:.4f}"
    assert any(line.startswith("saving checkpoint") for line in log)
    (t_losses, t_lrs, _, t_start), (l_losses, l_lrs, _, l_start) = t_resumed, l_resumed
    assert l_start == t_start == 10 and len(l_losses) == 5
    np.testing.assert_allclose(l_lrs, t_lrs, rtol=1e-12)
    close(np.mean(l_losses), np.mean(t_losses), rel=0.01)
    # sample.py from the resumed run's checkpoint: the same seed gives the same text
    out_dir = str(tmp_path / "tensorlogic")
    samples = prog_nanogpt_train.sample(tl, out_dir, str(data_dir))
    assert samples == prog_nanogpt_train.sample(tl, out_dir, str(data_dir))
    assert all(len(s) == 21 and s[0] == "!" and all("!" <= ch < chr(ord("!") + 40) for ch in s) for s in samples)


def test_nanogpt_train_script_draws_its_batches(rng, tmp_path):
    """train.py as it is, get_batch drawing with our torch.randint, from scratch, then compiled: it learns."""
    data_dir = str(tmp_path / "data")
    prog_nanogpt_train.prepare(rng, data_dir)
    config = prog_nanogpt_train.default_config(str(tmp_path / "out"), data_dir)
    config.update(max_iters=20, lr_decay_iters=20, eval_interval=20, compile=True)
    losses, _, evals, _ = prog_nanogpt_train.train(tl, config)
    assert len(losses) == 21 and np.mean(losses[-5:]) < np.mean(losses[:5]) and evals[-1][1] < evals[0][1]
    assert os.path.exists(os.path.join(config["out_dir"], "ckpt.pt"))



def test_nanogpt_bench_profiles(rng, tmp_path, monkeypatch):
    """bench.py's profiled branch from the same f16 weights, the batches replayed: the same losses (AdamW at lr 1e-4:
    within 0.031% over 6 data seeds, 2026-12-06), one trace written for the recorded steps, FLOPs estimated."""
    data_dir = str(tmp_path / "data")
    prog_nanogpt_train.prepare(rng, data_dir)
    theirs, ours = twins(rng, prog_gpt.build, prog_gpt.GPTConfig(vocab_size=40, bias=False))
    draw_seed = int(rng.integers(1 << 30))
    runs = {}
    for lib, model in ((torch, theirs), (tl, ours)):
        replay_randint(monkeypatch, lib, draw_seed)
        runs[lib] = prog_nanogpt_train.bench(lib, model, data_dir, str(tmp_path / lib.__name__))
    (t_losses, t_prof), (l_losses, l_prof) = runs[torch], runs[tl]
    np.testing.assert_allclose(l_losses, t_losses, rtol=0.01)
    assert len(os.listdir(tmp_path / "tensorlogic")) == 1
    flops = {e.key: e.flops for e in l_prof.key_averages()}
    assert flops["tl::linear"] > 0 and "Total" in l_prof.key_averages().table(row_limit=5)

@pytest.fixture
def start_method():
    """Puts back the start method that a program sets with force=True."""
    before = multiprocessing.get_start_method(allow_none=True)
    yield
    multiprocessing.set_start_method(before, force=True)


def test_hogwild_one_process_follows_pytorch(rng, start_method):
    """One trainer (forked: the start method of Python 3.11 on Linux, and fast), dropout off, batches in order: its
    losses, reported through the Queue, follow PyTorch's same training in one process, and the parent's model, which
    only the child trained, tests as PyTorch's. SGD at lr 0.1 (the breakthrough from the ln 4 plateau comes within
    the 18 steps, so later losses are sensitive to rounding): over 30 data seeds (2026-12-06) the first 6 losses
    agreed within 0.08%, the means of all 18 within 0.5% (single late losses up to 7.7%), the test losses within
    7.6%, the accuracies within 4 of 64 test images (seed 4068583603: 8, with the test losses within 15%)."""
    data = prog_hogwild.make_data(rng)
    theirs, ours = twins(rng, prog_hogwild.build, dropout=0.0)
    args = prog_hogwild.args(num_processes=1, epochs=3)
    l_test, l_acc, [(rank, pid, l_losses)] = prog_hogwild.main(tl, args, ours, data, start_method="fork",
                                                               shuffle=False)
    (x_train, y_train), (x_test, y_test) = data
    t_losses = prog_hogwild.train(0, "torch", args, theirs, "cpu", torch.utils.data.TensorDataset(
        torch.from_numpy(x_train).float(), torch.from_numpy(y_train)), {"batch_size": args.batch_size})
    t_test, t_acc = prog_hogwild.test(torch, args, theirs, "cpu", torch.utils.data.TensorDataset(
        torch.from_numpy(x_test).float(), torch.from_numpy(y_test)), {"batch_size": args.test_batch_size})
    assert rank == 0 and pid != os.getpid() and len(l_losses) == len(t_losses) == 18
    np.testing.assert_allclose(l_losses[:6], t_losses[:6], rtol=0.01)
    close(np.mean(l_losses), np.mean(t_losses), rel=0.04)  # (seed 1017349168: 2.2%)
    close(l_test, t_test, rel=0.15)
    assert abs(l_acc - t_acc) <= 10 / 64, (l_acc, t_acc)


def test_hogwild(rng, start_method):
    """The example as it runs: two spawned trainers with dropout and shuffled batches update the shared weights at
    once; the parent's model has learned from both (over 20 data seeds, forked, 2026-12-06: the test loss fell from
    about 1.4 to 0.36 at worst, the accuracy was 0.86 at worst; at lr 0.2 some runs diverged)."""
    data = prog_hogwild.make_data(rng)
    model = prog_hogwild.build(tl, dropout=0.25)  # the example's 0.5 is too much for these narrow layers
    before, _ = prog_hogwild.test(tl, prog_hogwild.args(), model, "cpu", tl.utils.data.TensorDataset(
        tl.from_numpy(data[1][0]), tl.from_numpy(data[1][1])), {"batch_size": 64})
    test_loss, accuracy, reports = prog_hogwild.main(tl, prog_hogwild.args(), model, data)
    assert [rank for rank, _, _ in reports] == [0, 1] and len({pid for _, pid, _ in reports} | {os.getpid()}) == 3
    assert all(len(losses) == 30 and np.isfinite(losses).all() for _, _, losses in reports)
    assert test_loss < 0.5 * before and accuracy > 0.7, (before, test_loss, accuracy)


def test_makemore_script(rng, tmp_path, monkeypatch):
    """makemore.py resumed (--resume) from the same f16 weights in both libraries, the names split by one replayed
    randperm; the batches are drawn by each library's own sampler. Over 16 data seeds (2026-12-06) the evaluated
    train and test losses agreed within 3.5%, the means of the 81 step losses within 0.75%. The event file that
    the SummaryWriter wrote holds the evaluated losses."""
    if tensorboardX is None:
        pytest.skip("tensorboardX is not installed (the tensorboard extra)")
    words = prog_makemore.make_words(rng, n=400)
    names = tmp_path / "names.txt"
    names.write_text("\n".join(words) + "\n")
    config = prog_makemore.ModelConfig(max(len(w) for w in words) + 1, len(set("".join(words))) + 1)
    theirs, ours = twins(rng, prog_makemore.build, "transformer", config)
    split_seed = int(rng.integers(1 << 30))
    runs = {}
    for lib, model, writer, workers in ((torch, theirs, tensorboardX.SummaryWriter, "0"), (tl, ours, None, "4")):
        work_dir = tmp_path / lib.__name__
        work_dir.mkdir()
        lib.save(model.state_dict(), str(work_dir / "model.pt"))
        replay_randperm(monkeypatch, lib, split_seed)
        log = []
        runs[lib] = prog_makemore_script.main(lib, ["-i", str(names), "-o", str(work_dir), "--resume", "--max-steps", "81",
                                                    "--top-k", "5", "-n", workers], summary_writer=writer, log=log)
    (_, t_losses, t_evals, _), (model, l_losses, l_evals, l_samples) = runs[torch], runs[tl]
    close(np.mean(l_losses), np.mean(t_losses), rel=0.02)
    assert [step for step, _, _ in l_evals] == [20, 40, 60, 80]
    np.testing.assert_allclose(np.array(l_evals)[:, 1:], np.array(t_evals)[:, 1:], rtol=0.06)
    logged = scalars(str(tmp_path / "tensorlogic"))
    assert logged["Loss/test"] == [(step, pytest.approx(test, rel=1e-6)) for step, _, test in l_evals]
    assert logged["Loss/train"] == [(step, pytest.approx(train, rel=1e-6)) for step, train, _ in l_evals]
    assert any(line.startswith("step 0 | loss ") for line in log) and "resuming from existing model in the workdir" in log
    # --sample-only from the best model saved: 50 words over the names' letters, sorted into train, test and new
    _, _, _, [(train, test, new)] = prog_makemore_script.main(tl, ["-i", str(names), "-o", str(tmp_path / "tensorlogic"),
                                                                   "--sample-only", "--top-k", "5"])
    letters = set("".join(words))
    assert len(train) + len(test) + len(new) == 50 and all(set(w) <= letters and len(w) < config.block_size
                                                            for w in train + test + new)
    assert all(w in words for w in train + test) and len(l_samples) == 2


def test_mingpt_adder(rng, tmp_path, monkeypatch):
    """minGPT's adder project from the same f16 weights in both libraries, the dataset's torch.randperm replayed (the
    Trainer's RandomSampler draws each library's own batches). Over 60 data seeds (2026-12-07) the means of the 61
    step losses differed by 1.9% (root mean square; largest 6.3%, and 2 of the 60 past the 5% this test first
    allowed, as CI's seed 1143566076 was at 5.03%): 10% is 5.3 of those. Then both evaluate our trained weights on
    the 500 test sums, greedily: the same score in all 12 seeds of 2026-12-06 (f16's rounding may break a near tie
    of two digits the other way)."""
    config = prog_mingpt.model_config(vocab_size=10, block_size=6)
    theirs, ours = twins(rng, prog_mingpt.build, config)
    perm_seed = int(rng.integers(1 << 30))
    runs = {}
    # PyTorch's DataLoader workers are processes (slow to start); ours, threads, run the script's 4
    for lib, model, workers in ((torch, theirs, 0), (tl, ours, 4)):
        monkeypatch.setattr(lib, "randperm", lambda n, generator=None, lib=lib: lib.tensor(
            np.random.default_rng(perm_seed).permutation(n)))  # the same for both splits, as the seeded Generator's
        runs[lib] = prog_mingpt_adder.main(lib, str(tmp_path / lib.__name__), [
            "--trainer.max_iters=61", "--system.seed=%d" % perm_seed, "--trainer.num_workers=%d" % workers], model=model)
    (t_losses, _, _, _), (l_losses, l_evals, log, (train_set, test_set)) = runs[torch], runs[tl]
    close(np.mean(l_losses), np.mean(t_losses), rel=0.10)
    assert [it for it, _, _ in l_evals] == [0, 30, 60] and len(l_losses) == 61
    written = json.loads((tmp_path / "tensorlogic" / "config.json").read_text())
    assert written["trainer"]["max_iters"] == 61 and written["system"]["seed"] == perm_seed
    assert written["trainer"]["num_workers"] == 4 and "trainer:\n" in log[0]
    scores = [line for line in log if "final score" in line]
    for line, (_, train, test) in zip(scores[0::2], l_evals):
        assert line == "train final score: %d/200 = %.2f%% correct" % (train, train / 2)
    claims = [re.fullmatch(r"GPT claims that (\d+) \+ (\d+) = (\d+) but gt is (\d+)", line) for line in log
              if line.startswith("GPT claims")]
    assert claims and all(c and int(c[1]) + int(c[2]) == int(c[4]) != int(c[3]) for c in claims)
    assert (tmp_path / "tensorlogic" / "model.pt").exists()
    theirs.load_state_dict({k: torch.tensor(v.numpy()).float() for k, v in ours.state_dict().items()})
    t_test_set = prog_mingpt_adder.addition_dataset(torch, prog_mingpt_adder.get_config("").data, "test")
    with torch.no_grad(), tl.no_grad():
        l_score = prog_mingpt_adder.eval_split(tl, ours.eval(), test_set, "cpu", [], "test")
        t_score = prog_mingpt_adder.eval_split(torch, theirs.eval(), t_test_set, "cpu", [], "test")
    assert abs(float(l_score) - float(t_score)) <= 5, (float(l_score), float(t_score))
