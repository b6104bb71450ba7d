"""tl.backends.cuda: torch.backends.cuda's switches. Matmuls here are f16 on tensor cores with f32
accumulation whatever the flags say: `matmul.allow_tf32` and the reduced-precision-reduction flags of
`matmul` are stored and change nothing. The scaled-dot-product-attention backend toggles are stored too (and set by
sdp_kernel and torch.nn.attention's sdpa_kernel for a block); tl picks its attention kernel by shape and device."""
from .. import _core
from .sdp_kernels import sdp_flags, sdp_kernel  # noqa: F401  (sdp_kernel: torch.backends.cuda's deprecated one)


class _MatmulFlags:
    """torch.backends.cuda.matmul: flags that are kept, with no effect."""

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True
        self.fp32_precision = "none"


matmul = _MatmulFlags()
_PRECISIONS = ("highest", "high", "medium")
_precision = ["highest"]


def set_float32_matmul_precision(precision):
    """torch.set_float32_matmul_precision: "highest", "high" or "medium" (anything else is a ValueError). Stored, and
    mirrored into matmul.allow_tf32 and matmul.fp32_precision as PyTorch does ("highest": False and "ieee"; the
    others: True and "tf32"), and changes no result: there are no float32 tensors here (tl.float32 is float16), and
    every matmul multiplies f16 values and accumulates in f32 whatever the setting."""
    if not isinstance(precision, str):
        raise TypeError(f"set_float32_matmul_precision expects a str, but got {type(precision).__name__}")
    if precision not in _PRECISIONS:
        raise ValueError(f"set_float32_matmul_precision: {precision!r} is not one of 'highest', 'high', or 'medium'")
    _precision[0] = precision
    matmul.allow_tf32 = precision != "highest"
    matmul.fp32_precision = "ieee" if precision == "highest" else "tf32"


def get_float32_matmul_precision():
    """The value last given to set_float32_matmul_precision ("highest" at first)."""
    return _precision[0]


def is_built():
    """Whether this build has the CUDA backend with a usable device (the two are not told apart here)."""
    return _core.is_available("cuda")


def _sdp_switch(backend):
    """The pair enable_<backend>_sdp(enabled), <backend>_sdp_enabled() of torch.backends.cuda."""

    def enable(enabled):
        sdp_flags[backend] = bool(enabled)

    def enabled():
        return sdp_flags[backend]

    enable.__name__ = enable.__qualname__ = f"enable_{backend}_sdp"
    enabled.__name__ = enabled.__qualname__ = f"{backend}_sdp_enabled"
    enable.__doc__ = (f"Records whether the {backend} attention backend may be used (stored, with no effect: tl picks "
                      "its attention kernel by shape and device).")
    enabled.__doc__ = f"The flag set by enable_{backend}_sdp (True by default)."
    return enable, enabled


enable_flash_sdp, flash_sdp_enabled = _sdp_switch("flash")
enable_mem_efficient_sdp, mem_efficient_sdp_enabled = _sdp_switch("mem_efficient")
enable_math_sdp, math_sdp_enabled = _sdp_switch("math")
enable_cudnn_sdp, cudnn_sdp_enabled = _sdp_switch("cudnn")
