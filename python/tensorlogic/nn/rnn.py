"""Recurrent layers: RNN, LSTM, GRU and their cells, with PyTorch's parameter names, shapes, gate order
(LSTM: input, forget, cell, output; GRU: reset, update, new), initialisation, defaults and input/state
layouts, so state_dicts load both ways. Input projections for all time steps are one matmul per layer and
direction; the time loop is one autograd node (recurrence.py: per step one matmul and one fused cell kernel)."""
import math

import numpy as np

from ..creation import tensor, zeros
from ..dtypes import int64
from ..ops.indexing import index_select
from ..ops.shape import cat, stack
from ..tensor import Tensor
from . import functional as F
from . import init
from .layers import _new_param, check_parameter_room
from .module import Module
from .recurrence import recurrence
from .utils.rnn import PackedSequence, _check_packed, _packed_like, pad_packed_sequence

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _check_options(sizes, flags):
    """The constructor's sizes, (name, value, least) each an int of at least `least`, and flags, (name, value) each
    a bool (or None), as PyTorch's checks say."""
    for name, value, low in sizes:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
        if value < low:
            raise ValueError(f"{name} must be an integer {'greater than zero' if low else 'of at least zero'}, "
                             f"got {value}")
    for name, value in flags:
        # (PyTorch takes any truthy value; a tensor's or array's truth is ambiguous, a string's a mistake)
        if value is not None and not isinstance(value, (bool, int, np.bool_)):
            raise TypeError(f"{name} should be a bool, got: {type(value).__name__}")


def _reset_uniform(module):
    bound = 1.0 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


class RNNBase(Module):
    """The multi-layer recurrent network behind RNN, LSTM and GRU (PyTorch's parameters weight_ih_l{k},
    weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}, with _reverse for the second direction, so state_dicts load both
    ways). forward(input, hx) takes [L, N, input_size] ([N, L, ...] with batch_first, [L, input_size] unbatched) and
    returns (output, h_n), or (output, (h_n, c_n)) for LSTM; dropout applies between layers in training. A
    PackedSequence input gives a PackedSequence output (see _forward_packed). An LSTM with proj_size > 0 projects
    each step's hidden state to proj_size columns (weight_hr_l{k}, PyTorch's): h, h_n and the output are that wide,
    c_n stays hidden_size wide."""
    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element "
                             "being zeroed")
        _check_options((("input_size", input_size, 0), ("hidden_size", hidden_size, 1), ("num_layers", num_layers, 1)),
                       (("bias", bias), ("batch_first", batch_first), ("bidirectional", bidirectional)))
        bias, batch_first, bidirectional = bool(bias), bool(batch_first), bool(bidirectional)
        if not isinstance(proj_size, int) or isinstance(proj_size, bool):
            raise TypeError(f"proj_size should be of type int, got: {type(proj_size).__name__}")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, float(dropout), bidirectional
        self.proj_size = proj_size
        directions = 2 if bidirectional else 1
        gates = _GATES[mode] * hidden_size
        state = proj_size or hidden_size  # the width of h
        per_layer = [gates * (width + state + (2 if bias else 0)) + proj_size * hidden_size
                     for width in (input_size, state * directions)]  # the first layer's and the others'
        check_parameter_room(directions * (per_layer[0] + (num_layers - 1) * per_layer[1]),
                             directions * num_layers * ((4 if bias else 2) + (1 if proj_size else 0)), device)
        self._flat_weights_names = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else state * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [("weight_ih", (gates, layer_input)), ("weight_hh", (gates, state))]
                if bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                for name, shape in shapes:
                    setattr(self, name + suffix, _new_param(shape, device))
                    self._flat_weights_names.append(name + suffix)
        self.reset_parameters()

    def reset_parameters(self):
        """Every weight and bias uniform in +-1/sqrt(hidden_size), as PyTorch."""
        _reset_uniform(self)

    @property
    def all_weights(self):
        """The parameters per layer and direction, [[weight_ih, weight_hh, bias_ih, bias_hh, weight_hr], ...]
        (without the biases when bias=False, without weight_hr when proj_size is 0), as PyTorch's."""
        names = self._flat_weights_names
        per = len(names) // (self.num_layers * (2 if self.bidirectional else 1))
        return [[getattr(self, n) for n in names[i:i + per]] for i in range(0, len(names), per)]

    def flatten_parameters(self):
        """PyTorch packs the weights for cuDNN here; the weights are used as they are, so there is nothing to do."""

    def _weights(self, layer, direction):
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        get = self._parameters.get
        return (get("weight_ih" + suffix), get("weight_hh" + suffix), get("bias_ih" + suffix), get("bias_hh" + suffix),
                get("weight_hr" + suffix))

    def _run(self, input, hx, cx):
        """input (L, N, I) time-major, hx/cx (layers * directions, N, H); returns output and final states."""
        directions = 2 if self.bidirectional else 1
        h_out, c_out = [], []
        x = input
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, direction)
                out, h, c = recurrence(self.mode, F.linear(x, w_ih, b_ih), hx[k], None if cx is None else cx[k],
                                       w_hh, b_hh, reverse=bool(direction), w_hr=w_hr)
                outputs.append(out)
                h_out.append(h)
                c_out.append(c)
            x = outputs[0] if directions == 1 else cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, stack(h_out, 0), (None if cx is None else stack(c_out, 0))

    def forward(self, input, hx=None):
        """(output, (h_n, c_n)) for LSTM, else (output, h_n): output [L, N, D * H] ([N, L, ...] with batch_first,
        [L, ...] unbatched; D = 2 when bidirectional; H = proj_size if set, else hidden_size) holds the last layer's
        states at every step; hx (zeros if None) and h_n are [num_layers * D, N, H], c_0 and c_n [num_layers * D, N,
        hidden_size]."""
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: input must be a Tensor or a PackedSequence, got "
                            f"{type(input).__name__}")
        batched = input.ndim == 3
        if input.ndim not in (2, 3):
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.ndim}D instead")
        if not batched:
            input = input.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        self._check_features(input)
        h0, c0 = self._initial_states(hx, input.shape[1], input.device, batched)
        output, h, c = self._run(input, h0, c0)
        if not batched:
            output, h = output.squeeze(1), h.squeeze(1)
            c = None if c is None else c.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, ((h, c) if self.mode == "LSTM" else h)

    def _check_features(self, input):
        if input.shape[-1] != self.input_size:
            raise ValueError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                             f"{input.shape[-1]}")

    def _initial_states(self, hx, batch, device, batched=True):
        """(h_0, c_0) from hx (c_0 None but for the LSTM): zeros when hx is None; else hx is the LSTM's pair of
        tensors or the others' one tensor, each [num_layers * D, batch, width] ([num_layers * D, width] for an
        unbatched input; h's width is proj_size where set, c's and the others' hidden_size)."""
        layers = self.num_layers * (2 if self.bidirectional else 1)
        shape = (layers, batch, self.hidden_size)
        h_shape = (layers, batch, self.proj_size or self.hidden_size)
        lstm = self.mode == "LSTM"
        if hx is None:
            return zeros(h_shape, device=device), (zeros(shape, device=device) if lstm else None)
        if lstm and not (isinstance(hx, (tuple, list)) and len(hx) == 2 and all(isinstance(s, Tensor) for s in hx)):
            raise TypeError(f"LSTM: hx must be a tuple (h_0, c_0) of two tensors, got {type(hx).__name__}"
                            + (f" of {len(hx)}" if isinstance(hx, (tuple, list)) else ""))
        if not lstm and not isinstance(hx, Tensor):
            raise TypeError(f"{type(self).__name__}: hx must be a Tensor, got {type(hx).__name__}")
        states = tuple(hx) if lstm else (hx,)
        if not batched:
            states = tuple(s.unsqueeze(1) for s in states)
        for state, expected in zip(states, (h_shape, shape)):
            if tuple(state.shape) != expected:
                raise ValueError(f"Expected hidden size {expected}, got {tuple(state.shape)}")
        return states[0], (states[1] if lstm else None)

    def _forward_packed(self, packed, hx):
        """forward of a PackedSequence: each sequence runs for its own length (its h_n, c_n are those of its last
        step; the reverse direction starts there). The sequences of one length run as one padded batch, so the
        layers run once per distinct length; output is packed as the input, h_n in the batch's original order."""
        _check_packed(packed, type(self).__name__)
        padded, lengths = pad_packed_sequence(packed)  # [T, B, I] in the original order
        if packed.data.ndim != 2:
            raise ValueError(f"{type(self).__name__}: a packed input's data must have 2 dimensions (steps, "
                             f"input_size), got {list(packed.data.shape)}")
        self._check_features(padded)
        lengths = lengths.tolist()
        h0, c0 = self._initial_states(hx, len(lengths), padded.device)
        steps, outputs, finals, members = padded.shape[0], [], [], []
        for length in sorted(set(lengths), reverse=True):
            group = [b for b, n in enumerate(lengths) if n == length]
            index = tensor(group, dtype=int64, device=padded.device)
            out, h, c = self._run(index_select(padded[:length], 1, index), index_select(h0, 1, index),
                                  None if c0 is None else index_select(c0, 1, index))
            if length < steps:  # zeros after the end, as the packed output has nothing there
                out = cat([out, zeros((steps - length,) + tuple(out.shape[1:]), device=out.device)], 0)
            outputs.append(out)
            finals.append((h, c))
            members += group
        inverse = [0] * len(members)
        for position, b in enumerate(members):
            inverse[b] = position
        back = tensor(inverse, dtype=int64, device=padded.device)
        output = index_select(cat(outputs, 1), 1, back)  # [T, B, D * hidden_size] in the original order
        h = index_select(cat([f[0] for f in finals], 1), 1, back)
        c = None if c0 is None else index_select(cat([f[1] for f in finals], 1), 1, back)
        return _packed_like(output, packed), ((h, c) if self.mode == "LSTM" else h)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        return s


class RNN(RNNBase):
    """An Elman RNN, h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (nonlinearity='relu' for ReLU), as
    torch.nn.RNN; see RNNBase for the arguments and shapes."""
    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        if not isinstance(nonlinearity, str) or nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, device=device)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """A long short-term memory network with PyTorch's gates (i, f, g, o) and parameters, as torch.nn.LSTM; forward
    returns (output, (h_n, c_n)). See RNNBase."""
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device)


class GRU(RNNBase):
    """A gated recurrent unit network with PyTorch's gates (r, z, n) and parameters, as torch.nn.GRU; see RNNBase."""
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device)


def cell_step(mode, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """(h', c') of one step of a cell from x [N, input_size] and h (and c, LSTM) [N, hidden_size] (c' None but for
    the LSTM): the layers' recurrence over one time step (torch.gru_cell and the others are this)."""
    _, h, c = recurrence(mode, F.linear(x, w_ih, b_ih).unsqueeze(0), h, c, w_hh, b_hh)
    return h, c


class RNNCellBase(Module):
    """The single-step cell behind RNNCell, LSTMCell and GRUCell: parameters weight_ih, weight_hh, bias_ih, bias_hh;
    input [N, input_size] or [input_size]; a missing state starts at zeros."""
    def __init__(self, mode, input_size, hidden_size, bias=True, device=None):
        super().__init__()
        _check_options((("input_size", input_size, 0), ("hidden_size", hidden_size, 0)), (("bias", bias),))
        bias = bool(bias)
        self.mode, self.input_size, self.hidden_size, self.bias = mode, input_size, hidden_size, bias
        gates = _GATES[mode] * hidden_size
        self.weight_ih = _new_param((gates, input_size), device)
        self.weight_hh = _new_param((gates, hidden_size), device)
        if bias:
            self.bias_ih = _new_param((gates,), device)
            self.bias_hh = _new_param((gates,), device)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Every weight and bias uniform in +-1/sqrt(hidden_size), as PyTorch."""
        _reset_uniform(self)

    def _prepare(self, input, hx):
        """(batched, input as [N, input_size], the states as [N, hidden_size]) after PyTorch's checks: input a 1-d or
        2-d tensor of input_size features, each state None (zeros) or a tensor of input's batch and hidden_size."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got {input.shape[-1]} expected "
                               f"{self.input_size}")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        expected = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        states = []
        for s in hx:
            if s is not None and not isinstance(s, Tensor):
                raise TypeError(f"{name}: a hidden state must be a Tensor, got {type(s).__name__}")
            if s is not None and tuple(s.shape) != expected:
                raise RuntimeError(f"{name}: Expected hidden size {expected}, got {tuple(s.shape)}")
            states.append(zeros(x.shape[0], self.hidden_size, device=input.device) if s is None
                          else (s if batched else s.unsqueeze(0)))
        return batched, x, states

    def _step(self, x, h, c):
        """(h', c') of one step (c' None but for the LSTM)."""
        return cell_step(self.mode, x, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)

    def extra_repr(self):
        """The settings shown in the module's repr."""
        s = f"{self.input_size}, {self.hidden_size}"
        return s + ("" if self.bias else ", bias=False") + (", nonlinearity='relu'" if self.mode == "RNN_RELU" else "")


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: h' = tanh (or relu) of W_ih x + b_ih + W_hh h + b_hh, as torch.nn.RNNCell;
    forward(input, hx) returns h'."""
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if not isinstance(nonlinearity, str) or nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, bias, device)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        """The next hidden state [N, hidden_size] (or [hidden_size] unbatched) from input and hx (zeros if None)."""
        batched, x, (h,) = self._prepare(input, (hx,))
        h, _ = self._step(x, h, None)
        return h if batched else h.squeeze(0)


class GRUCell(RNNCellBase):
    """One step of a GRU, as torch.nn.GRUCell; forward(input, hx) returns h'."""
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, bias, device)

    def forward(self, input, hx=None):
        """The next hidden state [N, hidden_size] (or [hidden_size] unbatched) from input and hx (zeros if None)."""
        batched, x, (h,) = self._prepare(input, (hx,))
        h, _ = self._step(x, h, None)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One step of an LSTM, as torch.nn.LSTMCell; forward(input, (h, c)) returns (h', c')."""
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, bias, device)

    def forward(self, input, hx=None):
        """(h', c') from input and hx = (h, c) (zeros if None), each [N, hidden_size] (or [hidden_size] unbatched)."""
        if hx is not None and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise TypeError(f"LSTMCell: hx must be a tuple (h_0, c_0) of two tensors, got {type(hx).__name__}"
                            + (f" of {len(hx)}" if isinstance(hx, (tuple, list)) else ""))
        batched, x, (h, c) = self._prepare(input, (None, None) if hx is None else hx)
        h, c = self._step(x, h, c)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]
