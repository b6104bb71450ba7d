"""Reverse-mode automatic differentiation (SPEC §5): Function, the engine, grad modes, checks."""
from . import tensor_methods  # noqa: F401  (attaches backward, detach, ... to Tensor)
from .api import backward, grad
from .broadcast import sum_to
from .function import Function, Node
from .gradcheck import GradcheckError, GradcheckReport, gradcheck
from .grad_mode import (detect_anomaly, enable_grad, inference_mode, is_anomaly_enabled, is_grad_enabled, no_grad,
                        set_detect_anomaly, set_grad_enabled)
from .tensor_methods import RemovableHandle
from .variable import Variable

__all__ = ["Function", "Node", "backward", "grad", "gradcheck", "GradcheckError", "GradcheckReport", "no_grad",
           "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled", "detect_anomaly", "is_anomaly_enabled",
           "set_detect_anomaly", "RemovableHandle", "sum_to", "Variable"]
