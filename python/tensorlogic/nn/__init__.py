"""Neural-network modules, initialisers and utilities (SPEC §5)."""
from . import functional, init, modules, padding, parallel, utils
from .adaptive import AdaptiveLogSoftmaxWithLoss
from .activation import (CELU, ELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid,
                         LogSoftmax, Mish, PReLU, ReLU6, Sigmoid, Softmax, Softmin, Softplus, Softshrink, Softsign,
                         Tanhshrink, Threshold)
from .attention import MultiheadAttention
from .bilinear import Bilinear
from .argument_checks import check_module_arguments
from .container import ModuleDict, ModuleList, Sequential
from .conv import Conv1d, Conv2d, Conv3d, Fold, Unfold
from .conv_transpose import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .distance import CosineSimilarity, PairwiseDistance
from .dropout import AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d, FeatureAlphaDropout
from .embedding_bag import EmbeddingBag
from .flatten import Flatten, Unflatten
from .fractional_pool import FractionalMaxPool2d, FractionalMaxPool3d
from .instance_norm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .lazy import (LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d, LazyConv1d, LazyConv2d, LazyConv3d,
                   LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d, LazyInstanceNorm1d, LazyInstanceNorm2d,
                   LazyInstanceNorm3d, LazyLinear)
from .layers import GELU, Embedding, Identity, LayerNorm, Linear, ReLU, RMSNorm, SiLU, Tanh
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, CTCLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss,
                   NLLLoss, SmoothL1Loss)
from .local_response_norm import LocalResponseNorm
from .likelihood_loss import GaussianNLLLoss, PoissonNLLLoss
from .margin_loss import (CosineEmbeddingLoss, HingeEmbeddingLoss, MarginRankingLoss, MultiLabelMarginLoss,
                          MultiLabelSoftMarginLoss, MultiMarginLoss, SoftMarginLoss, TripletMarginLoss,
                          TripletMarginWithDistanceLoss)
from .module import IncompatibleKeys, Module, StateDictError
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, GroupNorm
from .sync_batchnorm import SyncBatchNorm
from .padding import *  # noqa: F401,F403  (ZeroPad2d, ConstantPad1d, ReflectionPad2d, ReplicationPad3d, ...)
from .parameter import Buffer, Parameter
from .parameter_containers import ParameterDict, ParameterList
from .parallel import DataParallel
from .pixel_shuffle import ChannelShuffle, PixelShuffle, PixelUnshuffle
from .pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d,
                      AdaptiveMaxPool3d, AvgPool1d, AvgPool2d, AvgPool3d, MaxPool1d, MaxPool2d, MaxPool3d)
from .pool_more import LPPool1d, LPPool2d, LPPool3d, MaxUnpool1d, MaxUnpool2d, MaxUnpool3d
from .random_activations import RReLU
from .softmax2d import Softmax2d
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .upsample import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
from .transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
                          TransformerEncoderLayer)

__all__ = (["Module", "Parameter", "Buffer", "ParameterList", "ParameterDict", "Sequential", "ModuleList", "ModuleDict", "Linear",
           "Embedding", "LayerNorm", "RMSNorm", "GroupNorm", "BatchNorm1d", "BatchNorm2d", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
           "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Flatten", "Unflatten", "Identity", "Dropout", "Dropout1d",
           "Dropout2d", "ReLU", "GELU", "SiLU", "Tanh", "Sigmoid", "Softplus", "LeakyReLU", "ELU", "LogSigmoid",
           "Softmax", "LogSoftmax", "MultiheadAttention", "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell",
           "LSTMCell", "GRUCell", "Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
           "TransformerDecoderLayer", "L1Loss", "MSELoss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
           "BCEWithLogitsLoss", "SmoothL1Loss", "HuberLoss", "KLDivLoss", "functional", "init", "modules", "parallel", "utils",
           "DataParallel",
           "StateDictError", "IncompatibleKeys", "Unfold", "Fold", "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d",
           "AdaptiveMaxPool1d", "Softmin", "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "Mish", "SELU", "CELU",
           "Softsign", "Tanhshrink", "Softshrink", "Hardshrink", "GLU", "Threshold", "PReLU", "BatchNorm3d", "Dropout3d",
           "CosineSimilarity", "PairwiseDistance", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "GaussianNLLLoss", "PoissonNLLLoss", "CosineEmbeddingLoss",
           "HingeEmbeddingLoss", "MarginRankingLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss", "SoftMarginLoss",
           "TripletMarginLoss", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "AdaptiveAvgPool3d",
           "AdaptiveMaxPool3d", "AvgPool3d", "MaxPool3d", "Bilinear", "EmbeddingBag", "LocalResponseNorm",
           "PixelShuffle", "PixelUnshuffle", "AlphaDropout", "FeatureAlphaDropout", "RReLU", "ChannelShuffle", "LazyLinear", "Softmax2d",
           "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "LPPool1d", "LPPool2d", "LPPool3d", "CTCLoss",
           "MultiLabelMarginLoss", "TripletMarginWithDistanceLoss", "LazyConv1d", "LazyConv2d", "LazyConv3d",
           "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d",
           "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d", "FractionalMaxPool2d",
           "FractionalMaxPool3d", "AdaptiveLogSoftmaxWithLoss", "SyncBatchNorm"]
           + padding.__all__)

# Every module checks its constructor's arguments and explains a forward() given bad ones (argument_checks).
check_module_arguments(value for value in map(globals().get, __all__) if isinstance(value, type) and issubclass(value, Module))
