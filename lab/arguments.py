"""The argument types every ``tinygrad-hw`` command shares: each turns text into a value
or into a one-line usage error, before any work starts."""

from __future__ import annotations

import argparse
import errno
import re
from pathlib import Path
from typing import Any, Callable

__all__ = [
    "NEGATIVE_NUMBER",
    "SEEDS",
    "OneLineParser",
    "SubcommandParser",
    "existing_file",
    "finite_float",
    "output_folder",
    "positive_float",
    "positive_int",
    "seed",
]

SEEDS = range(2**32)  # what numpy's and random's generators accept alike


def _positive(kind: type, noun: str) -> Callable[[str], Any]:
    """``kind(text)``, finite and above zero."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an' if noun[0] in 'aeiou' else 'a'} {noun}") from None
        if not value < float("inf"):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite {noun}")
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text!r} is not a positive {noun}")
        return value

    return parse


positive_int, positive_float = _positive(int, "integer"), _positive(float, "number")


def finite_float(text: str) -> float:
    """A number, not inf or nan."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value - value != 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def existing_file(text: str) -> Path:
    """A file to read: there, and not a folder."""
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text}: {'is a folder' if path.is_dir() else 'no such file'}")
    return path


def seed(text: str) -> int:
    """A seed numpy accepts: 0 to 2**32 - 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value not in SEEDS:
        raise argparse.ArgumentTypeError(f"{value} is not a seed: seeds run from 0 to {SEEDS[-1]}")
    return value


def output_folder(text: str) -> Path:
    """A folder to write into: not empty, not an existing file."""
    if not text:
        raise argparse.ArgumentTypeError("an empty name is no folder: name one ('.' is this one)")
    path = Path(text)
    try:
        path.stat()
    except OSError as error:
        if error.errno == errno.ELOOP:  # Path.exists() says False, and mkdir then "File exists"
            raise argparse.ArgumentTypeError(f"{text}: {error.strerror}") from None
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder")
    return path


# What argparse must read as a negative number, not an option: Python's float syntax
# (argparse's own pattern misses -1e-3, -1E+3 and -inf, and then reports a missing value).
NEGATIVE_NUMBER = re.compile(
    r"^-(?:(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?|inf|infinity|nan)$", re.IGNORECASE
)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2, and any
    negative number (``-1e-3``, ``-.5``, ``-inf``) is a value, never taken for an option."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = NEGATIVE_NUMBER  # argparse's hook for exactly this

    def error(self, message: str) -> None:  # type: ignore[override]  # argparse's is NoReturn; exit() does not return
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class SubcommandParser(OneLineParser):
    """A command's own parser: an argument it does not know is its usage error
    (``tinygrad-hw train: error: unrecognized arguments: --bogus``), not the top
    parser's, which argparse would report under the bare program name."""

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> tuple[Any, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras
