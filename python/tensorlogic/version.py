"""tl.version, as torch.version: the package's version and what its native core was built from and with."""
from . import _core

__all__ = ["__version__", "cuda", "debug", "git_version", "hip"]

__version__ = "0.1.0"
cuda = _core.build_info["cuda"]  # the CUDA toolkit's "major.minor", None in a build without the CUDA backend
git_version = _core.build_info["git_version"]  # the commit configured, "Unknown" outside a git checkout
debug = _core.build_info["debug"]  # a build with assertions (not NDEBUG)
hip = None  # there is no ROCm backend; programs test torch.version.hip to tell ROCm builds
