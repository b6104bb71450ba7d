"""Neural collaborative filtering (NeuMF: a generalised matrix factorisation branch and an MLP branch over
separate nn.Embedding tables, concatenated into one prediction layer) as its popular PyTorch implementation writes
it: a Dataset subclass that draws negative items per positive pair with numpy at each epoch (ng_sample) and returns
(user, item, label) triples that the DataLoader collates, nn.init.normal_/xavier_uniform_/kaiming_uniform_ (with
a='1', nonlinearity='sigmoid') and bias zeroing over self.modules(), BCEWithLogitsLoss on label.float(), Adam, and the
leave-one-out evaluation by hit rate and NDCG of the held-out item among sampled negatives via torch.topk and
torch.take. Written against a module `torch`; the interactions are synthetic (users and items with latent tastes)."""
import numpy as np

import prelude


def build(torch, user_num=40, item_num=60, factor_num=8, num_layers=2, dropout=0.1):
    nn = torch.nn

    class NCF(nn.Module):
        def __init__(self, user_num, item_num, factor_num, num_layers, dropout):
            super(NCF, self).__init__()
            self.dropout = dropout
            self.embed_user_GMF = nn.Embedding(user_num, factor_num)
            self.embed_item_GMF = nn.Embedding(item_num, factor_num)
            self.embed_user_MLP = nn.Embedding(user_num, factor_num * (2 ** (num_layers - 1)))
            self.embed_item_MLP = nn.Embedding(item_num, factor_num * (2 ** (num_layers - 1)))

            MLP_modules = []
            for i in range(num_layers):
                input_size = factor_num * (2 ** (num_layers - i))
                MLP_modules.append(nn.Dropout(p=self.dropout))
                MLP_modules.append(nn.Linear(input_size, input_size // 2))
                MLP_modules.append(nn.ReLU())
            self.MLP_layers = nn.Sequential(*MLP_modules)

            self.predict_layer = nn.Linear(factor_num * 2, 1)
            self._init_weight_()

        def _init_weight_(self):
            nn.init.normal_(self.embed_user_GMF.weight, std=0.01)
            nn.init.normal_(self.embed_user_MLP.weight, std=0.01)
            nn.init.normal_(self.embed_item_GMF.weight, std=0.01)
            nn.init.normal_(self.embed_item_MLP.weight, std=0.01)

            for m in self.MLP_layers:
                if isinstance(m, nn.Linear):
                    nn.init.xavier_uniform_(m.weight)
            nn.init.kaiming_uniform_(self.predict_layer.weight, a=1, nonlinearity='sigmoid')

            for m in self.modules():
                if isinstance(m, nn.Linear) and m.bias is not None:
                    m.bias.data.zero_()

        def forward(self, user, item):
            embed_user_GMF = self.embed_user_GMF(user)
            embed_item_GMF = self.embed_item_GMF(item)
            output_GMF = embed_user_GMF * embed_item_GMF

            embed_user_MLP = self.embed_user_MLP(user)
            embed_item_MLP = self.embed_item_MLP(item)
            interaction = torch.cat((embed_user_MLP, embed_item_MLP), -1)
            output_MLP = self.MLP_layers(interaction)

            concat = torch.cat((output_GMF, output_MLP), -1)
            prediction = self.predict_layer(concat)
            return prediction.view(-1)

    return NCF(user_num, item_num, factor_num, num_layers, dropout)


def dataset_class(torch):
    class NCFData(torch.utils.data.Dataset):
        def __init__(self, features, num_item, train_mat=None, num_ng=0, is_training=None, seed=0):
            super(NCFData, self).__init__()
            """ Note that the labels are only useful when training, we thus
                add them in the ng_sample() function.
            """
            self.features_ps = features
            self.num_item = num_item
            self.train_mat = train_mat
            self.num_ng = num_ng
            self.is_training = is_training
            self.labels = [0 for _ in range(len(features))]
            self.random = np.random.RandomState(seed)

        def ng_sample(self):
            assert self.is_training, 'no need to sampling when testing'

            self.features_ng = []
            for x in self.features_ps:
                u = x[0]
                for t in range(self.num_ng):
                    j = self.random.randint(self.num_item)
                    while (u, j) in self.train_mat:
                        j = self.random.randint(self.num_item)
                    self.features_ng.append([u, j])

            labels_ps = [1 for _ in range(len(self.features_ps))]
            labels_ng = [0 for _ in range(len(self.features_ng))]

            self.features_fill = self.features_ps + self.features_ng
            self.labels_fill = labels_ps + labels_ng

        def __len__(self):
            return (self.num_ng + 1) * len(self.labels)

        def __getitem__(self, idx):
            features = self.features_fill if self.is_training else self.features_ps
            labels = self.labels_fill if self.is_training else self.labels

            user = features[idx][0]
            item = features[idx][1]
            label = labels[idx]
            return user, item, label

    return NCFData


def make_data(rng, user_num=40, item_num=60, per_user=6, test_negatives=19):
    """Training pairs (each user's items of highest affinity, but one held out), the set of them, and the test
    lists: per user the held-out item followed by items the user never chose."""
    users, items = rng.standard_normal((user_num, 4)), rng.standard_normal((item_num, 4))
    affinity = users @ items.T + rng.gumbel(size=(user_num, item_num))
    train, test = [], []
    for u in range(user_num):
        chosen = np.argsort(-affinity[u])[:per_user + 1]
        train += [[u, int(i)] for i in chosen[1:]]
        unseen = [i for i in range(item_num) if i not in chosen]
        test.append([int(chosen[0])] + [int(i) for i in rng.choice(unseen, test_negatives, replace=False)])
    return train, {(u, i) for u, i in train}, test


def hit(gt_item, pred_items):
    if gt_item in pred_items:
        return 1
    return 0


def ndcg(gt_item, pred_items):
    if gt_item in pred_items:
        index = pred_items.index(gt_item)
        return np.reciprocal(np.log2(index + 2))
    return 0


def metrics(torch, model, test_data, top_k):
    HR, NDCG = [], []
    for user_id, candidates in enumerate(test_data):
        user = torch.full((len(candidates),), user_id, dtype=torch.long)
        item = torch.tensor(candidates)
        predictions = model(user, item)
        _, indices = torch.topk(predictions, top_k)
        recommends = torch.take(item, indices).cpu().numpy().tolist()
        gt_item = item[0].item()
        HR.append(hit(gt_item, recommends))
        NDCG.append(ndcg(gt_item, recommends))
    return np.mean(HR), np.mean(NDCG)


def train(torch, model, data, epochs=4, batch_size=64, num_ng=3, top_k=5, lr=0.01, shuffle=True, seed=0):
    """Returns the mean loss of each epoch and the hit rate and NDCG after each."""
    train_pairs, train_mat, test_data = data
    torch.manual_seed(seed)
    train_dataset = dataset_class(torch)(train_pairs, model.embed_item_GMF.num_embeddings, train_mat, num_ng, True,
                                         seed=seed)
    train_loader = torch.utils.data.DataLoader(train_dataset, batch_size=batch_size, shuffle=shuffle, num_workers=0)
    loss_function = torch.nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses, hrs, ndcgs = [], [], []
    for epoch in range(epochs):
        model.train()
        train_loader.dataset.ng_sample()
        total, count = 0.0, 0
        for user, item, label in train_loader:
            label = label.float()
            model.zero_grad()
            prediction = model(user, item)
            loss = loss_function(prediction, label)
            loss.backward()
            optimizer.step()
            total += loss.item()
            count += 1
        losses.append(total / count)
        model.eval()
        with torch.no_grad():
            HR, NDCG = metrics(torch, model, test_data, top_k)
        hrs.append(HR)
        ndcgs.append(NDCG)
    return losses, hrs, ndcgs
