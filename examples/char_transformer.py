"""A small character-level transformer (embedding, causal multi-head attention, layer norm, GELU MLP) trained
on examples/data/tiny_corpus.txt in f16 with AdamW and gradient clipping.

Run: python examples/char_transformer.py   (prints the loss at the start and end; the end loss is below
half of the start loss)"""
from pathlib import Path

import numpy as np
from tqdm import tqdm

import tensorlogic as tl
import tensorlogic.nn as nn
import tensorlogic.nn.functional as F

TEXT = Path(__file__).with_name("data") / "tiny_corpus.txt"


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x, mask):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class CharTransformer(nn.Module):
    def __init__(self, vocab, context, dim=64, heads=4, layers=2):
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim)
        self.positions = nn.Embedding(context, dim)
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(layers)])
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab)
        causal = np.triu(np.full((context, context), -65504.0, dtype=np.float16), 1)
        self.register_buffer("mask", tl.tensor(causal), persistent=False)

    def forward(self, idx):
        t = idx.shape[1]
        x = self.tokens(idx) + self.positions(tl.arange(t, dtype=tl.int32))
        mask = self.mask[:t, :t]
        for block in self.blocks:
            x = block(x, mask)
        return self.head(self.ln(x))


def main(steps=300, batch=16, context=32, seed=0, target_fraction=0.5):
    text = TEXT.read_text()
    chars = sorted(set(text))
    data = np.array([chars.index(c) for c in text], dtype=np.int32)
    rng = np.random.default_rng(seed)
    tl.manual_seed(seed)
    model = CharTransformer(len(chars), context)
    optimizer = tl.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    losses = []
    bar = tqdm(range(steps), desc="training")
    for _ in bar:
        starts = rng.integers(0, len(data) - context - 1, batch)
        x = np.stack([data[s:s + context] for s in starts])
        y = np.stack([data[s + 1:s + context + 1] for s in starts])
        logits = model(tl.tensor(x))
        loss = F.cross_entropy(logits.reshape(-1, len(chars)), tl.tensor(y.reshape(-1)))
        optimizer.zero_grad()
        loss.backward()
        tl.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.3f}")
    start, end = np.mean(losses[:10]), np.mean(losses[-10:])
    print(f"loss: start {start:.3f}, end {end:.3f} ({end / start:.2f} of the start; target < {target_fraction})")
    return start, end


if __name__ == "__main__":
    main()
