"""tl.backends: the switches PyTorch programs set on torch.backends. TensorLogic uses neither cuDNN nor
TF32 (every float is f16, its kernels are its own), so the flags are kept (a program can set and read them)
and change nothing; each submodule says what its flags mean here."""
from . import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]
