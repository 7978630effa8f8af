"""One student's grade, as the grader keeps it and the class page reads it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Graded"]


@dataclass
class Graded:
    """One student's grade: points per check, and what they may see."""

    student: str
    exercise: str
    score: float
    max_score: float
    checks: list[dict[str, Any]]  # name, points, max_points, visible, result (CheckResult.to_json())
    sandbox: dict[str, str] = field(default_factory=dict)
    problem: str = ""  # the submission could not be read at all
