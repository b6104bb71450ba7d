"""A capsule network (Sabour et al.'s dynamic routing) as the common PyTorch implementations write it: primary
capsules as a ModuleList of strided convolutions stacked and squashed, digit capsules with a weight tensor
[1, routes, capsules, out, in] repeated over the batch by torch.cat([W] * batch_size), u_hat by torch.matmul, three
routing iterations of softmax and agreement by matmul of transposes, class lengths by sqrt of summed squares, a decoder
fed the capsules masked by torch.eye(n).index_select of the longest one, the margin loss plus a scaled reconstruction
loss, trained by Adam. Written against a module `torch`. MNIST is replaced by synthetic 20x20 images of four classes
(a bar in one of four orientations, shifted, with noise). The routing softmax is over the parent capsules (dim=2), the
paper's coupling: the implementations that take it over the routes (dim=1) average 288 predictions into class
capsules about 1e-4 long, whose squares (1e-8) no f16 program can hold (PyTorch's autocast runs pow and sum in
float32 for that), so their lengths' sqrt has an infinite gradient."""
import numpy as np

import prelude


def squash(torch, input_tensor, dim=-1):
    squared_norm = (input_tensor ** 2).sum(dim, keepdim=True)
    output_tensor = squared_norm * input_tensor / ((1. + squared_norm) * torch.sqrt(squared_norm))
    return output_tensor


def build(torch, num_classes=4, routing_iterations=3):
    nn = torch.nn
    F = nn.functional

    class ConvLayer(nn.Module):
        def __init__(self, in_channels=1, out_channels=32, kernel_size=5):
            super(ConvLayer, self).__init__()
            self.conv = nn.Conv2d(in_channels=in_channels, out_channels=out_channels, kernel_size=kernel_size,
                                  stride=1)

        def forward(self, x):
            return F.relu(self.conv(x))

    class PrimaryCaps(nn.Module):
        def __init__(self, num_capsules=8, in_channels=32, out_channels=8, kernel_size=5):
            super(PrimaryCaps, self).__init__()
            self.capsules = nn.ModuleList([
                nn.Conv2d(in_channels=in_channels, out_channels=out_channels, kernel_size=kernel_size, stride=2,
                          padding=0)
                for _ in range(num_capsules)])

        def forward(self, x):
            u = [capsule(x) for capsule in self.capsules]
            u = torch.stack(u, dim=1)
            u = u.view(x.size(0), 8 * 6 * 6, -1)
            return squash(torch, u)

    class DigitCaps(nn.Module):
        def __init__(self, num_capsules=num_classes, num_routes=8 * 6 * 6, in_channels=8, out_channels=8):
            super(DigitCaps, self).__init__()
            self.in_channels = in_channels
            self.num_routes = num_routes
            self.num_capsules = num_capsules
            self.W = nn.Parameter(torch.randn(1, num_routes, num_capsules, out_channels, in_channels))

        def forward(self, x):
            batch_size = x.size(0)
            x = torch.stack([x] * self.num_capsules, dim=2).unsqueeze(4)

            W = torch.cat([self.W] * batch_size, dim=0)
            u_hat = torch.matmul(W, x)

            b_ij = torch.zeros(1, self.num_routes, self.num_capsules, 1, device=x.device)

            for iteration in range(routing_iterations):
                c_ij = F.softmax(b_ij, dim=2)
                c_ij = torch.cat([c_ij] * batch_size, dim=0).unsqueeze(4)

                s_j = (c_ij * u_hat).sum(dim=1, keepdim=True)
                v_j = squash(torch, s_j, dim=3)

                if iteration < routing_iterations - 1:
                    a_ij = torch.matmul(u_hat.transpose(3, 4), torch.cat([v_j] * self.num_routes, dim=1))
                    b_ij = b_ij + a_ij.squeeze(4).mean(dim=0, keepdim=True)

            return v_j.squeeze(1)

    class Decoder(nn.Module):
        def __init__(self):
            super(Decoder, self).__init__()
            self.reconstraction_layers = nn.Sequential(
                nn.Linear(8 * num_classes, 64),
                nn.ReLU(inplace=True),
                nn.Linear(64, 128),
                nn.ReLU(inplace=True),
                nn.Linear(128, 400),
                nn.Sigmoid()
            )

        def forward(self, x, data):
            classes = torch.sqrt((x ** 2).sum(2))
            classes = F.softmax(classes, dim=1)

            _, max_length_indices = classes.max(dim=1)
            masked = torch.eye(num_classes, device=x.device)
            masked = masked.index_select(dim=0, index=max_length_indices.squeeze(1).data)
            t = (x * masked[:, :, None, None]).view(x.size(0), -1)
            reconstructions = self.reconstraction_layers(t)
            reconstructions = reconstructions.view(-1, 1, 20, 20)
            return reconstructions, masked

    class CapsNet(nn.Module):
        def __init__(self):
            super(CapsNet, self).__init__()
            self.conv_layer = ConvLayer()
            self.primary_capsules = PrimaryCaps()
            self.digit_capsules = DigitCaps()
            self.decoder = Decoder()
            self.mse_loss = nn.MSELoss()

        def forward(self, data):
            output = self.digit_capsules(self.primary_capsules(self.conv_layer(data)))
            reconstructions, masked = self.decoder(output, data)
            return output, reconstructions, masked

        def loss(self, data, x, target, reconstructions):
            return self.margin_loss(x, target) + self.reconstruction_loss(data, reconstructions)

        def margin_loss(self, x, labels, size_average=True):
            batch_size = x.size(0)

            v_c = torch.sqrt((x ** 2).sum(dim=2, keepdim=True))

            left = F.relu(0.9 - v_c).view(batch_size, -1)
            right = F.relu(v_c - 0.1).view(batch_size, -1)

            loss = labels * left + 0.5 * (1.0 - labels) * right
            loss = loss.sum(dim=1).mean()

            return loss

        def reconstruction_loss(self, data, reconstructions):
            loss = self.mse_loss(reconstructions.view(reconstructions.size(0), -1), data.view(reconstructions.size(0), -1))
            return loss * 0.0005

    return CapsNet()


def make_data(rng, n_train=48, n_test=32):
    """20x20 images in [0, 1]: a bar at 0, 45, 90 or 135 degrees (the class), shifted up to 3 pixels, with noise."""
    yy, xx = np.mgrid[0:20, 0:20].astype(np.float64) - 9.5

    def image(label):
        angle = label * np.pi / 4
        dx, dy = rng.uniform(-3, 3, 2)
        distance = np.abs(-np.sin(angle) * (xx - dx) + np.cos(angle) * (yy - dy))
        along = np.abs(np.cos(angle) * (xx - dx) + np.sin(angle) * (yy - dy))
        return np.exp(-distance ** 2 / 2) * (along < 6)

    def split(n):
        labels = rng.integers(0, 4, n)
        images = np.stack([image(label) for label in labels])[:, None] + rng.uniform(0, 0.1, (n, 1, 20, 20))
        return np.clip(images, 0, 1).astype(np.float16), labels.astype(np.int64)

    return split(n_train), split(n_test)


def train(torch, capsule_net, data, epochs=2, batch_size=8, shuffle=True, seed=0):
    """Returns the loss of each batch, the test loss and the test accuracy."""
    (x_train, y_train), (x_test, y_test) = data
    torch.manual_seed(seed)
    train_loader = prelude.loader(torch, (x_train, y_train), batch_size=batch_size, shuffle=shuffle)
    test_loader = prelude.loader(torch, (x_test, y_test), batch_size=batch_size)
    optimizer = torch.optim.Adam(capsule_net.parameters(), lr=1e-3)
    losses = []
    for epoch in range(epochs):
        capsule_net.train()
        for batch_id, (data, target) in enumerate(train_loader):
            target = torch.eye(4).index_select(dim=0, index=target)
            data = data.float()
            optimizer.zero_grad()
            output, reconstructions, masked = capsule_net(data)
            loss = capsule_net.loss(data, output, target, reconstructions)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())

    capsule_net.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for batch_id, (data, target) in enumerate(test_loader):
            target = torch.eye(4).index_select(dim=0, index=target)
            data = data.float()
            output, reconstructions, masked = capsule_net(data)
            loss = capsule_net.loss(data, output, target, reconstructions)
            test_loss += loss.item()
            correct += sum(np.argmax(masked.data.cpu().numpy(), 1) == np.argmax(target.data.cpu().numpy(), 1))
    return losses, test_loss / len(test_loader), correct / len(test_loader.dataset)
