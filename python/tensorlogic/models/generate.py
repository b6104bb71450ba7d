"""Generation: one prefill of every prompt (left-padded into one batch, each row with its own positions),
then one decoding step per token into the preallocated KV cache. The sampler chooses each step's tokens on
the device (sampling.py); only their ids come back, to feed the callback and the stop tokens."""
import numbers
import time
from dataclasses import dataclass, field

import numpy as np

from ..autograd.grad_mode import no_grad
from ..creation import tensor
from .cache import KVCache
from .decoder import positions_for, sequence_limit
from .sampling import Sampler


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


def generate(model, prompts, max_new_tokens=32, sampler=None, stop_tokens=(), callback=None):
    """Continues each prompt (a list of token ids) by up to max_new_tokens tokens; a row stops after
    emitting one of stop_tokens. callback(row, token_id) is called for each token as it is produced."""
    if not prompts or any(len(p) == 0 for p in prompts):
        raise ValueError("generate: every prompt needs at least one token")
    vocab = model.config.vocab_size
    for row, p in enumerate(prompts):  # a tokenizer larger than the model's vocabulary: an IndexError deep inside
        for token in p:
            if isinstance(token, bool) or not isinstance(token, numbers.Integral) or not 0 <= token < vocab:
                raise ValueError(f"generate: token {token!r} of prompt {row} is not an id of the model's {vocab} "
                                 "tokens (is the tokenizer the model's own?)")
    if max_new_tokens < 1:
        raise ValueError(f"generate: max_new_tokens must be >= 1, got {max_new_tokens}")
    sampler = sampler or Sampler()
    stop = set(int(t) for t in stop_tokens)
    batch, longest = len(prompts), max(len(p) for p in prompts)
    limit = sequence_limit(model.config)
    if limit is not None and longest + max_new_tokens - 1 > limit[0]:  # refused before any token streams out
        raise ValueError(f"generate: a prompt of {longest} tokens and max_new_tokens={max_new_tokens} make "
                         f"{longest + max_new_tokens - 1}; {model.config.model_type} {limit[1]}")
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
        logits = model(tensor(ids, device=device), cache, tensor(positions, device=device), last_only=True)
        chosen = sampler.sample(logits[:, -1])
        result = GenerationResult(out, sum(len(p) for p in prompts), time.perf_counter() - start)
        emit(chosen.numpy())
        step_positions = tensor(positions[:, -1:], device=device)
        start = time.perf_counter()
        for _ in range(max_new_tokens - 1):
            if all(done):
                break
            step_positions.add_(1)
            logits = model(chosen.reshape(batch, 1), cache, step_positions)  # the ids stay on the device
            chosen = sampler.sample(logits[:, -1])
            emit(chosen.numpy())
            result.decode_steps += 1
        result.decode_seconds = time.perf_counter() - start
    result.finished = done
    return result
