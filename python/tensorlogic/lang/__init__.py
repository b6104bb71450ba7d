"""The TensorLogic language (`.tl`): parser, checker and interpreter over the `tl` engine."""
from .errors import TensorLogicSyntaxError, TensorLogicTypeError
from .parser import parse

__all__ = ["parse", "TensorLogicSyntaxError", "TensorLogicTypeError"]
