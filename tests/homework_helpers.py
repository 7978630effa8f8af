"""Shared by the homework tests: the example class's right solutions, and a way to plant
one change into them."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLASS = ROOT / "examples" / "class"
RIGHT = {"network": (CLASS / "network" / "ada.py").read_text(), "local": (CLASS / "local" / "ada.py").read_text()}


def plant(folder: Path, exercise: str, name: str, *changes: tuple[str, str]) -> Path:
    """A copy of the right solution with each (old, new) change made: ``folder/name.py``."""
    text = RIGHT[exercise]
    for old, new in changes:
        assert text.count(old) >= 1, f"{old!r} is not in the right solution"
        text = text.replace(old, new)
    path = folder / f"{name}.py"
    path.write_text(text)
    return path


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path
