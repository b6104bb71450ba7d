"""Choosing the next token on the device the logits are on: greedy (argmax), or a draw from
softmax(logits / temperature) restricted to the top_k most likely tokens and to the smallest set whose
probability reaches top_p. Only the chosen ids (int64, one per row) come back to the host.

The draw is Gumbel-max: argmax(logits / temperature + g) with g = -log(-log(u)) independent per token picks
each token with exactly its softmax probability, and needs no cumulative sum over the vocabulary (an f16
prefix sum loses tokens whose probability is under its 2^-11 resolution near 1; in the log domain a rare
token keeps its weight). The uniforms come from tl's Philox stream (tl.manual_seed), which every device
reproduces bit for bit, with 22 bits of resolution near 0 so that the noise reaches the tail of the Gumbel
distribution (a token e^-15 times less likely than the best one can still be drawn)."""
from ..creation import arange
from ..dtypes import float16
from ..ops.elementwise import clamp, log, log1p, where
from ..ops.indexing import gather
from ..ops.ordering import cumsum, sort
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
    all) and the smallest prefix of the tokens ranked by probability whose mass reaches top_p (the most
    likely one always stays; equal logits rank by index, as argmax takes the first), drawn on the logits'
    device. `seed` reseeds tl's
    random stream (tl.manual_seed) when the sampler is made, so a seed repeats its draws on every device;
    None draws from the stream as it stands."""

    def __init__(self, temperature=0.0, top_k=0, top_p=1.0, seed=None):
        if not 0 <= temperature < float("inf"):  # NaN too: it made every probability NaN and drew token 0
            raise ValueError(f"temperature must be a finite number >= 0, got {temperature}")
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
        vocab = logits.shape[-1]
        count = self.top_k if 0 < self.top_k < vocab else vocab
        if count == vocab and self.top_p == 1:
            return argmax(self._noisy(logits), -1)
        # With a top-k or top-p limit the draw runs over the logits ranked best first (a stable sort, so equal
        # logits keep their order, as argmax takes the first): the limits are then a prefix of ranks, and
        # top_k=1 or a tiny top_p is exactly greedy even where logits tie.
        ranked = sort(logits, -1, descending=True)
        rank = arange(vocab, device=logits.device)
        keep = rank < count
        if self.top_p < 1:
            x = (ranked.values - ranked.values[:, :1]) / self.temperature
            p = softmax(where(keep, x, _NEG_INF), -1)
            keep = keep & ((cumsum(p, -1) - p) < self.top_p)  # the mass ranked before a token is under top_p
        chosen = argmax(where(keep, self._noisy(ranked.values), _NEG_INF), -1, keepdim=True)
        return gather(ranked.indices, -1, chosen).squeeze(-1)

    def _noisy(self, logits):
        """logits / temperature + Gumbel noise, whose argmax is a draw from softmax(logits / temperature). The
        best logit is shifted to 0 first, which keeps f16's finest steps for the tokens that can win."""
        x = (logits - logits.max(-1, keepdim=True).values) / self.temperature
        return x + gumbel_noise(x.shape, x.device)
