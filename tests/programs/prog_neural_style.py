"""Neural style transfer in the style of the PyTorch tutorial (Gatys et al.): a feature network walked child by child
into a new nn.Sequential with ContentLoss and StyleLoss modules inserted after chosen convolutions (each keeps its
detached target and records its loss in forward, passing its input through), a Normalization module, the Sequential
trimmed after the last loss by slicing, and the input image itself optimised by LBFGS through a closure that clamps
it in place under no_grad; written against a module `torch`. Shrunk: a small random convolutional network in place
of pretrained VGG-19 (no weights can be downloaded), 3x16x16 images made by numpy, 6 LBFGS steps."""
import numpy as np

CONTENT_LAYERS = ["conv_3"]
STYLE_LAYERS = ["conv_1", "conv_2", "conv_3", "conv_4"]


def make_images(rng, size=16):
    """(content, style) [1, 3, size, size] in [0, 1]: a smooth blob scene and a striped texture."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    content = np.stack([np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / 0.05) for cx, cy in rng.uniform(0.2, 0.8, (3, 2))])
    angle = rng.uniform(0, np.pi)
    stripes = np.sin(2 * np.pi * 4 * (np.cos(angle) * xx + np.sin(angle) * yy))
    style = 0.5 + 0.4 * stripes[None] * rng.uniform(0.3, 1.0, (3, 1, 1))
    return content[None].astype(np.float32), np.clip(style, 0, 1)[None].astype(np.float32)


def build_cnn(torch):
    """The feature network standing in for VGG-19's features: conv/ReLU pairs with a max pool between blocks."""
    nn = torch.nn
    cnn = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(inplace=True),
        nn.MaxPool2d(2, 2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(inplace=True),
        nn.MaxPool2d(2, 2),
        nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(inplace=True),
    )
    return cnn.eval()


def gram_matrix(torch, input):
    a, b, c, d = input.size()  # a=batch size(=1), b=number of feature maps, (c,d)=dimensions of a f. map (N=c*d)
    features = input.view(a * b, c * d)
    G = torch.mm(features, features.t())  # compute the gram product
    # 'normalize' the values of the gram matrix by dividing by the number of element in each feature maps
    return G.div(a * b * c * d)


def get_style_model_and_losses(torch, cnn, normalization_mean, normalization_std, style_img, content_img,
                               content_layers=CONTENT_LAYERS, style_layers=STYLE_LAYERS):
    nn = torch.nn
    F = nn.functional

    class ContentLoss(nn.Module):
        def __init__(self, target):
            super(ContentLoss, self).__init__()
            # we 'detach' the target content from the tree used to dynamically compute the gradient
            self.target = target.detach()

        def forward(self, input):
            self.loss = F.mse_loss(input, self.target)
            return input

    class StyleLoss(nn.Module):
        def __init__(self, target_feature):
            super(StyleLoss, self).__init__()
            self.target = gram_matrix(torch, target_feature).detach()

        def forward(self, input):
            G = gram_matrix(torch, input)
            self.loss = F.mse_loss(G, self.target)
            return input

    class Normalization(nn.Module):
        def __init__(self, mean, std):
            super(Normalization, self).__init__()
            # .view the mean and std to make them [C x 1 x 1] so that they can directly work with image
            # Tensor of shape [B x C x H x W].
            self.mean = torch.tensor(mean).view(-1, 1, 1)
            self.std = torch.tensor(std).view(-1, 1, 1)

        def forward(self, img):
            return (img - self.mean) / self.std

    normalization = Normalization(normalization_mean, normalization_std)
    content_losses = []
    style_losses = []
    model = nn.Sequential(normalization)

    i = 0  # increment every time we see a conv
    for layer in cnn.children():
        if isinstance(layer, nn.Conv2d):
            i += 1
            name = "conv_{}".format(i)
        elif isinstance(layer, nn.ReLU):
            name = "relu_{}".format(i)
            # The in-place version doesn't play very nicely with the ContentLoss and StyleLoss we insert below.
            layer = nn.ReLU(inplace=False)
        elif isinstance(layer, nn.MaxPool2d):
            name = "pool_{}".format(i)
        elif isinstance(layer, nn.BatchNorm2d):
            name = "bn_{}".format(i)
        else:
            raise RuntimeError("Unrecognized layer: {}".format(layer.__class__.__name__))

        model.add_module(name, layer)

        if name in content_layers:
            target = model(content_img).detach()
            content_loss = ContentLoss(target)
            model.add_module("content_loss_{}".format(i), content_loss)
            content_losses.append(content_loss)

        if name in style_layers:
            target_feature = model(style_img).detach()
            style_loss = StyleLoss(target_feature)
            model.add_module("style_loss_{}".format(i), style_loss)
            style_losses.append(style_loss)

    # now we trim off the layers after the last content and style losses
    for i in range(len(model) - 1, -1, -1):
        if isinstance(model[i], ContentLoss) or isinstance(model[i], StyleLoss):
            break
    model = model[:(i + 1)]
    return model, style_losses, content_losses


def run_style_transfer(torch, cnn, content_img, style_img, input_img, num_steps=6, style_weight=1000000,
                       content_weight=1):
    """The tutorial's loop: LBFGS on the image itself; returns the style and content scores of each closure call,
    the final image and the names of the trimmed model's layers."""
    model, style_losses, content_losses = get_style_model_and_losses(
        torch, cnn, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225], style_img, content_img)

    # We want to optimize the input and not the model parameters so we update all the requires_grad fields
    # accordingly
    input_img.requires_grad_(True)
    model.eval()
    model.requires_grad_(False)

    optimizer = torch.optim.LBFGS([input_img])
    run = [0]
    scores = []
    while run[0] <= num_steps:

        def closure():
            # correct the values of updated input image
            with torch.no_grad():
                input_img.clamp_(0, 1)

            optimizer.zero_grad()
            model(input_img)
            style_score = 0
            content_score = 0

            for sl in style_losses:
                style_score += sl.loss
            for cl in content_losses:
                content_score += cl.loss

            style_score *= style_weight
            content_score *= content_weight

            loss = style_score + content_score
            loss.backward()

            run[0] += 1
            scores.append((style_score.item(), content_score.item()))
            return style_score + content_score

        optimizer.step(closure)

    # a last correction...
    with torch.no_grad():
        input_img.clamp_(0, 1)

    return scores, input_img, [name for name, _ in model.named_children()]
