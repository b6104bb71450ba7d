"""Choosing the next token on the device the logits are on: greedy (argmax), or a draw from
softmax(logits / temperature) restricted to the top_k most likely tokens and to the smallest set whose
probability reaches top_p. Only the chosen ids (int64, one per row) come back to the host.

The draw is Gumbel-max: argmax(logits / temperature + g) with g = -log(-log(u)) independent per token picks
each token with exactly its softmax probability, and needs no cumulative sum over the vocabulary (an f16
prefix sum loses tokens whose probability is under its 2^-11 resolution near 1; in the log domain a rare
token keeps its weight). The uniforms come from tl's Philox stream (tl.manual_seed), which every device
reproduces bit for bit, with 22 bits of resolution near 0 so that the noise reaches the tail of the Gumbel
distribution (a token e^-15 times less likely than the best one can still be drawn)."""
from ..dtypes import float16
from ..ops.elementwise import clamp, log, log1p, where
from ..ops.indexing import gather
from ..ops.ordering import cumsum, sort, topk
from ..ops.random import manual_seed, randint
from ..ops.reduction import argmax
from ..ops.rows import softmax

_NEG_INF = float("-inf")


def gumbel_noise(shape, device):
    """Standard Gumbel noise (f16) drawn from tl's Philox stream: -log(-log1p(-w)) for w uniform on (0, 1]
    in steps of 2^-22 near 0 (two 11-bit integers: f16 cannot hold a 22-bit integer whole). Clamped below at
    -5 (a probability of 2e-65 under the true law) so that w = 1 never gives -inf."""
    high = randint(0, 2048, shape, device=device).to(float16)
    low = randint(1, 2049, shape, device=device).to(float16)
    w = high * 2.0**-11 + low * 2.0**-22
    return clamp(-log(-log1p(-w)), min=-5.0)


class Sampler:
    """temperature 0: greedy. Otherwise softmax(logits / temperature) over the top_k most likely tokens (0:
    all; tokens tied with the k-th stay) and the smallest prefix of the tokens sorted by probability whose
    mass reaches top_p (the most likely one always stays), drawn on the logits' device. `seed` reseeds tl's
    random stream (tl.manual_seed) when the sampler is made, so a seed repeats its draws on every device;
    None draws from the stream as it stands."""

    def __init__(self, temperature=0.0, top_k=0, top_p=1.0, seed=None):
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        if not 0 < top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {top_p}")
        if top_k < 0:
            raise ValueError(f"top_k must be >= 0, got {top_k}")
        self.temperature, self.top_k, self.top_p = float(temperature), int(top_k), float(top_p)
        if seed is not None:
            manual_seed(seed)

    def __call__(self, logits):
        """logits [B, vocab] (a device tensor) -> token ids, numpy int64 [B] (the only copy to the host)."""
        return self.sample(logits).numpy()

    def sample(self, logits):
        """logits [B, vocab] -> the chosen token ids, an int64 tensor [B] on the logits' device."""
        if self.temperature == 0:
            return argmax(logits, -1)
        # Shifting the best logit to 0 first keeps f16's finest steps for the tokens that can win.
        x = (logits - logits.max(-1, keepdim=True).values) / self.temperature
        keep = None
        if 0 < self.top_k < x.shape[-1]:
            keep = x >= topk(x, self.top_k, dim=-1).values[:, -1:]
        if self.top_p < 1:
            keep = self._top_p_mask(x, keep)
        scores = x + gumbel_noise(x.shape, x.device)
        return argmax(scores if keep is None else where(keep, scores, _NEG_INF), -1)

    def _top_p_mask(self, x, keep):
        """The tokens of the smallest most-likely-first prefix whose probability reaches top_p (within `keep`):
        a token stays while the mass sorted before it is under top_p, so the first always does; every token
        as likely as the last one kept stays too (the mask is a threshold on the probability)."""
        p = softmax(x if keep is None else where(keep, x, _NEG_INF), -1)
        ranked = sort(p, -1, descending=True).values
        kept = ((cumsum(ranked, -1) - ranked) < self.top_p).sum(-1, keepdim=True)
        within = p >= gather(ranked, -1, kept - 1)
        return within if keep is None else keep & within
