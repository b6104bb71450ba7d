"""The PyTorch examples' language translation model (an encoder-decoder nn.Transformer with batch_first, token
embeddings scaled by sqrt(emb_size), a sinusoidal positional encoding kept as a buffer, a causal target mask
and padding masks from PAD_IDX, CrossEntropyLoss that ignores padding, Adam with betas (0.9, 0.98) and eps
1e-9, teacher forcing, and greedy decoding through encode/decode), written against a module `torch`. Shrunk: a
synthetic "language pair" in which the target sentence is the source's words, reversed and respelled (its own
vocabulary), sentences of 2 to 6 words; 2+2 layers of width 32."""
import math

import numpy as np

PAD_IDX, UNK_IDX, BOS_IDX, EOS_IDX = 0, 1, 2, 3
SPECIALS = ["<pad>", "<unk>", "<bos>", "<eos>"]
WORDS = ["red", "blue", "green", "cat", "dog", "fish", "runs", "sees", "eats", "big", "small", "old"]


def build(torch, src_vocab_size=len(SPECIALS) + len(WORDS), tgt_vocab_size=len(SPECIALS) + len(WORDS),
          emb_size=32, nhead=4, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=64, dropout=0.1):
    nn = torch.nn

    class PositionalEncoding(nn.Module):
        def __init__(self, emb_size, dropout, maxlen=64):
            super().__init__()
            den = torch.exp(-torch.arange(0, emb_size, 2) * math.log(10000) / emb_size)
            pos = torch.arange(0, maxlen).reshape(maxlen, 1)
            table = torch.zeros((maxlen, emb_size))
            table[:, 0::2] = torch.sin(pos * den)
            table[:, 1::2] = torch.cos(pos * den)
            self.dropout = nn.Dropout(dropout)
            self.register_buffer("pos_embedding", table.unsqueeze(0))  # [1, maxlen, E]: batch first

        def forward(self, token_embedding):
            return self.dropout(token_embedding + self.pos_embedding[:, :token_embedding.size(1), :])

    class TokenEmbedding(nn.Module):
        def __init__(self, vocab_size, emb_size):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, emb_size)
            self.emb_size = emb_size

        def forward(self, tokens):
            return self.embedding(tokens.long()) * math.sqrt(self.emb_size)

    class Translator(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = nn.Transformer(d_model=emb_size, nhead=nhead, num_encoder_layers=num_encoder_layers,
                                              num_decoder_layers=num_decoder_layers, dim_feedforward=dim_feedforward,
                                              dropout=dropout, batch_first=True)
            self.ff = nn.Linear(emb_size, tgt_vocab_size)
            self.src_embedding = TokenEmbedding(src_vocab_size, emb_size)
            self.tgt_embedding = TokenEmbedding(tgt_vocab_size, emb_size)
            self.pos_enc = PositionalEncoding(emb_size, dropout)
            for p in self.parameters():
                if p.dim() > 1:
                    nn.init.xavier_uniform_(p)

        def forward(self, src, tgt, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask,
                    memory_key_padding_mask):
            src_emb = self.pos_enc(self.src_embedding(src))
            tgt_emb = self.pos_enc(self.tgt_embedding(tgt))
            outs = self.transformer(src_emb, tgt_emb, src_mask, tgt_mask, None, src_padding_mask, tgt_padding_mask,
                                    memory_key_padding_mask)
            return self.ff(outs)

        def encode(self, src, src_mask):
            return self.transformer.encoder(self.pos_enc(self.src_embedding(src)), src_mask)

        def decode(self, tgt, memory, tgt_mask):
            return self.transformer.decoder(self.pos_enc(self.tgt_embedding(tgt)), memory, tgt_mask)

    return Translator()


def make_pairs(rng, n_train=256, n_test=48):
    """(source, target) sentences: the target is the source reversed, each word upper-cased."""
    def sentence():
        words = rng.choice(WORDS, rng.integers(2, 7))
        return " ".join(words), " ".join(w.upper() for w in words)
    pairs = [sentence() for _ in range(n_train + n_test)]
    return pairs[:n_train], pairs[n_train:]


def vocabularies(pairs):
    """The example's build_vocab_from_iterator, by hand: specials first, then the words by first appearance;
    unknown words map to UNK_IDX."""
    vocabs = []
    for side in (0, 1):
        stoi = {s: i for i, s in enumerate(SPECIALS)}
        for pair in pairs:
            for word in pair[side].split():
                stoi.setdefault(word, len(stoi))
        vocabs.append(stoi)
    return vocabs


def train(torch, model, pairs, vocabs, epochs=6, batch_size=16, lr=3e-3, shuffle=True, seed=1, n_decode=6):
    """Teacher-forced training, then the held-out loss and greedy translations of a few test sentences.
    Returns (losses, test loss, the fraction of decoded sentences that match, the decoded sentences)."""
    nn = torch.nn
    torch.manual_seed(seed)
    device = torch.device("cpu")
    train_pairs, test_pairs = pairs
    src_vocab, tgt_vocab = vocabs
    tgt_words = {i: w for w, i in tgt_vocab.items()}

    def tensor_transform(vocab, sentence):
        ids = [vocab.get(w, UNK_IDX) for w in sentence.split()]
        return torch.cat((torch.tensor([BOS_IDX]), torch.tensor(ids), torch.tensor([EOS_IDX])))

    def collate_fn(batch):
        src_batch, tgt_batch = [], []
        for src_sample, tgt_sample in batch:
            src_batch.append(tensor_transform(src_vocab, src_sample))
            tgt_batch.append(tensor_transform(tgt_vocab, tgt_sample))
        pad = nn.utils.rnn.pad_sequence
        return (pad(src_batch, batch_first=True, padding_value=PAD_IDX),
                pad(tgt_batch, batch_first=True, padding_value=PAD_IDX))

    def create_mask(src, tgt):
        src_seq_len, tgt_seq_len = src.shape[1], tgt.shape[1]
        tgt_mask = nn.Transformer.generate_square_subsequent_mask(tgt_seq_len, device=device)
        src_mask = torch.zeros((src_seq_len, src_seq_len), device=device).type(torch.bool)
        return src_mask, tgt_mask, src == PAD_IDX, tgt == PAD_IDX

    loss_fn = nn.CrossEntropyLoss(ignore_index=PAD_IDX)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.98), eps=1e-9)
    model = model.to(device)

    def step(src, tgt):
        src, tgt = src.to(device), tgt.to(device)
        tgt_input = tgt[:, :-1]
        src_mask, tgt_mask, src_padding_mask, tgt_padding_mask = create_mask(src, tgt_input)
        logits = model(src, tgt_input, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask, src_padding_mask)
        tgt_out = tgt[:, 1:]
        return loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))

    losses = []
    train_loader = torch.utils.data.DataLoader(train_pairs, batch_size=batch_size, shuffle=shuffle,
                                               collate_fn=collate_fn)
    for epoch in range(epochs):
        model.train()
        for src, tgt in train_loader:
            loss = step(src, tgt)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())

    model.eval()
    test_loader = torch.utils.data.DataLoader(test_pairs, batch_size=batch_size, collate_fn=collate_fn)
    with torch.no_grad():
        test_loss = sum(step(src, tgt).item() for src, tgt in test_loader) / len(test_loader)

    def greedy_decode(src, src_mask, max_len, start_symbol):
        memory = model.encode(src, src_mask)
        ys = torch.ones(1, 1).fill_(start_symbol).type(torch.long).to(device)
        for _ in range(max_len - 1):
            tgt_mask = nn.Transformer.generate_square_subsequent_mask(ys.size(1), device=device).type(torch.bool)
            out = model.decode(ys, memory, tgt_mask)
            prob = model.ff(out[:, -1])
            _, next_word = torch.max(prob, dim=1)
            next_word = next_word.item()
            ys = torch.cat([ys, torch.ones(1, 1).type_as(src.data).fill_(next_word)], dim=1)
            if next_word == EOS_IDX:
                break
        return ys

    def translate(sentence):
        src = tensor_transform(src_vocab, sentence).view(1, -1)
        num_tokens = src.shape[1]
        src_mask = torch.zeros(num_tokens, num_tokens).type(torch.bool)
        tokens = greedy_decode(src, src_mask, max_len=num_tokens + 5, start_symbol=BOS_IDX).flatten()
        return " ".join(tgt_words[int(t)] for t in tokens).replace("<bos>", "").replace("<eos>", "").strip()

    with torch.no_grad():
        decoded = [translate(source) for source, _ in test_pairs[:n_decode]]
    exact = np.mean([d == target for d, (_, target) in zip(decoded, test_pairs)])
    return losses, test_loss, exact, decoded
