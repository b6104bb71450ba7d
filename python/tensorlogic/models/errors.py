"""Typed errors of model loading (SPEC §6): each names the file and, where one is at fault, the tensor."""
from ..errors import ShapeMismatchError, TensorLogicError


class ModelLoadError(TensorLogicError, ValueError):
    """A checkpoint that cannot be loaded: a malformed or foreign file, or a config missing a field."""


class UnknownArchitectureError(ModelLoadError):
    """An architecture (or a variant of one, such as a RoPE scaling type) that tensorlogic.models lacks."""


class MissingTensorError(ModelLoadError, KeyError):
    """A tensor the architecture needs is not in the checkpoint."""

    def __str__(self):  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class TensorShapeError(ModelLoadError, ShapeMismatchError):
    """A tensor in the checkpoint whose shape is not the one the config implies."""
