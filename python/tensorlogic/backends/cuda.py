"""tl.backends.cuda: torch.backends.cuda's switches. Matmuls here are f16 on tensor cores with f32
accumulation whatever the flags say: `matmul.allow_tf32` and the reduced-precision-reduction flags of
`matmul` are stored and change nothing. The scaled-dot-product-attention backend toggles are stored too; tl picks its attention
kernel by shape and device."""
from .. import _core


class _MatmulFlags:
    """torch.backends.cuda.matmul: flags that are kept, with no effect."""

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True
        self.fp32_precision = "none"


matmul = _MatmulFlags()
_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def is_built():
    """Whether this build has the CUDA backend with a usable device (the two are not told apart here)."""
    return _core.is_available("cuda")


def enable_flash_sdp(enabled):
    """Records whether the flash attention backend may be used (stored, with no effect: tl picks its attention
    kernel by shape and device)."""
    _sdp["flash"] = bool(enabled)


def flash_sdp_enabled():
    """The flag set by enable_flash_sdp (True by default)."""
    return _sdp["flash"]


def enable_mem_efficient_sdp(enabled):
    """Records whether the memory-efficient attention backend may be used (stored, with no effect: tl picks its
    attention kernel by shape and device)."""
    _sdp["mem_efficient"] = bool(enabled)


def mem_efficient_sdp_enabled():
    """The flag set by enable_mem_efficient_sdp (True by default)."""
    return _sdp["mem_efficient"]


def enable_math_sdp(enabled):
    """Records whether the math attention backend may be used (stored, with no effect: tl picks its attention kernel
    by shape and device)."""
    _sdp["math"] = bool(enabled)


def math_sdp_enabled():
    """The flag set by enable_math_sdp (True by default)."""
    return _sdp["math"]


def enable_cudnn_sdp(enabled):
    """Records whether the cuDNN attention backend may be used (stored, with no effect: tl picks its attention
    kernel by shape and device)."""
    _sdp["cudnn"] = bool(enabled)


def cudnn_sdp_enabled():
    """The flag set by enable_cudnn_sdp (True by default)."""
    return _sdp["cudnn"]
