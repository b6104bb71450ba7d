"""A word-level recurrent language model over sentences of different lengths, as PyTorch users write one: a
collate_fn that pads a batch with pad_sequence, an Embedding (padding_idx), pack_padded_sequence (unsorted
lengths) into a 2-layer LSTM or a bidirectional GRU, pad_packed_sequence back (total_length), a Linear decoder;
cross entropy ignoring the padding, Adam, clip_grad_norm_ (whose returned norm is logged), StepLR; a checkpoint
dict (model, optimizer and scheduler state_dicts, epoch) saved with torch.save mid-training, loaded with
torch.load into a fresh model and optimizer, and training resumed from it. Written against a module `torch`.
Shrunk: a 20-word vocabulary, sentences of 3-11 words."""
import numpy as np

PAD, BOS = 0, 1


def build(torch, vocab_size=20, emb=16, hidden=24, kind="lstm"):
    nn = torch.nn
    pack, unpack = nn.utils.rnn.pack_padded_sequence, nn.utils.rnn.pad_packed_sequence

    class RNNLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab_size, emb, padding_idx=PAD)
            if kind == "lstm":
                self.rnn = nn.LSTM(emb, hidden, num_layers=2, batch_first=True, dropout=0.0)
                out = hidden
            else:  # a bidirectional GRU tags each word with the word after it from the left context only
                self.rnn = nn.GRU(emb, hidden, batch_first=True, bidirectional=True)
                out = hidden
            self.decoder = nn.Linear(out, vocab_size)

        def forward(self, tokens, lengths):
            packed = pack(self.embed(tokens), lengths.cpu(), batch_first=True, enforce_sorted=False)
            output, hidden = self.rnn(packed)
            output, out_lengths = unpack(output, batch_first=True, total_length=tokens.size(1))
            if kind != "lstm":
                output = output[..., :output.size(-1) // 2]  # the forward direction: no peeking ahead
            return self.decoder(output), out_lengths

    return RNNLM()


def make_sentences(rng, n=64, vocab_size=20):
    """Sentences from a first-order chain (each word mostly followed by one successor), lengths 3-11."""
    words = vocab_size - 2
    follow = rng.permutation(words)
    out = []
    for _ in range(n):
        w = [int(rng.integers(words))]
        for _ in range(int(rng.integers(3, 12)) - 1):
            w.append(int(follow[w[-1]]) if rng.random() < 0.8 else int(rng.integers(words)))
        out.append(np.asarray([BOS] + [x + 2 for x in w], dtype=np.int64))
    return out


def dataset(torch):
    class Sentences(torch.utils.data.Dataset):
        def __init__(self, sentences):
            self.sentences = sentences

        def __len__(self):
            return len(self.sentences)

        def __getitem__(self, i):
            s = torch.from_numpy(self.sentences[i])
            return s[:-1], s[1:]

    return Sentences


def collate(torch):
    pad_sequence = torch.nn.utils.rnn.pad_sequence

    def collate_fn(batch):
        inputs, targets = zip(*batch)
        lengths = torch.tensor([len(x) for x in inputs])
        return (pad_sequence(inputs, batch_first=True, padding_value=PAD),
                pad_sequence(targets, batch_first=True, padding_value=PAD), lengths)
    return collate_fn


def run_epochs(torch, model, optimizer, scheduler, loader, epochs, first_epoch=0):
    F = torch.nn.functional
    losses, norms = [], []
    for epoch in range(first_epoch, first_epoch + epochs):
        model.train()
        for inputs, targets, lengths in loader:
            logits, _ = model(inputs, lengths)
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=PAD)
            optimizer.zero_grad()
            loss.backward()
            norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)))
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
    return losses, norms


def train(torch, build_model, model, sentences, path, epochs=(2, 2), lr=1e-2):
    """epochs[0] epochs, a checkpoint saved and loaded into a fresh model (build_model()) and optimizer, then
    epochs[1] more from it. Returns the losses, the clipped norms, the last lr and the resumed model."""
    loader = torch.utils.data.DataLoader(dataset(torch)(sentences), batch_size=16, shuffle=False,
                                         collate_fn=collate(torch))

    def optimizers(m):
        optimizer = torch.optim.Adam(m.parameters(), lr=lr)
        return optimizer, torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)

    optimizer, scheduler = optimizers(model)
    losses, norms = run_epochs(torch, model, optimizer, scheduler, loader, epochs[0])
    torch.save({"epoch": epochs[0], "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "loss": losses[-1]}, path)

    checkpoint = torch.load(path, weights_only=False)
    model = build_model()
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer, scheduler = optimizers(model)
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    more_losses, more_norms = run_epochs(torch, model, optimizer, scheduler, loader, epochs[1], checkpoint["epoch"])
    return losses + more_losses, norms + more_norms, scheduler.get_last_lr()[0], model


def perplexity(torch, model, sentences):
    F = torch.nn.functional
    inputs, targets, lengths = collate(torch)([dataset(torch)(sentences)[i] for i in range(len(sentences))])
    model.eval()
    with torch.no_grad():
        logits, out_lengths = model(inputs, lengths)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=PAD,
                               reduction="sum")
    return float(torch.exp(loss / lengths.sum())), out_lengths.tolist()
