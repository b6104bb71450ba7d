"""torch.nn.modules.rnn's path to the recurrent layers and cells, which are defined in tl.nn's own files."""
from ..rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase  # noqa: F401
