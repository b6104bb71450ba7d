"""Hugging Face checkpoints of each architecture: our logits against transformers' (float32 over the same
f16-rounded weights) for prefill and for every decoding step with the cache, batched left-padded prompts
row by row, and greedy generations token for token."""
import os
import secrets

import numpy as np
import pytest
import tiny

import tensorlogic as tl
from tensorlogic import models
from tensorlogic.models.cache import KVCache
from tensorlogic.models.decoder import positions_for

KINDS = ["llama", "llama_bias_tied", "mistral", "qwen2", "gpt2"]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """kind -> (folder, reference model), built once with a fresh seed (printed; TL_TEST_SEED replays one)."""
    seed = int(os.environ.get("TL_TEST_SEED", secrets.randbits(31)))
    print(f"checkpoint seed={seed}")
    out = {}
    for i, kind in enumerate(KINDS):
        folder = tmp_path_factory.mktemp(kind)
        out[kind] = (str(folder), tiny.build(kind, seed + i, folder))
    return out


def assert_logits_close(ours, ref):
    ours = np.asarray(ours, dtype=np.float64)
    assert ours.shape == ref.shape
    err, scale = np.abs(ours - ref).max(), np.abs(ref).max()
    assert err <= 1e-2 * max(scale, 1.0), f"max |diff| {err:.4g} against logits up to {scale:.4g}"


def run(model, ids, pads=None, decode_from=None):
    """Logits [B, L, V] of ids [B, L]: a prefill of the first decode_from tokens (all by default), then one
    decoding step per remaining token."""
    b, n = ids.shape
    pads = pads or [0] * b
    first = decode_from or n
    cache = KVCache(model.config, b, n, model.device, pads)
    positions = positions_for(pads, n)
    with tl.no_grad():
        out = [model(tl.tensor(ids[:, :first].astype(np.int32), device=model.device), cache,
                     tl.tensor(positions[:, :first], device=model.device)).cpu().numpy()]
        for i in range(first, n):
            out.append(model(tl.tensor(ids[:, i:i + 1].astype(np.int32), device=model.device), cache,
                             tl.tensor(positions[:, i:i + 1], device=model.device)).cpu().numpy())
    return np.concatenate(out, axis=1)


@pytest.mark.parametrize("kind", KINDS)
def test_prefill_and_decode_logits(kind, checkpoints, device, rng):
    folder, ref = checkpoints[kind]
    model = models.load_model(folder, device)
    ids = rng.integers(3, 96, (2, 11))
    expected = tiny.reference_logits(ref, ids)
    assert_logits_close(run(model, ids), expected)
    assert_logits_close(run(model, ids, decode_from=4), expected)


@pytest.mark.parametrize("kind", ["llama", "qwen2", "gpt2"])
def test_left_padded_batch_matches_each_row(kind, checkpoints, device, rng):
    folder, ref = checkpoints[kind]
    model = models.load_model(folder, device)
    lengths, n = [9, 5, 7], 9
    ids = np.zeros((3, n + 3), dtype=np.int64)
    rows = [rng.integers(3, 96, length + 3) for length in lengths]
    for r, row in enumerate(rows):
        ids[r, n - lengths[r]:] = row
    ours = run(model, ids, pads=[n - length for length in lengths], decode_from=n)
    for r, row in enumerate(rows):
        assert_logits_close(ours[r:r + 1, n - lengths[r]:], tiny.reference_logits(ref, row[None]))


def assert_greedy(ref, prompt, tokens):
    """Each token is the argmax of transformers' float32 logits after the prompt and the tokens before it
    (so its greedy generation is the same), or within the f16 tolerance of assert_logits_close of it (a
    near-tie, after which the two may part ways)."""
    logits = tiny.reference_logits(ref, [list(prompt) + tokens])[0, len(prompt) - 1:-1]
    for i, (row, token) in enumerate(zip(logits, tokens)):
        gap = row.max() - row[token]
        assert gap <= 1e-2 * max(np.abs(row).max(), 1.0), f"token {i}: {token} chosen, {row.argmax()} is {gap:.3g} more"


@pytest.mark.parametrize("kind", KINDS)
def test_greedy_generation_matches_transformers(kind, checkpoints, device, rng):
    folder, ref = checkpoints[kind]
    model = models.load_model(folder, device)
    prompts = [list(rng.integers(3, 96, 6)), list(rng.integers(3, 96, 3))]
    result = models.generate(model, prompts, 10)
    for prompt, tokens in zip(prompts, result.tokens):
        assert len(tokens) == 10
        assert_greedy(ref, prompt, tokens)


def test_sampling_is_seeded_and_respects_top_k(checkpoints, device):
    model = models.load_model(checkpoints["llama"][0], device)
    prompts = [[5, 6, 7], [8, 9]]

    def sample(seed, **kw):
        return models.generate(model, prompts, 12, models.Sampler(temperature=1.5, seed=seed, **kw)).tokens

    assert sample(7) == sample(7)
    assert sample(7) != sample(8)
    greedy = models.generate(model, prompts, 12).tokens
    assert sample(3, top_k=1) == greedy
    assert sample(4, top_p=1e-6) == greedy


def test_stop_tokens_and_streaming(checkpoints, device):
    model = models.load_model(checkpoints["qwen2"][0], device)
    prompts = [[4, 5, 6], [7, 8]]
    unstopped = models.generate(model, prompts, 10)
    full = unstopped.tokens
    assert unstopped.decode_steps == 9 and unstopped.decode_tokens_per_second > 0
    stop = full[0][3]
    seen = []
    result = models.generate(model, prompts, 10, stop_tokens=[stop], callback=lambda r, t: seen.append((r, t)))
    # A stopped row stays in the batch (generate only stops emitting it), so every step computes what the full
    # run computed: each row is the full run's up to its own first stop token (row 1 may stop before row 0).
    assert result.tokens == [toks[:toks.index(stop) + 1] if stop in toks else toks for toks in full]
    assert result.finished == [stop in toks for toks in full]
    # Decoding ends when every row has stopped: with no step at all when the stop token came first in both rows
    # (a random model's generation may repeat one token), so its rate is checked on the full run above.
    assert result.decode_steps == max(len(toks) for toks in result.tokens) - 1
    assert sorted(seen) == sorted((r, t) for r, toks in enumerate(result.tokens) for t in toks)
    assert result.prefill_tokens_per_second > 0
