"""load(path): a Hugging Face checkpoint folder or a GGUF file -> (DecoderLM, Tokenizer or None)."""
import errno
import os

from ..device import device_name
from ..ops.quantized import KERNEL_DEVICES, QUANT_TYPES
from . import gguf_file, hf
from .decoder import DecoderLM
from .errors import ModelLoadError
from .tokenizer import Tokenizer
from .weights import load_parameters


def _open(path):
    path = os.fspath(path)
    if os.path.isdir(path):
        return hf.open_checkpoint(path)
    if os.path.isfile(path) and gguf_file.is_gguf(path):
        return gguf_file.open_gguf(path)
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, "no such file or folder", path)
    raise ModelLoadError(f"{path}: neither a checkpoint folder (config.json, *.safetensors) nor a GGUF file")


# The formats kept quantised by default on the CPU (on CUDA none, until benchmarks/llm_quant_bench.py
# --device cuda measures the kernels of cuda/quantized.cu): those measured to decode at least as fast kept as
# dequantised (benchmarks/llm_quant_bench.py, 1.1B model, 2026-12-05: Q8_0 and Q4_0 1.0x at batch 1,
# 1.2x and 1.4x at batch 8; Q4_K_M's Q4_K/Q6_K 0.85x at batch 1, 1.0x at batch 8), with half or less of
# the memory either way.
DEFAULT_KEPT = ("Q8_0", "Q4_0")


def load_model(path, device=None, keep_quantized=None):
    """The model of a checkpoint folder or GGUF file, its weights in f16 on `device` (default: the default
    device). GGUF tensors in a quantised format are dequantised on load, except the weights of linear layers
    kept quantised (QuantizedWeight, dequantised inside the product kernels of the CPU and CUDA): with
    keep_quantized=True those in Q8_0, Q4_0, Q4_K or Q6_K, with None (the default) on the CPU those in
    DEFAULT_KEPT (elsewhere none), with False none."""
    device = device_name(device)
    if keep_quantized and device.split(":")[0] not in KERNEL_DEVICES:
        raise ValueError(f"load_model: weights kept quantised run on {' and '.join(KERNEL_DEVICES)} only, not on "
                         f"{device} (pass keep_quantized=False to dequantise them on load)")
    if keep_quantized is None:
        keep = DEFAULT_KEPT if device == "cpu" else ()
    else:
        keep = QUANT_TYPES if keep_quantized else ()
    config, recipe, source = _open(path)[:3]
    return DecoderLM(config, load_parameters(config, recipe, source, device, keep))


def load_tokenizer(path):
    """The tokenizer of a checkpoint folder (its tokenizer.json) or of a GGUF file (its vocabulary); None
    for a folder without tokenizer.json."""
    path = os.fspath(path)
    if os.path.isdir(path):
        file = os.path.join(path, "tokenizer.json")
        if not os.path.exists(file):
            return None
        return Tokenizer.from_file(file, hf.read_config(path).eos_token_ids)
    return gguf_file.read_tokenizer(path)


def load(path, device=None, keep_quantized=None):
    """(model, tokenizer) of a checkpoint folder or GGUF file (keep_quantized: as for load_model)."""
    return load_model(path, device, keep_quantized), load_tokenizer(path)
