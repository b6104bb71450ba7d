"""The PyTorch examples' polynomial regression (features x, x^2, x^3, x^4; one Linear; smooth L1 loss; a
hand-written SGD step on param.data), written against a module `torch`. The random batches come from the test
(the example draws them with torch.randn)."""
POLY_DEGREE = 4


def train(torch, fc, w_target, b_target, batches):
    F = torch.nn.functional
    W_target = torch.from_numpy(w_target)
    b_target = torch.from_numpy(b_target)

    def make_features(x):
        """Builds features i.e. a matrix with columns [x, x^2, x^3, x^4]."""
        x = x.unsqueeze(1)
        return torch.cat([x ** i for i in range(1, POLY_DEGREE + 1)], 1)

    def f(x):
        return x.mm(W_target) + b_target.item()

    def poly_desc(W, b):
        result = "y = "
        for i, w in enumerate(W):
            result += "{:+.2f} x^{} ".format(w, i + 1)
        result += "{:+.2f}".format(b[0])
        return result

    losses = []
    for random in batches:
        batch_x = make_features(torch.from_numpy(random))
        batch_y = f(batch_x)
        fc.zero_grad()
        output = F.smooth_l1_loss(fc(batch_x), batch_y)
        loss = output.item()
        output.backward()
        for param in fc.parameters():
            param.data.add_(-0.02 * param.grad)
        losses.append(loss)
    description = poly_desc(fc.weight.view(-1), fc.bias)
    return losses, description


def build(torch):
    return torch.nn.Linear(POLY_DEGREE, 1)
