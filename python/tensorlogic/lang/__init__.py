"""The TensorLogic language (`.tl`): parser, checker and interpreter over the `tl` engine."""
from .errors import TensorLogicSyntaxError, TensorLogicTypeError
from .parser import parse
from .program import Program, TestResult, compile, run

__all__ = ["parse", "compile", "run", "Program", "TestResult", "TensorLogicSyntaxError",
           "TensorLogicTypeError"]
