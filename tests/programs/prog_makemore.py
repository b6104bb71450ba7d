"""makemore-style character models (bigram, MLP, RNN, GRU, bag-of-words, transformer) trained on names,
written against a module `torch` so the same code runs on PyTorch and on TensorLogic. Shrunk: tiny widths,
synthetic names."""
import math
from collections import OrderedDict

import prelude


class ModelConfig:
    def __init__(self, block_size, vocab_size, n_layer=2, n_embd=16, n_embd2=16, n_head=2):
        self.block_size, self.vocab_size = block_size, vocab_size
        self.n_layer, self.n_embd, self.n_embd2, self.n_head = n_layer, n_embd, n_embd2, n_head


def build(torch, kind, config):
    nn = torch.nn
    F = nn.functional

    class NewGELU(nn.Module):
        def forward(self, x):
            return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))

    class CausalSelfAttention(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)
            self.c_proj = nn.Linear(config.n_embd, config.n_embd)
            self.register_buffer("bias", torch.tril(torch.ones(config.block_size, config.block_size))
                                 .view(1, 1, config.block_size, config.block_size))
            self.n_head, self.n_embd = config.n_head, config.n_embd

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = prelude.heads(self.c_attn(x), self.n_embd, self.n_head)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
            return self.c_proj(y)

    Block = prelude.block(torch)

    def block(config):
        mlp = nn.Sequential(OrderedDict(c_fc=nn.Linear(config.n_embd, 4 * config.n_embd), act=NewGELU(),
                                        c_proj=nn.Linear(4 * config.n_embd, config.n_embd)))
        return Block(nn.LayerNorm(config.n_embd), CausalSelfAttention(config),
                     nn.LayerNorm(config.n_embd), mlp)

    class Transformer(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.block_size = config.block_size
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd), wpe=nn.Embedding(config.block_size, config.n_embd),
                h=nn.ModuleList([block(config) for _ in range(config.n_layer)]), ln_f=nn.LayerNorm(config.n_embd)))
            self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)

        def forward(self, idx, targets=None):
            b, t = idx.size()
            pos = torch.arange(0, t, dtype=torch.long, device=idx.device).unsqueeze(0)
            x = self.transformer.wte(idx) + self.transformer.wpe(pos)
            for block in self.transformer.h:
                x = block(x)
            return _finish(self.lm_head(self.transformer.ln_f(x)), targets)

    class CausalBoW(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.block_size = config.block_size
            self.register_buffer("bias", torch.tril(torch.ones(config.block_size, config.block_size))
                                 .view(1, config.block_size, config.block_size))

        def forward(self, x):
            B, T, C = x.size()
            att = torch.zeros((B, T, T), device=x.device)
            att = att.masked_fill(self.bias[:, :T, :T] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            return att @ x

    class BoWBlock(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.cbow = CausalBoW(config)
            self.mlp = nn.ModuleDict(dict(c_fc=nn.Linear(config.n_embd, config.n_embd2),
                                          c_proj=nn.Linear(config.n_embd2, config.n_embd)))
            m = self.mlp
            self.mlpf = lambda x: m.c_proj(F.tanh(m.c_fc(x)))

        def forward(self, x):
            x = x + self.cbow(x)
            return x + self.mlpf(x)

    class BoW(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.block_size = config.block_size
            self.wte = nn.Embedding(config.vocab_size, config.n_embd)
            self.wpe = nn.Embedding(config.block_size, config.n_embd)
            self.context_block = BoWBlock(config)
            self.lm_head = nn.Linear(config.n_embd, config.vocab_size)

        def forward(self, idx, targets=None):
            b, t = idx.size()
            pos = torch.arange(0, t, dtype=torch.long, device=idx.device).unsqueeze(0)
            x = self.context_block(self.wte(idx) + self.wpe(pos))
            return _finish(self.lm_head(x), targets)

    class RNNCell(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.xh_to_h = nn.Linear(config.n_embd + config.n_embd2, config.n_embd2)

        def forward(self, xt, hprev):
            return F.tanh(self.xh_to_h(torch.cat([xt, hprev], dim=1)))

    class GRUCell(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.xh_to_z = nn.Linear(config.n_embd + config.n_embd2, config.n_embd2)
            self.xh_to_r = nn.Linear(config.n_embd + config.n_embd2, config.n_embd2)
            self.xh_to_hbar = nn.Linear(config.n_embd + config.n_embd2, config.n_embd2)

        def forward(self, xt, hprev):
            xh = torch.cat([xt, hprev], dim=1)
            r = F.sigmoid(self.xh_to_r(xh))
            xhr = torch.cat([xt, r * hprev], dim=1)
            hbar = F.tanh(self.xh_to_hbar(xhr))
            z = F.sigmoid(self.xh_to_z(xh))
            return (1 - z) * hprev + z * hbar

    class RNN(nn.Module):
        def __init__(self, config, cell_type):
            super().__init__()
            self.block_size = config.block_size
            self.start = nn.Parameter(torch.zeros(1, config.n_embd2))
            self.wte = nn.Embedding(config.vocab_size, config.n_embd)
            self.cell = RNNCell(config) if cell_type == "rnn" else GRUCell(config)
            self.lm_head = nn.Linear(config.n_embd2, config.vocab_size)

        def forward(self, idx, targets=None):
            b, t = idx.size()
            emb = self.wte(idx)
            hprev = self.start.expand((b, -1))
            hiddens = []
            for i in range(t):
                hprev = self.cell(emb[:, i, :], hprev)
                hiddens.append(hprev)
            return _finish(self.lm_head(torch.stack(hiddens, 1)), targets)

    class MLP(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.block_size, self.vocab_size = config.block_size, config.vocab_size
            self.wte = nn.Embedding(config.vocab_size + 1, config.n_embd)  # +1: a special <BLANK> token
            self.mlp = nn.Sequential(nn.Linear(self.block_size * config.n_embd, config.n_embd2), nn.Tanh(),
                                     nn.Linear(config.n_embd2, self.vocab_size))

        def forward(self, idx, targets=None):
            embs = []
            for k in range(self.block_size):
                embs.append(self.wte(idx))
                idx = torch.roll(idx, 1, 1)
                idx[:, 0] = self.vocab_size
            return _finish(self.mlp(torch.cat(embs, -1)), targets)

    class Bigram(nn.Module):
        def __init__(self, config):
            super().__init__()
            n = config.vocab_size
            self.logits = nn.Parameter(torch.zeros((n, n)))

        def forward(self, idx, targets=None):
            return _finish(self.logits[idx], targets)

    def _finish(logits, targets):
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        return logits, loss

    kinds = {"transformer": Transformer, "bow": BoW, "mlp": MLP, "bigram": Bigram,
             "rnn": lambda c: RNN(c, "rnn"), "gru": lambda c: RNN(c, "gru")}
    return kinds[kind](config)


def make_words(rng, n=300):
    """Pronounceable synthetic names (consonant-vowel patterns), so there is structure to learn."""
    consonants, vowels = "bdklmnrst", "aeiou"
    words = []
    for _ in range(n):
        syllables = rng.integers(1, 4)
        words.append("".join(consonants[rng.integers(len(consonants))] + vowels[rng.integers(len(vowels))]
                             for _ in range(syllables)))
    return words


def char_dataset(torch):
    """makemore's CharDataset class over library `torch`."""

    class CharDataset(torch.utils.data.Dataset):
        def __init__(self, words, chars, max_word_length):
            self.words, self.chars, self.max_word_length = words, chars, max_word_length
            self.stoi = {ch: i + 1 for i, ch in enumerate(chars)}
            self.itos = {i: s for s, i in self.stoi.items()}  # inverse mapping

        def __len__(self):
            return len(self.words)

        def contains(self, word):
            return word in self.words

        def get_vocab_size(self):
            return len(self.chars) + 1

        def get_output_length(self):
            return self.max_word_length + 1

        def encode(self, word):
            return torch.tensor([self.stoi[w] for w in word], dtype=torch.long)

        def decode(self, ix):
            return "".join(self.itos[i] for i in ix)

        def __getitem__(self, idx):
            ix = self.encode(self.words[idx])
            x = torch.zeros(self.max_word_length + 1, dtype=torch.long)
            y = torch.zeros(self.max_word_length + 1, dtype=torch.long)
            x[1:1 + len(ix)] = ix
            y[:len(ix)] = ix
            y[len(ix) + 1:] = -1  # index -1 masks the loss at the inactive locations
            return x, y

    return CharDataset


def datasets(torch, words):
    CharDataset = char_dataset(torch)
    chars = sorted(set("".join(words)))
    max_word_length = max(len(w) for w in words)
    test_set_size = min(100, int(len(words) * 0.1))
    return (CharDataset(words[:-test_set_size], chars, max_word_length),
            CharDataset(words[-test_set_size:], chars, max_word_length))


def infinite_data_loader(torch):
    """makemore's InfiniteDataLoader class: a DataLoader over a RandomSampler drawing with replacement."""

    class InfiniteDataLoader:
        def __init__(self, dataset, **kwargs):
            train_sampler = torch.utils.data.RandomSampler(dataset, replacement=True, num_samples=int(1e10))
            self.train_loader = torch.utils.data.DataLoader(dataset, sampler=train_sampler, **kwargs)
            self.data_iter = iter(self.train_loader)

        def next(self):
            try:
                batch = next(self.data_iter)
            except StopIteration:  # this will technically only happen after 1e10 samples... (i.e. basically never)
                self.data_iter = iter(self.train_loader)
                batch = next(self.data_iter)
            return batch

    return InfiniteDataLoader


def evaluate(torch, model, dataset, batch_size=50, max_batches=None):
    """makemore's evaluate, under @torch.inference_mode()."""

    @torch.inference_mode()
    def run():
        model.eval()
        loader = torch.utils.data.DataLoader(dataset, shuffle=True, batch_size=batch_size, num_workers=0)
        losses = []
        for i, batch in enumerate(loader):
            X, Y = batch
            logits, loss = model(X, Y)
            losses.append(loss.item())
            if max_batches is not None and i >= max_batches:
                break
        mean_loss = torch.tensor(losses).mean().item()
        model.train()
        return mean_loss

    return run()


def train(torch, model, train_dataset, test_dataset, max_steps=40, batch_size=16, learning_rate=1e-2, seed=0):
    """makemore's loop: an infinite random-sampling loader, AdamW, and evaluate() over the test set."""
    torch.manual_seed(seed)
    InfiniteDataLoader = infinite_data_loader(torch)

    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01, betas=(0.9, 0.99), eps=1e-8)
    batch_loader = InfiniteDataLoader(train_dataset, batch_size=batch_size, pin_memory=True, num_workers=0)
    losses = []
    for step in range(max_steps):
        X, Y = batch_loader.next()
        logits, loss = model(X, Y)
        model.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, evaluate(torch, model, test_dataset, batch_size=100, max_batches=10)
