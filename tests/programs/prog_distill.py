"""Knowledge distillation as PyTorch users write it after the "Knowledge Distillation Tutorial": a convolutional
teacher (Conv2d, BatchNorm2d, Dropout; weights initialised through model.apply with kaiming_normal_ and constant_)
trained with SGD (Nesterov momentum), then frozen (eval(), requires_grad_(False)) while a small student learns from
its softened outputs: softmax and log_softmax at a temperature T, the KL term written out as the tutorial writes it
(sum of p * (log p - log q) over the batch size, times T^2) and once more as nn.KLDivLoss(reduction="batchmean",
log_target=True), plus cross-entropy on the labels, and a hint term that matches the student's hidden features to
the teacher's, caught by a forward hook and pooled with F.avg_pool1d, through nn.CosineEmbeddingLoss. The student
trains with AdamW on two parameter groups (no weight decay on biases and norms) under CosineAnnealingWarmRestarts
stepped per batch with a fractional epoch. Written against a module `torch`. The images are synthetic: 4 classes of
oriented bars on 12x12 noise."""
import numpy as np


def make_data(rng, n_train=192, n_test=64, size=12):
    """Images [N, 1, size, size] and labels [N]: a bar (horizontal, vertical or diagonal) or a cross, in a random
    place, on noise."""
    def image(label):
        img = 0.3 * rng.standard_normal((size, size))
        r, c = rng.integers(2, size - 2, 2)
        if label in (0, 3):
            img[r, 1:-1] += 1.5
        if label in (1, 3):
            img[1:-1, c] += 1.5
        if label == 2:
            idx = np.arange(1, size - 1)
            img[idx, idx] += 1.5
        return img

    labels = rng.integers(0, 4, n_train + n_test)
    images = np.stack([image(y) for y in labels])[:, None].astype(np.float32)
    return (images[:n_train], labels[:n_train]), (images[n_train:], labels[n_train:])


def build_teacher(torch, dropout=0.25, num_classes=4):
    nn = torch.nn

    class DeepNN(nn.Module):
        def __init__(self):
            super(DeepNN, self).__init__()
            self.features = nn.Sequential(
                nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                nn.Conv2d(16, 16, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2),
                nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
                nn.AdaptiveAvgPool2d(2))
            self.classifier = nn.Sequential(nn.Linear(128, 64), nn.ReLU(), nn.Dropout(dropout),
                                            nn.Linear(64, num_classes))

        def forward(self, x):
            x = self.features(x)
            x = torch.flatten(x, 1)
            return self.classifier(x)

    def init_weights(m):
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)

    model = DeepNN()
    model.apply(init_weights)
    return model


def build_student(torch, num_classes=4, hidden=32):
    nn = torch.nn

    class LightNN(nn.Module):
        def __init__(self):
            super(LightNN, self).__init__()
            self.flatten = nn.Flatten()
            self.fc1 = nn.Linear(144, hidden)
            self.norm = nn.LayerNorm(hidden)
            self.fc2 = nn.Linear(hidden, num_classes)

        def forward(self, x):
            hidden_representation = torch.relu(self.norm(self.fc1(self.flatten(x))))
            return self.fc2(hidden_representation), hidden_representation

    return LightNN()


def _loaders(torch, data, batch_size, shuffle):
    (x_train, y_train), (x_test, y_test) = data
    train_set = torch.utils.data.TensorDataset(torch.tensor(x_train), torch.tensor(y_train))
    test_set = torch.utils.data.TensorDataset(torch.tensor(x_test), torch.tensor(y_test))
    return (torch.utils.data.DataLoader(train_set, batch_size=batch_size, shuffle=shuffle),
            torch.utils.data.DataLoader(test_set, batch_size=batch_size))


def test_accuracy(torch, model, loader, device, student=False):
    model.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for inputs, labels in loader:
            inputs, labels = inputs.to(device), labels.to(device)
            outputs = model(inputs)
            if student:
                outputs = outputs[0]
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    return correct / total


def train_teacher(torch, teacher, data, epochs=4, batch_size=32, lr=0.05, shuffle=True, seed=0):
    torch.manual_seed(seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    teacher.to(device)
    train_loader, test_loader = _loaders(torch, data, batch_size, shuffle)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(teacher.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    losses = []
    teacher.train()
    for epoch in range(epochs):
        running_loss = 0.0
        for inputs, labels in train_loader:
            inputs, labels = inputs.to(device), labels.to(device)
            optimizer.zero_grad()
            outputs = teacher(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        losses.append(running_loss / len(train_loader))
    return np.array(losses), test_accuracy(torch, teacher, test_loader, device)


def distill(torch, teacher, student, data, epochs=6, batch_size=32, lr=3e-3, T=2.0, soft_weight=0.25,
            ce_weight=0.75, hint_weight=0.1, shuffle=True, seed=0):
    """Returns the student's loss terms per epoch (the tutorial's KL, KLDivLoss's, cross-entropy, hint), its
    test accuracy, and the learning rates the scheduler gave."""
    torch.manual_seed(seed)
    nn, F = torch.nn, torch.nn.functional
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    teacher.to(device).eval()
    teacher.requires_grad_(False)
    student.to(device).train()
    train_loader, test_loader = _loaders(torch, data, batch_size, shuffle)

    caught = {}
    handle = teacher.classifier[0].register_forward_hook(lambda module, args, output: caught.update(hidden=output))
    ce_loss, kl_loss, cosine_loss = nn.CrossEntropyLoss(), nn.KLDivLoss(reduction="batchmean", log_target=True), \
        nn.CosineEmbeddingLoss()
    decay, no_decay = [], []
    for name, param in student.named_parameters():
        (no_decay if name.endswith("bias") or "norm" in name else decay).append(param)
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 1e-2}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=2, T_mult=2, eta_min=1e-4)
    iters = len(train_loader)
    history, lrs = [], []
    for epoch in range(epochs):
        sums = np.zeros(4)
        for i, (inputs, labels) in enumerate(train_loader):
            inputs, labels = inputs.to(device), labels.to(device)
            optimizer.zero_grad()
            with torch.no_grad():
                teacher_logits = teacher(inputs)
            student_logits, student_hidden = student(inputs)
            soft_targets = F.softmax(teacher_logits / T, dim=-1)
            soft_prob = F.log_softmax(student_logits / T, dim=-1)
            soft_targets_loss = torch.sum(soft_targets * (soft_targets.log() - soft_prob)) / soft_prob.size()[0] * (T ** 2)
            kl = kl_loss(soft_prob, F.log_softmax(teacher_logits / T, dim=-1)) * (T ** 2)
            label_loss = ce_loss(student_logits, labels)
            pooled = F.avg_pool1d(caught["hidden"].unsqueeze(1), kernel_size=2).squeeze(1)
            hint = cosine_loss(student_hidden, pooled, torch.ones(inputs.size(0), device=device))
            loss = soft_weight * soft_targets_loss + ce_weight * label_loss + hint_weight * hint
            loss.backward()
            optimizer.step()
            scheduler.step(epoch + i / iters)
            lrs.append(scheduler.get_last_lr()[0])
            sums += [soft_targets_loss.item(), kl.item(), label_loss.item(), hint.item()]
        history.append(sums / iters)
    handle.remove()
    return np.array(history), test_accuracy(torch, student, test_loader, device, student=True), np.array(lrs)
