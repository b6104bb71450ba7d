"""A PointNet classifier as the popular PyTorch implementation writes it: an input transform net (STN3d: shared
per-point MLPs as Conv1d with kernel 1, BatchNorm1d, a max over the points by torch.max(x, 2, keepdim=True)[0], and
an identity matrix from numpy added with .repeat(batchsize, 1)), applied by torch.bmm; a feature transform of its own
with the orthogonality regulariser (torch.norm of A A^T - I over dims (1, 2)); Dropout, log_softmax, nll_loss; Adam
with StepLR; accuracy by pred.data.max(1)[1].eq(target.data).cpu().sum(). Written against a module `torch`. The point
clouds are synthetic: points sampled from one of four shapes (sphere, cube surface, cylinder, cone), randomly rotated
about the vertical axis and scaled."""
import numpy as np

import prelude


def build(torch, k=4, feature_transform=True, dropout=0.3):
    nn = torch.nn
    F = nn.functional

    class STNkd(nn.Module):
        def __init__(self, k=64):
            super(STNkd, self).__init__()
            self.conv1 = torch.nn.Conv1d(k, 32, 1)
            self.conv2 = torch.nn.Conv1d(32, 64, 1)
            self.fc1 = nn.Linear(64, 32)
            self.fc2 = nn.Linear(32, k * k)
            self.relu = nn.ReLU()

            self.bn1 = nn.BatchNorm1d(32)
            self.bn2 = nn.BatchNorm1d(64)
            self.bn3 = nn.BatchNorm1d(32)
            self.k = k

        def forward(self, x):
            batchsize = x.size()[0]
            x = F.relu(self.bn1(self.conv1(x)))
            x = F.relu(self.bn2(self.conv2(x)))
            x = torch.max(x, 2, keepdim=True)[0]
            x = x.view(-1, 64)

            x = F.relu(self.bn3(self.fc1(x)))
            x = self.fc2(x)

            iden = torch.from_numpy(np.eye(self.k).flatten().astype(np.float32)).view(1, self.k * self.k).repeat(
                batchsize, 1)
            if x.is_cuda:
                iden = iden.cuda()
            x = x + iden
            x = x.view(-1, self.k, self.k)
            return x

    class PointNetfeat(nn.Module):
        def __init__(self, global_feat=True, feature_transform=False):
            super(PointNetfeat, self).__init__()
            self.stn = STNkd(k=3)
            self.conv1 = torch.nn.Conv1d(3, 32, 1)
            self.conv2 = torch.nn.Conv1d(32, 64, 1)
            self.conv3 = torch.nn.Conv1d(64, 128, 1)
            self.bn1 = nn.BatchNorm1d(32)
            self.bn2 = nn.BatchNorm1d(64)
            self.bn3 = nn.BatchNorm1d(128)
            self.global_feat = global_feat
            self.feature_transform = feature_transform
            if self.feature_transform:
                self.fstn = STNkd(k=32)

        def forward(self, x):
            n_pts = x.size()[2]
            trans = self.stn(x)
            x = x.transpose(2, 1)
            x = torch.bmm(x, trans)
            x = x.transpose(2, 1)
            x = F.relu(self.bn1(self.conv1(x)))

            if self.feature_transform:
                trans_feat = self.fstn(x)
                x = x.transpose(2, 1)
                x = torch.bmm(x, trans_feat)
                x = x.transpose(2, 1)
            else:
                trans_feat = None

            pointfeat = x
            x = F.relu(self.bn2(self.conv2(x)))
            x = self.bn3(self.conv3(x))
            x = torch.max(x, 2, keepdim=True)[0]
            x = x.view(-1, 128)
            if self.global_feat:
                return x, trans, trans_feat
            x = x.view(-1, 128, 1).repeat(1, 1, n_pts)
            return torch.cat([x, pointfeat], 1), trans, trans_feat

    class PointNetCls(nn.Module):
        def __init__(self, k=2, feature_transform=False):
            super(PointNetCls, self).__init__()
            self.feature_transform = feature_transform
            self.feat = PointNetfeat(global_feat=True, feature_transform=feature_transform)
            self.fc1 = nn.Linear(128, 64)
            self.fc2 = nn.Linear(64, 32)
            self.fc3 = nn.Linear(32, k)
            self.dropout = nn.Dropout(p=dropout)
            self.bn1 = nn.BatchNorm1d(64)
            self.bn2 = nn.BatchNorm1d(32)
            self.relu = nn.ReLU()

        def forward(self, x):
            x, trans, trans_feat = self.feat(x)
            x = F.relu(self.bn1(self.fc1(x)))
            x = F.relu(self.bn2(self.dropout(self.fc2(x))))
            x = self.fc3(x)
            return F.log_softmax(x, dim=1), trans, trans_feat

    return PointNetCls(k=k, feature_transform=feature_transform)


def feature_transform_regularizer(torch, trans):
    d = trans.size()[1]
    batchsize = trans.size()[0]
    I = torch.eye(d)[None, :, :]
    if trans.is_cuda:
        I = I.cuda()
    loss = torch.mean(torch.norm(torch.bmm(trans, trans.transpose(2, 1)) - I, dim=(1, 2)))
    return loss


def make_data(rng, n_train=64, n_test=32, n_points=128):
    """Point clouds [n, n_points, 3] of four shapes and their labels."""
    def cloud(label):
        u, v = rng.uniform(0, 1, n_points), rng.uniform(-1, 1, n_points)
        theta = 2 * np.pi * u
        if label == 0:  # sphere
            p = rng.standard_normal((n_points, 3))
            p /= np.linalg.norm(p, axis=1, keepdims=True)
        elif label == 1:  # cube surface
            p = rng.uniform(-1, 1, (n_points, 3))
            face = rng.integers(0, 3, n_points)
            p[np.arange(n_points), face] = np.sign(rng.uniform(-1, 1, n_points))
        elif label == 2:  # cylinder
            p = np.stack([np.cos(theta), np.sin(theta), v], 1)
        else:  # cone
            r = (1 - v) / 2
            p = np.stack([r * np.cos(theta), r * np.sin(theta), v], 1)
        angle = rng.uniform(0, 2 * np.pi)
        rotation = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
        return p @ rotation.T * rng.uniform(0.7, 1.3) + rng.normal(0, 0.02, (n_points, 3))

    def split(n):
        labels = rng.integers(0, 4, n)
        return np.stack([cloud(label) for label in labels]).astype(np.float16), labels.astype(np.int64)

    return split(n_train), split(n_test)


def train(torch, classifier, data, epochs=3, batch_size=16, shuffle=True, seed=0):
    """Returns the loss of each batch, the training accuracy of each epoch, the test loss and the test accuracy."""
    (points_train, labels_train), (points_test, labels_test) = data
    torch.manual_seed(seed)
    dataloader = prelude.loader(torch, (points_train, labels_train), batch_size=batch_size, shuffle=shuffle)
    testdataloader = prelude.loader(torch, (points_test, labels_test), batch_size=batch_size)
    optimizer = torch.optim.Adam(classifier.parameters(), lr=0.001, betas=(0.9, 0.999))
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    F = torch.nn.functional
    num_batch = len(dataloader)
    losses, accuracies = [], []
    for epoch in range(epochs):
        correct_epoch = 0
        for i, data in enumerate(dataloader, 0):
            points, target = data
            points = points.float().transpose(2, 1)
            optimizer.zero_grad()
            classifier = classifier.train()
            pred, trans, trans_feat = classifier(points)
            loss = F.nll_loss(pred, target)
            if classifier.feature_transform:
                loss += feature_transform_regularizer(torch, trans_feat) * 0.001
            loss.backward()
            optimizer.step()
            pred_choice = pred.data.max(1)[1]
            correct = pred_choice.eq(target.data).cpu().sum()
            correct_epoch += correct.item()
            losses.append(loss.item())
        scheduler.step()
        accuracies.append(correct_epoch / (num_batch * batch_size))

    total_correct = 0
    total_testset = 0
    test_loss = 0.0
    classifier = classifier.eval()
    with torch.no_grad():
        for points, target in testdataloader:
            points = points.float().transpose(2, 1)
            pred, _, _ = classifier(points)
            test_loss += F.nll_loss(pred, target, reduction="sum").item()
            pred_choice = pred.data.max(1)[1]
            correct = pred_choice.eq(target.data).cpu().sum()
            total_correct += correct.item()
            total_testset += points.size()[0]
    return losses, accuracies, test_loss / total_testset, total_correct / float(total_testset)
