"""The PyTorch examples' time-sequence prediction (time_sequence_prediction/train.py and generate_sine_wave.py):
two LSTMCells and a Linear stepped over input.split(1, dim=1), then fed their own output to predict the
future; the model in double precision (seq.double()), MSELoss, optim.LBFGS with a closure; written against
a module `torch`. Shrunk: 12 sine waves of 40 steps, 16 hidden units, 2 LBFGS steps."""
import numpy as np

HIDDEN = 16


def build(torch):
    nn = torch.nn

    class Sequence(nn.Module):
        def __init__(self):
            super(Sequence, self).__init__()
            self.lstm1 = nn.LSTMCell(1, HIDDEN)
            self.lstm2 = nn.LSTMCell(HIDDEN, HIDDEN)
            self.linear = nn.Linear(HIDDEN, 1)

        def forward(self, input, future=0):
            outputs = []
            h_t = torch.zeros(input.size(0), HIDDEN, dtype=torch.double)
            c_t = torch.zeros(input.size(0), HIDDEN, dtype=torch.double)
            h_t2 = torch.zeros(input.size(0), HIDDEN, dtype=torch.double)
            c_t2 = torch.zeros(input.size(0), HIDDEN, dtype=torch.double)

            for input_t in input.split(1, dim=1):
                h_t, c_t = self.lstm1(input_t, (h_t, c_t))
                h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
                output = self.linear(h_t2)
                outputs += [output]
            for i in range(future):  # if we should predict the future
                h_t, c_t = self.lstm1(output, (h_t, c_t))
                h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
                output = self.linear(h_t2)
                outputs += [output]
            outputs = torch.cat(outputs, dim=1)
            return outputs

    return Sequence()


def make_data(rng, n=12, length=40, period=20):
    """generate_sine_wave.py's data: sin(x / period) sampled at shifted integer steps, as float64."""
    x = np.empty((n, length), np.int64)
    x[:] = np.array(range(length)) + rng.integers(-4 * period, 4 * period, n).reshape(n, 1)
    return np.sin(x / 1.0 / period).astype(np.float64)


def train(torch, seq, data, steps=2, future=10):
    """The example's main: LBFGS (lr 0.8) on all but the first 3 waves, which it tests on, predicting `future`
    steps beyond them. Returns the loss of every closure call, the test loss of each step and the last
    prediction as numpy."""
    nn = torch.nn
    input = torch.from_numpy(data[3:, :-1])
    target = torch.from_numpy(data[3:, 1:])
    test_input = torch.from_numpy(data[:3, :-1])
    test_target = torch.from_numpy(data[:3, 1:])
    seq.double()
    criterion = nn.MSELoss()
    optimizer = torch.optim.LBFGS(seq.parameters(), lr=0.8)
    losses, test_losses = [], []
    for i in range(steps):
        def closure():
            optimizer.zero_grad()
            out = seq(input)
            loss = criterion(out, target)
            losses.append(loss.item())
            loss.backward()
            return loss
        optimizer.step(closure)
        with torch.no_grad():
            pred = seq(test_input, future=future)
            loss = criterion(pred[:, :-future], test_target)
            test_losses.append(loss.item())
            y = pred.detach().numpy()
    return losses, test_losses, y
