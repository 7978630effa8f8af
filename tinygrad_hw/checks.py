"""Small argument checks shared across the package (standard library only)."""

from __future__ import annotations

import numbers


def is_count(x: object) -> bool:
    """A positive integer (a bool is not a count, though Python calls it an int)."""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool) and int(x) >= 1
