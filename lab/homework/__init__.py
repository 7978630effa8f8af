"""Do the homework with tinygrad_hw: a student checks their own backpropagation and sees
where it is wrong; a teacher grades a class.

``check("my_backprop.py", "network")`` runs the file's functions in a confined child
process on cases hypothesis draws, and returns a :class:`CheckReport` that prints as
text and shows itself in Jupyter.
"""

from .report import CheckReport, check

__all__ = ["CheckReport", "check"]
