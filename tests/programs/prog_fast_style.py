"""fast-neural-style as the PyTorch examples write it (transformer_net.py, utils.py, neural_style.py's train):
a TransformerNet of reflection-padded convolutions, InstanceNorm2d(affine=True), residual blocks and
upsampling convolutions, trained against a frozen feature network's content loss and the style loss over
Gram matrices (bmm of the flattened features), on inputs scaled by normalize_batch; written against a module
`torch`. Shrunk: 16x16 images, 8-channel widths, one residual block, and a small random frozen network in place
of VGG-16 (whose downloaded weights the example loads)."""
from collections import namedtuple

import numpy as np

import prelude


def build(torch):
    nn = torch.nn

    class ConvLayer(torch.nn.Module):
        def __init__(self, in_channels, out_channels, kernel_size, stride):
            super(ConvLayer, self).__init__()
            reflection_padding = kernel_size // 2
            self.reflection_pad = torch.nn.ReflectionPad2d(reflection_padding)
            self.conv2d = torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride)

        def forward(self, x):
            out = self.reflection_pad(x)
            out = self.conv2d(out)
            return out

    class ResidualBlock(torch.nn.Module):
        def __init__(self, channels):
            super(ResidualBlock, self).__init__()
            self.conv1 = ConvLayer(channels, channels, kernel_size=3, stride=1)
            self.in1 = torch.nn.InstanceNorm2d(channels, affine=True)
            self.conv2 = ConvLayer(channels, channels, kernel_size=3, stride=1)
            self.in2 = torch.nn.InstanceNorm2d(channels, affine=True)
            self.relu = torch.nn.ReLU()

        def forward(self, x):
            residual = x
            out = self.relu(self.in1(self.conv1(x)))
            out = self.in2(self.conv2(out))
            out = out + residual
            return out

    class UpsampleConvLayer(torch.nn.Module):
        """Upsamples the input and then does a convolution (the example's F.interpolate; nn.Upsample here)."""

        def __init__(self, in_channels, out_channels, kernel_size, stride, upsample=None):
            super(UpsampleConvLayer, self).__init__()
            self.upsample = upsample
            self.upsample_layer = nn.Upsample(scale_factor=upsample, mode="nearest") if upsample else None
            reflection_padding = kernel_size // 2
            self.reflection_pad = torch.nn.ReflectionPad2d(reflection_padding)
            self.conv2d = torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride)

        def forward(self, x):
            x_in = x
            if self.upsample:
                x_in = self.upsample_layer(x_in)
            out = self.reflection_pad(x_in)
            out = self.conv2d(out)
            return out

    class TransformerNet(torch.nn.Module):
        def __init__(self):
            super(TransformerNet, self).__init__()
            # Initial convolution layers
            self.conv1 = ConvLayer(3, 8, kernel_size=9, stride=1)
            self.in1 = torch.nn.InstanceNorm2d(8, affine=True)
            self.conv2 = ConvLayer(8, 16, kernel_size=3, stride=2)
            self.in2 = torch.nn.InstanceNorm2d(16, affine=True)
            # Residual layers
            self.res1 = ResidualBlock(16)
            # Upsampling Layers
            self.deconv1 = UpsampleConvLayer(16, 8, kernel_size=3, stride=1, upsample=2)
            self.in4 = torch.nn.InstanceNorm2d(8, affine=True)
            self.deconv3 = ConvLayer(8, 3, kernel_size=9, stride=1)
            # Non-linearities
            self.relu = torch.nn.ReLU()

        def forward(self, X):
            y = self.relu(self.in1(self.conv1(X)))
            y = self.relu(self.in2(self.conv2(y)))
            y = self.res1(y)
            y = self.relu(self.in4(self.deconv1(y)))
            y = self.deconv3(y)
            return y

    class Features(torch.nn.Module):
        """vgg.py's Vgg16 in shape: slices of a sequential network whose outputs come back as a namedtuple."""

        def __init__(self, requires_grad=False):
            super(Features, self).__init__()
            self.slice1 = torch.nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True))
            self.slice2 = torch.nn.Sequential(nn.MaxPool2d(kernel_size=2, stride=2), nn.Conv2d(8, 16, 3, padding=1),
                                              nn.ReLU(inplace=True))
            if not requires_grad:
                for param in self.parameters():
                    param.requires_grad = False

        def forward(self, X):
            h = self.slice1(X)
            h_relu1_2 = h
            h = self.slice2(h)
            h_relu2_2 = h
            vgg_outputs = namedtuple("VggOutputs", ["relu1_2", "relu2_2"])
            return vgg_outputs(h_relu1_2, h_relu2_2)

    return nn.ModuleDict({"transformer": TransformerNet(), "vgg": Features(requires_grad=False)})


def gram_matrix(y):
    (b, ch, h, w) = y.size()
    features = y.view(b, ch, w * h)
    features_t = features.transpose(1, 2)
    gram = features.bmm(features_t) / (ch * h * w)
    return gram


def normalize_batch(batch):
    # normalize using imagenet mean and std
    mean = batch.new_tensor([0.485, 0.456, 0.406]).view(-1, 1, 1)
    std = batch.new_tensor([0.229, 0.224, 0.225]).view(-1, 1, 1)
    batch = batch.div_(255.0)
    return (batch - mean) / std


def make_data(rng, n=32, size=16):
    """Images in [0, 255] (the example's transforms.Lambda(lambda x: x.mul(255))) and one style image."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    phase = rng.uniform(0, 2 * np.pi, (n, 3, 1, 1))
    images = 127.5 * (1 + np.sin(2 * np.pi * (rng.uniform(0.5, 2, (n, 3, 1, 1)) * (yy + xx)) + phase))
    style = 127.5 * (1 + np.sign(np.sin(6 * np.pi * xx)))[None].repeat(3, 0)
    return images.astype(np.float32), style.astype(np.float32)


def train(torch, nets, data, epochs=2, shuffle=True, seed=1, content_weight=1e2, style_weight=1e4):
    """neural_style.py's train (Adam at lr 1e-3 raised to 1e-2 for the short run); returns each batch's
    (content, style, total) losses and the stylised first image. The example's weights (content 1e5, style
    1e10) make losses of 1e4 to 1e8, beyond float16's largest value (65504): the style loss becomes inf and
    the weights NaN after one step. These weights keep the losses between 1 and 100."""
    torch.manual_seed(seed)
    images, style_image = data
    _, device = prelude.accelerator(torch)
    train_loader = prelude.loader(torch, (images,), batch_size=8, shuffle=shuffle)
    transformer, vgg = nets["transformer"].to(device), nets["vgg"].to(device)
    optimizer = torch.optim.Adam(transformer.parameters(), lr=1e-2)
    mse_loss = torch.nn.MSELoss()

    style = torch.from_numpy(style_image).repeat(8, 1, 1, 1).to(device)
    features_style = vgg(normalize_batch(style))
    gram_style = [gram_matrix(y) for y in features_style]

    losses = []
    for e in range(epochs):
        transformer.train()
        agg_content_loss = 0.
        agg_style_loss = 0.
        count = 0
        for batch_id, (x,) in enumerate(train_loader):
            n_batch = len(x)
            count += n_batch
            optimizer.zero_grad()

            x = x.to(device)
            y = transformer(x)

            y = normalize_batch(y)
            x = normalize_batch(x)

            features_y = vgg(y)
            features_x = vgg(x)

            content_loss = content_weight * mse_loss(features_y.relu2_2, features_x.relu2_2)

            style_loss = 0.
            for ft_y, gm_s in zip(features_y, gram_style):
                gm_y = gram_matrix(ft_y)
                style_loss += mse_loss(gm_y, gm_s[:n_batch, :, :])
            style_loss *= style_weight

            total_loss = content_loss + style_loss
            total_loss.backward()
            optimizer.step()

            agg_content_loss += content_loss.item()
            agg_style_loss += style_loss.item()
            losses.append((content_loss.item(), style_loss.item(), total_loss.item()))
            mesg = "Epoch {}:\t[{}/{}]\tcontent: {:.6f}\tstyle: {:.6f}\ttotal: {:.6f}".format(
                e + 1, count, len(train_loader.dataset), agg_content_loss / (batch_id + 1),
                agg_style_loss / (batch_id + 1), (agg_content_loss + agg_style_loss) / (batch_id + 1))
            assert mesg.startswith("Epoch")
    transformer.eval()
    with torch.no_grad():
        output = transformer(torch.from_numpy(images[:1]).to(device)).cpu()
        img = output[0].clone().clamp(0, 255).numpy()
    return np.array(losses), img
