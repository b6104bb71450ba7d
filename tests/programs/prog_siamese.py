"""A siamese network in the style of the PyTorch examples' siamese_network/main.py (one tower run on both
images by forward_once, the two embeddings concatenated into a classifier ending in Sigmoid, BCELoss,
Adadelta with StepLR) and its triplet variant (nn.TripletMarginLoss over anchor, positive and negative
embeddings, pairs judged by F.cosine_similarity); written against a module `torch`. Shrunk: a small CNN in
place of ResNet-18, 12x12 synthetic images of 6 classes; the pairs are drawn once by numpy."""
import numpy as np

import prelude


def build(torch):
    nn = torch.nn
    F = nn.functional

    class SiameseNetwork(nn.Module):
        def __init__(self):
            super(SiameseNetwork, self).__init__()
            self.tower = nn.Sequential(
                nn.Conv2d(1, 8, kernel_size=3, padding=1),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
                nn.Conv2d(8, 16, kernel_size=3, padding=1),
                nn.ReLU(inplace=True),
                nn.AdaptiveAvgPool2d((2, 2)),
            )
            self.fc_in_features = 16 * 2 * 2
            self.fc = nn.Sequential(
                nn.Linear(self.fc_in_features * 2, 32),
                nn.ReLU(inplace=True),
                nn.Linear(32, 1),
            )
            self.sigmoid = nn.Sigmoid()
            self.tower.apply(self.init_weights)
            self.fc.apply(self.init_weights)

        def init_weights(self, m):
            if isinstance(m, nn.Linear):
                torch.nn.init.xavier_uniform_(m.weight)
                m.bias.data.fill_(0.01)

        def forward_once(self, x):
            output = self.tower(x)
            output = output.view(output.size()[0], -1)
            return output

        def forward(self, input1, input2):
            output1 = self.forward_once(input1)
            output2 = self.forward_once(input2)
            output = torch.cat((output1, output2), 1)
            output = self.fc(output)
            output = self.sigmoid(output)
            return output

    return SiameseNetwork()


def make_data(rng, n_pairs=256, n_test=64, classes=6):
    """Images of `classes` noisy templates; pairs (image, image, 1 if the same class else 0) half of each
    kind, as the example's dataset makes them; and triplets (anchor, positive, negative)."""
    templates = rng.random((classes, 12, 12)) > 0.6

    def images(labels):
        return ((templates[labels] + rng.normal(0, 0.4, (len(labels), 12, 12))) - 0.5).astype(np.float32)[:, None]

    def pairs(n):
        a = rng.integers(0, classes, n)
        same = rng.random(n) < 0.5
        b = np.where(same, a, (a + rng.integers(1, classes, n)) % classes)
        return images(a), images(b), same.astype(np.float32)

    def triplets(n):
        a = rng.integers(0, classes, n)
        return images(a), images(a), images((a + rng.integers(1, classes, n)) % classes)

    return pairs(n_pairs), pairs(n_test), triplets(n_pairs)


def train_pairs(torch, model, data, epochs=3, shuffle=True, seed=1):
    """The example's train and test: BCELoss on the sigmoid output, Adadelta (lr 1) with StepLR (gamma 0.7);
    returns each batch's loss, the test loss and the test accuracy (output > 0.5 against the target). At this
    size the pair classifier stays near chance in a few epochs (the triplet loss below is what learns)."""
    torch.manual_seed(seed)
    nn = torch.nn
    _, device = prelude.accelerator(torch)
    train_pairs_, test_pairs = data[0], data[1]
    train_loader = prelude.loader(torch, train_pairs_, batch_size=32, shuffle=shuffle)
    test_loader = prelude.loader(torch, test_pairs, batch_size=32, shuffle=False)
    model = model.to(device)
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    criterion = nn.BCELoss()
    losses = []
    for epoch in range(1, epochs + 1):
        model.train()
        for batch_idx, (images_1, images_2, targets) in enumerate(train_loader):
            images_1, images_2, targets = images_1.to(device), images_2.to(device), targets.to(device)
            optimizer.zero_grad()
            outputs = model(images_1, images_2).squeeze()
            loss = criterion(outputs, targets)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
    model.eval()
    test_loss = 0
    correct = 0
    criterion = nn.BCELoss(reduction="sum")
    with torch.no_grad():
        for (images_1, images_2, targets) in test_loader:
            images_1, images_2, targets = images_1.to(device), images_2.to(device), targets.to(device)
            outputs = model(images_1, images_2).squeeze()
            test_loss += criterion(outputs, targets).sum().item()
            pred = torch.where(outputs > 0.5, 1, 0)
            correct += pred.eq(targets.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    return losses, test_loss, correct / len(test_loader.dataset)


def train_triplets(torch, model, data, epochs=3, shuffle=True, seed=1):
    """The tower trained alone with TripletMarginLoss (margin 1, Adam); returns each batch's loss and the test
    pairs' accuracy when a cosine similarity above the threshold halfway between the two kinds' means
    means 'same'."""
    torch.manual_seed(seed)
    nn = torch.nn
    F = nn.functional
    embed = model.forward_once
    loader = prelude.loader(torch, data[2], batch_size=32, shuffle=shuffle)
    optimizer = torch.optim.Adam(model.tower.parameters(), lr=1e-2)
    criterion = nn.TripletMarginLoss(margin=1.0, p=2)
    losses = []
    for epoch in range(epochs):
        for anchor, positive, negative in loader:
            optimizer.zero_grad()
            loss = criterion(embed(anchor), embed(positive), embed(negative))
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    with torch.no_grad():
        a, b, same = (torch.from_numpy(x) for x in data[1])
        similarity = F.cosine_similarity(embed(a), embed(b), dim=1)
        distance = F.pairwise_distance(embed(a), embed(b))
        threshold = (similarity[same == 1].mean() + similarity[same == 0].mean()) / 2
        accuracy = ((similarity > threshold).float() == same).float().mean().item()
    return losses, accuracy, distance.numpy()
