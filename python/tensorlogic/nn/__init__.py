"""Neural-network modules, initialisers and utilities (SPEC §5)."""
from . import functional, init, utils
from .attention import MultiheadAttention
from .container import ModuleDict, ModuleList, Sequential
from .layers import (GELU, Conv2d, CrossEntropyLoss, Dropout, Embedding, Identity, LayerNorm, Linear, MSELoss, NLLLoss,
                     ReLU, RMSNorm, SiLU, Tanh)
from .module import IncompatibleKeys, Module, StateDictError
from .parameter import Parameter

__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "Linear", "Embedding", "LayerNorm",
           "RMSNorm", "Conv2d", "Dropout", "ReLU", "GELU", "SiLU", "Tanh", "Identity", "MultiheadAttention",
           "CrossEntropyLoss", "MSELoss", "NLLLoss", "functional", "init", "utils", "StateDictError",
           "IncompatibleKeys"]
