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


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Under ``-q`` (as ``make test`` runs), pytest-xdist has no status to give and writes
    its placeholder, "bringing up nodes...", twice when the output is not a terminal:
    leave it out. With ``-v`` its real status lines are kept."""
    reporter = config.pluginmanager.getplugin("terminaldistreporter")
    if reporter is not None and config.option.verbose < 0:
        reporter.ensure_show_status = lambda: None
