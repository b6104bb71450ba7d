"""A data pipeline of the kinds PyTorch users build around torch.utils.data: a map-style Dataset of variable-length
token sequences, a custom batch Sampler that buckets indices by length (sorted within chunks, the batches shuffled by
a seeded torch.Generator), a collate_fn that pads with nn.utils.rnn.pad_sequence and returns the lengths, an
IterableDataset that streams (sequence, label) pairs and splits the stream between DataLoader workers by
get_worker_info(), a worker_init_fn, and a GRU classifier over pack_padded_sequence(enforce_sorted=False) trained with
Adam on the bucketed batches. Written against a module `torch`. Shrunk: 96 sequences of 3 to 12 tokens of 12 symbols,
the label whether symbol 1 appears more often than symbol 2."""
import numpy as np


def make_data(rng, n=96, vocab=12):
    lengths = rng.integers(3, 13, n)
    seqs = [rng.integers(1, vocab, length) for length in lengths]
    labels = [int((s == 1).sum() > (s == 2).sum()) for s in seqs]
    return seqs, labels


def pipeline(torch):
    """The dataset, sampler and collate classes and functions, made against `torch`."""
    data = torch.utils.data
    pad_sequence = torch.nn.utils.rnn.pad_sequence

    class SequenceDataset(data.Dataset):
        def __init__(self, seqs, labels):
            self.seqs = [torch.tensor(s, dtype=torch.long) for s in seqs]
            self.labels = labels

        def __len__(self):
            return len(self.seqs)

        def __getitem__(self, idx):
            return self.seqs[idx], self.labels[idx]

    class BucketBatchSampler(data.Sampler):
        """Batches of indices of similar length: the indices in chunks of bucket_size, each chunk sorted by length
        and cut into batches; the batch order shuffled by the generator."""

        def __init__(self, lengths, batch_size, bucket_size, shuffle=True, generator=None):
            self.lengths, self.batch_size, self.bucket_size = lengths, batch_size, bucket_size
            self.shuffle, self.generator = shuffle, generator

        def __iter__(self):
            batches = []
            for start in range(0, len(self.lengths), self.bucket_size):
                chunk = sorted(range(start, min(start + self.bucket_size, len(self.lengths))),
                               key=lambda i: self.lengths[i])
                batches.extend(chunk[i:i + self.batch_size] for i in range(0, len(chunk), self.batch_size))
            order = torch.randperm(len(batches), generator=self.generator) if self.shuffle else range(len(batches))
            for i in order:
                yield batches[int(i)]

        def __len__(self):
            return sum(-(-min(self.bucket_size, len(self.lengths) - start) // self.batch_size)
                       for start in range(0, len(self.lengths), self.bucket_size))

    def collate_batch(batch):
        seqs, labels = zip(*batch)
        lengths = torch.tensor([len(s) for s in seqs])
        return pad_sequence(seqs, batch_first=True, padding_value=0), lengths, torch.tensor(labels)

    class StreamDataset(data.IterableDataset):
        """Streams (sequence, label) pairs; each worker takes every num_workers-th one."""

        def __init__(self, seqs, labels):
            super().__init__()
            self.seqs, self.labels = seqs, labels

        def __iter__(self):
            worker_info = data.get_worker_info()
            start, step = (0, 1) if worker_info is None else (worker_info.id, worker_info.num_workers)
            for i in range(start, len(self.seqs), step):
                yield torch.tensor(self.seqs[i], dtype=torch.long), self.labels[i]

    return SequenceDataset, BucketBatchSampler, collate_batch, StreamDataset


def seed_worker(worker_id):
    np.random.seed(1234 + worker_id)


def build(torch, vocab=12, embed=8, hidden=16):
    nn = torch.nn

    class GRUClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab, embed, padding_idx=0)
            self.rnn = nn.GRU(embed, hidden, batch_first=True)
            self.head = nn.Linear(hidden, 2)

        def forward(self, padded, lengths):
            packed = nn.utils.rnn.pack_padded_sequence(self.embedding(padded), lengths, batch_first=True,
                                                       enforce_sorted=False)
            _, h_n = self.rnn(packed)
            return self.head(h_n[-1])

    return GRUClassifier()


def train(torch, model, data, epochs=3, batch_size=8, shuffle=True, seed=0):
    """Returns the losses, the batches' index lists of the first epoch, and the padded shapes seen."""
    SequenceDataset, BucketBatchSampler, collate_batch, _ = pipeline(torch)
    seqs, labels = data
    dataset = SequenceDataset(seqs, labels)
    sampler = BucketBatchSampler([len(s) for s in seqs], batch_size, bucket_size=32, shuffle=shuffle,
                                 generator=torch.Generator().manual_seed(seed))
    loader = torch.utils.data.DataLoader(dataset, batch_sampler=sampler, collate_fn=collate_batch)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    criterion = torch.nn.CrossEntropyLoss()
    losses, shapes, first_epoch = [], [], list(sampler)
    model.train()
    for _ in range(epochs):
        for padded, lengths, targets in loader:
            optimizer.zero_grad()
            loss = criterion(model(padded, lengths), targets)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            shapes.append(tuple(padded.shape))
    return losses, first_epoch, shapes


def stream(torch, model, data, num_workers=2, batch_size=8):
    """The stream read by num_workers workers in batches: the labels in the order they arrive, and the accuracy of
    the model on them."""
    _, _, collate_batch, StreamDataset = pipeline(torch)
    loader = torch.utils.data.DataLoader(StreamDataset(*data), batch_size=batch_size, collate_fn=collate_batch,
                                         num_workers=num_workers, worker_init_fn=seed_worker)
    order, correct, n = [], 0, 0
    model.eval()
    with torch.no_grad():
        for padded, lengths, targets in loader:
            order.extend(targets.tolist())
            correct += (model(padded, lengths).argmax(1) == targets).sum().item()
            n += len(targets)
    return order, correct / n
