"""The maths functions a rule may call, one row each, and what every consumer reads.

A rule in ``ops.py`` calls ``math.exp(-a)``; the kernels call ``exp`` and, where
Python raises, its IEEE-754 twin ``safe_exp`` (``inf``, not ``OverflowError``);
the numpy program calls ``np.exp``; PyTorch calls ``torch.exp``. This table says
all of that once per function, so adding a function is one row::

    Maths("exp", math.exp, ieee.safe_exp, numpy="exp", torch="exp")

numpy's and PyTorch's functions are named, not imported: the engine needs only the
standard library, and the layers that use numpy or PyTorch look the names up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from . import ieee

__all__ = ["MATHS", "Maths", "add_maths", "remove_maths"]


@dataclass(frozen=True)
class Maths:
    """One maths function: its name in rules and generated code, and its forms."""

    name: str  # ``math.<name>`` in a rule, ``<name>`` in generated code
    python: Callable[..., float]  # what the rule and the kernels call (may raise)
    safe: Callable[..., float] | None = None  # the IEEE-754 twin; None: ``python`` never raises
    numpy: str = ""  # ``np.<numpy>``, the ufunc the numpy program calls
    torch: str = ""  # ``torch.<torch>``, what the PyTorch twin of a rule calls

    @property
    def raises(self) -> bool:
        """Whether Python's form can raise where IEEE-754 answers ``inf`` or ``nan``."""
        return self.safe is not None

    @property
    def safe_name(self) -> str:
        """The name generated code calls the IEEE-safe form by."""
        return f"safe_{self.name}" if self.raises else self.name


# fmt: off
MATHS: dict[str, Maths] = {row.name: row for row in (
    Maths("exp",  math.exp,  ieee.safe_exp, numpy="exp",   torch="exp"),
    Maths("log",  math.log,  ieee.safe_log, numpy="log",   torch="log"),
    Maths("tanh", math.tanh,                numpy="tanh",  torch="tanh"),
    Maths("pow",  math.pow,  ieee.safe_pow, numpy="power", torch="pow"),
    Maths("fabs", math.fabs,                numpy="fabs",  torch="abs"),
)}
# fmt: on


def add_maths(row: Maths) -> None:
    """Make ``math.<row.name>`` callable from rules (see ``engine.register_op``)."""
    if not row.name.isidentifier() or row.name in MATHS:
        raise ValueError(f"maths function {row.name!r}: a new identifier is needed (have {', '.join(MATHS)})")
    if not hasattr(math, row.name):
        raise ValueError(f"maths function {row.name!r}: a rule calls math.{row.name}, which the math module lacks")
    MATHS[row.name] = row


def remove_maths(name: str) -> None:
    """Undo :func:`add_maths`."""
    MATHS.pop(name, None)
