"""Typed errors of TensorLogic (SPEC §6); each subclasses the matching Python built-in."""


class TensorLogicError(Exception):
    """Base class of the errors TensorLogic defines."""


class ShapeMismatchError(TensorLogicError, ValueError):
    """Shapes that do not fit the op; the message names the op and both shapes."""


class EinsumError(TensorLogicError, ValueError):
    """An invalid einsum equation or operands that do not match it."""


class PrecisionOverflowError(TensorLogicError, OverflowError):
    """Finite data outside the float16 range ±65504; says how many values and the first index."""


class DeviceError(TensorLogicError, RuntimeError):
    """A device that is missing or failed, or tensors on different devices; says what is available."""


class OutOfMemoryError(TensorLogicError, MemoryError, RuntimeError):
    """An allocation the device or the host refused, or a size beyond the addressable memory; the message says how
    many bytes on which device. It is tl.OutOfMemoryError and tl.cuda.OutOfMemoryError, torch's names: a
    RuntimeError as torch's is, and a MemoryError, Python's built-in for it."""


class TensorLogicSyntaxError(TensorLogicError, SyntaxError):
    """A syntax error in a .tl program: file, line, column and a caret under the source."""


class TensorLogicTypeError(TensorLogicError, TypeError):
    """An unknown name, shape or index mismatch, arity error or unstratified negation in a .tl program."""


class TensorLogicRuntimeError(TensorLogicError, RuntimeError):
    """A .tl program that exceeded its step budget, its time limit or its call depth; file, line,
    column and a caret under the statement that was running."""


class SerializationError(TensorLogicError, ValueError):
    """A checkpoint file that is malformed or in a foreign format; names the file and what is wrong."""


class LinAlgError(TensorLogicError, RuntimeError):
    """A linear-algebra routine that cannot finish on its input (tl.linalg.cholesky of a matrix that is not
    positive-definite), as torch.linalg.LinAlgError; the message names the routine and the failing minor."""
