"""Text from a submission (its messages, what it printed, its file names) as the teacher's
terminal, the feedback and the JSON may show it: every control character escaped.

An ESC in an exception's message would otherwise reach the teacher's terminal as a
command (clear the screen, retitle the window, rewrite what was graded), and a bidi
override (U+202E) would show a line reordered. Each becomes visible as Python writes it
in a string: ``\\x1b``, ``\\u202e``.
"""

from __future__ import annotations

import re

__all__ = ["escape_controls"]

# C0 but tab and line feed, DEL, C1 (a terminal reads 0x9b as ESC [), the bidi embeddings,
# overrides, isolates and marks, and the line and paragraph separators
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str, lines: bool = True) -> str:
    """``text`` with its control characters written out (``\\x1b``); line feeds kept when
    ``lines`` (a traceback, what was printed), escaped too when not (a one-line reason)."""
    shown = _CONTROLS.sub(_escaped, text)
    return shown if lines else shown.replace("\n", "\\n")
