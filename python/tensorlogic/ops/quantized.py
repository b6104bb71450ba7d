"""Linear layers whose weights stay in GGUF's quantised block formats (Q8_0, Q4_0, Q4_K, Q6_K) and are
dequantised inside the product's kernel (CPU and CUDA): a model decoding one token at a time is bound by the
bytes of weights it reads, which these formats cut to about 1/2 (Q8_0) to 1/4 (Q4_*) of float16's.
Inference only: such a weight has no gradient and the product none for its input either."""
import numpy as np

from .. import _core
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor, _wrap
from .linalg import _ACTIVATIONS

QUANT_TYPES = tuple(_core.QuantType.__members__)  # GGUF's names: "Q8_0", "Q4_0", "Q4_K", "Q6_K"
KERNEL_DEVICES = ("cpu", "cuda")  # the device types whose backends have quantized_gemm and dequantize


class QuantizedWeight:
    """A weight [out_features, in_features] held as GGUF blocks of `qtype`: each row is in_features /
    block_size blocks, exactly as a GGUF file stores the tensor (the bytes carried in an int32 array, each
    row padded to whole words; the file's memory-mapped pages are used in place where no padding is needed)."""

    def __init__(self, blocks, qtype, in_features, device="cpu"):
        """`blocks`: uint8 [out_features, bytes of a row] as GGUF stores the tensor."""
        if qtype not in QUANT_TYPES:
            raise ValueError(f"QuantizedWeight: unknown quantisation {qtype!r}; supported: {', '.join(QUANT_TYPES)}")
        blocks = np.asarray(blocks)
        elems, nbytes = _core.quant_block(_core.QuantType.__members__[qtype])
        if blocks.dtype != np.uint8 or blocks.ndim != 2 or in_features % elems or \
                blocks.shape[1] != in_features // elems * nbytes:
            raise ValueError(f"QuantizedWeight: {qtype} rows of {in_features} weights are uint8 [rows, "
                             f"{in_features // elems * nbytes}], got {blocks.dtype} {list(blocks.shape)}")
        row_bytes = blocks.shape[1]
        if row_bytes % 4 or blocks.strides[1] != 1 or blocks.strides[0] % 4 or blocks.ctypes.data % 4:
            padded = np.zeros((blocks.shape[0], -(-row_bytes // 4) * 4), dtype=np.uint8)
            padded[:, :row_bytes] = blocks
            blocks = padded
        words = blocks.view(np.int32)
        array = _core.from_numpy(words)
        if device != "cpu":
            array = _core.to_device(array, device)
        self._blocks = array
        self.qtype = qtype
        self.shape = (blocks.shape[0], int(in_features))
        self.nbytes = blocks.shape[0] * row_bytes

    @property
    def device(self):
        return _wrap(self._blocks).device

    def linear_array(self, x, bias=None, activation="none", residual=None):
        """The fused product on native arrays (x [..., in_features], bias and residual arrays or None), for
        inference code that runs below the Tensor layer (tensorlogic.models); quantized_linear checks and wraps."""
        return _core.quantized_linear(x, self._blocks, _core.QuantType.__members__[self.qtype], self.shape[1], bias,
                                      activation, residual)

    def dequantize(self):
        """The float16 weight, each value computed in f32 and rounded once (as gguf's numpy code gives it)."""
        return _wrap(_core.dequantize(self._blocks, _core.QuantType.__members__[self.qtype], self.shape[1]))

    def __repr__(self):
        return f"QuantizedWeight({self.qtype}, shape={list(self.shape)}, device={self.device})"


def quantized_linear(input, weight, bias=None, activation="none", residual=None):
    """input @ weight.T (+ bias) (+ residual), then the activation, rounded once: linear() with a
    QuantizedWeight, dequantised in the kernel (the CPU's and CUDA's backends; elsewhere DeviceError)."""
    if activation is None:
        activation = "none"
    if activation not in _ACTIVATIONS:
        raise ValueError(f"quantized_linear: unknown activation {activation!r}; expected one of {', '.join(_ACTIVATIONS)}")
    if not isinstance(weight, QuantizedWeight):
        raise TypeError(f"quantized_linear: weight must be a QuantizedWeight, got {type(weight).__name__}")
    if is_grad_enabled() and any(isinstance(t, Tensor) and t.requires_grad for t in (input, bias, residual)):
        raise RuntimeError("quantized_linear: quantised weights are for inference; call it under tl.no_grad() "
                           "or with tensors that do not require grad")
    return _wrap(weight.linear_array(input._a, None if bias is None else bias._a, activation,
                                     None if residual is None else residual._a))
