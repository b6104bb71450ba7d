"""A character-level LSTM text generator in the style of the many char-RNN ports to PyTorch: a Dataset subclass that
slices a long index tensor into (input, next-character) windows, a Sampler subclass that strides over the windows,
nn.Embedding into a two-layer batch_first nn.LSTM with dropout between layers and a linear head over
out.contiguous().view(-1, hidden); weights initialised by named_parameters (xavier_uniform_ for weight_ih, orthogonal_
for weight_hh, the forget gates' biases set to 1 through p.data[n // 4:n // 2].fill_), a temperature kept by
register_buffer, hidden state from weight.new_zeros, parameter groups with and without weight decay chosen by
p.dim() and name, clip_grad_norm_, ReduceLROnPlateau on the epoch loss, a checkpoint dict (model, optimizer and
scheduler state, epoch) saved with torch.save and loaded back with torch.load(map_location=device) every epoch, and
sampling under torch.inference_mode with torch.multinomial. Written against a module `torch`; the corpus is a
synthetic text of repeated words."""
import os

import numpy as np


def build(torch, vocab_size, emb=16, hidden=48, layers=2, dropout=0.2):
    nn = torch.nn

    class CharLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden, self.layers = hidden, layers
            self.embed = nn.Embedding(vocab_size, emb)
            self.lstm = nn.LSTM(emb, hidden, num_layers=layers, batch_first=True, dropout=dropout)
            self.head = nn.Linear(hidden, vocab_size)
            self.register_buffer("temperature", torch.tensor(0.8))
            for name, p in self.lstm.named_parameters():
                if "weight_ih" in name:
                    nn.init.xavier_uniform_(p)
                elif "weight_hh" in name:
                    nn.init.orthogonal_(p)
                elif "bias" in name:
                    nn.init.zeros_(p)
                    n = p.size(0)
                    p.data[n // 4:n // 2].fill_(1.0)  # forget gate

        def forward(self, x, state=None):
            out, state = self.lstm(self.embed(x), state)
            return self.head(out.contiguous().view(-1, out.size(-1))), state

        def init_hidden(self, batch_size):
            weight = next(self.parameters())
            return (weight.new_zeros(self.layers, batch_size, self.hidden),
                    weight.new_zeros(self.layers, batch_size, self.hidden))

    return CharLSTM()


def make_text(rng, n_words=260):
    words = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far", "away", "home"]
    return " ".join(rng.choice(words, n_words)) + "."


def vocabulary(text):
    chars = sorted(set(text))
    return {c: i for i, c in enumerate(chars)}, dict(enumerate(chars))


def data_classes(torch):
    class CharDataset(torch.utils.data.Dataset):
        def __init__(self, data, block_size):
            self.data, self.block_size = data, block_size

        def __len__(self):
            return len(self.data) - self.block_size - 1

        def __getitem__(self, idx):
            chunk = self.data[idx:idx + self.block_size + 1]
            return chunk[:-1], chunk[1:]

    class StrideSampler(torch.utils.data.Sampler):
        """Every stride-th window, starting at an offset that moves each epoch."""

        def __init__(self, data_source, stride):
            self.n, self.stride, self.epoch = len(data_source), stride, 0

        def __iter__(self):
            offset = self.epoch % self.stride
            self.epoch += 1
            return iter(range(offset, self.n, self.stride))

        def __len__(self):
            return len(range(0, self.n, self.stride))

    return CharDataset, StrideSampler


def train(torch, model, text, checkpoint_dir, epochs=4, block_size=24, batch_size=16, stride=5, lr=5e-3, seed=0,
          sample_length=40):
    """Returns the mean loss of each epoch, the learning rate of each epoch, the gradient norms of the last epoch and
    a sampled string."""
    stoi, itos = vocabulary(text)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = model.to(device)
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    CharDataset, StrideSampler = data_classes(torch)
    dataset = CharDataset(data, block_size)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, sampler=StrideSampler(dataset, stride),
                                         drop_last=True)
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.dim() < 2 or "bias" in name or "embed" in name else decay).append(p)
    optimizer = torch.optim.Adam([{"params": decay, "weight_decay": 1e-4}, {"params": no_decay, "weight_decay": 0.0}],
                                 lr=lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=0,
                                                           threshold=0.05)
    path = os.path.join(checkpoint_dir, "char_lstm.pt")
    F = torch.nn.functional
    losses, lrs = [], []
    for epoch in range(epochs):
        model.train()
        total, norms = 0.0, []
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            logits, _ = model(x, model.init_hidden(x.size(0)))
            loss = F.cross_entropy(logits, y.view(-1))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0).item())
            optimizer.step()
            total += loss.item()
        losses.append(total / len(loader))
        scheduler.step(losses[-1])
        lrs.append(optimizer.param_groups[0]["lr"])
        torch.save({"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict()}, path)
        checkpoint = torch.load(path, map_location=device)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        assert checkpoint["epoch"] == epoch

    model.eval()
    torch.manual_seed(seed)
    out = [stoi["t"]]
    with torch.inference_mode():
        x, state = torch.tensor([[out[-1]]], device=device), None
        for _ in range(sample_length):
            logits, state = model(x, state)
            probs = F.softmax(logits[-1] / model.temperature, dim=-1)
            out.append(torch.multinomial(probs, num_samples=1).item())
            x = torch.tensor([[out[-1]]], device=device)
    return losses, lrs, norms, "".join(itos[i] for i in out)
