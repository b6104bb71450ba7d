"""Generation: one prefill of every prompt (left-padded into one batch, each row with its own positions),
then one decoding step per token into the preallocated KV cache. Greedy decoding takes the argmax on the
device (only the token ids come back); sampling (temperature, top-k, top-p) reads each row's logits back
and draws on the host from a seeded numpy generator. Tokens go to a callback as they come."""
import time
from dataclasses import dataclass, field

import numpy as np

from ..autograd.grad_mode import no_grad
from ..ops.reduction import argmax
from ..tensor import Tensor
from .cache import KVCache
from .decoder import positions_for


@dataclass
class GenerationResult:
    tokens: list                 # per prompt, the generated ids (the stop token included when one ended it)
    prompt_tokens: int           # real (unpadded) prompt tokens over all rows
    prefill_seconds: float
    decode_steps: int = 0        # forwards after the prefill
    decode_seconds: float = 0.0
    finished: list = field(default_factory=list)  # per prompt, whether a stop token ended it

    @property
    def prefill_tokens_per_second(self):
        """Prompt tokens processed per second by the prefill (NaN when it took no time)."""
        return self.prompt_tokens / self.prefill_seconds if self.prefill_seconds else float("nan")

    @property
    def decode_tokens_per_second(self):
        """Tokens per second over every row of the batch (rows still generating, per step)."""
        made = sum(len(t) for t in self.tokens) - len(self.tokens)  # the first token of each row came from the prefill
        return made / self.decode_seconds if self.decode_seconds else float("nan")


class Sampler:
    """temperature 0: greedy. Otherwise softmax(logits / temperature) over the top_k most likely tokens (0:
    all) and the smallest set whose probability reaches top_p, drawn with numpy's generator of `seed`."""

    def __init__(self, temperature=0.0, top_k=0, top_p=1.0, seed=None):
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        if not 0 < top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {top_p}")
        if top_k < 0:
            raise ValueError(f"top_k must be >= 0, got {top_k}")
        self.temperature, self.top_k, self.top_p = float(temperature), int(top_k), float(top_p)
        self.rng = np.random.default_rng(seed)

    def __call__(self, logits):
        """logits [B, vocab] (a device tensor) -> token ids, numpy int64 [B]."""
        if self.temperature == 0:
            return argmax(logits, -1).numpy().astype(np.int64)
        x = logits.numpy().astype(np.float32) / self.temperature
        if 0 < self.top_k < x.shape[-1]:
            kth = np.partition(x, -self.top_k, axis=-1)[:, -self.top_k:].min(-1, keepdims=True)
            x = np.where(x < kth, -np.inf, x)
        p = np.exp(x - x.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        if self.top_p < 1:
            order = np.argsort(-p, axis=-1, kind="stable")
            sorted_p = np.take_along_axis(p, order, -1)
            # keep a token while the mass before it is under top_p (so the most likely one always stays)
            drop = (np.cumsum(sorted_p, -1) - sorted_p) >= self.top_p
            np.put_along_axis(p, order, np.where(drop, 0.0, sorted_p), -1)
            p /= p.sum(-1, keepdims=True)
        u = self.rng.random((p.shape[0], 1))
        return np.minimum((np.cumsum(p, -1) < u).sum(-1), p.shape[-1] - 1).astype(np.int64)


def generate(model, prompts, max_new_tokens=32, sampler=None, stop_tokens=(), callback=None):
    """Continues each prompt (a list of token ids) by up to max_new_tokens tokens; a row stops after
    emitting one of stop_tokens. callback(row, token_id) is called for each token as it is produced."""
    if not prompts or any(len(p) == 0 for p in prompts):
        raise ValueError("generate: every prompt needs at least one token")
    if max_new_tokens < 1:
        raise ValueError(f"generate: max_new_tokens must be >= 1, got {max_new_tokens}")
    sampler = sampler or Sampler()
    stop = set(int(t) for t in stop_tokens)
    batch, longest = len(prompts), max(len(p) for p in prompts)
    pads = [longest - len(p) for p in prompts]
    ids = np.zeros((batch, longest), dtype=np.int32)
    for row, p in enumerate(prompts):
        ids[row, pads[row]:] = p
    device = model.device
    cache = KVCache(model.config, batch, longest + max_new_tokens, device, pads)
    positions = positions_for(pads, longest)
    out = [[] for _ in range(batch)]
    done = [False] * batch

    def emit(tokens):
        for row, token in enumerate(tokens):
            if not done[row]:
                out[row].append(int(token))
                done[row] = int(token) in stop
                if callback is not None:
                    callback(row, int(token))

    with no_grad():
        start = time.perf_counter()
        logits = model(Tensor(ids, device=device), cache, Tensor(positions, device=device), last_only=True)
        tokens = sampler(logits[:, -1])
        result = GenerationResult(out, sum(len(p) for p in prompts), time.perf_counter() - start)
        emit(tokens)
        step_positions = Tensor(positions[:, -1:], device=device)
        start = time.perf_counter()
        for _ in range(max_new_tokens - 1):
            if all(done):
                break
            step_positions.add_(1)
            logits = model(Tensor(tokens.astype(np.int32).reshape(batch, 1), device=device), cache, step_positions)
            tokens = sampler(logits[:, -1])
            emit(tokens)
            result.decode_steps += 1
        result.decode_seconds = time.perf_counter() - start
    result.finished = done
    return result
