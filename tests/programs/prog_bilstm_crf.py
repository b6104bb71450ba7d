"""A BiLSTM-CRF named-entity tagger as PyTorch users write one after the tutorial "Advanced: Making Dynamic Decisions
and the Bi-LSTM CRF", batched as they then batch it: word_to_ix and tag_to_ix dictionaries with <START> and <STOP>
tags, sentences padded by a collate_fn (pad_sequence) and a mask from the padding, an Embedding (padding_idx) into a
bidirectional LSTM over pack_padded_sequence (unsorted lengths), a hidden2tag Linear, and a CRF whose transitions are
an nn.Parameter with the impossible moves set through .data to -10000; the forward algorithm by torch.logsumexp over
the previous tags, the gold path's score by gather and by indexing the transitions with two index tensors, the
negative log-likelihood as the loss, Viterbi decoding by max over the previous tags with backpointers followed on the
host, SGD with weight decay and clip_grad_norm_, evaluation under model.eval() and torch.no_grad(), and a
state_dict checkpoint. Written against a module `torch`. The data is synthetic: person and place names drawn from
their own words, in sentences of filler words."""
import io

import numpy as np

START_TAG, STOP_TAG, PAD, UNK = "<START>", "<STOP>", "<PAD>", "<UNK>"
TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def make_data(rng, n_train=48, n_test=16, max_len=9):
    """(train, test) lists of (words, tags): filler words tagged O around one or two names of one or two words
    (a person's after 'mr' or 'dr' most often, a place's after 'in' or 'to')."""
    fillers = [f"w{i}" for i in range(14)] + ["mr", "dr", "in", "to"]
    persons, places = [f"p{i}" for i in range(8)], [f"l{i}" for i in range(8)]

    def sentence():
        words, tags = [], []
        while len(words) < max_len - 3:
            kind = rng.choice(["O", "O", "PER", "LOC"])
            if kind == "O":
                words.append(str(rng.choice(fillers)))
                tags.append("O")
                continue
            cue, names = (("mr", persons) if kind == "PER" else ("in", places))
            if rng.random() < 0.7:
                words.append(cue)
                tags.append("O")
            for i in range(int(rng.integers(1, 3))):
                words.append(str(rng.choice(names)))
                tags.append(("B-" if i == 0 else "I-") + kind)
        return words, tags

    data = [sentence() for _ in range(n_train + n_test)]
    return data[:n_train], data[n_train:]


def vocabularies(train):
    word_to_ix = {PAD: 0, UNK: 1}
    for words, _ in train:
        for w in words:
            if w not in word_to_ix:
                word_to_ix[w] = len(word_to_ix)
    tag_to_ix = {t: i for i, t in enumerate(TAGS + [START_TAG, STOP_TAG])}
    return word_to_ix, tag_to_ix


def prepare_sequence(torch, seq, to_ix):
    idxs = [to_ix[w] if w in to_ix else to_ix[UNK] for w in seq]
    return torch.tensor(idxs, dtype=torch.long)


def build(torch, vocab_size, tag_to_ix, embedding_dim=16, hidden_dim=16):
    nn = torch.nn
    pack_padded_sequence, pad_packed_sequence = nn.utils.rnn.pack_padded_sequence, nn.utils.rnn.pad_packed_sequence

    class BiLSTM_CRF(nn.Module):
        def __init__(self):
            super().__init__()
            self.tag_to_ix = tag_to_ix
            self.tagset_size = len(tag_to_ix)
            self.word_embeds = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
            self.lstm = nn.LSTM(embedding_dim, hidden_dim // 2, num_layers=1, bidirectional=True, batch_first=True)
            self.hidden2tag = nn.Linear(hidden_dim, self.tagset_size)
            # transitions[i, j]: the score of moving from tag j to tag i. Never to START, never from STOP.
            self.transitions = nn.Parameter(torch.randn(self.tagset_size, self.tagset_size))
            self.transitions.data[tag_to_ix[START_TAG], :] = -10000
            self.transitions.data[:, tag_to_ix[STOP_TAG]] = -10000

        def _get_lstm_features(self, sentences, mask):
            lengths = mask.sum(1)
            embeds = self.word_embeds(sentences)
            packed = pack_padded_sequence(embeds, lengths.cpu(), batch_first=True, enforce_sorted=False)
            lstm_out, _ = self.lstm(packed)
            lstm_out, _ = pad_packed_sequence(lstm_out, batch_first=True, total_length=sentences.size(1))
            return self.hidden2tag(lstm_out)

        def _forward_alg(self, feats, mask):
            batch_size = feats.size(0)
            alphas = torch.full((batch_size, self.tagset_size), -10000.0, device=feats.device)
            alphas[:, self.tag_to_ix[START_TAG]] = 0.0
            for t in range(feats.size(1)):
                emit = feats[:, t].unsqueeze(2)  # [B, next, 1]
                scores = alphas.unsqueeze(1) + self.transitions.unsqueeze(0) + emit  # [B, next, prev]
                new_alphas = torch.logsumexp(scores, dim=2)
                alphas = torch.where(mask[:, t].unsqueeze(1), new_alphas, alphas)
            terminal = alphas + self.transitions[self.tag_to_ix[STOP_TAG]]
            return torch.logsumexp(terminal, dim=1)

        def _score_sentence(self, feats, tags, mask):
            start = torch.full((tags.size(0), 1), self.tag_to_ix[START_TAG], dtype=torch.long, device=tags.device)
            tags = torch.cat([start, tags], dim=1)
            emissions = feats.gather(2, tags[:, 1:].unsqueeze(2)).squeeze(2)
            moves = self.transitions[tags[:, 1:], tags[:, :-1]]
            score = ((emissions + moves) * mask).sum(1)
            last_tags = tags.gather(1, mask.sum(1, keepdim=True)).squeeze(1)
            return score + self.transitions[self.tag_to_ix[STOP_TAG], last_tags]

        def _viterbi_decode(self, feats, mask):
            batch_size = feats.size(0)
            viterbi = torch.full((batch_size, self.tagset_size), -10000.0, device=feats.device)
            viterbi[:, self.tag_to_ix[START_TAG]] = 0
            backpointers = []
            for t in range(feats.size(1)):
                next_tag_var = viterbi.unsqueeze(1) + self.transitions  # [B, next, prev]
                best_scores, best_tag_ids = torch.max(next_tag_var, dim=2)
                backpointers.append(best_tag_ids)
                viterbi = torch.where(mask[:, t].unsqueeze(1), best_scores + feats[:, t], viterbi)
            terminal = viterbi + self.transitions[self.tag_to_ix[STOP_TAG]]
            path_scores, best_last = terminal.max(dim=1)
            lengths = mask.sum(1).tolist()
            pointers = torch.stack(backpointers, dim=1).tolist()
            paths = []
            for b, last in enumerate(best_last.tolist()):
                path = [last]
                for t in range(lengths[b] - 1, 0, -1):
                    path.append(pointers[b][t][path[-1]])
                paths.append(path[::-1])
            return path_scores, paths

        def neg_log_likelihood(self, sentences, tags, mask):
            feats = self._get_lstm_features(sentences, mask)
            return (self._forward_alg(feats, mask) - self._score_sentence(feats, tags, mask)).mean()

        def forward(self, sentences, mask):
            return self._viterbi_decode(self._get_lstm_features(sentences, mask), mask)

    return BiLSTM_CRF()


def collate_fn(torch, word_to_ix, tag_to_ix):
    pad_sequence = torch.nn.utils.rnn.pad_sequence

    def collate(batch):
        sentences = pad_sequence([prepare_sequence(torch, words, word_to_ix) for words, _ in batch], batch_first=True)
        tags = pad_sequence([prepare_sequence(torch, t, tag_to_ix) for _, t in batch], batch_first=True)
        return sentences, tags, sentences != 0

    return collate


def evaluate(torch, model, loader, ix_to_tag):
    model.eval()
    total_loss, correct, count, entities = 0.0, 0, 0, 0
    with torch.no_grad():
        for sentences, tags, mask in loader:
            total_loss += model.neg_log_likelihood(sentences, tags, mask).item() * sentences.size(0)
            _, paths = model(sentences, mask)
            for path, gold, n in zip(paths, tags.tolist(), mask.sum(1).tolist()):
                correct += sum(int(p == g) for p, g in zip(path, gold[:n]))
                count += n
                entities += sum(ix_to_tag[p].startswith("B-") for p in path)
    model.train()
    return total_loss / len(loader.dataset), correct / count, entities


def train(torch, model, data, word_to_ix, tag_to_ix, epochs=6, batch_size=8, lr=0.1, shuffle=True, seed=0):
    """Returns the mean training loss of each epoch, the test loss, token accuracy and the number of entities
    the decoded test paths begin, and the test paths of a model reloaded from a state_dict checkpoint."""
    torch.manual_seed(seed)
    train_data, test_data = data
    ix_to_tag = {i: t for t, i in tag_to_ix.items()}
    collate = collate_fn(torch, word_to_ix, tag_to_ix)
    train_loader = torch.utils.data.DataLoader(train_data, batch_size=batch_size, shuffle=shuffle, collate_fn=collate)
    test_loader = torch.utils.data.DataLoader(test_data, batch_size=batch_size, collate_fn=collate)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)
    losses = []
    for epoch in range(epochs):
        running = 0.0
        for sentences, tags, mask in train_loader:
            model.zero_grad()
            loss = model.neg_log_likelihood(sentences, tags, mask)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            running += loss.item() * sentences.size(0)
        losses.append(running / len(train_data))
    test_loss, accuracy, entities = evaluate(torch, model, test_loader, ix_to_tag)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    restored = build(torch, len(word_to_ix), tag_to_ix)
    restored.load_state_dict(torch.load(buffer))
    restored.eval()
    with torch.no_grad():
        sentences, _, mask = next(iter(test_loader))
        _, paths = restored(sentences, mask)
    return np.array(losses), test_loss, accuracy, entities, paths
