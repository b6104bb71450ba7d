"""The spatial transformer networks tutorial: a localisation network (convolutions, max pooling, a regressor whose
last layer starts at the identity transform) predicts an affine theta per image, F.affine_grid and F.grid_sample
warp the input with it, and the tutorial's MNIST classifier (Dropout2d, F.dropout, log_softmax, nll_loss) reads the
warped image; trained by SGD, tested under torch.no_grad() with the summed loss and pred.eq(target.view_as(pred)),
and the warped images turned into a numpy grid as its convert_image_np does. Written against a module `torch`. MNIST
is replaced by synthetic 28x28 digits: one stroke pattern per class, shifted and rotated at random."""
import numpy as np

import prelude


def build(torch, dropout=0.5):
    nn = torch.nn
    F = nn.functional

    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
            self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
            self.conv2_drop = nn.Dropout2d(p=dropout)
            self.fc1 = nn.Linear(320, 50)
            self.fc2 = nn.Linear(50, 10)
            self.dropout = dropout

            # Spatial transformer localization-network
            self.localization = nn.Sequential(
                nn.Conv2d(1, 8, kernel_size=7),
                nn.MaxPool2d(2, stride=2),
                nn.ReLU(True),
                nn.Conv2d(8, 10, kernel_size=5),
                nn.MaxPool2d(2, stride=2),
                nn.ReLU(True)
            )

            # Regressor for the 3 * 2 affine matrix
            self.fc_loc = nn.Sequential(
                nn.Linear(10 * 3 * 3, 32),
                nn.ReLU(True),
                nn.Linear(32, 3 * 2)
            )

            # Initialize the weights/bias with identity transformation
            self.fc_loc[2].weight.data.zero_()
            self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

        # Spatial transformer network forward function
        def stn(self, x):
            xs = self.localization(x)
            xs = xs.view(-1, 10 * 3 * 3)
            theta = self.fc_loc(xs)
            theta = theta.view(-1, 2, 3)

            grid = F.affine_grid(theta, x.size(), align_corners=False)
            x = F.grid_sample(x, grid, align_corners=False)

            return x

        def forward(self, x):
            # transform the input
            x = self.stn(x)

            # Perform the usual forward pass
            x = F.relu(F.max_pool2d(self.conv1(x), 2))
            x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
            x = x.view(-1, 320)
            x = F.relu(self.fc1(x))
            x = F.dropout(x, p=self.dropout, training=self.training)
            x = self.fc2(x)
            return F.log_softmax(x, dim=1)

    return Net()


def make_data(rng, n_train=96, n_test=64):
    """Digits of 10 classes: each class a fixed set of strokes on a 28x28 canvas, placed with a random shift
    (up to 4 pixels) and rotation (up to 25 degrees), plus noise; normalised with MNIST's mean and std."""
    yy, xx = np.mgrid[0:28, 0:28].astype(np.float64) - 13.5
    strokes = rng.uniform(-7, 7, (10, 3, 4))  # per class: three segments (x0, y0, x1, y1)

    def draw(label):
        angle = rng.uniform(-25, 25) * np.pi / 180
        shift = rng.uniform(-4, 4, 2)
        c, s = np.cos(angle), np.sin(angle)
        u, v = c * (xx - shift[0]) + s * (yy - shift[1]), -s * (xx - shift[0]) + c * (yy - shift[1])
        image = np.zeros((28, 28))
        for x0, y0, x1, y1 in strokes[label]:
            t = np.clip(((u - x0) * (x1 - x0) + (v - y0) * (y1 - y0)) / ((x1 - x0) ** 2 + (y1 - y0) ** 2), 0, 1)
            image = np.maximum(image, np.exp(-((u - x0 - t * (x1 - x0)) ** 2 + (v - y0 - t * (y1 - y0)) ** 2) / 2.0))
        return image

    def split(n):
        labels = rng.integers(0, 10, n)
        images = np.stack([draw(label) for label in labels])[:, None] + rng.normal(0, 0.05, (n, 1, 28, 28))
        return ((images - 0.1307) / 0.3081).astype(np.float16), labels.astype(np.int64)

    return split(n_train), split(n_test)


def convert_image_np(inp):
    """Convert a Tensor to numpy image."""
    inp = inp.numpy().transpose((1, 2, 0))
    mean = np.array([0.485, 0.456, 0.406])
    std = np.array([0.229, 0.224, 0.225])
    inp = std * inp + mean
    inp = np.clip(inp, 0, 1)
    return inp


def train(torch, model, data, epochs=4, batch_size=16, lr=0.1, shuffle=True, seed=0):
    """Returns the mean training loss of each epoch, the test loss, the test accuracy and the warped test images
    as the tutorial's visualize_stn shows them (a numpy array)."""
    (x_train, y_train), (x_test, y_test) = data
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = model.to(device)
    torch.manual_seed(seed)
    train_loader = prelude.loader(torch, (x_train, y_train), batch_size=batch_size, shuffle=shuffle)
    test_loader = prelude.loader(torch, (x_test, y_test), batch_size=32)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    F = torch.nn.functional
    epoch_losses = []
    for epoch in range(1, epochs + 1):
        model.train()
        total = 0.0
        for batch_idx, (data, target) in enumerate(train_loader):
            data, target = data.float().to(device), target.to(device)
            optimizer.zero_grad()
            output = model(data)
            loss = F.nll_loss(output, target)
            loss.backward()
            optimizer.step()
            total += loss.item()
        epoch_losses.append(total / len(train_loader))

    with torch.no_grad():
        model.eval()
        test_loss = 0
        correct = 0
        for data, target in test_loader:
            data, target = data.float().to(device), target.to(device)
            output = model(data)
            # sum up batch loss
            test_loss += F.nll_loss(output, target, size_average=False).item()
            # get the index of the max log-probability
            pred = output.max(1, keepdim=True)[1]
            correct += pred.eq(target.view_as(pred)).sum().item()
        test_loss /= len(test_loader.dataset)
        accuracy = correct / len(test_loader.dataset)

        data = next(iter(test_loader))[0].float().to(device)
        input_tensor = data.cpu()
        transformed_input_tensor = model.stn(data).cpu()
        # (torchvision.utils.make_grid, written out: the images side by side, 3 channels)
        grid = torch.cat([t.repeat(3, 1, 1) for t in transformed_input_tensor[:4]], dim=2)
        out_grid = convert_image_np(grid)
        assert input_tensor.shape == transformed_input_tensor.shape
    return epoch_losses, test_loss, accuracy, out_grid
