"""Hypothesis profiles: a fast default, and a thorough one for before a release.

HYPOTHESIS_PROFILE=thorough make test
"""

import os
import shutil

import pytest
from hypothesis import HealthCheck, settings
from optional import need

settings.register_profile("fast", max_examples=60, deadline=None)
settings.register_profile("thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))


@pytest.fixture(scope="session")
def graphviz_dot() -> None:
    """Graphviz's ``dot``, for tests that render: skipped without it (failed under CI=true)."""
    how = "sudo apt-get install graphviz (make test does it)"
    need(None if shutil.which("dot") else f"Graphviz's dot is missing: {how}")
