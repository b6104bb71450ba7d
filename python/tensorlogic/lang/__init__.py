"""The TensorLogic language (`.tl`): parser, checker and interpreter over the `tl` engine.

Stages, each a folder: `syntax` (text -> tree), `check` (tree -> checked `Model`, with the
contraction plan of every right side), `run` (the interpreter); `program`, `cli` and `repl` face the
user.  Words: a *product* is juxtaposed factors `A[i, j] B[j]`, computed by an *einsum*; a *join* is
what a rule's body does to relations (Datalog's word); a *plan* says where a product sums.
"""
from .constants import Text
from .errors import (AddedEquationsWarning, ConstantNameWarning, NonFiniteLossWarning, TensorLogicRuntimeError,
                     TensorLogicSyntaxError, TensorLogicTypeError, TensorLogicWarning,
                     UndefinedRelationWarning)
from .program import Program, TestResult, compile, run
from .syntax.parser import parse

__all__ = ["parse", "compile", "run", "Program", "TestResult", "TensorLogicSyntaxError",
           "TensorLogicTypeError", "TensorLogicRuntimeError", "TensorLogicWarning",
           "UndefinedRelationWarning", "AddedEquationsWarning", "ConstantNameWarning",
           "NonFiniteLossWarning", "Text"]
