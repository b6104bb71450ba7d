"""Skip-gram word2vec with negative sampling, as the popular PyTorch implementations write it: a data reader that
counts words, discards frequent ones by the subsampling rule and keeps a unigram^0.75 table to draw negatives from
with numpy; a Dataset whose items are the (centre, context, negatives) triples of one sentence and a collate_fn that
flattens a batch of sentences into torch.LongTensor columns; two nn.Embedding(sparse=True) tables (input vectors
uniform in +-1/dim, output vectors zero) scored with torch.mul, torch.bmm, clamp and F.logsigmoid; optim.SparseAdam
with a CosineAnnealingLR stepped per batch; then the learned vectors' nearest neighbours by cosine similarity
(F.normalize, mm, topk) under torch.no_grad, and the vectors written to a text file as word2vec's format has them.
Written against a module `torch`; the corpus is synthetic (sentences drawn from a few topics' vocabularies)."""
import collections

import numpy as np


class DataReader:
    NEGATIVE_TABLE_SIZE = 100_000

    def __init__(self, sentences, min_count=1, seed=0):
        self.sentences = sentences
        self.random = np.random.RandomState(seed)
        counts = collections.Counter(w for s in sentences for w in s)
        self.word2id, self.id2word, self.word_frequency = {}, {}, {}
        for wid, (w, c) in enumerate(sorted((w, c) for w, c in counts.items() if c >= min_count)):
            self.word2id[w], self.id2word[wid], self.word_frequency[wid] = wid, w, c
        self.token_count = sum(self.word_frequency.values())
        self.init_table_discards()
        self.init_table_negatives()
        self.negpos = 0

    def init_table_discards(self):
        t = 0.01
        f = np.array(list(self.word_frequency.values())) / self.token_count
        self.discards = np.sqrt(t / f) + (t / f)

    def init_table_negatives(self):
        pow_frequency = np.array(list(self.word_frequency.values())) ** 0.75
        ratio = pow_frequency / pow_frequency.sum()
        count = np.round(ratio * DataReader.NEGATIVE_TABLE_SIZE)
        self.negatives = np.concatenate([[wid] * int(c) for wid, c in enumerate(count)]).astype(np.int64)
        self.random.shuffle(self.negatives)

    def get_negatives(self, size):
        response = self.negatives[self.negpos:self.negpos + size]
        self.negpos = (self.negpos + size) % len(self.negatives)
        if len(response) != size:
            return np.concatenate((response, self.negatives[0:self.negpos]))
        return response


def dataset_class(torch):
    class Word2vecDataset(torch.utils.data.Dataset):
        def __init__(self, data, window_size, negatives):
            self.data = data
            self.window_size = window_size
            self.negatives = negatives

        def __len__(self):
            return len(self.data.sentences)

        def __getitem__(self, idx):
            words = self.data.sentences[idx]
            word_ids = [self.data.word2id[w] for w in words if w in self.data.word2id
                        and self.data.random.rand() < self.data.discards[self.data.word2id[w]]]
            boundary = self.data.random.randint(1, self.window_size)
            return [(u, v, self.data.get_negatives(self.negatives)) for i, u in enumerate(word_ids)
                    for j, v in enumerate(word_ids[max(i - boundary, 0):i + boundary]) if u != v]

        @staticmethod
        def collate(batches):
            all_u = [u for batch in batches for u, _, _ in batch if len(batch) > 0]
            all_v = [v for batch in batches for _, v, _ in batch if len(batch) > 0]
            all_neg_v = [neg_v for batch in batches for _, _, neg_v in batch if len(batch) > 0]
            return torch.LongTensor(all_u), torch.LongTensor(all_v), torch.LongTensor(np.array(all_neg_v))

    return Word2vecDataset


def build(torch, emb_size, emb_dimension=16):
    nn, F, init = torch.nn, torch.nn.functional, torch.nn.init

    class SkipGramModel(nn.Module):
        def __init__(self, emb_size, emb_dimension):
            super(SkipGramModel, self).__init__()
            self.emb_size = emb_size
            self.emb_dimension = emb_dimension
            self.u_embeddings = nn.Embedding(emb_size, emb_dimension, sparse=True)
            self.v_embeddings = nn.Embedding(emb_size, emb_dimension, sparse=True)
            initrange = 1.0 / self.emb_dimension
            init.uniform_(self.u_embeddings.weight.data, -initrange, initrange)
            init.constant_(self.v_embeddings.weight.data, 0)

        def forward(self, pos_u, pos_v, neg_v):
            emb_u = self.u_embeddings(pos_u)
            emb_v = self.v_embeddings(pos_v)
            emb_neg_v = self.v_embeddings(neg_v)

            score = torch.sum(torch.mul(emb_u, emb_v), dim=1)
            score = torch.clamp(score, max=10, min=-10)
            score = -F.logsigmoid(score)

            neg_score = torch.bmm(emb_neg_v, emb_u.unsqueeze(2)).squeeze()
            neg_score = torch.clamp(neg_score, max=10, min=-10)
            neg_score = -torch.sum(F.logsigmoid(-neg_score), dim=1)

            return torch.mean(score + neg_score)

        def save_embedding(self, id2word, file_name):
            embedding = self.u_embeddings.weight.cpu().data.numpy()
            with open(file_name, 'w') as f:
                f.write('%d %d\n' % (len(id2word), self.emb_dimension))
                for wid, w in id2word.items():
                    e = ' '.join(map(lambda x: str(x), embedding[wid]))
                    f.write('%s %s\n' % (w, e))

    return SkipGramModel(emb_size, emb_dimension)


def make_corpus(rng, topics=4, words_per_topic=12, sentences=240, length=8):
    """Sentences of `length` words, each drawn from one topic's words (Zipf-like within it) and a few shared ones."""
    vocab = [[f"t{t}w{i}" for i in range(words_per_topic)] for t in range(topics)]
    shared = ["the", "of", "and"]
    weights = 1.0 / np.arange(1, words_per_topic + 1)
    weights /= weights.sum()
    corpus = []
    for _ in range(sentences):
        topic = vocab[rng.integers(topics)]
        corpus.append([shared[rng.integers(3)] if rng.random() < 0.15 else topic[rng.choice(words_per_topic, p=weights)]
                       for _ in range(length)])
    return corpus


def neighbours(torch, model, k=3):
    """Each word's k nearest other words by the cosine similarity of the input vectors."""
    F = torch.nn.functional
    with torch.no_grad():
        emb = F.normalize(model.u_embeddings.weight, dim=1)
        sims = torch.mm(emb, emb.t())
        sims.fill_diagonal_(-2.0)
        return torch.topk(sims, k, dim=1).indices.cpu().numpy()


def train(torch, model, corpus, out_file, epochs=4, batch_size=16, window_size=3, negatives=4, lr=0.05, seed=0):
    """Returns each epoch's mean loss, the fraction of topic words whose 3 nearest neighbours share their topic, and
    the lines of the saved vectors' file."""
    data = DataReader(corpus, seed=seed)
    dataset = dataset_class(torch)(data, window_size, negatives)
    dataloader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=0,
                                             collate_fn=dataset.collate)
    optimizer = torch.optim.SparseAdam(list(model.parameters()), lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs * len(dataloader))
    losses = []
    for epoch in range(epochs):
        running, count = 0.0, 0
        for pos_u, pos_v, neg_v in dataloader:
            if len(pos_u) == 0:
                continue
            optimizer.zero_grad()
            loss = model.forward(pos_u, pos_v, neg_v)
            loss.backward()
            optimizer.step()
            scheduler.step()
            running += loss.item()
            count += 1
        losses.append(running / count)
    near = neighbours(torch, model)
    topic_of = {wid: w[:2] for wid, w in data.id2word.items() if w.startswith("t")}
    agree = [np.mean([topic_of.get(int(n)) == t for n in near[wid]]) for wid, t in topic_of.items()]
    model.save_embedding(data.id2word, out_file)
    with open(out_file) as f:
        lines = f.read().splitlines()
    return losses, float(np.mean(agree)), lines
