"""A small U-Net for segmentation as PyTorch users write one after milesial/Pytorch-UNet: double 3x3 conv blocks
(Conv2d, BatchNorm2d, ReLU), MaxPool2d down, ConvTranspose2d or bilinear nn.Upsample up, skip connections joined by
torch.cat after F.pad to the skip's size, a 1x1 conv head; the loss is cross entropy plus a soft Dice loss on
softmax/one_hot; trained with RMSprop (momentum, weight decay), ReduceLROnPlateau on the validation Dice, and
gradient clipping by value; the prediction of an image of odd size is made after F.interpolate. Written against a
module `torch`. Shrunk: 1x24x24 synthetic images of discs and squares (3 classes with the background)."""
import numpy as np

import prelude


def build(torch, n_channels=1, n_classes=3, width=8, bilinear=False):
    nn = torch.nn
    F = nn.functional

    class DoubleConv(nn.Module):
        def __init__(self, in_channels, out_channels, mid_channels=None):
            super().__init__()
            mid_channels = mid_channels or out_channels
            self.double_conv = nn.Sequential(
                nn.Conv2d(in_channels, mid_channels, kernel_size=3, padding=1, bias=False),
                nn.BatchNorm2d(mid_channels),
                nn.ReLU(inplace=True),
                nn.Conv2d(mid_channels, out_channels, kernel_size=3, padding=1, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(inplace=True))

        def forward(self, x):
            return self.double_conv(x)

    class Down(nn.Module):
        def __init__(self, in_channels, out_channels):
            super().__init__()
            self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))

        def forward(self, x):
            return self.maxpool_conv(x)

    class Up(nn.Module):
        def __init__(self, in_channels, out_channels):
            super().__init__()
            if bilinear:
                self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
                self.conv = DoubleConv(in_channels, out_channels, in_channels // 2)
            else:
                self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
                self.conv = DoubleConv(in_channels, out_channels)

        def forward(self, x1, x2):
            x1 = self.up(x1)
            diff_y = x2.size()[2] - x1.size()[2]
            diff_x = x2.size()[3] - x1.size()[3]
            x1 = F.pad(x1, [diff_x // 2, diff_x - diff_x // 2, diff_y // 2, diff_y - diff_y // 2])
            return self.conv(torch.cat([x2, x1], dim=1))

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.n_classes = n_classes
            factor = 2 if bilinear else 1
            self.inc = DoubleConv(n_channels, width)
            self.down1 = Down(width, width * 2)
            self.down2 = Down(width * 2, width * 4 // factor)
            self.up1 = Up(width * 4, width * 2 // factor)
            self.up2 = Up(width * 2, width)
            self.outc = nn.Conv2d(width, n_classes, kernel_size=1)

        def forward(self, x):
            x1 = self.inc(x)
            x2 = self.down1(x1)
            x3 = self.down2(x2)
            x = self.up1(x3, x2)
            x = self.up2(x, x1)
            return self.outc(x)

    return UNet()


def make_data(rng, n_train=48, n_test=16, size=24):
    """Per image a disc (class 1) and a square (class 2) at random places on noise; the mask labels each pixel."""
    ys, xs = np.mgrid[0:size, 0:size]

    def split(n):
        images = rng.normal(0, 0.3, (n, 1, size, size))
        masks = np.zeros((n, size, size), dtype=np.int64)
        for i in range(n):
            cy, cx, r = rng.integers(5, size - 5), rng.integers(5, size - 5), rng.integers(3, 6)
            disc = (ys - cy) ** 2 + (xs - cx) ** 2 <= r * r
            sy, sx, s = rng.integers(0, size - 6), rng.integers(0, size - 6), rng.integers(3, 6)
            square = (ys >= sy) & (ys < sy + s) & (xs >= sx) & (xs < sx + s)
            masks[i][disc], masks[i][square] = 1, 2
            images[i, 0][disc] += 1.0
            images[i, 0][square] -= 1.0
        return images.astype(np.float32), masks
    return split(n_train), split(n_test)


def dice_coeff(torch, input, target, reduce_batch_first=False, epsilon=1e-6):
    """The mean Dice coefficient of [B, H, W] (or [H, W]) soft masks."""
    sum_dim = (-1, -2) if input.dim() == 2 or not reduce_batch_first else (-1, -2, -3)
    inter = 2 * (input * target).sum(dim=sum_dim)
    sets_sum = input.sum(dim=sum_dim) + target.sum(dim=sum_dim)
    sets_sum = torch.where(sets_sum == 0, inter, sets_sum)
    return ((inter + epsilon) / (sets_sum + epsilon)).mean()


def dice_loss(torch, input, target):
    """1 - the Dice coefficient of every class channel ([B, C, H, W], classes folded into the batch)."""
    return 1 - dice_coeff(torch, input.flatten(0, 1), target.flatten(0, 1), reduce_batch_first=True)


def evaluate(torch, model, loader):
    F = torch.nn.functional
    model.eval()
    dice, loss, batches = 0.0, 0.0, 0
    with torch.no_grad():
        for image, mask_true in loader:
            mask_pred = model(image)
            loss += F.cross_entropy(mask_pred, mask_true).item()
            true = F.one_hot(mask_true, model.n_classes).permute(0, 3, 1, 2).float()
            pred = F.one_hot(mask_pred.argmax(dim=1), model.n_classes).permute(0, 3, 1, 2).float()
            dice += dice_coeff(torch, pred[:, 1:], true[:, 1:], reduce_batch_first=False).item()
            batches += 1
    model.train()
    return dice / batches, loss / batches


def predict(torch, model, image, out_size):
    """The example's predict_img: the class mask of an image resized to the network's size, resized back."""
    F = torch.nn.functional
    model.eval()
    with torch.no_grad():
        x = F.interpolate(image, size=(24, 24), mode="bilinear", align_corners=False)
        output = F.interpolate(model(x), size=out_size, mode="bilinear")
        probs = F.softmax(output, dim=1)
    return probs, probs.argmax(dim=1)


def train(torch, model, data, epochs=3, lr=3e-4, shuffle=True, seed=1):
    nn, F = torch.nn, torch.nn.functional
    torch.manual_seed(seed)
    train_set, test_set = data
    loader = prelude.loader(torch, train_set, batch_size=8, shuffle=shuffle)
    val_loader = prelude.loader(torch, test_set, batch_size=8, shuffle=False, drop_last=True)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=lr, weight_decay=1e-8, momentum=0.9, foreach=True)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "max", patience=0, factor=0.5)
    criterion = nn.CrossEntropyLoss()
    losses, val_scores, lrs = [], [], []
    for epoch in range(epochs):
        model.train()
        for images, true_masks in loader:
            masks_pred = model(images)
            loss = criterion(masks_pred, true_masks)
            loss = loss + dice_loss(torch, F.softmax(masks_pred, dim=1).float(),
                                    F.one_hot(true_masks, model.n_classes).permute(0, 3, 1, 2).float())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_value_(model.parameters(), 1.0)
            optimizer.step()
            losses.append(loss.item())
        val_score, val_loss = evaluate(torch, model, val_loader)
        scheduler.step(val_score)
        val_scores.append(val_score)
        lrs.append(optimizer.param_groups[0]["lr"])
    probs, mask = predict(torch, model, torch.tensor(test_set[0][:2]), (30, 30))
    return losses, val_scores, val_loss, lrs, probs.numpy(), mask.numpy()
