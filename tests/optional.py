"""Optional heavy parts (a browser, PyTorch): a test that needs one is skipped with one
line saying how to get it -- except in CI (``CI=true``), where a missing part fails the
run instead, so that CI never passes by skipping."""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def thorough() -> bool:
    """``HYPOTHESIS_PROFILE=thorough``: the slow tests run at full length too (before a release)."""
    return os.environ.get("HYPOTHESIS_PROFILE", "") == "thorough"


def need(problem: str | None) -> None:
    """Skip (or, in CI, fail) the calling test if ``problem`` names something missing."""
    if problem is None:
        return
    if in_ci():
        pytest.fail(f"{problem} (CI=true: a missing part fails the run)", pytrace=False)
    pytest.skip(problem)


def require(what: str, present: bool, how: str) -> None:
    """``need`` for one part: ``what`` is missing unless ``present``; ``how`` to get it."""
    need(None if present else f"{what} is missing: {how}")
