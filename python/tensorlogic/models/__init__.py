"""tensorlogic.models: pretrained decoder-only language models (GPT-2; Llama 2/3, Mistral, Qwen2) loaded
from Hugging Face checkpoint folders or GGUF files, run in f16 on the engine's kernels, with a KV cache,
batched generation and sampling. `tl generate MODEL --prompt ...` is the command line."""
from .cache import KVCache
from .config import ModelConfig
from .decoder import DecoderLM, parameter_shapes
from .errors import MissingTensorError, ModelLoadError, TensorShapeError, UnknownArchitectureError
from .generate import GenerationResult, generate
from .sampling import Sampler
from .loading import load, load_model, load_tokenizer
from .tokenizer import Tokenizer

__all__ = ["load", "load_model", "load_tokenizer", "generate", "Sampler", "GenerationResult", "KVCache",
           "DecoderLM", "ModelConfig", "Tokenizer", "parameter_shapes", "ModelLoadError", "UnknownArchitectureError",
           "MissingTensorError", "TensorShapeError"]
