"""Text from a submission (its messages, what it printed, its file names) as the teacher's
terminal, the feedback and the JSON may show it: every control character escaped.

A file name that is not UTF-8 shows its bytes the same way (``caf\\xe9``). An ESC in an
exception's message would otherwise reach the teacher's terminal as a
command (clear the screen, retitle the window, rewrite what was graded), and a bidi
override (U+202E) would show a line reordered. Each becomes visible as Python writes it
in a string: ``\\x1b``, ``\\u202e``.
"""

from __future__ import annotations

import re

__all__ = ["escape_controls"]

# C0 but tab and line feed, DEL, C1 (a terminal reads 0x9b as ESC [), the bidi embeddings,
# overrides, isolates and marks, the line and paragraph separators, and lone surrogates
# (a file name's bytes that are not UTF-8, as Python reads them: no UTF-8 writer takes one)
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match[0])
    if 0xDC80 <= code <= 0xDCFF:  # the byte a file name held (os.fsdecode's surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str, lines: bool = True) -> str:
    """``text`` with its control characters written out (``\\x1b``); line feeds kept when
    ``lines`` (a traceback, what was printed), escaped too when not (a one-line reason)."""
    shown = _CONTROLS.sub(_escaped, text)
    return shown if lines else shown.replace("\n", "\\n")
