"""Old module names that now live elsewhere, kept for one release (0.2) with a warning.

The application (the main job, the report, the command line) moved to the
top-level package ``lab``, above ``viz``, so that ``tinygrad_hw`` never imports
the packages that import it. The forwarding is lazy -- nothing here imports
``lab`` until an old name is used -- so the layering holds.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any, Callable


def forwarder(old: str, new: str, renamed: dict[str, str] | None = None) -> Callable[[str], Any]:
    """A module ``__getattr__`` sending ``old.name`` to ``new.name`` (or its new name)."""
    renamed = renamed or {}

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        target = renamed.get(name, name)
        warnings.warn(f"{old}.{name} is now {new}.{target}", DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(new), target)

    return __getattr__
