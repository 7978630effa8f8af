"""Do the homework with tinygrad_hw: a student checks their own backpropagation and sees
where it is wrong; a teacher grades a class.

``check("my_backprop.py", "network")`` runs the file's functions in a confined child
process on cases hypothesis draws, and returns a :class:`CheckReport` that prints as
text and shows itself in Jupyter.

The checker is imported on first use: every ``tinygrad-hw`` command imports this package
(``lab.homework.cli``) and most never check anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .report import CheckReport, check

__all__ = ["CheckReport", "check"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import report

        return getattr(report, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
