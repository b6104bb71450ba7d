"""A small image classifier built from torchvision's two light-weight designs, as tutorials re-implement them:
MobileNetV2's inverted residual blocks (1x1 expansion, 3x3 depthwise convolution with groups equal to its channels,
ReLU6, linear 1x1 projection, a residual where the shape allows; _make_divisible channel counts) and a DenseNet dense
block whose bottleneck layers run under torch.utils.checkpoint (densenet's memory_efficient form) followed by a
transition; Kaiming fan-out initialisation, SGD with Nesterov momentum and weight decay, CosineAnnealingLR and
label-smoothed cross entropy; written against a module `torch`. Shrunk: 3x12x12 synthetic images of 5 classes."""
import numpy as np

import prelude


def _make_divisible(v, divisor, min_value=None):
    """MobileNet's rule: channels rounded to a multiple of divisor, never down by more than 10%."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def build(torch, num_classes=5, width_mult=1.0, growth_rate=6, dropout=0.2, memory_efficient=True):
    nn = torch.nn
    F = nn.functional
    checkpoint = torch.utils.checkpoint.checkpoint

    class ConvBNReLU(nn.Sequential):
        def __init__(self, in_planes, out_planes, kernel_size=3, stride=1, groups=1):
            padding = (kernel_size - 1) // 2
            super(ConvBNReLU, self).__init__(
                nn.Conv2d(in_planes, out_planes, kernel_size, stride, padding, groups=groups, bias=False),
                nn.BatchNorm2d(out_planes),
                nn.ReLU6(inplace=True),
            )

    class InvertedResidual(nn.Module):
        def __init__(self, inp, oup, stride, expand_ratio):
            super(InvertedResidual, self).__init__()
            assert stride in [1, 2]
            hidden_dim = int(round(inp * expand_ratio))
            self.use_res_connect = stride == 1 and inp == oup
            layers = []
            if expand_ratio != 1:
                layers.append(ConvBNReLU(inp, hidden_dim, kernel_size=1))  # pointwise expansion
            layers.extend([
                ConvBNReLU(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim),  # depthwise
                nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),  # linear pointwise projection
                nn.BatchNorm2d(oup),
            ])
            self.conv = nn.Sequential(*layers)

        def forward(self, x):
            if self.use_res_connect:
                return x + self.conv(x)
            return self.conv(x)

    class _DenseLayer(nn.Module):
        def __init__(self, num_input_features, growth_rate, bn_size, memory_efficient):
            super().__init__()
            self.norm1 = nn.BatchNorm2d(num_input_features)
            self.relu1 = nn.ReLU(inplace=True)
            self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1, stride=1, bias=False)
            self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
            self.relu2 = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1, padding=1,
                                   bias=False)
            self.memory_efficient = memory_efficient

        def bn_function(self, inputs):
            concated_features = torch.cat(inputs, 1)
            return self.conv1(self.relu1(self.norm1(concated_features)))

        def any_requires_grad(self, input):
            for tensor in input:
                if tensor.requires_grad:
                    return True
            return False

        def call_checkpoint_bottleneck(self, input):
            def closure(*inputs):
                return self.bn_function(inputs)

            return checkpoint(closure, *input, use_reentrant=False)

        def forward(self, input):
            if isinstance(input, torch.Tensor):
                prev_features = [input]
            else:
                prev_features = input
            if self.memory_efficient and self.any_requires_grad(prev_features):
                bottleneck_output = self.call_checkpoint_bottleneck(prev_features)
            else:
                bottleneck_output = self.bn_function(prev_features)
            return self.conv2(self.relu2(self.norm2(bottleneck_output)))

    class _DenseBlock(nn.ModuleDict):
        def __init__(self, num_layers, num_input_features, bn_size, growth_rate, memory_efficient):
            super().__init__()
            for i in range(num_layers):
                layer = _DenseLayer(num_input_features + i * growth_rate, growth_rate, bn_size, memory_efficient)
                self.add_module("denselayer%d" % (i + 1), layer)

        def forward(self, init_features):
            features = [init_features]
            for name, layer in self.items():
                new_features = layer(features)
                features.append(new_features)
            return torch.cat(features, 1)

    class _Transition(nn.Sequential):
        def __init__(self, num_input_features, num_output_features):
            super().__init__()
            self.norm = nn.BatchNorm2d(num_input_features)
            self.relu = nn.ReLU(inplace=True)
            self.conv = nn.Conv2d(num_input_features, num_output_features, kernel_size=1, stride=1, bias=False)
            self.pool = nn.AvgPool2d(kernel_size=2, stride=2)

    class MobileDenseNet(nn.Module):
        def __init__(self):
            super(MobileDenseNet, self).__init__()
            input_channel = _make_divisible(16 * width_mult, 8)
            # t (expansion), c (channels), n (repeats), s (first stride): MobileNetV2's table, shortened
            settings = [[1, 8, 1, 1], [4, 12, 2, 2]]
            features = [ConvBNReLU(3, input_channel, stride=1)]
            for t, c, n, s in settings:
                output_channel = _make_divisible(c * width_mult, 4)
                for i in range(n):
                    stride = s if i == 0 else 1
                    features.append(InvertedResidual(input_channel, output_channel, stride, expand_ratio=t))
                    input_channel = output_channel
            self.features = nn.Sequential(*features)
            self.dense = _DenseBlock(2, input_channel, bn_size=2, growth_rate=growth_rate,
                                     memory_efficient=memory_efficient)
            num_features = input_channel + 2 * growth_rate
            self.transition = _Transition(num_features, num_features // 2)
            self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(num_features // 2, num_classes))

            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out")
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.zeros_(m.bias)

        def forward(self, x):
            x = self.features(x)
            x = self.transition(F.relu(self.dense(x)))
            x = F.adaptive_avg_pool2d(x, (1, 1))
            x = torch.flatten(x, 1)
            return self.classifier(x)

    return MobileDenseNet()


def make_data(rng, n_train=100, n_test=60, classes=5, size=12):
    """Colour images of `classes` patterns (stripes at an angle and frequency per class, a colour per class) with
    noise: (train images, labels), (test images, labels)."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    angles = rng.uniform(0, np.pi, classes)
    freqs = rng.uniform(1.5, 4.0, classes)
    colours = rng.uniform(0.3, 1.0, (classes, 3))

    def images(labels):
        phase = rng.uniform(0, 2 * np.pi, len(labels))[:, None, None]
        wave = np.sin(2 * np.pi * freqs[labels, None, None]
                      * (np.cos(angles[labels])[:, None, None] * xx + np.sin(angles[labels])[:, None, None] * yy)
                      + phase)
        pictures = wave[:, None] * colours[labels][:, :, None, None]
        return (pictures + rng.normal(0, 0.3, pictures.shape)).astype(np.float32)

    train_labels, test_labels = rng.integers(0, classes, n_train), rng.integers(0, classes, n_test)
    return (images(train_labels), train_labels), (images(test_labels), test_labels)


def train(torch, model, data, epochs=4, batch_size=20, lr=0.05, shuffle=True, seed=1):
    """SGD (Nesterov momentum 0.9, weight decay 4e-5) with CosineAnnealingLR stepped per epoch and cross entropy with
    label smoothing 0.1; returns each batch's loss and, in eval mode (running BatchNorm statistics), the test loss
    and accuracy."""
    (x_train, y_train), (x_test, y_test) = data
    torch.manual_seed(seed)
    train_loader = prelude.loader(torch, (x_train, y_train), batch_size=batch_size, shuffle=shuffle)
    test_loader = prelude.loader(torch, (x_test, y_test), batch_size=40)
    criterion = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=4e-5)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    losses = []
    for epoch in range(epochs):
        model.train()
        for images, target in train_loader:
            output = model(images)
            loss = criterion(output, target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
    model.eval()
    test_loss, correct = 0.0, 0
    with torch.no_grad():
        for images, target in test_loader:
            output = model(images)
            test_loss += criterion(output, target).item() * len(target)
            correct += (output.argmax(dim=1) == target).sum().item()
    return losses, test_loss / len(y_test), correct / len(y_test)
