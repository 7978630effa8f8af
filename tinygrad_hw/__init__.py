"""tinygrad_hw: scalar reverse-mode autodiff you can read, draw and trust."""

from .engine import Value, dot, enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled, zero_grad
from .gradcheck import GradcheckError, gradcheck

__all__ = [
    "GradcheckError",
    "Value",
    "dot",
    "enable_grad",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
    "zero_grad",
]
__version__ = "0.2.0"
