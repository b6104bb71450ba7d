"""A two-dimensional Fourier neural operator (Li et al., "Fourier Neural Operator for Parametric Partial
Differential Equations", 2021) as the reference implementation writes it, written against a module `torch`: a
pointwise lifting, Fourier layers (rfft2, the lowest modes of both signs along the first axis multiplied by
complex weights through einsum into a zero spectrum, irfft2) added to a pointwise convolution under GELU, and a
pointwise projection; trained by Adam on an MSE loss. The spectral weights are real parameters [..., 2] viewed as
complex (torch.view_as_complex), a form of the reference code's weights that both libraries take."""


def build(torch, width=8, modes=3):
    nn = torch.nn

    class SpectralConv2d(nn.Module):
        def __init__(self, in_channels, out_channels, modes1, modes2):
            super().__init__()
            self.out_channels, self.modes1, self.modes2 = out_channels, modes1, modes2
            scale = 1 / (in_channels * out_channels)
            self.weights1 = nn.Parameter(scale * torch.rand(in_channels, out_channels, modes1, modes2, 2))
            self.weights2 = nn.Parameter(scale * torch.rand(in_channels, out_channels, modes1, modes2, 2))

        def compl_mul2d(self, input, weights):
            # (batch, in_channel, x, y), (in_channel, out_channel, x, y) -> (batch, out_channel, x, y)
            return torch.einsum("bixy,ioxy->boxy", input, torch.view_as_complex(weights))

        def forward(self, x):
            batchsize = x.shape[0]
            x_ft = torch.fft.rfft2(x)
            out_ft = torch.zeros(batchsize, self.out_channels, x.size(-2), x.size(-1) // 2 + 1, dtype=torch.cfloat,
                                 device=x.device)
            out_ft[:, :, :self.modes1, :self.modes2] = \
                self.compl_mul2d(x_ft[:, :, :self.modes1, :self.modes2], self.weights1)
            out_ft[:, :, -self.modes1:, :self.modes2] = \
                self.compl_mul2d(x_ft[:, :, -self.modes1:, :self.modes2], self.weights2)
            return torch.fft.irfft2(out_ft, s=(x.size(-2), x.size(-1)))

    class FNO2d(nn.Module):
        def __init__(self):
            super().__init__()
            self.lift = nn.Conv2d(1, width, 1)
            self.conv0 = SpectralConv2d(width, width, modes, modes)
            self.conv1 = SpectralConv2d(width, width, modes, modes)
            self.w0 = nn.Conv2d(width, width, 1)
            self.w1 = nn.Conv2d(width, width, 1)
            self.project = nn.Conv2d(width, 1, 1)

        def forward(self, x):
            x = self.lift(x)
            x = nn.functional.gelu(self.conv0(x) + self.w0(x))
            x = nn.functional.gelu(self.conv1(x) + self.w1(x))
            return self.project(x)

    return FNO2d()


def train(torch, model, inputs, targets, steps, lr=1e-2):
    """Adam on the MSE between model(inputs) and targets (numpy arrays [batch, 1, h, w]), the same full batch each
    step; returns the losses."""
    x, y = torch.tensor(inputs), torch.tensor(targets)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
