"""A news-topic classifier as PyTorch users write one after the tutorial "Text classification with the torchtext
library", without torchtext: a basic_english-style tokenizer, a vocabulary built with collections.Counter (<unk> at
0), text_pipeline and label_pipeline lambdas, a collate_batch that concatenates the token ids of a batch and makes
the offsets by torch.tensor(offsets[:-1]).cumsum(dim=0), nn.EmbeddingBag (mean) into a Linear with weights
initialised by uniform_, CrossEntropyLoss, SGD with lr 5, StepLR stepped when the validation accuracy stops
improving, clip_grad_norm_(0.1), random_split of the training set with a seeded generator, and predict() of a new
headline under torch.no_grad(). Written against a module `torch`. The corpus is synthetic: four topics, each with its
own words, in headlines of shared filler words."""
import re
from collections import Counter

import numpy as np

TOPICS = {1: "World", 2: "Sports", 3: "Business", 4: "Sci/Tec"}


def make_corpus(rng, n_train=240, n_test=60):
    """(train, test) lists of (label, text): 5 to 11 words, about a third of them the topic's own."""
    shared = [f"word{i}" for i in range(30)] + ["the", "a", "of", "and", "in", "on"]
    own = {label: [f"{name.lower().replace('/', '')}{i}" for i in range(12)] for label, name in TOPICS.items()}

    def headline():
        label = int(rng.integers(1, 5))
        words = [str(rng.choice(own[label] if rng.random() < 0.35 else shared)) for _ in range(rng.integers(5, 12))]
        return label, " ".join(words).capitalize() + rng.choice([".", "!", "?", ""])

    corpus = [headline() for _ in range(n_train + n_test)]
    return corpus[:n_train], corpus[n_train:]


def tokenizer(line):
    """basic_english: lower case, punctuation split off and dropped."""
    return re.sub(r"[^a-z0-9 ]", " ", line.lower()).split()


def build_vocab(train_iter, min_freq=1):
    counter = Counter()
    for _, text in train_iter:
        counter.update(tokenizer(text))
    vocab = {"<unk>": 0}
    for word, freq in counter.most_common():
        if freq >= min_freq:
            vocab[word] = len(vocab)
    return vocab


def build(torch, vocab_size, embed_dim=16, num_class=4):
    nn = torch.nn

    class TextClassificationModel(nn.Module):
        def __init__(self):
            super(TextClassificationModel, self).__init__()
            self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
            self.fc = nn.Linear(embed_dim, num_class)
            self.init_weights()

        def init_weights(self):
            initrange = 0.5
            self.embedding.weight.data.uniform_(-initrange, initrange)
            self.fc.weight.data.uniform_(-initrange, initrange)
            self.fc.bias.data.zero_()

        def forward(self, text, offsets):
            embedded = self.embedding(text, offsets)
            return self.fc(embedded)

    return TextClassificationModel()


def train(torch, model, corpus, vocab, epochs=5, batch_size=16, lr=5.0, shuffle=True, seed=0):
    """Returns the mean training loss of each epoch, the validation accuracy of each, the test accuracy, and the
    topic predicted for a new headline."""
    torch.manual_seed(seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = model.to(device)
    text_pipeline = lambda x: [vocab.get(token, 0) for token in tokenizer(x)]  # noqa: E731 (the tutorial's form)
    label_pipeline = lambda x: int(x) - 1  # noqa: E731

    def collate_batch(batch):
        label_list, text_list, offsets = [], [], [0]
        for _label, _text in batch:
            label_list.append(label_pipeline(_label))
            processed_text = torch.tensor(text_pipeline(_text), dtype=torch.int64)
            text_list.append(processed_text)
            offsets.append(processed_text.size(0))
        label_list = torch.tensor(label_list, dtype=torch.int64)
        offsets = torch.tensor(offsets[:-1]).cumsum(dim=0)
        text_list = torch.cat(text_list)
        return label_list.to(device), text_list.to(device), offsets.to(device)

    train_data, test_data = corpus
    num_train = int(len(train_data) * 0.9)
    split_train, split_valid = torch.utils.data.random_split(
        train_data, [num_train, len(train_data) - num_train], generator=torch.Generator().manual_seed(42))
    train_dataloader = torch.utils.data.DataLoader(split_train, batch_size=batch_size, shuffle=shuffle,
                                                   collate_fn=collate_batch)
    valid_dataloader = torch.utils.data.DataLoader(split_valid, batch_size=batch_size, collate_fn=collate_batch)
    test_dataloader = torch.utils.data.DataLoader(test_data, batch_size=batch_size, collate_fn=collate_batch)

    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.1)

    def evaluate(dataloader):
        model.eval()
        total_acc, total_count = 0, 0
        with torch.no_grad():
            for label, text, offsets in dataloader:
                predicted_label = model(text, offsets)
                total_acc += (predicted_label.argmax(1) == label).sum().item()
                total_count += label.size(0)
        return total_acc / total_count

    losses, accuracies, total_accu = [], [], None
    for epoch in range(1, epochs + 1):
        model.train()
        running, batches = 0.0, 0
        for label, text, offsets in train_dataloader:
            optimizer.zero_grad()
            predicted_label = model(text, offsets)
            loss = criterion(predicted_label, label)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
            optimizer.step()
            running += loss.item()
            batches += 1
        losses.append(running / batches)
        accu_val = evaluate(valid_dataloader)
        if total_accu is not None and total_accu > accu_val:
            scheduler.step()
        else:
            total_accu = accu_val
        accuracies.append(accu_val)
    test_accuracy = evaluate(test_dataloader)

    def predict(text):
        with torch.no_grad():
            text = torch.tensor(text_pipeline(text), device=device)
            output = model(text, torch.tensor([0], device=device))
            return output.argmax(1).item() + 1

    return np.array(losses), accuracies, test_accuracy, TOPICS[predict("Sports3 sports7 the word2 sports1 of")]
