"""A rubric: how many points each check is worth, which checks a student sees, the seeds
of the cases, and the sandbox's limits. Written in TOML::

    exercise = "network"        # optional: must match --exercise
    seed = 0                    # the visible checks' cases (what `check` uses by default)
    hidden_seeds = "per-student"  # or "shared": a seeded variant of the hidden cases each

    [limits]                    # any of: call_seconds, load_seconds, cpu_seconds,
    call_seconds = 2            #   memory_mb, processes, output_kb, disk_mb
    memory_mb = 1024

    [checks.forward]
    points = 2
    [checks.backward-hidden]
    points = 5
    visible = false             # graded, not shown in the feedback

A check the rubric does not list is worth 1 point and visible. Anything unknown is an
error that names it, so that a typo never grades a class silently with defaults.
"""

from __future__ import annotations

import hashlib
import math
import os
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .protocol import Limits

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["CheckRule", "Rubric", "RubricError", "load_rubric"]


class RubricError(ValueError):
    """The rubric cannot be used; the message says where and why."""


@dataclass(frozen=True)
class CheckRule:
    points: float = 1.0
    visible: bool = True


@dataclass(frozen=True)
class Rubric:
    exercise: str | None = None
    seed: int = 0
    per_student: bool = True  # hidden checks: a seeded variant of the cases per student
    limits: Limits = field(default_factory=Limits)
    checks: dict[str, CheckRule] = field(default_factory=dict)

    def rule(self, check: str) -> CheckRule:
        return self.checks.get(check, CheckRule())

    def seed_for(self, check: str, student: str) -> int:
        """The visible checks' seed; a hidden check's own per student (a stable hash)."""
        if self.rule(check).visible or not self.per_student:
            return self.seed
        digest = hashlib.sha256(f"{self.seed}\0{student}\0{check}".encode()).digest()
        return int.from_bytes(digest[:4], "big")


def load_rubric(path: str | os.PathLike[str], exercise: str, check_names: list[str]) -> Rubric:
    """Read and validate a rubric for ``exercise``, whose checks are ``check_names``."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise RubricError(f"{path}: not TOML: {error}") from None
    except UnicodeDecodeError:
        raise RubricError(f"{path}: not UTF-8 text") from None
    where = os.fspath(path)
    _known(data, {"exercise", "seed", "hidden_seeds", "limits", "checks"}, where)
    named = data.get("exercise", exercise)
    if named != exercise:
        raise RubricError(f"{where}: the rubric is for exercise {named!r}, not {exercise!r}")
    seed = data.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise RubricError(f"{where}: seed must be a whole number from 0 to 2**32 - 1, not {seed!r}")
    hidden = data.get("hidden_seeds", "per-student")
    if hidden not in ("per-student", "shared"):
        raise RubricError(f"{where}: hidden_seeds is 'per-student' or 'shared', not {hidden!r}")
    return Rubric(
        exercise,
        seed,
        hidden == "per-student",
        _limits(data.get("limits", {}), where),
        _checks(data, check_names, where),
    )


def _known(table: Any, keys: set[str], where: str) -> None:
    if not isinstance(table, dict):
        raise RubricError(f"{where}: expected a table, found {table!r}")
    unknown = sorted(set(table) - keys)
    if unknown:
        raise RubricError(f"{where}: unknown {', '.join(map(repr, unknown))} (known: {', '.join(sorted(keys))})")


# The most each limit may be: a day of time, a petabyte, every process Linux can number.
# Above these the OS's calls overflow (a timeout or an rlimit too large for its C type),
# and grading would fail on every submission alike -- blamed on the students.
LIMIT_MAXIMA = {
    "call_seconds": 86400,
    "load_seconds": 86400,
    "cpu_seconds": 86400,
    "memory_mb": 2**30,
    "disk_mb": 2**30,
    "output_kb": 2**40,
    "processes": 2**22,
}


def _limits(table: Any, where: str) -> Limits:
    names = {f.name: f.type for f in fields(Limits)}
    _known(table, set(names), f"{where} [limits]")
    values: dict[str, Any] = {}
    for name, value in table.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise RubricError(f"{where} [limits]: {name} must be a positive number, not {value!r}")
        if value > LIMIT_MAXIMA[name]:
            raise RubricError(f"{where} [limits]: {name} must be at most {LIMIT_MAXIMA[name]}, not {value!r}")
        if names[name] in ("int", int) and value != int(value):
            raise RubricError(f"{where} [limits]: {name} must be a whole number, not {value!r}")
        values[name] = int(value) if names[name] in ("int", int) else float(value)
    return Limits(**values)


def _checks(data: dict[str, Any], check_names: list[str], where: str) -> dict[str, CheckRule]:
    table = data.get("checks", {})
    _known(table, set(check_names), f"{where} [checks]")
    rules = {}
    for name, rule in table.items():
        _known(rule, {"points", "visible"}, f"{where} [checks.{name}]")
        points = rule.get("points", 1.0)
        if isinstance(points, bool) or not isinstance(points, (int, float)) or not math.isfinite(points) or points < 0:
            raise RubricError(f"{where} [checks.{name}]: points must be a number ≥ 0, not {points!r}")
        visible = rule.get("visible", True)
        if not isinstance(visible, bool):
            raise RubricError(f"{where} [checks.{name}]: visible is true or false, not {visible!r}")
        rules[name] = CheckRule(float(points), visible)
    total = sum(rules[name].points if name in rules else CheckRule().points for name in check_names)
    if not math.isfinite(total):  # each finite, yet their sum is inf: every score would be inf or nan
        raise RubricError(f"{where} [checks]: the points add up to {total}, past the largest number")
    return rules
