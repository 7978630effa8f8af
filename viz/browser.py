"""A headless Chromium to open pages in: the system's own browser and driver (Debian's
``chromium`` and ``chromium-driver``), driven by Selenium and kept offline -- nothing is
downloaded. The browser tests and the README's screenshot use it; Selenium is only
needed here (the ``dev`` extra)."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from typing import Any, Iterator

__all__ = ["chromium", "missing"]

FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def _binaries() -> tuple[str | None, str | None]:
    return shutil.which("chromium") or shutil.which("chromium-browser"), shutil.which("chromedriver")


def missing() -> str | None:
    """What is missing to open a page, and how to get it; None when nothing is."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "Selenium is missing: pip install -e '.[dev]' (make test does it)"
    browser, driver = _binaries()
    if browser is None or driver is None:
        return "Chromium is missing: sudo apt-get install chromium chromium-driver (make test does it as root)"
    return None


@contextmanager
def chromium(width: int = 1400, height: int = 900) -> Iterator[Any]:
    """A Selenium WebDriver on headless Chromium with a window of ``width`` × ``height``;
    its console is kept (``driver.get_log("browser")``). Raises RuntimeError saying what is
    missing."""
    problem = missing()
    if problem is not None:
        raise RuntimeError(problem)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = _binaries()
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not fetch a browser or a driver
    options = webdriver.ChromeOptions()
    options.binary_location = browser  # type: ignore[assignment]  # selenium's stub says str; a path is one
    for flag in (*FLAGS, f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()
