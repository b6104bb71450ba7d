"""Neural-network modules, initialisers and utilities (SPEC §5)."""
from . import functional, init, parallel, utils
from .activation import ELU, LeakyReLU, LogSigmoid, LogSoftmax, Sigmoid, Softmax, Softplus
from .attention import MultiheadAttention
from .container import ModuleDict, ModuleList, Sequential
from .conv import Conv1d, Conv2d, Conv3d
from .conv_transpose import ConvTranspose2d
from .dropout import Dropout1d, Dropout2d
from .flatten import Flatten, Unflatten
from .layers import GELU, Dropout, Embedding, Identity, LayerNorm, Linear, ReLU, RMSNorm, SiLU, Tanh
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss,
                   SmoothL1Loss)
from .module import IncompatibleKeys, Module, StateDictError
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm
from .parameter import Parameter
from .parameter_containers import ParameterDict, ParameterList
from .pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
                          TransformerEncoderLayer)

__all__ = ["Module", "Parameter", "ParameterList", "ParameterDict", "Sequential", "ModuleList", "ModuleDict", "Linear",
           "Embedding", "LayerNorm", "RMSNorm", "GroupNorm", "BatchNorm1d", "BatchNorm2d", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose2d",
           "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Flatten", "Unflatten", "Identity", "Dropout", "Dropout1d",
           "Dropout2d", "ReLU", "GELU", "SiLU", "Tanh", "Sigmoid", "Softplus", "LeakyReLU", "ELU", "LogSigmoid",
           "Softmax", "LogSoftmax", "MultiheadAttention", "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell",
           "LSTMCell", "GRUCell", "Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
           "TransformerDecoderLayer", "L1Loss", "MSELoss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
           "BCEWithLogitsLoss", "SmoothL1Loss", "HuberLoss", "KLDivLoss", "functional", "init", "parallel", "utils",
           "StateDictError", "IncompatibleKeys"]
