"""Train a 3-layer MLP on a synthetic 4-class problem (noisy concentric shells in 8-D), all in f16.

Run: python examples/mlp_classifier.py   (prints the final test accuracy; it reaches >= 95%)
     python examples/mlp_classifier.py --torch   (the same script on PyTorch float32, for comparison)"""
import argparse

import numpy as np
from tqdm import tqdm


def make_data(n, rng, dims=8, classes=4):
    """Points on shells of radius 1..classes (class = shell), with Gaussian noise: not linearly separable."""
    labels = rng.integers(0, classes, n)
    directions = rng.standard_normal((n, dims))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    points = directions * (1.0 + labels)[:, None] + 0.15 * rng.standard_normal((n, dims))
    return points.astype(np.float16), labels.astype(np.int32)


def main(epochs=12, batch=32, seed=0, use_torch=False):
    # The script is written once against the PyTorch API; only the library and the data type change.
    if use_torch:
        import torch as tl
        import torch.nn.functional as F

        def as_input(values):
            return tl.tensor(values.astype(np.float32) if values.dtype == np.float16 else values.astype(np.int64))
    else:
        import tensorlogic as tl
        import tensorlogic.nn.functional as F

        as_input = tl.tensor
    rng = np.random.default_rng(seed)
    tl.manual_seed(seed)
    x_train, y_train = make_data(6000, rng)
    x_test, y_test = make_data(2000, rng)
    model = tl.nn.Sequential(tl.nn.Linear(8, 64), tl.nn.ReLU(), tl.nn.Linear(64, 64), tl.nn.ReLU(), tl.nn.Linear(64, 4))
    optimizer = tl.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = tl.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    for epoch in range(epochs):
        order = rng.permutation(len(x_train))
        bar = tqdm(range(0, len(order), batch), desc=f"epoch {epoch + 1}/{epochs}", leave=False)
        for start in bar:
            idx = order[start:start + batch]
            logits = model(as_input(x_train[idx]))
            loss = F.cross_entropy(logits, as_input(y_train[idx]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            bar.set_postfix(loss=f"{loss.item():.3f}")
        scheduler.step()
    model.eval()
    with tl.no_grad():
        predictions = model(as_input(x_test)).argmax(dim=1).numpy()
    accuracy = float((predictions == y_test).mean())
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--torch", action="store_true", help="run the same script with PyTorch float32")
    main(use_torch=parser.parse_args().torch)
