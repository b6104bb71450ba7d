"""tl.nn.modules, where torch.nn.modules is: a submodule per file of PyTorch's (activation, batchnorm, conv, loss,
pooling, ...) giving the classes PyTorch defines there, its private bases included (batchnorm._BatchNorm,
conv._ConvNd, loss._Loss, ...), so that `from torch.nn.modules.batchnorm import _BatchNorm` and isinstance checks
work; the classes are tl.nn's own. `module` holds the global module hooks too, `utils` the argument helpers."""
from . import (activation, adaptive, batchnorm, channelshuffle, container, conv, distance, dropout, flatten,  # noqa: F401
               fold, instancenorm, lazy, linear, loss, module, normalization, padding, pixelshuffle, pooling, rnn, sparse,
               transformer, upsampling, utils)
