"""A node's name in LaTeX math, the same in the step-through page's formulas and in the
TikZ export: ``alpha`` is ``\\alpha``, ``w_1`` and ``w1`` are ``w_{1}``, ``x₁₂`` is
``x_{12}``, ``W2[3,1]`` is the report's ``W^{2}_{3,1}``. A name that reads as no symbol
(``loss``, ``x_1 & y``) has no symbol form: :func:`latex_name` spells it out upright,
escaped, and the TikZ export writes it as text.
"""

from __future__ import annotations

import re

__all__ = ["GREEK", "LATEX_TEXT", "latex_name", "symbol_latex"]

# the Greek letters LaTeX has a command for (capitals that look Latin, and omicron, have none)
GREEK = frozenset(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi "
    "varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega "
    "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split()
)
_UNICODE_GREEK = dict(
    zip(
        "αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΥΦΨΩ",
        (
            "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau upsilon phi chi "
            "psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega"
        ).split(),
    )
)
_SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_INDEXED = re.compile(r"([A-Za-z]+)(\d+)\[(\d+(?:,\d+)*)\]")  # W2[3,1]: layer 2, row 3, column 1
# a base (letters, or one Greek letter), then digits, ``_`` and a word, or subscript digits
_SYMBOL = re.compile(r"([A-Za-z]+|[α-ωΑ-Ω])(?:(\d+)|_([A-Za-z0-9]+)|([₀-₉]+))?")

# LaTeX's special characters as text mode writes them (shared with the TikZ export)
LATEX_TEXT = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\^{}",
    "_": r"\_",
    "%": r"\%",
    "~": r"\~{}",
}
_LATEX_MATH = {"ŷ": r"\hat{y}", "−": "-", "-": "-", "·": r"\cdot ", "…": r"\dots ", " ": r"\ "}
_LATEX_MATH.update({ch: rf"{{\{name}}}" for ch, name in _UNICODE_GREEK.items()})
_LATEX_MATH["σ"] = r"\sigma"  # (as the op's name: σ(z), never a letter of a word)


def _letters(word: str) -> str | None:
    """A base or a subscript that reads as a symbol: one letter, a Greek letter's name or
    Unicode letter, or digits; None for anything else."""
    if word in GREEK:
        return "\\" + word
    if word in _UNICODE_GREEK:
        return "\\" + _UNICODE_GREEK[word]
    if (len(word) == 1 and word.isascii() and word.isalpha()) or (word.isascii() and word.isdigit()):
        return word
    return None


def symbol_latex(name: str) -> str | None:
    """``name`` as a mathematical symbol in LaTeX math (``\\alpha_{1}``, ``w_{ij}``,
    ``W^{2}_{3,1}``), or None when it reads as no symbol (``loss``, ``ŷ−y``)."""
    indexed = _INDEXED.fullmatch(name)
    if indexed:
        return f"{indexed[1]}^{{{indexed[2]}}}_{{{indexed[3]}}}"
    symbol = _SYMBOL.fullmatch(name)
    if symbol is None:
        return None
    base = _letters(symbol[1])
    if base is None:
        return None
    lower = symbol[2] or symbol[3] or (symbol[4] or "").translate(_SUBSCRIPT_DIGITS)
    if not lower:
        return base
    if _letters(lower) is None and not lower.isascii():
        return None
    # an index (1, 12, i, ij) in italics, a word (out, max) upright
    shown = _letters(lower) or (lower if len(lower) <= 2 and lower.isalpha() else rf"\mathrm{{{lower}}}")
    return f"{base}_{{{shown}}}"


def latex_name(name: str) -> str:
    """A node's name in LaTeX math: as a symbol where it reads as one (:func:`symbol_latex`);
    anything else spelled out upright, escaped."""
    symbol = symbol_latex(name)
    if symbol is not None:
        return symbol
    parts = []
    for ch in name:
        if ch in _LATEX_MATH:
            parts.append(_LATEX_MATH[ch])
        elif ch.isascii() and (ch.isalnum() or ch in "()[],.+=<>/*'!?:;|"):
            parts.append(ch)
        elif ch in LATEX_TEXT:
            parts.append(rf"\text{{{LATEX_TEXT[ch]}}}")
        else:
            parts.append(rf"\text{{\char{ord(ch)}}}" if ord(ch) < 256 else r"\text{?}")
    return r"\mathrm{" + "".join(parts) + "}"
