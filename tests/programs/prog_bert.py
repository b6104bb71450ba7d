"""A small BERT-style masked language model as PyTorch users write one from nn parts: token, position and segment
embeddings (padding_idx), a post-norm nn.TransformerEncoder given src_key_padding_mask, an MLM head whose decoder
shares the token embedding's weight, and a pooled next-sentence head using a standalone nn.MultiheadAttention
(attention pooling with a learned query, key_padding_mask, need_weights); the objective is cross entropy with
ignore_index=-100 on the masked positions (BERT's 80/10/10 replacement), plus the NSP-style pair label; trained
with AdamW and a linear warmup-decay LambdaLR. Written against a module `torch`. Shrunk: a 24-token vocabulary,
sequences of up to 16 tokens (padded), 2 layers 32 wide."""
import math

import numpy as np

PAD, CLS, SEP, MASK = 0, 1, 2, 3
FIRST_WORD = 4


def build(torch, vocab_size=24, max_len=16, d_model=32, nhead=4, num_layers=2, dim_feedforward=64, dropout=0.1):
    nn = torch.nn

    class BertEmbeddings(nn.Module):
        def __init__(self):
            super().__init__()
            self.word_embeddings = nn.Embedding(vocab_size, d_model, padding_idx=PAD)
            self.position_embeddings = nn.Embedding(max_len, d_model)
            self.token_type_embeddings = nn.Embedding(2, d_model)
            self.LayerNorm = nn.LayerNorm(d_model, eps=1e-12)
            self.dropout = nn.Dropout(dropout)
            self.register_buffer("position_ids", torch.arange(max_len).expand((1, -1)), persistent=False)

        def forward(self, input_ids, token_type_ids):
            positions = self.position_ids[:, :input_ids.size(1)]
            x = self.word_embeddings(input_ids) + self.position_embeddings(positions) \
                + self.token_type_embeddings(token_type_ids)
            return self.dropout(self.LayerNorm(x))

    class Bert(nn.Module):
        def __init__(self):
            super().__init__()
            self.embeddings = BertEmbeddings()
            layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation="gelu",
                                               batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
            self.transform = nn.Sequential(nn.Linear(d_model, d_model), nn.GELU(), nn.LayerNorm(d_model, eps=1e-12))
            self.decoder = nn.Linear(d_model, vocab_size)
            self.decoder.weight = self.embeddings.word_embeddings.weight  # tied, as BERT's MLM head
            self.pool_query = nn.Parameter(torch.randn(1, 1, d_model) * 0.02)
            self.pool = nn.MultiheadAttention(d_model, nhead, dropout=0.0, batch_first=True)
            self.nsp = nn.Linear(d_model, 2)

        def forward(self, input_ids, token_type_ids):
            padding = input_ids.eq(PAD)  # True where a key is padding
            h = self.encoder(self.embeddings(input_ids, token_type_ids), src_key_padding_mask=padding)
            mlm_logits = self.decoder(self.transform(h))
            query = self.pool_query.expand(input_ids.size(0), -1, -1)
            pooled, weights = self.pool(query, h, h, key_padding_mask=padding, need_weights=True)
            return mlm_logits, self.nsp(pooled.squeeze(1)), weights

    def init_weights(module):  # BertPreTrainedModel._init_weights
        if isinstance(module, nn.Linear):
            module.weight.data.normal_(mean=0.0, std=0.02)
            if module.bias is not None:
                module.bias.data.zero_()
        elif isinstance(module, nn.Embedding):
            module.weight.data.normal_(mean=0.0, std=0.02)
            if module.padding_idx is not None:
                module.weight.data[module.padding_idx].zero_()
        elif isinstance(module, nn.LayerNorm):
            module.bias.data.zero_()
            module.weight.data.fill_(1.0)

    model = Bert()
    model.apply(init_weights)
    return model


def make_data(rng, n=96, vocab_size=24, max_len=16, mask_prob=0.15):
    """Pairs of 'sentences' from a little grammar (each word is followed by one of two successors); label 1
    when the second sentence continues the first's chain, 0 when it is random. Tokens are masked BERT's way
    (80% [MASK], 10% a random word, 10% kept), drawn here so that both libraries see the same batches; labels are
    -100 where not masked."""
    words = vocab_size - FIRST_WORD
    successors = rng.integers(0, words, (words, 2))

    def sentence(start, length):
        out = [start]
        for _ in range(length - 1):
            out.append(successors[out[-1], rng.integers(2)])
        return out

    ids = np.full((n, max_len), PAD, dtype=np.int64)
    types = np.zeros((n, max_len), dtype=np.int64)
    labels = np.full((n, max_len), -100, dtype=np.int64)
    is_next = rng.integers(0, 2, n)
    for i in range(n):
        a = sentence(rng.integers(words), rng.integers(3, 6))
        b = sentence(successors[a[-1], 0] if is_next[i] else rng.integers(words), rng.integers(2, 5))
        seq = [CLS] + [w + FIRST_WORD for w in a] + [SEP] + [w + FIRST_WORD for w in b] + [SEP]
        ids[i, :len(seq)] = seq
        types[i, len(a) + 2:len(seq)] = 1
        maskable = np.flatnonzero(ids[i] >= FIRST_WORD)
        chosen = maskable[rng.random(len(maskable)) < mask_prob]
        if len(chosen) == 0:
            chosen = maskable[:1]
        labels[i, chosen] = ids[i, chosen]
        action = rng.random(len(chosen))
        ids[i, chosen[action < 0.8]] = MASK
        random_words = chosen[(action >= 0.8) & (action < 0.9)]
        ids[i, random_words] = rng.integers(FIRST_WORD, vocab_size, len(random_words))
    return ids, types, labels, is_next


def linear_warmup_decay(warmup, total):
    """transformers' get_linear_schedule_with_warmup as a LambdaLR factor."""
    def factor(step):
        if step < warmup:
            return float(step) / float(max(1, warmup))
        return max(0.0, float(total - step) / float(max(1, total - warmup)))
    return factor


def train(torch, model, data, epochs=8, batch_size=16, lr=2e-3):
    F = torch.nn.functional
    ids, types, labels, is_next = (torch.tensor(a) for a in data)
    decay = [p for n, p in model.named_parameters() if not any(k in n for k in ("bias", "LayerNorm", "norm"))]
    no_decay = [p for n, p in model.named_parameters() if any(k in n for k in ("bias", "LayerNorm", "norm"))]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.98), eps=1e-6)
    steps = epochs * (len(ids) // batch_size)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, linear_warmup_decay(steps // 10, steps))
    losses = []
    model.train()
    for epoch in range(epochs):
        for start in range(0, len(ids) - batch_size + 1, batch_size):
            batch = slice(start, start + batch_size)
            mlm_logits, nsp_logits, _ = model(ids[batch], types[batch])
            mlm = F.cross_entropy(mlm_logits.view(-1, mlm_logits.size(-1)), labels[batch].view(-1), ignore_index=-100)
            nsp = F.cross_entropy(nsp_logits, is_next[batch])
            loss = mlm + nsp
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            losses.append((mlm.item(), nsp.item()))
    return losses


def evaluate(torch, model, data):
    """The masked-token loss and accuracy, the pair loss, and the pooling attention's weight on padding (must be 0)."""
    F = torch.nn.functional
    ids, types, labels, is_next = (torch.tensor(a) for a in data)
    model.eval()
    with torch.no_grad():
        mlm_logits, nsp_logits, weights = model(ids, types)
        mlm = F.cross_entropy(mlm_logits.transpose(1, 2), labels, ignore_index=-100).item()
        masked = labels.ne(-100)
        correct = (mlm_logits.argmax(-1)[masked] == labels[masked]).float().mean().item()
        nsp = F.cross_entropy(nsp_logits, is_next).item()
        on_padding = weights.squeeze(1).masked_select(ids.eq(PAD)).abs().max().item()
    model.train()
    return mlm, correct, nsp, on_padding, math.exp(mlm)
