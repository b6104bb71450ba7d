"""A time-series forecaster as PyTorch users write one with nn.TransformerEncoder: a sliding-window Dataset subclass
over a normalised series (mean and std of the training part), a Linear input projection, a sinusoidal
PositionalEncoding kept as a buffer (the tutorials' form: div_term from torch.exp and math.log, sin and cos written
into slices), an encoder of batch_first layers run with the causal mask of nn.Transformer.
generate_square_subsequent_mask, so that every position predicts the next value; MSELoss, Adam with OneCycleLR
stepped per batch, early stopping that keeps the best validation state by copy.deepcopy(model.state_dict()), a
checkpoint of it written with torch.save to a file and read back, and an autoregressive forecast under
model.eval() and torch.inference_mode(). Written against a module `torch`. The series is synthetic: two sines and a
trend with noise."""
import copy
import math
import os

import numpy as np


def make_series(rng, n=400):
    t = np.arange(n)
    series = np.sin(2 * np.pi * t / 24) + 0.5 * np.sin(2 * np.pi * t / 7 + 1.0) + 0.002 * t
    return (series + 0.05 * rng.standard_normal(n)).astype(np.float32)


def windows(torch):
    class WindowDataset(torch.utils.data.Dataset):
        """Input window x[i:i+L] and the same window one step later as the target."""

        def __init__(self, series, window):
            self.series = torch.as_tensor(series, dtype=torch.float32)
            self.window = window

        def __len__(self):
            return len(self.series) - self.window

        def __getitem__(self, i):
            chunk = self.series[i:i + self.window + 1]
            return chunk[:-1].unsqueeze(-1), chunk[1:].unsqueeze(-1)

    return WindowDataset


def build(torch, d_model=16, nhead=2, num_layers=2, dim_feedforward=32, dropout=0.1, max_len=64):
    nn = torch.nn

    class PositionalEncoding(nn.Module):
        def __init__(self):
            super().__init__()
            position = torch.arange(max_len).unsqueeze(1)
            div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
            pe = torch.zeros(1, max_len, d_model)
            pe[0, :, 0::2] = torch.sin(position * div_term)
            pe[0, :, 1::2] = torch.cos(position * div_term)
            self.register_buffer("pe", pe)
            self.dropout = nn.Dropout(p=dropout)

        def forward(self, x):
            return self.dropout(x + self.pe[:, :x.size(1)])

    class TimeSeriesTransformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.input_proj = nn.Linear(1, d_model)
            self.pos_encoder = PositionalEncoding()
            layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
            self.head = nn.Linear(d_model, 1)

        def forward(self, src):
            mask = nn.Transformer.generate_square_subsequent_mask(src.size(1), device=src.device)
            x = self.pos_encoder(self.input_proj(src) * math.sqrt(d_model))
            return self.head(self.encoder(x, mask=mask, is_causal=True))

    return TimeSeriesTransformer()


def train(torch, model, series, out_dir, window=24, epochs=6, batch_size=16, max_lr=5e-3, patience=3, shuffle=True,
          seed=0, horizon=12):
    """Returns the mean training loss of each epoch, the validation losses, the best epoch, the test loss of the
    checkpoint read back, and a forecast of `horizon` steps past the end of the test part (in the series' units)."""
    torch.manual_seed(seed)
    n_train, n_val = int(len(series) * 0.7), int(len(series) * 0.15)
    mean, std = series[:n_train].mean(), series[:n_train].std()
    scaled = (series - mean) / std
    Dataset = windows(torch)
    parts = (scaled[:n_train], scaled[n_train - window:n_train + n_val], scaled[n_train + n_val - window:])
    train_set, val_set, test_set = (Dataset(p, window) for p in parts)
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=batch_size, shuffle=shuffle, drop_last=True)
    val_loader = torch.utils.data.DataLoader(val_set, batch_size=64)
    test_loader = torch.utils.data.DataLoader(test_set, batch_size=64)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device)
    criterion = torch.nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=max_lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, epochs=epochs,
                                                    steps_per_epoch=len(train_loader))

    def evaluate(loader):
        model.eval()
        total = 0.0
        with torch.no_grad():
            for x, y in loader:
                x, y = x.to(device), y.to(device)
                total += criterion(model(x), y).item() * x.size(0)
        model.train()
        return total / len(loader.dataset)

    train_losses, val_losses = [], []
    best_val, best_state, best_epoch, bad_epochs = float("inf"), None, -1, 0
    for epoch in range(epochs):
        running = 0.0
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            scheduler.step()
            running += loss.item()
        train_losses.append(running / len(train_loader))
        val_losses.append(evaluate(val_loader))
        if val_losses[-1] < best_val:
            best_val, best_state, best_epoch, bad_epochs = val_losses[-1], copy.deepcopy(model.state_dict()), epoch, 0
        else:
            bad_epochs += 1
            if bad_epochs >= patience:
                break
    path = os.path.join(out_dir, "best_model.pt")
    torch.save({"epoch": best_epoch, "model_state_dict": best_state, "val_loss": best_val}, path)
    checkpoint = torch.load(path)
    model.load_state_dict(checkpoint["model_state_dict"])
    test_loss = evaluate(test_loader)

    model.eval()
    history = torch.as_tensor(scaled[-window:], dtype=torch.float32, device=device).view(1, window, 1)
    forecast = []
    with torch.inference_mode():
        for _ in range(horizon):
            next_value = model(history)[:, -1:, :]
            forecast.append(next_value.item())
            history = torch.cat([history[:, 1:], next_value], dim=1)
    return (np.array(train_losses), np.array(val_losses), checkpoint["epoch"], test_loss,
            np.array(forecast) * std + mean)
